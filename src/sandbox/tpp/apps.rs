//! The `/vedsdk/oauth/*` application calls (tpp.md §3, §7): create (flat
//! body), get, enumerate by pages, full-replace update, delete, counts; and
//! the test knobs' drift.

use super::*;

pub(super) fn apply_drift(inner: &mut Inner, id: &str, field: &str, value: Value) -> bool {
    let Some(app) = inner.state.apps.get_mut(id) else {
        return false;
    };
    let text = value.as_str().map(str::to_string);
    match field {
        "Name" => app.name = text.unwrap_or_default(),
        "Vendor" => app.vendor = text.unwrap_or_default(),
        "Description" => app.description = text.unwrap_or_default(),
        "Url" => app.url = text.unwrap_or_default(),
        "Scope" => app.scope = text.unwrap_or_default(),
        "MaximumScope" => app.maximum_scope = text.unwrap_or_default(),
        "AccessValidity" => app.access_validity = value.as_u64(),
        "GrantValidity" => app.grant_validity = value.as_u64(),
        "Renewable" => app.renewable = value.as_bool(),
        _ => return false,
    }
    true
}

pub(super) fn app_json(app: &TppApp) -> Value {
    let mut o = Map::new();
    o.insert("Description".into(), json!(app.description));
    o.insert("ID".into(), json!(app.id));
    o.insert("MaximumScope".into(), json!(app.maximum_scope));
    o.insert("Name".into(), json!(app.name));
    o.insert("Scope".into(), json!(app.scope));
    o.insert("Url".into(), json!(app.url));
    o.insert("Vendor".into(), json!(app.vendor));
    // tpp.md §2: unset values (system default) are left out of responses.
    if let Some(v) = app.access_validity {
        o.insert("AccessValidity".into(), json!(v));
    }
    if let Some(v) = app.grant_validity {
        o.insert("GrantValidity".into(), json!(v));
    }
    if let Some(v) = app.renewable {
        o.insert("Renewable".into(), json!(v));
    }
    for (k, v) in &app.extra {
        o.insert(k.clone(), v.clone());
    }
    Value::Object(o)
}

pub(super) const REQUIRED: [(&str, &str); 6] = [
    ("Name", "name"),
    ("Vendor", "vendor"),
    ("Description", "description"),
    ("Url", "url"),
    ("Scope", "scope"),
    ("MaximumScope", "maximum_scope"),
];

/// Reads an application object; `Err` is the 400 answer for a missing or
/// mistyped field.
pub(super) fn parse_app(
    id: &str,
    obj: &Map<String, Value>,
    defaults: (u64, u64, bool),
) -> Result<TppApp, Response> {
    let mut app = TppApp {
        id: id.to_string(),
        ..TppApp::default()
    };
    for (key, _) in REQUIRED {
        let v = match obj.get(key) {
            Some(Value::String(s)) => s.clone(),
            Some(_) => {
                return Err(oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    &format!("{key} must be a string"),
                ));
            }
            None => {
                return Err(oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    &format!("{key} is required"),
                ));
            }
        };
        match key {
            "Name" => app.name = v,
            "Vendor" => app.vendor = v,
            "Description" => app.description = v,
            "Url" => app.url = v,
            "Scope" => app.scope = v,
            _ => app.maximum_scope = v,
        }
    }
    let number = |key: &str| -> Result<Option<u64>, Response> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v.as_u64().map(Some).ok_or_else(|| {
                oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    &format!("{key} must be a number of seconds"),
                )
            }),
        }
    };
    // A value equal to the system default is stored as the default: reads
    // leave it out (tpp.md §2), as for a value never set.
    app.access_validity = number("AccessValidity")?.filter(|v| *v != defaults.0);
    app.grant_validity = number("GrantValidity")?.filter(|v| *v != defaults.1);
    app.renewable = match obj.get("Renewable") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) if *b == defaults.2 => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => {
            return Err(oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "Renewable must be a boolean",
            ));
        }
    };
    const KNOWN: [&str; 11] = [
        "ID",
        "ApplicationId",
        "Name",
        "Vendor",
        "Description",
        "Url",
        "Scope",
        "MaximumScope",
        "AccessValidity",
        "GrantValidity",
        "Renewable",
    ];
    app.extra = obj
        .iter()
        .filter(|(k, _)| !KNOWN.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Ok(app)
}

pub(super) fn ok_with(key: &str, value: Value) -> Response {
    let mut o = Map::new();
    o.insert(key.into(), value);
    o.insert("Result".into(), json!(0));
    o.insert("Success".into(), json!(true));
    respond(StatusCode::OK, &Value::Object(o))
}

