//! desired ⊖ live → changes, for one server instance. Pure: values in, values out.
//! The same for every kind; the kind's rules (`semantics`) decide comparison,
//! replacement and what an update carries.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::change::{Action, Change, FieldDiff, Operation, Reason};
use super::normalize;
use crate::model::{
    AppIdentity, DesiredApp, Ensure, Kind, LiveApp, LiveState, OrgRef, Origin, Server,
};
use crate::semantics::{self, Compare, FieldRule, UpdateStyle};

/// A desired app that cannot be planned (for example a create without a
/// required field). `origin` points at the app in the YAML.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanProblem {
    pub app: String,
    pub message: String,
    pub help: String,
    pub origin: Origin,
}

/// The outcome of diffing one instance.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Diff {
    /// Sorted by app.
    pub changes: Vec<Change>,
    /// Live apps not in the config and not pruned, sorted.
    pub unmanaged: Vec<String>,
    pub noop: usize,
    pub problems: Vec<PlanProblem>,
    /// Changes refused by `protect` (reported as blocked rules).
    pub protected: Vec<String>,
    /// AWX: the unmanaged apps with their organization (and a note when the
    /// config has that name in another organization), sorted.
    pub unmanaged_labels: Vec<String>,
}

/// SHA-256 over the normalized live object (docs/reference.md §2.6 `before_fingerprint`).
pub fn fingerprint(kind: Kind, live: &LiveApp) -> String {
    let rules = semantics::of(kind).fields;
    let fields: BTreeMap<&str, Value> = live
        .fields
        .iter()
        .map(|(k, v)| {
            let canon = match rules.iter().find(|r| r.name == k) {
                Some(rule) => normalize::canonical(rule.compare, v),
                None => v.clone(),
            };
            (k.as_str(), sorted_json(&canon))
        })
        .collect();
    let doc = serde_json::json!({"id": live.id, "key": live.match_key, "fields": fields});
    format!("sha256:{:x}", Sha256::digest(doc.to_string().as_bytes()))
}

/// The managed fields (of `wanted`, in config form) in which a live app
/// differs: used when a create meets an app that is already there.
pub fn differing_fields(
    kind: Kind,
    found: &LiveApp,
    wanted: &BTreeMap<String, Value>,
) -> Vec<String> {
    semantics::of(kind)
        .fields
        .iter()
        .filter_map(|rule| {
            let want = wanted.get(rule.name)?;
            let have = found.fields.get(rule.name).unwrap_or(&Value::Null);
            (!normalize::equal(rule.compare, have, want)).then(|| rule.name.to_string())
        })
        .collect()
}

/// The same value with every object's keys sorted (stable text for hashing).
fn sorted_json(v: &Value) -> Value {
    match v {
        Value::Object(map) => {
            let sorted: BTreeMap<&String, Value> =
                map.iter().map(|(k, v)| (k, sorted_json(v))).collect();
            serde_json::to_value(sorted).unwrap_or(Value::Null)
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted_json).collect()),
        other => other.clone(),
    }
}

/// Where a desired app lives on the server: its match key, and for AWX the
/// organization id. `Err`: the organization is not on the server.
fn resolve_identity(app: &DesiredApp, live: &LiveState) -> Result<Target, String> {
    match &app.identity {
        AppIdentity::Awx { organization, name } => {
            let id = organization
                .resolve(&live.organizations)
                .ok_or_else(|| match organization {
                    OrgRef::Id(id) => format!(
                        "organization {id} does not exist on the server (or the credentials cannot see it)"
                    ),
                    OrgRef::Name(n) => format!("organization `{n}` does not exist on the server"),
                })?;
            Ok(Target {
                key: format!("{id}/{}", name.trim()),
                name: name.trim().to_string(),
                organization: Some(id),
            })
        }
        AppIdentity::Tpp { id } => Ok(Target {
            key: id.clone(),
            name: id.clone(),
            organization: None,
        }),
        AppIdentity::Whm { name } => Ok(Target {
            key: name.clone(),
            name: name.clone(),
            organization: None,
        }),
    }
}

