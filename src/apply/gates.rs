//! Every refusal of apply, checked on the plan before any request that
//! writes (docs/reference.md §3.1, §3.5, §4.1): the safety policy, replacements without
//! `--allow-replace`, secrets shown once with nowhere to go, and `--replace`
//! requests that cannot be honoured. Pure.

use crate::plan::{Action, Blocked, ForcedReplacements, ServerPlan};
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

/// A rule the work breaks (exit 3), or a `--replace` request that cannot be
/// honoured (exit 1).
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error(
        "the plan is blocked by the safety policy (see above); pass --force to apply it anyway"
    )]
    Blocked,
    #[error(
        "the plan replaces {0} application(s), which hands out new client credentials; pass --allow-replace"
    )]
    Replaces(usize),
    #[error(
        "{0} confidential application(s) will get a client secret that the server shows only once; pass --secrets-out FILE or --secrets-command CMD to keep it, or --discard-secrets"
    )]
    SecretsNotKept(usize),
    #[error(
        "--replace and --rotate cannot be combined with a saved plan: the plan file says exactly what to do; plan again and apply without a file"
    )]
    ReplaceWithSavedPlan,
    /// A `--replace` or `--rotate` argument that is not `[SERVER/]APP` with
    /// valid globs, or that names no application.
    #[error("{0}")]
    BadReplace(String),
}

/// The first rule `work` breaks (exit 3), or `Ok`.
pub fn check(blocked: &[Blocked], work: &[&ServerPlan], allow: Allowances) -> Result<(), Refusal> {
    if !blocked.is_empty() && !allow.force {
        return Err(Refusal::Blocked);
    }
    let changes = || work.iter().flat_map(|s| &s.changes);
    // A rotation was asked for by name (`--rotate`): that is the permission.
    let replaces = changes()
        .filter(|c| c.action == Action::Replace && c.rotation.is_none())
        .count();
    if replaces > 0 && !allow.allow_replace {
        return Err(Refusal::Replaces(replaces));
    }
    let secret_changes = changes().filter(|c| c.yields_secret).count();
    if secret_changes > 0 && !allow.secrets_out && !allow.discard_secrets {
        return Err(Refusal::SecretsNotKept(secret_changes));
    }
    Ok(())
}

/// `--replace` and `--rotate` requests as patterns (see
/// [`crate::targets::replace_requests`]); none with a saved plan (it says
/// exactly what to do: its own rotations are carried out again).
pub fn replace_requests(
    replace: &[String],
    rotate: &[String],
    targets: &[Target<'_>],
    saved_plan: bool,
) -> Result<ForcedReplacements, Refusal> {
    if saved_plan && !(replace.is_empty() && rotate.is_empty()) {
        return Err(Refusal::ReplaceWithSavedPlan);
    }
    crate::targets::replace_requests(replace, rotate, targets).map_err(Refusal::BadReplace)
}
