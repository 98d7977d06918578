//! `--app`: a plan restricted to the selected applications, and the
//! globs that select nothing.

use super::{Action, Blocked, Plan, instance_counts, policy_violations, summarize};
use crate::model::Config;

/// `--app GLOB`: the plan restricted to the applications whose key (or, for
/// an app the config does not name, whose live name) matches. Only changes
/// are dropped, never added: the diff itself ran on the whole server (with
/// `listing: managed`, on the selected names and the set-aside check), so
/// renames, asides and identities are as in a full plan, and an application
/// outside the selection is neither changed nor deleted. Counts and the
/// policy are recomputed on the selection.
pub fn restrict(mut plan: Plan, config: &Config, globs: &[glob::Pattern]) -> Plan {
    if globs.is_empty() {
        return plan;
    }
    let selected = |name: &str| globs.iter().any(|g| g.matches(name));
    // A rotation's retiring copy goes with the application it was.
    let selected_or_original =
        |name: &str| selected(name) || crate::retiring::original_of(name).is_some_and(selected);
    for sp in &mut plan.servers {
        sp.changes.retain(|c| selected_or_original(&c.app));
        sp.rotation_due.retain(|d| selected(&d.key));
        sp.retiring.retain(|r| selected_or_original(&r.name));
        sp.unmanaged.retain(|n| selected(n));
        sp.unmanaged_labels
            .retain(|l| selected(l.split(" (").next().unwrap_or(l)));
        let server = config
            .servers
            .iter()
            .find(|s| s.instances.iter().any(|i| i.name == sp.server));
        let chosen = server.map_or(0, |s| {
            s.apps
                .iter()
                .filter(|a| a.ensure == crate::model::Ensure::Present && selected(&a.key))
                .count()
        });
        let present_changes = sp
            .changes
            .iter()
            .filter(|c| c.action != Action::Delete)
            .count();
        sp.noop = chosen.saturating_sub(present_changes).min(sp.noop);
        sp.live = sp.noop
            + sp.changes
                .iter()
                .filter(|c| c.action != Action::Create)
                .count()
            + sp.unmanaged.len();
    }
    let protected: Vec<Blocked> = plan
        .blocked
        .into_iter()
        .filter(|b| !b.is_policy())
        .collect();
    plan.blocked = policy_violations(config, &plan.servers);
    plan.blocked.extend(protected);
    plan.summary = summarize(&plan.servers);
    plan.instances = instance_counts(&plan.servers);
    plan.only_apps = globs.iter().map(|g| g.as_str().to_string()).collect();
    plan
}

/// The `--app` globs of a restricted plan that match nothing: no
/// application key the config gives the planned servers, and no live name
/// left in the plan. Like `--server`, such a glob is an error (a typo must
/// not read as "No changes").
pub fn apps_matching_nothing(plan: &Plan, config: &Config) -> Vec<String> {
    let planned: Vec<&str> = plan.servers.iter().map(|s| s.server.as_str()).collect();
    let keys: Vec<&str> = config
        .servers
        .iter()
        .filter(|s| {
            s.instances
                .iter()
                .any(|i| planned.contains(&i.name.as_str()))
        })
        .flat_map(|s| s.apps.iter().map(|a| a.key.as_str()))
        .collect();
    let live: Vec<&str> = plan
        .servers
        .iter()
        .flat_map(|s| {
            s.changes
                .iter()
                .map(|c| c.app.as_str())
                .chain(s.unmanaged.iter().map(String::as_str))
                .chain(s.retiring.iter().map(|r| r.name.as_str()))
        })
        .flat_map(|name| [Some(name), crate::retiring::original_of(name)])
        .flatten()
        .collect();
    plan.only_apps
        .iter()
        .filter(|text| {
            glob::Pattern::new(text)
                .is_ok_and(|g| !keys.iter().chain(&live).any(|name| g.matches(name)))
        })
        .cloned()
        .collect()
}

/// The error for [`apps_matching_nothing`], if any.
pub fn check_apps_match(plan: &Plan, config: &Config) -> Result<(), String> {
    let unmatched = apps_matching_nothing(plan, config);
    if unmatched.is_empty() {
        return Ok(());
    }
    Err(format!(
        "--app {} matches no application of the selected servers (neither a key in the config nor a live name); nothing was planned",
        unmatched
            .iter()
            .map(|g| format!("`{g}`"))
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

/// `--app` arguments as globs; a bad one is an error naming it.
pub fn app_globs(args: &[String]) -> Result<Vec<glob::Pattern>, String> {
    args.iter()
        .map(|a| {
            glob::Pattern::new(a).map_err(|e| format!("--app `{a}` is not a valid glob: {}", e.msg))
        })
        .collect()
}