/// The identity a desired app must have on the server.
#[derive(Debug, Clone)]
struct Target {
    key: String,
    name: String,
    organization: Option<u64>,
}

/// An organization as plans show it: its name, or `#id` when it is not known.
fn org_label(live: &LiveState, id: Option<u64>) -> Option<String> {
    id.map(|id| {
        live.organizations
            .get(&id)
            .cloned()
            .unwrap_or_else(|| format!("#{id}"))
    })
}

fn is_protected(server: &Server, name: &str) -> bool {
    server
        .options
        .protect
        .iter()
        .filter_map(|p| glob::Pattern::new(p).ok())
        .any(|p| p.matches(name))
}

/// One field the config manages, and the value it wants (`None`: remove the
/// key, for WHM `data` keys under `authoritative`).
struct Wanted {
    name: String,
    compare: Compare,
    rule: Option<&'static FieldRule>,
    value: Option<Value>,
}

/// The fields the config manages: declared, or at the server default under
/// `authoritative: true`; for WHM, the declared `data` keys (and, under
/// `authoritative`, the removal of the live keys it does not declare).
fn wanted(
    server: &Server,
    app: &DesiredApp,
    live: Option<&LiveApp>,
    defaults: &BTreeMap<String, Value>,
) -> Vec<Wanted> {
    let sem = semantics::of(server.kind);
    if let Some(object) = semantics::of(server.kind).object_field {
        let mut out = Vec::new();
        let declared = match app.fields.get(object) {
            Some(Value::Object(map)) => map.clone(),
            _ => serde_json::Map::new(),
        };
        for (k, v) in &declared {
            out.push(Wanted {
                name: format!("{object}.{k}"),
                compare: Compare::Json,
                rule: None,
                value: Some(v.clone()),
            });
        }
        if let (true, Some(live)) = (server.options.authoritative, live) {
            let prefix = format!("{object}.");
            for name in live.fields.keys() {
                let key = name.strip_prefix(&prefix).unwrap_or(name);
                if !declared.contains_key(key) {
                    out.push(Wanted {
                        name: name.clone(),
                        compare: Compare::Json,
                        rule: None,
                        value: None,
                    });
                }
            }
        }
        return out;
    }
    semantics::of(server.kind)
        .fields
        .iter()
        .filter_map(|rule| {
            let value = match app.fields.get(rule.name) {
                Some(v) => Some(v.clone()),
                // The server's own default (TPP), `null` when unknown: then the
                // field is left out of the write, which the server defaults.
                None if server.options.authoritative && sem.defaults_from_server => rule
                    .default
                    .map(|_| defaults.get(rule.name).cloned().unwrap_or(Value::Null)),
                None if server.options.authoritative => rule.default.map(|d| d()),
                None => None,
            }?;
            Some(Wanted {
                name: rule.name.to_string(),
                compare: rule.compare,
                rule: Some(rule),
                value: Some(value),
            })
        })
        .collect()
}

/// Diffs one server instance's live state against the server's config.
pub fn diff(server: &Server, live: &LiveState) -> Diff {
    diff_with(server, live, &|_| false)
}

