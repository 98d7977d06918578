//! Rotations (`apply --rotate`) and the old applications they keep. A
//! rotation is a replacement; with `rotation_overlap` the old application
//! is renamed to its retiring name (see [`crate::retiring`]) instead of
//! being deleted, and keeps working. Later plans list it until its overlap
//! ends, then delete it (sooner once every token issued for it has
//! expired). Retiring copies are never unmanaged and never pruned early,
//! whatever the config says of their original.

use std::collections::BTreeSet;

use super::{Diff, PlanProblem, Target, delete_of, is_protected, org_label};
use crate::model::{DesiredApp, LiveState, Server};
use crate::plan::RetiringCopy;
use crate::plan::change::{Change, Operation, Reason, Rotation};
use crate::retiring;

/// Makes the replacement `change` of `app` a rotation: with an overlap, the
/// old app is kept under its retiring name until the overlap's last day.
pub(super) fn rotate(
    server: &Server,
    live: &LiveState,
    app: &DesiredApp,
    target: &Target,
    change: &mut Change,
) -> Result<(), PlanProblem> {
    change
        .notes
        .retain(|n| !n.starts_with("replacement requested with --replace"));
    let Operation::Replace { id, retire, .. } = &mut change.operation else {
        return Ok(());
    };
    let Some(seconds) = app.rotation_overlap.or(server.options.rotation_overlap) else {
        change.rotation = Some(Rotation {
            overlap_until: None,
            retiring_as: None,
        });
        change.notes.insert(
            0,
            "rotation requested with --rotate: a new client id (and secret); without `rotation_overlap` the old application is deleted once the new one exists, and its client id and secret stop working".into(),
        );
        return Ok(());
    };
    let end = live
        .read_at
        .and_then(|at| at.checked_add(std::time::Duration::from_secs(seconds)));
    let Some(end) = end else {
        return Err(PlanProblem {
            app: app.key.clone(),
            message: format!(
                "server `{}`: cannot date the end of `{}`'s rotation overlap: the server's listing has no time of reading",
                server.name, app.key
            ),
            help: "rotate without `rotation_overlap`, or report this as a bug".into(),
            origin: app.origin,
        });
    };
    let until = retiring::utc_day(end);
    let plain = retiring::retiring_name(&target.name, &until, None);
    let taken = live
        .apps
        .iter()
        .any(|a| a.organization == target.organization && a.name.trim() == plain);
    let name = if taken {
        retiring::retiring_name(&target.name, &until, Some(id))
    } else {
        plain
    };
    *retire = Some(name.clone());
    change.notes.insert(
        0,
        format!(
            "rotation requested with --rotate: a new client id (and secret); the old application is kept as `{name}`, its client id and secret working until {until} (rotation_overlap), and deleted by the first run after that day"
        ),
    );
    change.rotation = Some(Rotation {
        overlap_until: Some(until),
        retiring_as: Some(name),
    });
    Ok(())
}

/// Every retiring copy this config answers for: deleted once its overlap
/// has ended (or every token issued for it has expired), else listed with
/// its end. Each is marked matched: never unmanaged, never pruned. The
/// config answers for the copies of the applications it names (present or
/// absent) and, with `prune`, for every copy on the server; another's copy
/// on a shared server is left to it (an unmanaged application here).
pub(super) fn retiring_copies<'l>(
    server: &Server,
    live: &'l LiveState,
    resolved: &[(&DesiredApp, Target)],
    matched: &mut BTreeSet<&'l str>,
    out: &mut Diff,
) {
    let today = live.read_at.map(retiring::utc_day);
    for a in &live.apps {
        let Some(r) = a.retiring.as_ref().filter(|_| a.unmanageable.is_none()) else {
            continue;
        };
        let named = resolved
            .iter()
            .any(|(_, t)| t.organization == a.organization && r.stands_for(&t.name));
        if !(named || server.options.prune) || !matched.insert(a.id.as_str()) {
            continue;
        }
        let organization = org_label(live, a.organization);
        let of = match &organization {
            Some(org) => format!("{} ({org})", r.original),
            None => r.original.clone(),
        };
        let ended = today.as_deref().is_some_and(|t| r.ended_by(t));
        let unused = a.tokens.is_some_and(|n| n > 0) && a.live_tokens == Some(0);
        if !ended && !unused {
            out.retiring.push(RetiringCopy {
                name: a.name.clone(),
                app: of,
                until: r.until.clone(),
                live_tokens: a.live_tokens.or(a.tokens.filter(|n| *n == 0)),
                last_used: a.last_used.clone(),
            });
            continue;
        }
        if is_protected(server, &a.name) || is_protected(server, &r.original) {
            out.protected.push(format!(
                "{}: the retiring copy `{}` of `{}` would be deleted, but it matches `protect`",
                server.name, a.name, r.original
            ));
        }
        let why = if ended {
            format!("its overlap ended on {}", r.until)
        } else {
            format!(
                "its overlap runs until {}, but every token issued for it has expired",
                r.until
            )
        };
        let mut delete = delete_of(
            server,
            live,
            a,
            Reason::ForcesReplacement,
            vec![format!(
                "the old application of `{of}`, kept working after a rotation: {why}"
            )],
        );
        delete.rotation = Some(Rotation {
            overlap_until: Some(r.until.clone()),
            retiring_as: Some(a.name.clone()),
        });
        out.changes.push(delete);
    }
    for change in &mut out.changes {
        let Operation::Create {
            name, organization, ..
        } = &change.operation
        else {
            continue;
        };
        // Only copies still within their overlap: an ended one is deleted.
        for copy in live.apps.iter().filter(|a| {
            a.organization == *organization
                && a.retiring.as_ref().is_some_and(|r| r.stands_for(name))
                && out.retiring.iter().any(|kept| kept.name == a.name)
        }) {
            let until = copy.retiring.as_ref().map_or("", |r| r.until.as_str());
            change.notes.push(format!(
                "`{name}` was rotated: its old application `{}` keeps working until {until}; this creates the new one (a rotation stopped after the old one was moved aside)",
                copy.name
            ));
        }
    }
}
