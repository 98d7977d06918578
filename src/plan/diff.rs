//! desired ⊖ live → changes, for one server instance. Pure: values in, values out.
//! The same for every kind; the kind's rules (`semantics`) decide comparison,
//! replacement and what an update carries.

use std::collections::BTreeMap;

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::change::{Action, Change, FieldDiff, Operation, Reason};
use super::normalize;
use crate::model::{DesiredApp, Ensure, Kind, LiveApp, LiveState, Origin, Server};
use crate::plan::Asked;
use crate::semantics::{self, Compare, FieldRule};

mod masks;
mod matching;
mod retiring;
mod unmatched;
mod update;

use unmatched::{decorate, unmatched};

use masks::hide_secrets;
use matching::{Matcher, resolve_identity, same_name_elsewhere};
use update::update_or_replace;

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
    /// Confidential apps created longer ago than their `rotate_after`.
    pub rotation_due: Vec<crate::plan::RotationDue>,
    /// Every managed confidential app's creation time (Unix seconds), by label.
    pub secrets_created: Vec<(String, u64)>,
    /// Old apps kept for a rotation's overlap, still within it.
    pub retiring: Vec<crate::plan::RetiringCopy>,
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
    diff_with(server, live, &|_| Asked::Nothing)
}

/// [`diff`], replacing or rotating the apps `asked` names (`apply
/// --replace`, `apply --rotate`) even when nothing else forces it. Three
/// steps: match each desired app to its live app ([`Matcher`]), classify
/// each pair into a change ([`classify`]), then the retiring copies of
/// rotations ([`retiring::retiring_copies`]), the live apps nothing matched
/// (prune or unmanaged) and the notes and masks every change gets
/// ([`decorate`]).
pub fn diff_with(server: &Server, live: &LiveState, asked: &dyn Fn(&str) -> Asked) -> Diff {
    let mut out = Diff::default();
    let resolved = resolve_all(server, live, &mut out);
    let mut matcher = Matcher::new(live, &resolved);
    for (app, target) in &resolved {
        let (found, asides) = matcher.take(app, target);
        for a in asides {
            delete_aside(server, live, app, target, a, &mut out);
        }
        classify(server, live, app, target, found, asked(&app.key), &mut out);
    }
    retiring::retiring_copies(server, live, &resolved, &mut matcher.matched, &mut out);
    unmatched(server, live, &resolved, &matcher.matched, &mut out);
    refuse_what_the_server_forbids(server, live, &mut out);
    decorate(server, live, &matcher.matched, &mut out);
    mark_in_use(server, live, &mut out);
    // A replacement gives the app a new secret: not due any more.
    let replaced: Vec<String> = out
        .changes
        .iter()
        .filter(|c| c.action == Action::Replace)
        .map(|c| c.app.clone())
        .collect();
    out.rotation_due.retain(|d| !replaced.contains(&d.key));
    out
}

/// A confidential app whose `created` is older than its `rotate_after`
/// (the app's, else the server's): its client secret, which the server
/// never changes, is due for rotation, measured at `read_at`, when the
/// listing was read (the plan itself reads no clock).
fn rotation_due(
    server: &Server,
    app: &DesiredApp,
    live: &LiveApp,
    organization: Option<&str>,
    read_at: Option<std::time::SystemTime>,
) -> Option<crate::plan::RotationDue> {
    let rotate_after = app.rotate_after.or(server.options.rotate_after)?;
    let confidential =
        live.fields.get("client_type").and_then(Value::as_str) == Some("confidential");
    let created_text = live.created.as_deref()?;
    let created = crate::timestamp::parse(created_text)?;
    let age = read_at?.duration_since(created).ok()?.as_secs();
    if !confidential || age <= rotate_after {
        return None;
    }
    Some(crate::plan::RotationDue {
        key: app.key.clone(),
        app: match organization {
            Some(org) => format!("{} ({org})", live.name),
            None => live.name.clone(),
        },
        created: created_text.chars().take(10).collect(),
        age_days: age / 86_400,
        rotate_after_days: rotate_after / 86_400,
    })
}

