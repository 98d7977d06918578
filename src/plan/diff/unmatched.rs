//! The end of a diff: the live applications no desired one matched (pruned
//! or unmanaged, with their reasons), and what every change gets last.

use std::collections::BTreeSet;

use super::{Diff, Target, delete_of, hide_secrets, is_protected, org_label, same_name_elsewhere};
use crate::model::{DesiredApp, LiveState, Server};
use crate::plan::change::{Operation, Reason};
use crate::semantics;

/// The live apps no desired app matched: pruned (deleted), or unmanaged.
pub(super) fn unmatched(
    server: &Server,
    live: &LiveState,
    resolved: &[(&DesiredApp, Target)],
    matched: &BTreeSet<&str>,
    out: &mut Diff,
) {
    for c in &live.apps {
        if matched.contains(c.id.as_str()) {
            continue;
        }
        if let Some(why) = &c.unmanageable {
            // Shown with the reason; never pruned, whatever `prune` says.
            out.unmanaged.push(c.name.clone());
            let place = org_label(live, c.organization).unwrap_or("no organization".into());
            out.unmanaged_labels
                .push(format!("{:?} ({place}): not managed: {why}", c.name));
            continue;
        }
        if server.options.prune && !is_protected(server, &c.name) {
            out.changes.push(delete_of(
                server,
                live,
                c,
                Reason::Pruned,
                same_name_elsewhere(c, resolved, live),
            ));
        } else {
            out.unmanaged.push(c.name.clone());
            let label = match org_label(live, c.organization) {
                Some(org) => match same_name_elsewhere(c, resolved, live).first() {
                    Some(note) => format!("{} ({org}): {note}", c.name),
                    None => format!("{} ({org})", c.name),
                },
                None => c.name.clone(),
            };
            out.unmanaged_labels.push(label);
        }
    }
}

/// What every change gets at the end: a note on a create beside an
/// unmanaged app of the same name in another organization (how to move that
/// one instead), the masks, and the order.
pub(super) fn decorate(
    server: &Server,
    live: &LiveState,
    matched: &BTreeSet<&str>,
    out: &mut Diff,
) {
    for change in out.changes.iter_mut() {
        let Operation::Create {
            name,
            organization: Some(org),
            ..
        } = &change.operation
        else {
            continue;
        };
        for other in live.apps.iter().filter(|a| {
            a.aside.is_none()
                && a.unmanageable.is_none()
                && a.name.trim() == name
                && a.organization != Some(*org)
                && !matched.contains(a.id.as_str())
        }) {
            let there = org_label(live, other.organization).unwrap_or_default();
            change.notes.push(format!(
                "an application `{name}` exists in organization `{there}`, which this entry does not manage; to move it here instead of creating a new one, add `renamed_from: [{{name: {name}, organization: {there}}}]`"
            ));
        }
    }
    hide_secrets(&mut out.changes, semantics::of(server.kind));
    out.changes.sort_by(|a, b| {
        a.app
            .cmp(&b.app)
            .then(a.organization.cmp(&b.organization))
            .then(a.action.cmp(&b.action))
    });
    out.unmanaged.sort();
    out.unmanaged_labels.sort();
}