pub(super) fn oauth_call(inner: &mut Inner, call: &str, body: &Map<String, Value>) -> Response {
    let app_id = || {
        body.get("ApplicationId")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    match call {
        "createapplication" => {
            let id = app_id();
            if id.is_empty() {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "ApplicationId is required",
                );
            }
            if let Some(description) = inner.collide_next_create.take()
                && let Ok(mut twin) = parse_app(&id, body, inner.options.system_defaults)
            {
                if let Some(d) = description {
                    twin.description = d;
                }
                inner.state.apps.insert(id.clone(), twin);
            }
            if inner.state.apps.contains_key(&id) {
                return result(1);
            }
            match parse_app(&id, body, inner.options.system_defaults) {
                Ok(app) => {
                    let out = app_json(&app);
                    inner.state.apps.insert(id, app);
                    ok_with("Application", out)
                }
                Err(r) => r,
            }
        }
        "getconfiguration" if inner.options.get_configuration => {
            let (access, grant, refreshable) = inner.options.system_defaults;
            respond(
                StatusCode::OK,
                &json!({"DefaultAccessTokenValidity": access, "DefaultGrantValidity": grant,
                    "DefaultGrantRefreshable": refreshable, "Result": 0, "Success": true}),
            )
        }
        "getapplication" if inner.remove_before_get.as_deref() == Some(app_id().as_str()) => {
            inner.remove_before_get = None;
            inner.state.apps.remove(&app_id());
            result(2)
        }
        "getapplication" => match inner.state.apps.get(&app_id()) {
            Some(app) => ok_with("Application", app_json(app)),
            None => result(2),
        },
        "getapplications" => {
            let Some(ids) = body
                .get("ApplicationIds")
                .and_then(Value::as_array)
                .filter(|a| !a.is_empty())
            else {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "ApplicationIds is required",
                );
            };
            let apps: Vec<Value> = ids
                .iter()
                .filter_map(Value::as_str)
                .filter_map(|id| inner.state.apps.get(id))
                .map(app_json)
                .collect();
            ok_with("Applications", Value::Array(apps))
        }
        "enumerateapplications" => {
            let (Some(start), Some(count)) = (
                body.get("Start").and_then(Value::as_u64),
                body.get("Count").and_then(Value::as_u64),
            ) else {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "Start and Count are required",
                );
            };
            let count = (count as usize).clamp(1, inner.options.max_page.max(1));
            let skip = match inner.options.start_mode {
                StartMode::PageFromOneStrict if start == 0 => return result(6),
                // "Start: the page of results to display" (tpp.md §7.4).
                StartMode::PageFromOne | StartMode::PageFromOneStrict => {
                    (start.max(1) as usize - 1) * count
                }
                StartMode::Offset => start as usize,
                StartMode::PageFromZero => start as usize * count,
            };
            let mut apps: Vec<&TppApp> = inner.state.apps.values().collect();
            match body.get("OrderBy").and_then(Value::as_u64).unwrap_or(0) {
                1 => apps.sort_by(|a, b| a.name.cmp(&b.name)),
                2 => apps.sort_by(|a, b| a.vendor.cmp(&b.vendor)),
                3 => apps.sort_by_key(|a| a.access_validity.unwrap_or(DEFAULT_ACCESS_VALIDITY)),
                _ => {}
            }
            if body
                .get("Descending")
                .and_then(Value::as_bool)
                .unwrap_or(false)
            {
                apps.reverse();
            }
            let page: Vec<Value> = apps
                .into_iter()
                .skip(skip)
                .take(count)
                .map(app_json)
                .collect();
            if let Some((id, field, value)) = inner.drift.take() {
                apply_drift(inner, &id, &field, value);
            }
            if let Some(id) = inner.remove_after_enumerate.take() {
                inner.state.apps.remove(&id);
            }
            ok_with("Applications", Value::Array(page))
        }
        "updateapplication" => {
            let Some(obj) = body.get("Application").and_then(Value::as_object) else {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "Application is required",
                );
            };
            let id = obj
                .get("ID")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            if !inner.state.apps.contains_key(&id) {
                return result(2);
            }
            // Full replace: omitted validity fields fall back to the system defaults.
            match parse_app(&id, obj, inner.options.system_defaults) {
                Ok(app) => {
                    inner.state.apps.insert(id, app);
                    result(0)
                }
                Err(r) => r,
            }
        }
        "deleteapplication" => match inner.state.apps.remove(&app_id()) {
            Some(_) => result(0),
            None => result(2),
        },
        "totalcount" => {
            let n = inner.state.apps.len();
            respond(
                StatusCode::OK,
                &json!({"ApplicationCount": n, "GrantCount": 0, "RuleCount": 0, "Result": 0, "Success": true}),
            )
        }
        _ => {
            let mut r = Response::new(Body::from("Not Found"));
            *r.status_mut() = StatusCode::NOT_FOUND;
            r
        }
    }
}