/// Deletes and replacements of apps the listing says have tokens (AWX and
/// the gateway count them, expired ones included): marked, so that the
/// session reads those apps' token lists and the policy decides.
fn mark_in_use(server: &Server, live: &LiveState, out: &mut Diff) {
    for change in &mut out.changes {
        let id = match &change.operation {
            Operation::Delete { id, .. } => id,
            Operation::Replace {
                id, retire: None, ..
            } => id,
            // A rotation with an overlap keeps the old app: nothing is taken away.
            _ => continue,
        };
        let Some(old) = live.apps.iter().find(|a| &a.id == id) else {
            continue;
        };
        let Some(tokens) = old.tokens.filter(|n| *n > 0) else {
            continue;
        };
        // A retiring copy's end was reviewed with the rotation's overlap.
        let allowed = old.retiring.is_some()
            || server
                .apps
                .iter()
                .any(|a| a.key == change.app && a.allow_delete_in_use);
        change.in_use = Some(crate::plan::InUse {
            live_tokens: tokens,
            until: None,
            last_used: old.last_used.clone(),
            allowed,
        });
    }
}

/// Changes the server's listing says these credentials may not make (AWX
/// `user_capabilities`; a write it marks false gets 403) become problems:
/// the server plans nothing, and apply sends it no write. Not when reading
/// with `auth.plan`: read-only credentials see every capability false, and
/// say nothing of what apply's credentials may do.
fn refuse_what_the_server_forbids(server: &Server, live: &LiveState, out: &mut Diff) {
    if server.reading_with_plan_auth {
        return;
    }
    for change in &out.changes {
        let (id, verb, needs_edit, needs_delete) = match &change.operation {
            Operation::Update { id, .. } => (id, "update", true, false),
            Operation::Replace { id, .. } => (id, "replace", true, true),
            Operation::Delete { id } => (id, "delete", false, true),
            Operation::Create { .. } => continue,
        };
        let Some(caps) = live
            .apps
            .iter()
            .find(|a| &a.id == id)
            .and_then(|a| a.capabilities)
        else {
            continue;
        };
        let lacking = if needs_edit && !caps.edit {
            "edit"
        } else if needs_delete && !caps.delete {
            "delete"
        } else {
            continue;
        };
        let origin = server
            .apps
            .iter()
            .find(|a| a.key == change.app)
            .map_or(server.origin, |a| a.origin);
        out.problems.push(PlanProblem {
            app: change.app.clone(),
            message: format!(
                "server `{}`: cannot {verb} `{}`: the credentials lack permission (user_capabilities.{lacking} is false)",
                server.name, change.app
            ),
            help: "give apply's credentials the admin role on the application (or its organization), or leave the application alone in the config".into(),
            origin,
        });
    }
}

/// Every desired app's identity on this server; those that cannot be
/// resolved (an unknown organization) are problems.
fn resolve_all<'s>(
    server: &'s Server,
    live: &LiveState,
    out: &mut Diff,
) -> Vec<(&'s DesiredApp, Target)> {
    let mut resolved = Vec::new();
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
    resolved
}

/// The delete of an old copy left by an interrupted replacement of `app`.
fn delete_aside(
    server: &Server,
    live: &LiveState,
    app: &DesiredApp,
    target: &Target,
    a: &LiveApp,
    out: &mut Diff,
) {
    if is_protected(server, &target.name) {
        out.protected.push(format!(
            "{}: the old copy `{}` of `{}` would be deleted, but `{}` matches `protect`",
            server.name, a.name, app.key, target.name
        ));
    }
    out.changes.push(delete_of(
        server,
        live,
        a,
        Reason::ForcesReplacement,
        vec![format!(
            "the old copy of `{}`, left by a replacement that was interrupted after the new application was created",
            target.name
        )],
    ));
}

/// The delete of the live app `a`, named as the server names it: a prune,
/// or the old copy a replacement or a rotation left.
fn delete_of(
    server: &Server,
    live: &LiveState,
    a: &LiveApp,
    reason: Reason,
    notes: Vec<String>,
) -> Change {
    Change {
        app: a.name.clone(),
        action: Action::Delete,
        reason,
        before_fingerprint: Some(fingerprint(server.kind, a)),
        fields: Vec::new(),
        organization: org_label(live, a.organization),
        origin: None,
        notes,
        operation: Operation::Delete { id: a.id.clone() },
        yields_secret: false,
        in_use: None,
        rotation: None,
    }
}

