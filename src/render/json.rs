//! The versioned JSON plan (docs/reference.md §2.6, `format_version` 1). Keys come out in the
//! declared order of the plan types; secrets are never part of a plan.

use crate::plan::Plan;

pub fn plan<Op>(plan: &Plan<Op>) -> String {
    let mut text = serde_json::to_string_pretty(plan).unwrap_or_else(|_| "{}".into());
    text.push('\n');
    text
}
