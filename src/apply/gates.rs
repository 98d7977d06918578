//! Every refusal of apply, checked on the plan before any request that
//! writes (docs/reference.md §3.1, §3.5, §4.1): the safety policy, replacements without
//! `--allow-replace`, secrets shown once with nowhere to go, and `--replace`
//! requests that cannot be honoured. Pure.

use crate::plan::{Action, ForcedReplacements, ServerPlan};
use crate::targets::Target;

/// What the user allowed on the command line.
#[derive(Debug, Clone, Copy, Default)]
pub struct Allowances {
    /// `--force`: apply a plan the policy blocks.
    pub force: bool,
    /// `--allow-replace`.
    pub allow_replace: bool,
    /// `--secrets-out FILE` was given.
    pub secrets_out: bool,
    /// `--discard-secrets`.
    pub discard_secrets: bool,
}

/// The first rule `work` breaks, in words (exit 3), or `Ok`.
pub fn check(blocked: &[String], work: &[&ServerPlan], allow: Allowances) -> Result<(), String> {
    if !blocked.is_empty() && !allow.force {
        return Err(
            "the plan is blocked by the safety policy (see above); pass --force to apply it anyway"
                .into(),
        );
    }
    let changes = || work.iter().flat_map(|s| &s.changes);
    let replaces = changes().filter(|c| c.action == Action::Replace).count();
    if replaces > 0 && !allow.allow_replace {
        return Err(format!(
            "the plan replaces {replaces} application(s), which hands out new client credentials; pass --allow-replace"
        ));
    }
    let secret_changes = changes().filter(|c| c.yields_secret).count();
    if secret_changes > 0 && !allow.secrets_out && !allow.discard_secrets {
        return Err(format!(
            "{secret_changes} confidential application(s) will get a client secret that the server shows only once; pass --secrets-out FILE or --secrets-command CMD to keep it, or --discard-secrets"
        ));
    }
    Ok(())
}

/// `--replace` requests as patterns, each of which must name an application
/// of the selected servers; none with a saved plan (it says exactly what to do).
pub fn replace_requests(
    requests: &[String],
    targets: &[Target<'_>],
    saved_plan: bool,
) -> Result<ForcedReplacements, String> {
    let forced = ForcedReplacements::parse(requests)?;
    if !forced.is_empty() && saved_plan {
        return Err(
            "--replace cannot be combined with a saved plan: the plan file says exactly what to do; plan again and apply without a file".into(),
        );
    }
    for request in requests {
        let one = ForcedReplacements::parse(std::slice::from_ref(request))?;
        let hit = targets.iter().any(|t| {
            t.server
                .apps
                .iter()
                .any(|a| one.matches(&t.server.name, &t.instance.name, &a.key))
        });
        if !hit {
            return Err(format!(
                "--replace `{request}` matches no application of the selected servers"
            ));
        }
    }
    Ok(forced)
}