/// The change (or no-op, or problem) of one desired app and its live app.
fn classify(
    server: &Server,
    live: &LiveState,
    app: &DesiredApp,
    target: &Target,
    found: Option<&LiveApp>,
    asked: Asked,
    out: &mut Diff,
) {
    let organization = org_label(live, target.organization);
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
                in_use: None,
                rotation: None,
            });
        }
        (Ensure::Present, None) => match create(server, live, app, target) {
            Ok(mut change) => {
                change.organization = organization;
                out.changes.push(change);
            }
            Err(problem) => out.problems.push(problem),
        },
        (Ensure::Present, Some(c)) => {
            let due = rotation_due(server, app, c, organization.as_deref(), live.read_at);
            let rotate = match asked {
                Asked::Rotate => true,
                Asked::RotateIfDue => due.is_some(),
                Asked::Nothing | Asked::Replace => false,
            };
            let forced = rotate || asked == Asked::Replace;
            out.rotation_due.extend(due);
            let confidential =
                c.fields.get("client_type").and_then(Value::as_str) == Some("confidential");
            if let Some(created) = c
                .created
                .as_deref()
                .and_then(crate::timestamp::parse)
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .filter(|_| confidential)
            {
                let label = match &organization {
                    Some(org) => format!("{} ({org})", c.name),
                    None => c.name.clone(),
                };
                out.secrets_created.push((label, created.as_secs()));
            }
            if forced && !semantics::of(server.kind).replaceable {
                out.problems.push(PlanProblem {
                    app: app.key.clone(),
                    message: format!(
                        "server `{}`: `--{} {}` asks for a replacement, but a {} application's identity is its only key: it cannot be created before the old one is deleted",
                        server.name,
                        if rotate { "rotate" } else { "replace" },
                        app.key,
                        server.kind
                    ),
                    help: "to rotate it, declare a new application and set `ensure: absent` on this one".into(),
                    origin: app.origin,
                });
                return;
            }
            let style = semantics::of(server.kind).update_style;
            let Some(mut change) = update_or_replace(server, style, app, c, target, live, forced)
            else {
                out.noop += 1;
                return;
            };
            if change.action == Action::Replace
                && (is_protected(server, &c.name) || is_protected(server, &target.name))
            {
                out.protected.push(format!(
                    "{}: `{}` must be replaced but matches `protect`",
                    server.name, app.key
                ));
            }
            if rotate
                && change.action == Action::Replace
                && let Err(problem) = retiring::rotate(server, live, app, target, &mut change)
            {
                out.problems.push(problem);
                return;
            }
            change.organization = organization;
            out.changes.push(change);
        }
    }
}

/// The create of an app the server does not have, or why it cannot be.
fn create(
    server: &Server,
    live: &LiveState,
    app: &DesiredApp,
    target: &Target,
) -> Result<Change, PlanProblem> {
    let sem = semantics::of(server.kind);
    let missing: Vec<&str> = sem
        .fields
        .iter()
        .filter(|r| r.required_to_create && !app.fields.contains_key(r.name))
        .map(|r| r.name)
        .collect();
    if !missing.is_empty() {
        return Err(PlanProblem {
            app: app.key.clone(),
            message: format!(
                "server `{}`: application `{}` does not exist, and creating it needs {}",
                server.name,
                app.key,
                missing
                    .iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            help: format!(
                "add {} to this application (required to create)",
                missing.join(", ")
            ),
            origin: app.origin,
        });
    }
    let fields: BTreeMap<String, Value> = wanted(server, app, None, &live.defaults)
        .into_iter()
        .filter_map(|w| w.value.map(|v| (w.name, v)))
        .collect();
    let shown: Vec<(String, Value)> = match sem.object_field {
        Some(_) => fields.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        None => app
            .fields
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    };
    Ok(Change {
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
        organization: None,
        origin: None,
        notes: Vec::new(),
        yields_secret: sem.yields_secret(&fields),
        in_use: None,
        rotation: None,
        operation: Operation::Create {
            name: target.name.clone(),
            organization: target.organization,
            fields,
        },
    })
}