/// [`diff`], replacing the apps whose key `force` accepts (`apply --replace`)
/// even when nothing else forces it.
pub fn diff_with(server: &Server, live: &LiveState, force: &dyn Fn(&str) -> bool) -> Diff {
    let style = semantics::of(server.kind).update_style;
    let mut out = Diff::default();
    let by_key: BTreeMap<&str, &LiveApp> = live
        .apps
        .iter()
        .filter(|a| a.aside.is_none())
        .map(|a| (a.match_key.as_str(), a))
        .collect();
    // Old copies left by interrupted replacements (usually none), looked at
    // for every desired app below: collected once, not searched for per app.
    let set_aside: Vec<&LiveApp> = live.apps.iter().filter(|a| a.aside.is_some()).collect();
    // Live apps already given to a desired app, by server id.
    let mut matched: BTreeSet<&str> = BTreeSet::new();

    let mut resolved: Vec<(&DesiredApp, Target)> = Vec::new();
    for app in &server.apps {
        match resolve_identity(app, live) {
            Ok(t) => resolved.push((app, t)),
            Err(message) => out.problems.push(PlanProblem {
                app: app.key.clone(),
                message: format!("application `{}`: {message}", app.key),
                help: "create the organization first, or fix `organization:`".into(),
                origin: app.origin,
            }),
        }
    }
    // Identities the config claims: `renamed_from` never takes another entry's app.
    let claimed: BTreeSet<&str> = resolved.iter().map(|(_, t)| t.key.as_str()).collect();

    for (app, target) in &resolved {
        // The old copies of an interrupted replacement of this app.
        let mut asides: Vec<&LiveApp> = set_aside
            .iter()
            .copied()
            .filter(|a| {
                a.organization == target.organization
                    && a.aside.as_ref().is_some_and(|x| x.stands_for(&target.name))
                    && !matched.contains(a.id.as_str())
            })
            .collect();
        let found: Option<&LiveApp> = match by_key.get(target.key.as_str()) {
            Some(c) => Some(*c),
            // The replacement stopped after moving the old app aside: the old
            // app is this app's live state (resumed, or given its name back).
            None if !asides.is_empty() => Some(asides.remove(0)),
            None if app.ensure == Ensure::Present => {
                renamed_from(app, target, live, &by_key, &claimed, &matched)
            }
            None => None,
        };
        if let Some(c) = found {
            matched.insert(c.id.as_str());
        }
        let organization = org_label(live, target.organization);
        for a in asides {
            matched.insert(a.id.as_str());
            if is_protected(server, &target.name) {
                out.protected.push(format!(
                    "{}: the old copy `{}` of `{}` would be deleted, but `{}` matches `protect`",
                    server.name, a.name, app.key, target.name
                ));
            }
            out.changes.push(Change {
                app: a.name.clone(),
                action: Action::Delete,
                reason: Reason::ForcesReplacement,
                before_fingerprint: Some(fingerprint(server.kind, a)),
                fields: Vec::new(),
                organization: org_label(live, a.organization),
                origin: None,
                notes: vec![format!(
                    "the old copy of `{}`, left by a replacement that was interrupted after the new application was created",
                    target.name
                )],
                operation: Operation::Delete { id: a.id.clone() },
                yields_secret: false,
            });
        }
        match (app.ensure, found) {
            (Ensure::Absent, None) => out.noop += 1,
            (Ensure::Absent, Some(c)) => {
                if is_protected(server, &c.name) || is_protected(server, &target.name) {
                    out.protected.push(format!(
                        "{}: `{}` has `ensure: absent` but matches `protect`",
                        server.name, app.key
                    ));
                }
                out.changes.push(Change {
                    app: app.key.clone(),
                    action: Action::Delete,
                    reason: Reason::EnsureAbsent,
                    before_fingerprint: Some(fingerprint(server.kind, c)),
                    fields: Vec::new(),
                    organization,
                    origin: None,
                    notes: Vec::new(),
                    operation: Operation::Delete { id: c.id.clone() },
                    yields_secret: false,
                });
            }
            (Ensure::Present, None) => {
                let missing: Vec<&str> = semantics::of(server.kind)
                    .fields
                    .iter()
                    .filter(|r| r.required_to_create && !app.fields.contains_key(r.name))
                    .map(|r| r.name)
                    .collect();
                if !missing.is_empty() {
                    out.problems.push(PlanProblem {
                        app: app.key.clone(),
                        message: format!(
                            "server `{}`: application `{}` does not exist, and creating it needs {}",
                            server.name,
                            app.key,
                            missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ")
                        ),
                        help: format!(
                            "add {} to this application (required to create)",
                            missing.join(", ")
                        ),
                        origin: app.origin,
                    });
                    continue;
                }
                let fields: BTreeMap<String, Value> = wanted(server, app, None, &live.defaults)
                    .into_iter()
                    .filter_map(|w| w.value.map(|v| (w.name, v)))
                    .collect();
                let shown: Vec<(String, Value)> = match semantics::of(server.kind).object_field {
                    Some(_) => fields.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                    None => app
                        .fields
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                };
                out.changes.push(Change {
                    app: app.key.clone(),
                    action: Action::Create,
                    reason: Reason::NotFound,
                    before_fingerprint: None,
                    fields: shown
                        .into_iter()
                        .map(|(k, v)| FieldDiff {
                            field: k,
                            before: Value::Null,
                            after: v,
                            forces_replacement: false,
                            carried: false,
                            sensitive: false,
                            origin: None,
                        })
                        .collect(),
                    organization,
                    origin: None,
                    notes: Vec::new(),
                    yields_secret: semantics::of(server.kind).yields_secret(&fields),
                    operation: Operation::Create {
                        name: target.name.clone(),
                        organization: target.organization,
                        fields,
                    },
                });
            }
            (Ensure::Present, Some(c)) => {
                let forced = force(&app.key);
                if forced && !semantics::of(server.kind).replaceable {
                    out.problems.push(PlanProblem {
                        app: app.key.clone(),
                        message: format!(
                            "server `{}`: `--replace {}` asks for a replacement, but a {} application's identity is its only key: it cannot be created before the old one is deleted",
                            server.name, app.key, server.kind
                        ),
                        help: "to rotate it, declare a new application and set `ensure: absent` on this one".into(),
                        origin: app.origin,
                    });
                    continue;
                }
                if let Some(mut change) =
                    update_or_replace(server, style, app, c, target, live, forced)
                {
                    if change.action == Action::Replace
                        && (is_protected(server, &c.name) || is_protected(server, &target.name))
                    {
                        out.protected.push(format!(
                            "{}: `{}` must be replaced but matches `protect`",
                            server.name, app.key
                        ));
                    }
                    change.organization = organization;
                    out.changes.push(change);
                } else {
                    out.noop += 1;
                }
            }
        }
    }

    for c in &live.apps {
        if matched.contains(c.id.as_str()) {
            continue;
        }
        if server.options.prune && !is_protected(server, &c.name) {
            out.changes.push(Change {
                app: c.name.clone(),
                action: Action::Delete,
                reason: Reason::Pruned,
                before_fingerprint: Some(fingerprint(server.kind, c)),
                fields: Vec::new(),
                organization: org_label(live, c.organization),
                origin: None,
                notes: same_name_elsewhere(c, &resolved, live),
                operation: Operation::Delete { id: c.id.clone() },
                yields_secret: false,
            });
        } else {
            out.unmanaged.push(c.name.clone());
            if let Some(org) = org_label(live, c.organization) {
                let mut label = format!("{} ({org})", c.name);
                if let Some(note) = same_name_elsewhere(c, &resolved, live).first() {
                    label = format!("{label}: {note}");
                }
                out.unmanaged_labels.push(label);
            }
        }
    }
    // A create next to an unmanaged app of the same name in another
    // organization: say so, and how to move that one instead.
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
    out
}

