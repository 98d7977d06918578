//! `appform export`: a server's live applications as a config document in the
//! shape of docs/reference.md §1.1, such that planning it against the same server shows no
//! changes. Pure: live state in, a JSON value (written out as YAML) out.

use serde_json::{Map, Value, json};

use crate::duration::format_duration;
use crate::model::{Auth, Instance, LiveApp, LiveState, Server};
use crate::scope::ScopeSet;
use crate::secret::{Credential, SecretRef};
use crate::semantics::{self, Compare, Semantics};

/// The config document, the applications that could not be exported, and
/// the values left out because they look like secrets.
pub struct Exported {
    pub document: Value,
    pub skipped: Vec<String>,
    pub withheld: Vec<String>,
}

fn reference(r: &SecretRef) -> String {
    match r {
        SecretRef::Env(n) => format!("env:{n}"),
        // Absolute, so the exported file can live anywhere.
        SecretRef::File(p) => format!(
            "file:{}",
            std::path::absolute(p)
                .unwrap_or_else(|_| p.clone())
                .display()
        ),
    }
}

fn credential(c: &Credential) -> String {
    match c {
        Credential::Literal(s) => s.clone(),
        Credential::Ref(r) => reference(r),
    }
}

fn auth(a: &Auth) -> Value {
    match a {
        Auth::Token {
            username: None,
            token,
        } => json!({"token": reference(token)}),
        Auth::Token {
            username: Some(u),
            token,
        } => json!({"username": credential(u), "token": reference(token)}),
        Auth::Basic { username, password } => {
            json!({"username": credential(username), "password": reference(password)})
        }
        Auth::TppPassword {
            client_id,
            username,
            password,
            scope,
        } => {
            // Only what the config had: an unset scope stays unset.
            let mut auth = json!({
                "client_id": credential(client_id),
                "username": credential(username),
                "password": reference(password),
            });
            if let (Some(scope), Some(map)) = (scope, auth.as_object_mut()) {
                map.insert("scope".into(), json!(scope));
            }
            auth
        }
    }
}

fn field(app: &LiveApp, name: &str) -> Value {
    app.fields.get(name).cloned().unwrap_or(Value::Null)
}

/// One live app as a config entry; `Err` says why it cannot be. A key of
/// an object field (WHM `data`) whose name or value looks like a secret, at
/// any depth, is left out and named in `withheld`: a config is committed, a
/// secret must not be. Left out, it stays on the server (every full replace
/// carries undeclared keys), so the export still plans as "No changes".
fn entry(
    sem: &Semantics,
    app: &LiveApp,
    withheld: &mut Vec<String>,
) -> Result<Map<String, Value>, String> {
    let mut e = Map::new();
    if let (true, Some(org)) = (sem.organizations, app.organization) {
        e.insert("organization".into(), json!(org));
    }
    if let Some(object) = sem.object_field {
        let prefix = format!("{object}.");
        let data: Map<String, Value> = app
            .fields
            .iter()
            .filter_map(|(k, v)| k.strip_prefix(&prefix).map(|k| (k.to_string(), v.clone())))
            .filter(|(k, v)| {
                let secret = crate::redact::is_secret_name(k) || crate::redact::holds_secret(v);
                if secret {
                    withheld.push(format!("`{}`: `{object}.{k}`", app.name));
                }
                !secret
            })
            .collect();
        if !data.is_empty() {
            e.insert(object.into(), Value::Object(data));
        }
        return Ok(e);
    }
    for name in sem.display_order {
        let Some(rule) = sem.rule(name) else {
            continue;
        };
        let v = field(app, name);
        // A field unset on the server (the gateway's `app_url`: null, or the
        // "" it also accepts) is left out: the config then leaves it alone.
        let unset = rule.default.is_some_and(|d| d().is_null());
        if v.is_null() || (unset && v.as_str() == Some("")) {
            continue;
        }
        if rule.compare == Compare::Scope && v.as_str().is_none_or(|s| ScopeSet::parse(s).is_err())
        {
            return Err(format!("its `{name}` {v} is not a valid scope string"));
        }
        if rule.duration {
            if let Some(secs) = v.as_u64() {
                e.insert((*name).into(), json!(format_duration(secs)));
            }
            continue;
        }
        e.insert((*name).into(), v);
    }
    Ok(e)
}

/// Builds the document for `instance` of `server` from its live state.
pub fn document(server: &Server, instance: &Instance, live: &LiveState) -> Exported {
    let mut apps = Map::new();
    let mut skipped = Vec::new();
    let mut withheld = Vec::new();
    let mut apps_sorted: Vec<&LiveApp> = live.apps.iter().collect();
    apps_sorted.sort_by(|a, b| {
        a.name
            .cmp(&b.name)
            .then(a.organization.cmp(&b.organization))
    });
    for app in apps_sorted {
        if app.aside.is_some() {
            skipped.push(format!(
                "`{}`: the old copy of an application whose replacement was interrupted; apply the config to finish the replacement",
                app.name
            ));
            continue;
        }
        if let Some(r) = &app.retiring {
            skipped.push(format!(
                "`{}`: the old application of `{}`, kept working after a rotation until {}; appform deletes it after that day",
                app.name, r.original, r.until
            ));
            continue;
        }
        if let Some(why) = &app.unmanageable {
            skipped.push(format!("{:?}: {why}", app.name));
            continue;
        }
        if app.name.is_empty() || app.name.trim() != app.name {
            skipped.push(format!(
                "`{}`: its name is empty or has spaces at an end, which a config key cannot hold",
                app.name
            ));
            continue;
        }
        let mut e = match entry(semantics::of(server.kind), app, &mut withheld) {
            Ok(e) => e,
            Err(why) => {
                skipped.push(format!("`{}`: {why}", app.name));
                continue;
            }
        };
        // Two AWX apps of one name in different organizations need distinct keys.
        let same_name = live.apps.iter().filter(|a| a.name == app.name).count() > 1;
        let key = if semantics::of(server.kind).organizations && same_name {
            e.insert("name".into(), json!(app.name));
            format!("{}@org{}", app.name, app.organization.unwrap_or(0))
        } else {
            app.name.clone()
        };
        apps.insert(key, Value::Object(e));
    }
    let mut body = Map::new();
    body.insert("url".into(), json!(instance.url));
    let mut credentials = auth(&server.auth);
    if let (Some(read_only), Some(map)) = (&server.plan_auth, credentials.as_object_mut()) {
        map.insert("plan".into(), auth(read_only));
    }
    body.insert("auth".into(), credentials);
    body.insert("applications".into(), Value::Object(apps));
    let mut kind = Map::new();
    kind.insert(server.kind.as_str().into(), Value::Object(body));
    let mut servers = Map::new();
    servers.insert(server.name.clone(), Value::Object(kind));
    Exported {
        document: json!({ "servers": servers }),
        skipped,
        withheld,
    }
}
