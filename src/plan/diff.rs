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
}

/// SHA-256 over the normalized live object (SPEC §2.6 `before_fingerprint`).
pub fn fingerprint(kind: Kind, live: &LiveApp) -> String {
    let rules = semantics::field_rules(kind);
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

/// The key a desired app is matched on, and its AWX organization id.
pub fn desired_match_key(
    app: &DesiredApp,
    live: &LiveState,
) -> Result<(String, Option<u64>), String> {
    match &app.identity {
        AppIdentity::Awx { organization, name } => {
            let id = match organization {
                OrgRef::Id(id) => *id,
                OrgRef::Name(n) => *live
                    .organizations
                    .get(n)
                    .ok_or_else(|| format!("organization `{n}` does not exist on the server"))?,
            };
            Ok((format!("{id}/{}", name.trim()), Some(id)))
        }
        AppIdentity::Tpp { id } => Ok((id.clone(), None)),
        AppIdentity::Whm { name } => Ok((name.clone(), None)),
    }
}

fn app_name(app: &DesiredApp) -> &str {
    match &app.identity {
        AppIdentity::Awx { name, .. } => name,
        AppIdentity::Tpp { id } => id,
        AppIdentity::Whm { name } => name,
    }
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
fn wanted(server: &Server, app: &DesiredApp, live: Option<&LiveApp>) -> Vec<Wanted> {
    if let Some(object) = semantics::object_keys_field(server.kind) {
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
    semantics::field_rules(server.kind)
        .iter()
        .filter_map(|rule| {
            let value = match app.fields.get(rule.name) {
                Some(v) => Some(v.clone()),
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

fn yields_secret(kind: Kind, fields: &BTreeMap<String, Value>) -> bool {
    kind == Kind::Awx && fields.get("client_type").and_then(Value::as_str) == Some("confidential")
}

/// Diffs one server instance's live state against the server's config.
pub fn diff(server: &Server, live: &LiveState) -> Diff {
    let style = semantics::update_style(server.kind);
    let mut out = Diff::default();
    let by_key: BTreeMap<&str, &LiveApp> = live
        .apps
        .iter()
        .map(|a| (a.match_key.as_str(), a))
        .collect();
    let mut matched: BTreeSet<&str> = BTreeSet::new();

    for app in &server.apps {
        let (key, organization) = match desired_match_key(app, live) {
            Ok(k) => k,
            Err(message) => {
                out.problems.push(PlanProblem {
                    app: app.key.clone(),
                    message: format!("application `{}`: {message}", app.key),
                    help: "create the organization first, or fix `organization:`".into(),
                    origin: app.origin,
                });
                continue;
            }
        };
        let current = by_key.get(key.as_str()).copied();
        if let Some(c) = current {
            matched.insert(c.match_key.as_str());
        }
        match (app.ensure, current) {
            (Ensure::Absent, None) => out.noop += 1,
            (Ensure::Absent, Some(c)) => {
                if is_protected(server, &c.name) {
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
                    operation: Some(Operation::Delete { id: c.id.clone() }),
                    yields_secret: false,
                });
            }
            (Ensure::Present, None) => {
                let missing: Vec<&str> = semantics::field_rules(server.kind)
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
                let fields: BTreeMap<String, Value> = wanted(server, app, None)
                    .into_iter()
                    .filter_map(|w| w.value.map(|v| (w.name, v)))
                    .collect();
                let shown: Vec<(String, Value)> = match semantics::object_keys_field(server.kind) {
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
                        })
                        .collect(),
                    yields_secret: yields_secret(server.kind, &fields),
                    operation: Some(Operation::Create {
                        name: app_name(app).trim().to_string(),
                        organization,
                        fields,
                    }),
                });
            }
            (Ensure::Present, Some(c)) => {
                if let Some(change) = update_or_replace(server, style, app, c) {
                    if change.action == Action::Replace && is_protected(server, &c.name) {
                        out.protected.push(format!(
                            "{}: `{}` must be replaced but matches `protect`",
                            server.name, app.key
                        ));
                    }
                    out.changes.push(change);
                } else {
                    out.noop += 1;
                }
            }
        }
    }

    for c in &live.apps {
        if matched.contains(c.match_key.as_str()) {
            continue;
        }
        if server.options.prune && !is_protected(server, &c.name) {
            out.changes.push(Change {
                app: c.name.clone(),
                action: Action::Delete,
                reason: Reason::Pruned,
                before_fingerprint: Some(fingerprint(server.kind, c)),
                fields: Vec::new(),
                operation: Some(Operation::Delete { id: c.id.clone() }),
                yields_secret: false,
            });
        } else {
            out.unmanaged.push(c.name.clone());
        }
    }
    out.changes
        .sort_by(|a, b| a.app.cmp(&b.app).then(a.action.cmp(&b.action)));
    out.unmanaged.sort();
    out
}

fn update_or_replace(
    server: &Server,
    style: UpdateStyle,
    app: &DesiredApp,
    live: &LiveApp,
) -> Option<Change> {
    let wanted = wanted(server, app, Some(live));
    let mut fields = Vec::new();
    let mut replace = false;
    // The body of the write: partial sends the changes; full replace sends the
    // live object overlaid with the managed values (SPEC §2.3).
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
                });
            }
            continue;
        };
        merged.insert(w.name.clone(), after.clone());
        let before = before.unwrap_or(Value::Null);
        if normalize::equal(w.compare, &before, after) {
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
        });
    }
    if fields.is_empty() {
        return None;
    }
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
                });
            }
        }
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
            yields_secret: yields_secret(server.kind, &merged),
            operation: Some(Operation::Replace {
                id: live.id.clone(),
                name: live.name.clone(),
                organization: live.organization,
                fields: merged,
            }),
        });
    }
    let body = match style {
        UpdateStyle::Partial => fields
            .iter()
            .filter(|f| !f.carried)
            .map(|f| (f.field.clone(), f.after.clone()))
            .collect(),
        UpdateStyle::FullReplace => merged,
    };
    Some(Change {
        app: app.key.clone(),
        action: Action::Update,
        reason: Reason::FieldsDiffer,
        before_fingerprint: fingerprint,
        fields,
        yields_secret: false,
        operation: Some(Operation::Update {
            id: live.id.clone(),
            fields: body,
        }),
    })
}
