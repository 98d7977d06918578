//! The change of an app the server has: an update (partial, or a full
//! replace carrying what the config does not manage) or a replacement, with
//! identity changes (`renamed_from`) and undeclared object keys masked.

use std::collections::BTreeMap;

use serde_json::Value;

use super::masks::mask_undeclared;
use super::{Target, fingerprint, org_label, wanted};
use crate::model::{DesiredApp, LiveApp, LiveState, Server};
use crate::plan::change::{Action, Change, FieldDiff, Operation, Reason};
use crate::plan::normalize;
use crate::semantics::{self, UpdateStyle};

/// `name` and `organization` of an AWX app found under another identity
/// (`renamed_from`, or the aside name of an interrupted replacement): the
/// field diffs to show, and the values a PATCH sends.
pub(super) fn identity_changes(
    live_app: &LiveApp,
    target: &Target,
    live: &LiveState,
) -> (Vec<FieldDiff>, BTreeMap<String, Value>) {
    let mut shown = Vec::new();
    let mut body = BTreeMap::new();
    let Some(org) = target.organization else {
        return (shown, body);
    };
    if live_app.name.trim() != target.name {
        shown.push(FieldDiff {
            field: "name".into(),
            before: Value::String(live_app.name.clone()),
            after: Value::String(target.name.clone()),
            forces_replacement: false,
            carried: false,
            sensitive: false,
            origin: None,
        });
        body.insert("name".into(), Value::String(target.name.clone()));
    }
    if live_app.organization != Some(org) {
        let label = |id| Value::String(org_label(live, id).unwrap_or_default());
        shown.push(FieldDiff {
            field: "organization".into(),
            before: label(live_app.organization),
            after: label(Some(org)),
            forces_replacement: false,
            carried: false,
            sensitive: false,
            origin: None,
        });
        body.insert("organization".into(), Value::from(org));
    }
    (shown, body)
}

pub(super) fn update_or_replace(
    server: &Server,
    style: UpdateStyle,
    app: &DesiredApp,
    live_app: &LiveApp,
    target: &Target,
    live_state: &LiveState,
    forced: bool,
) -> Option<Change> {
    let live = live_app;
    let (identity_diffs, identity_body) = identity_changes(live_app, target, live_state);
    let sem = semantics::of(server.kind);
    let wanted = wanted(server, app, Some(live), &live_state.defaults);
    let mut notes = Vec::new();
    let mut fields = Vec::new();
    let mut replace = false;
    // The body of the write: partial sends the changes; full replace sends the
    // live object overlaid with the managed values (docs/reference.md §2.3).
    let mut merged = live.fields.clone();
    for w in &wanted {
        let before = live.fields.get(&w.name).cloned();
        let Some(after) = &w.value else {
            // A live key the config does not declare, under `authoritative`.
            if let Some(before) = before {
                merged.remove(&w.name);
                fields.push(FieldDiff {
                    field: w.name.clone(),
                    before,
                    after: Value::Null,
                    forces_replacement: false,
                    carried: false,
                    sensitive: false,
                    origin: None,
                });
            }
            continue;
        };
        merged.insert(w.name.clone(), after.clone());
        let before = before.unwrap_or(Value::Null);
        if normalize::equal(w.compare, &before, after) {
            continue;
        }
        // TPP without readable defaults: a field the server leaves out is at
        // its default, which nobody can tell; not a difference, but the
        // configured value goes into the next full replace (docs/reference.md §2.3).
        let unknown_default = sem.defaults_from_server
            && before.is_null()
            && !after.is_null()
            && w.rule.is_some_and(|r| r.default.is_some());
        if unknown_default {
            notes.push(format!(
                "`{}`: the server leaves it out (its own default) and its defaults could not be read (GetConfiguration), so appform cannot tell whether it is {after}; a full replace of this app sends {after}",
                w.name
            ));
            continue;
        }
        let forces = w.rule.is_some_and(|r| r.forces_replacement(&before, after));
        replace |= forces;
        fields.push(FieldDiff {
            field: w.name.clone(),
            before,
            after: after.clone(),
            forces_replacement: forces,
            carried: false,
            sensitive: false,
            origin: None,
        });
    }
    fields.extend(identity_diffs);
    if fields.is_empty() && !forced {
        return None;
    }
    let unmodelled = live
        .fields
        .keys()
        .filter(|k| k.as_str() != "id" && sem.rule(k).is_none() && sem.object_field.is_none())
        .count();
    if unmodelled > 0 {
        let authoritative = if server.options.authoritative {
            " (also under `authoritative`: appform cannot know their defaults)"
        } else {
            ""
        };
        notes.push(format!(
            "{} the server returned that appform does not model {} carried unchanged{authoritative}",
            if unmodelled == 1 { "1 field".to_string() } else { format!("{unmodelled} fields") },
            if unmodelled == 1 { "is" } else { "are" }
        ));
    }
    replace |= forced;
    if style == UpdateStyle::FullReplace {
        for (name, value) in &merged {
            if !fields.iter().any(|f| &f.field == name) {
                fields.push(FieldDiff {
                    field: name.clone(),
                    before: live.fields.get(name).cloned().unwrap_or(Value::Null),
                    after: value.clone(),
                    forces_replacement: false,
                    carried: true,
                    sensitive: false,
                    origin: None,
                });
            }
        }
    }
    if sem.object_field.is_some() {
        mask_undeclared(&mut fields, &wanted);
    }
    fields.sort_by(|a, b| a.field.cmp(&b.field));
    let fingerprint = Some(fingerprint(server.kind, live));
    if replace {
        return Some(Change {
            app: app.key.clone(),
            action: Action::Replace,
            reason: Reason::ForcesReplacement,
            before_fingerprint: fingerprint,
            fields,
            organization: None,
            origin: None,
            notes: if forced {
                let mut n = vec![
                    "replacement requested with --replace: a new client id (and secret)".into(),
                ];
                n.extend(notes);
                n
            } else {
                notes
            },
            yields_secret: semantics::of(server.kind).yields_secret(&merged),
            in_use: None,
            rotation: None,
            operation: Operation::Replace {
                id: live.id.clone(),
                live_name: live.name.clone(),
                name: target.name.clone(),
                organization: target.organization,
                fields: merged,
                retire: None,
            },
        });
    }
    let body = match style {
        UpdateStyle::Partial => {
            let mut body: BTreeMap<String, Value> = fields
                .iter()
                .filter(|f| !f.carried && !identity_body.contains_key(&f.field))
                .map(|f| (f.field.clone(), f.after.clone()))
                .collect();
            body.extend(identity_body);
            body
        }
        UpdateStyle::FullReplace => merged,
    };
    Some(Change {
        app: app.key.clone(),
        action: Action::Update,
        reason: Reason::FieldsDiffer,
        before_fingerprint: fingerprint,
        fields,
        organization: None,
        notes,
        origin: None,
        yields_secret: false,
        in_use: None,
        rotation: None,
        operation: Operation::Update {
            id: live.id.clone(),
            fields: body,
        },
    })
}