/// Masks what a plan must never show, once the operations (which carry the
/// real values) are built: a sensitive field's values become `(sensitive)`
/// (null stays null, so adding and removing still show), and secret-named
/// keys inside any object value (`data.jwt.secret`) are redacted.
fn hide_secrets(changes: &mut [Change], semantics: &semantics::Semantics) {
    let mask = |v: &Value| match v {
        Value::Null => Value::Null,
        _ => Value::String("(sensitive)".into()),
    };
    for f in changes.iter_mut().flat_map(|c| c.fields.iter_mut()) {
        if f.sensitive {
            continue; // masked already (an undeclared key)
        }
        // An object field's keys (WHM `data`) are free-form: a value shaped
        // like a credential is masked whatever its key, at any depth.
        let free_form = semantics.object_field.is_some();
        let shaped = |v: &Value| v.as_str().is_some_and(crate::secret::looks_like_secret);
        if (free_form && (shaped(&f.before) || shaped(&f.after)))
            || semantics.is_sensitive(&f.field)
        {
            f.sensitive = true;
            f.before = mask(&f.before);
            f.after = mask(&f.after);
        } else if free_form {
            f.before = crate::secret::redact_shaped(&f.before);
            f.after = crate::secret::redact_shaped(&f.after);
        } else {
            f.before = crate::secret::redact(&f.before);
            f.after = crate::secret::redact(&f.after);
        }
    }
}

