//! `appform apply plan.json`: a reviewed plan is applied exactly or not at
//! all. The config it was made from must be the same (digest), it decides the
//! servers, and the plan made now must hold the same changes with the same
//! `before_fingerprint`s (docs/reference.md §3.1). Pure: plans in, words out.

use std::collections::BTreeMap;

use crate::model::Config;
use crate::plan::{Change, Plan, ReviewedPlan};
use crate::targets::Target;

/// The server instances a saved plan names, after checking that it was made
/// from this configuration. `Err`: why the plan is stale.
pub fn targets<'a>(config: &'a Config, saved: &ReviewedPlan) -> Result<Vec<Target<'a>>, String> {
    if saved.config_digest != config.digest {
        return Err(format!(
            "stale plan: the configuration changed since the plan was made ({} then, {} now); plan again",
            saved.config_digest, config.digest
        ));
    }
    let names: Vec<&str> = saved.servers.iter().map(|s| s.server.as_str()).collect();
    let t: Vec<Target<'_>> = config
        .servers
        .iter()
        .flat_map(|s| {
            s.instances.iter().map(move |i| Target {
                server: s,
                instance: i,
            })
        })
        .filter(|t| names.contains(&t.instance.name.as_str()))
        .collect();
    if t.len() != names.len() {
        return Err("stale plan: it names servers that are not in the configuration".into());
    }
    Ok(t)
}

/// The server instances the reviewed plan could not plan, with why: nothing
/// was reviewed for them, so apply does not contact them (a change of
/// connection settings withheld by `plan --baseline`, an unreachable server).
pub fn unreviewed(saved: &ReviewedPlan) -> BTreeMap<String, String> {
    saved
        .servers
        .iter()
        .filter_map(|s| {
            let error = s.error.as_ref()?;
            Some((
                s.server.clone(),
                format!("not applied: the reviewed plan could not plan this server ({error}); plan it again"),
            ))
        })
        .collect()
}

/// The `--app` selection of this apply: the saved plan's own (it is applied
/// exactly, partial or not), or the command line's; never both.
pub fn app_selection(
    requests: &[String],
    saved: Option<&ReviewedPlan>,
) -> Result<Vec<glob::Pattern>, String> {
    match saved {
        Some(_) if !requests.is_empty() => Err(
            "--app cannot be combined with a saved plan: the plan file says which applications it covers".into(),
        ),
        Some(plan) => crate::plan::app_globs(&plan.only_apps),
        None => crate::plan::app_globs(requests),
    }
}

/// The servers moved since the reviewed plan: every difference.
#[derive(Debug, thiserror::Error)]
#[error("stale plan: the servers no longer match the reviewed plan; nothing was written:\n  {}", .moved.join("\n  "))]
pub struct StalePlan {
    pub moved: Vec<String>,
}

/// `Err` when the servers moved since the reviewed plan.
/// The rotations a reviewed plan holds (`plan --rotate --out`), asked for
/// again by name, so that the plan made now carries them out (and is
/// compared with them like every other change).
pub fn rotations(saved: &ReviewedPlan) -> crate::plan::ForcedReplacements {
    let requests: Vec<String> = saved
        .servers
        .iter()
        .flat_map(|sp| {
            sp.changes
                .iter()
                .filter(|c| c.action == crate::plan::Action::Replace && c.rotation.is_some())
                .map(|c| {
                    format!(
                        "{}/{}",
                        glob::Pattern::escape(&sp.server),
                        glob::Pattern::escape(&c.app)
                    )
                })
        })
        .collect();
    crate::plan::ForcedReplacements::default()
        .with_rotations(&requests)
        .unwrap_or_default()
}

pub fn check(saved: &ReviewedPlan, now: &Plan) -> Result<(), StalePlan> {
    let moved = moved(saved, now);
    if moved.is_empty() {
        Ok(())
    } else {
        Err(StalePlan { moved })
    }
}

/// What differs between the reviewed plan and the plan made now.
pub fn moved(saved: &ReviewedPlan, now: &Plan) -> Vec<String> {
    /// What must not have moved: the change as planned, without the
    /// `--baseline` origins (apply plans without a baseline). `None` when it
    /// cannot be written out, which compares as moved (never as equal).
    fn key<Op>(c: &Change<Op>) -> Option<serde_json::Value> {
        let mut value = serde_json::to_value(c).ok()?;
        if let Some(change) = value.as_object_mut() {
            change.remove("origin");
            if let Some(serde_json::Value::Array(fields)) = change.get_mut("fields") {
                fields
                    .iter_mut()
                    .filter_map(serde_json::Value::as_object_mut)
                    .for_each(|f| {
                        f.remove("origin");
                    });
            }
        }
        Some(value)
    }
    let mut out = Vec::new();
    for sp in &now.servers {
        let Some(old) = saved.servers.iter().find(|s| s.server == sp.server) else {
            out.push(format!("{}: not in the saved plan", sp.server));
            continue;
        };
        // A server that cannot be read now has not moved: it is a failure of
        // that server (reported, exit 4), and the others are applied.
        if sp.error.is_some() {
            continue;
        }
        // AWX names repeat across organizations: the label carries both.
        let before: BTreeMap<String, &Change<crate::plan::Reviewed>> =
            old.changes.iter().map(|c| (c.label(), c)).collect();
        let after: BTreeMap<String, &Change> = sp.changes.iter().map(|c| (c.label(), c)).collect();
        for (app, c) in &after {
            match before.get(app) {
                None => out.push(format!(
                    "{}/{app}: a new change ({:?}) not in the saved plan",
                    sp.server, c.action
                )),
                Some(o) if key(o).is_none() || key(o) != key(c) => {
                    if o.before_fingerprint != c.before_fingerprint {
                        out.push(format!(
                            "{}/{app}: changed on the server since the plan was made",
                            sp.server
                        ));
                    } else {
                        out.push(format!(
                            "{}/{app}: the planned change is different now",
                            sp.server
                        ));
                    }
                }
                Some(_) => {}
            }
        }
        for app in before.keys() {
            if !after.contains_key(app) {
                out.push(format!(
                    "{}/{app}: planned, but no longer needed",
                    sp.server
                ));
            }
        }
    }
    out
}
