//! `plan`: the configuration (and the one at `--baseline REF`) against the
//! live servers: targets selected, connections pinned to the baseline,
//! read-only `auth.plan` credentials used, the plan built and classified.
//! Plain options in, the plan and what to say about it out; nothing printed.

use std::collections::BTreeMap;

use super::{Reach, Selection, session};
use crate::config::Problem;
use crate::config::git::Baseline;
use crate::exit_code::{EXIT_BLOCKED, EXIT_CHANGES, EXIT_ERROR, EXIT_OK};
use crate::model::Config;
use crate::plan::baseline::{self, BaselineRef, Origin};
use crate::plan::{InstanceProblem, Plan};
use crate::targets::Target;

/// What a plan run is asked.
pub struct PlanOptions {
    pub selection: Selection,
    pub reach: Reach,
    /// `--authoritative`: every selected server, this plan only.
    pub authoritative: bool,
    /// `--rotate [APP]`: the rotations `apply --rotate` would make (empty:
    /// the applications due).
    pub rotate: Vec<String>,
}

/// A plan and what there is to say about it.
pub struct Planned {
    /// The configuration planned (with `auth.plan` in place of `auth`).
    pub config: Config,
    pub plan: Plan,
    /// Apps that could not be planned, as the config places them.
    pub problems: Vec<InstanceProblem>,
    /// Unset or unreadable credentials of the selected servers.
    pub credential_problems: Vec<Problem>,
    /// Notes: the simulators started (`--sandbox`).
    pub notes: Vec<String>,
    /// Tokens not revoked, a sandbox state not saved.
    pub warnings: Vec<String>,
}

/// Plans `config` (against the configuration at `baseline`, when given).
pub fn run(
    mut config: Config,
    mut baseline: Option<Baseline>,
    options: &PlanOptions,
) -> Result<Planned, super::Error> {
    if options.authoritative {
        // This plan only: apply reads the config again and does not.
        let configs = std::iter::once(&mut config).chain(baseline.as_mut().map(|b| &mut b.config));
        for server in configs.flat_map(|c| &mut c.servers) {
            server.options.authoritative = true;
        }
    }
    let apps = crate::plan::app_globs(&options.selection.apps)?;
    let (withheld, forced) = {
        let targets = session::select_targets(&config, &options.selection)?;
        let forced = crate::targets::replace_requests(&[], &options.rotate, &targets)?;
        (withheld(&targets, baseline.as_ref()), forced)
    };
    // From here on, servers with read-only `auth.plan` credentials use them.
    config.use_plan_credentials();
    // The baseline's plan is made from what those credentials read: it must
    // not take their missing write permission for a problem either.
    if let Some(b) = baseline.as_mut() {
        b.config.use_plan_credentials();
    }
    let targets = session::select_targets(&config, &options.selection)?;
    let contacted: Vec<_> = targets
        .iter()
        .filter(|t| !withheld.contains_key(&t.instance.name))
        .copied()
        .collect();
    let prepared = session::prepare(&config, &contacted, &options.reach)?;
    let (plan, problems, mut warnings) = prepared.runtime.block_on(async {
        let (fetched, mut plan, problems) =
            session::fetch_and_plan(&config, &targets, &options.reach, &forced, &apps, &withheld)
                .await;
        if let Some(b) = &baseline {
            let then_plan = session::plan_against(&b.config, &fetched);
            let reference = BaselineRef {
                reference: b.reference.clone(),
                commit: b.commit.clone(),
            };
            baseline::classify(&mut plan, &config, &b.config, &then_plan, reference);
        }
        let warnings = session::close_all(&fetched).await;
        (plan, problems, warnings)
    });
    if let Some(sb) = &prepared.sandbox
        && let Err(e) = sb.save()
    {
        warnings.push(e.to_string());
    }
    drop(targets);
    crate::plan::check_apps_match(&plan, &config)?;
    Ok(Planned {
        config,
        plan,
        problems,
        credential_problems: prepared.credential_problems,
        notes: prepared.started.into_iter().collect(),
        warnings,
    })
}

/// The instances `--baseline` pins out (connection settings not those of
/// the baseline), with the reason; none without a baseline.
fn withheld(targets: &[Target<'_>], then: Option<&Baseline>) -> BTreeMap<String, String> {
    let Some(b) = then else {
        return BTreeMap::new();
    };
    let same_ca = |path: &std::path::Path| crate::config::git::same_content_at(path, &b.commit);
    let secret_file = |path: &std::path::Path| match crate::config::git::symlink_on_the_way(path) {
        Some(link) => Err(format!(
            "a `file:` credential is read through the symbolic link `{}`",
            link.display()
        )),
        None => Ok(()),
    };
    let instances: Vec<_> = targets.iter().map(|t| (t.server, t.instance)).collect();
    baseline::withheld(&instances, &b.config, &b.reference, &same_ca, &secret_file)
}

/// When a plan fails the run (`--detailed-exitcode`, `--fail-on`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOn {
    /// Any change.
    Changes,
    /// A change made on the servers (needs a baseline).
    Drift,
    /// A confidential application due for rotation.
    Rotation,
}

/// docs/reference.md §4.2: an error wins, then a block, then (when asked with
/// `--detailed-exitcode` or `--fail-on`) changes, or drift only.
pub fn exit_code<Op>(plan: &Plan<Op>, fail_on: Option<FailOn>) -> u8 {
    let drift = || {
        plan.servers
            .iter()
            .flat_map(|s| &s.changes)
            .any(|c| c.origin == Some(Origin::Drift))
    };
    if plan.servers.iter().any(|s| s.error.is_some()) {
        EXIT_ERROR
    } else if !plan.blocked.is_empty() {
        EXIT_BLOCKED
    } else {
        match fail_on {
            Some(FailOn::Changes) if plan.summary.changes() > 0 => EXIT_CHANGES,
            Some(FailOn::Drift) if drift() => EXIT_CHANGES,
            Some(FailOn::Rotation) if plan.servers.iter().any(|s| !s.rotation_due.is_empty()) => {
                EXIT_CHANGES
            }
            _ => EXIT_OK,
        }
    }
}

/// The plan as a plan file: the plan and the configuration it was made from.
pub fn saved_file(planned: &Planned) -> Plan {
    Plan {
        config: Some(crate::plan::SavedConfig::of(
            &planned.config,
            std::fs::canonicalize(&planned.config.root)
                .unwrap_or_else(|_| planned.config.root.clone())
                .display()
                .to_string(),
        )),
        ..planned.plan.clone()
    }
}