/// Keys of an object field (WHM `data`) the config does not declare are
/// never shown, whatever their name: a live value is the server's, and a
/// pull request that only turns on `authoritative` (their removal) or changes
/// another key (they are carried) must not print it. Their size and a
/// fingerprint are shown instead ([`crate::secret::undeclared_mask`]).
fn mask_undeclared(fields: &mut [FieldDiff], wanted: &[Wanted]) {
    let declared = |name: &str| wanted.iter().any(|w| w.value.is_some() && w.name == name);
    for f in fields.iter_mut().filter(|f| !declared(&f.field)) {
        f.sensitive = true;
        for v in [&mut f.before, &mut f.after] {
            if !v.is_null() {
                *v = crate::secret::undeclared_mask(v);
            }
        }
    }
}

/// The live app a desired AWX app had under one of its `renamed_from`
/// identities (or the aside copy of one), unless the config claims that
/// identity for another entry or another entry already took it.
fn renamed_from<'a>(
    app: &DesiredApp,
    target: &Target,
    live: &'a LiveState,
    by_key: &BTreeMap<&str, &'a LiveApp>,
    claimed: &BTreeSet<&str>,
    matched: &BTreeSet<&str>,
) -> Option<&'a LiveApp> {
    for previous in &app.renamed_from {
        let org = match &previous.organization {
            Some(o) => o.resolve(&live.organizations),
            None => target.organization,
        };
        let Some(org) = org else { continue };
        let name = previous.name.trim();
        let key = format!("{org}/{name}");
        if claimed.contains(key.as_str()) {
            continue;
        }
        let exact = by_key.get(key.as_str()).copied();
        let aside = || {
            live.apps.iter().find(|a| {
                a.organization == Some(org) && a.aside.as_ref().is_some_and(|x| x.stands_for(name))
            })
        };
        if let Some(found) = exact.or_else(aside)
            && !matched.contains(found.id.as_str())
        {
            return Some(found);
        }
    }
    None
}

/// For an AWX app no entry manages: the config entries of the same name in
/// other organizations, in words.
fn same_name_elsewhere(
    live_app: &LiveApp,
    resolved: &[(&DesiredApp, Target)],
    live: &LiveState,
) -> Vec<String> {
    resolved
        .iter()
        .filter(|(_, t)| {
            t.organization.is_some()
                && t.organization != live_app.organization
                && t.name == live_app.name.trim()
        })
        .map(|(app, t)| {
            format!(
                "the config has `{}` in organization `{}`, not in this one",
                app.key,
                org_label(live, t.organization).unwrap_or_default()
            )
        })
        .collect()
}

/// `name` and `organization` of an AWX app found under another identity
/// (`renamed_from`, or the aside name of an interrupted replacement): the
/// field diffs to show, and the values a PATCH sends.
fn identity_changes(
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

fn update_or_replace(
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
            operation: Operation::Replace {
                id: live.id.clone(),
                live_name: live.name.clone(),
                name: target.name.clone(),
                organization: target.organization,
                fields: merged,
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
        operation: Operation::Update {
            id: live.id.clone(),
            fields: body,
        },
    })
}
