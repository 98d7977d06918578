//! Venafi TPP WebSDK simulator (docs/contracts/tpp.md): VEDAuth tokens (obtain,
//! refresh with rotation, verify, revoke; configurable lifetime), and the
//! `/vedsdk/oauth/*` application calls with their quirks: HTTP 200 carrying
//! `Result` codes, a flat create body, a wrapped full-replace update whose
//! omitted validity fields fall back to the system defaults (and are then
//! omitted from reads), page-numbered enumeration, built-in applications.

#![allow(clippy::result_large_err)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::http::LoggedRequest;
use super::random_token;

/// tpp.md §2: "Token expires after" and "Grant validity" system defaults.
pub const DEFAULT_ACCESS_VALIDITY: u64 = 7_776_000;
pub const DEFAULT_GRANT_VALIDITY: u64 = 31_536_000;

/// How EnumerateApplications reads `Start` (an open question, tpp.md §8).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StartMode {
    /// "The page of results to display", counting from 1 (the default).
    #[default]
    PageFromOne,
    /// A record offset, counting from 0.
    Offset,
    /// A page counting from 0.
    PageFromZero,
}

#[derive(Debug, Clone)]
pub struct TppOptions {
    /// How `Start` of EnumerateApplications is read.
    pub start_mode: StartMode,
    /// Local users allowed to obtain tokens: username → password.
    pub users: BTreeMap<String, String>,
    /// Bearer tokens accepted with the `admin:delete` scope, never expiring.
    pub static_tokens: Vec<String>,
    /// Seconds an obtained access token lives.
    pub token_lifetime: u64,
    /// Test knob: an obtained access token expires after this many API calls.
    pub token_max_uses: Option<u32>,
}

impl Default for TppOptions {
    fn default() -> Self {
        TppOptions {
            start_mode: StartMode::PageFromOne,
            users: [("tppadmin".to_string(), "password".to_string())]
                .into_iter()
                .collect(),
            static_tokens: vec!["sandbox-tpp-token".into()],
            token_lifetime: 3600,
            token_max_uses: None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct TppApp {
    id: String,
    name: String,
    vendor: String,
    description: String,
    url: String,
    scope: String,
    maximum_scope: String,
    access_validity: Option<u64>,
    grant_validity: Option<u64>,
    renewable: Option<bool>,
}

#[derive(Debug, Clone)]
struct Token {
    access: String,
    refresh: String,
    client_id: String,
    identity: String,
    scope: String,
    expires: u64,
    uses: u32,
    revoked: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct TppState {
    apps: BTreeMap<String, TppApp>,
}

struct Inner {
    state: TppState,
    options: TppOptions,
    tokens: Vec<Token>,
    log: Vec<LoggedRequest>,
    /// Test knob: a change applied right after the next EnumerateApplications.
    drift: Option<(String, String, Value)>,
    /// Test knob: an application deleted right after the next EnumerateApplications.
    remove_after_enumerate: Option<String>,
    /// Test knob: right before the next CreateApplication, another client
    /// stores the same app (`Some(description)`: with another description).
    collide_next_create: Option<Option<String>>,
}

/// A simulated TPP. Clones share the state.
#[derive(Clone)]
pub struct TppSim {
    inner: Arc<Mutex<Inner>>,
}

fn builtin_apps() -> BTreeMap<String, TppApp> {
    // tpp.md §7.6: built-in Venafi applications exist from the start.
    [
        ("VenafiMMCEventViewer", "Venafi MMC Event Viewer"),
        ("VenafiMMCReports", "Venafi MMC Reports"),
        ("VenafiCodeSignClient", "Venafi CodeSign Protect Client"),
    ]
    .into_iter()
    .map(|(id, name)| {
        (
            id.to_string(),
            TppApp {
                id: id.into(),
                name: name.into(),
                vendor: "Venafi, Inc.".into(),
                description: format!("{name} (built in)"),
                url: "https://www.venafi.com".into(),
                scope: "configuration".into(),
                maximum_scope: "configuration:manage".into(),
                access_validity: None,
                grant_validity: None,
                renewable: None,
            },
        )
    })
    .collect()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl TppSim {
    pub fn new(options: TppOptions) -> Self {
        TppSim {
            inner: Arc::new(Mutex::new(Inner {
                state: TppState {
                    apps: builtin_apps(),
                },
                options,
                tokens: Vec::new(),
                log: Vec::new(),
                drift: None,
                remove_after_enumerate: None,
                collide_next_create: None,
            })),
        }
    }

    pub fn from_state(options: TppOptions, state: &Value) -> Result<Self, String> {
        let state: TppState = serde_json::from_value(state.clone())
            .map_err(|e| format!("invalid TPP sandbox state: {e}"))?;
        let sim = TppSim::new(options);
        sim.lock().state = state;
        Ok(sim)
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn state_json(&self) -> Value {
        serde_json::to_value(&self.lock().state).unwrap_or(Value::Null)
    }

    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.lock().log.clone()
    }

    pub fn clear_requests(&self) {
        self.lock().log.clear();
    }

    /// The application as GetApplication returns it (test use).
    pub fn app(&self, id: &str) -> Option<Value> {
        self.lock().state.apps.get(id).map(app_json)
    }

    /// Sets one API field of an application directly (drift for tests).
    pub fn set_app_field(&self, id: &str, field: &str, value: Value) -> bool {
        apply_drift(&mut self.lock(), id, field, value)
    }

    /// Demo data for `--sandbox`: `vault-pki` with an older description.
    pub fn seed_demo(&self) {
        let mut inner = self.lock();
        inner.state.apps.insert(
            "vault-pki".into(),
            TppApp {
                id: "vault-pki".into(),
                name: "Vault PKI".into(),
                vendor: "HashiCorp".into(),
                description: "Certificates".into(),
                url: "https://vault.example.com".into(),
                scope: "certificate:manage,revoke".into(),
                maximum_scope: "certificate:manage,revoke,discover;configuration".into(),
                access_validity: None,
                grant_validity: None,
                renewable: None,
            },
        );
    }

    /// Adds `count` applications `<prefix>NNN` (benchmarks, paging tests).
    pub fn seed_apps(&self, prefix: &str, count: usize) {
        let mut inner = self.lock();
        for i in 0..count {
            let id = format!("{prefix}{i:03}");
            inner.state.apps.insert(
                id.clone(),
                TppApp {
                    id,
                    name: format!("App {i}"),
                    vendor: "Seed".into(),
                    description: String::new(),
                    url: "https://example.com".into(),
                    scope: "certificate".into(),
                    maximum_scope: "certificate".into(),
                    ..TppApp::default()
                },
            );
        }
    }

    /// Changes `field` of `id` right after the next EnumerateApplications: the
    /// object moves between a plan and its write (stale-write tests).
    /// Deletes `id` right after the next EnumerateApplications (another client
    /// at work while appform lists).
    pub fn remove_after_next_enumerate(&self, id: &str) {
        self.lock().remove_after_enumerate = Some(id.into());
    }

    /// Stores the application of the next CreateApplication just before it is
    /// handled (a killed run's create landing late); `Some(description)`: the
    /// stored copy differs.
    pub fn collide_next_create(&self, description: Option<&str>) {
        self.lock().collide_next_create = Some(description.map(str::to_string));
    }

    pub fn drift_after_next_enumerate(&self, id: &str, field: &str, value: Value) {
        self.lock().drift = Some((id.into(), field.into(), value));
    }

    /// Makes every token obtained from now on expire after `uses` API calls.
    pub fn expire_tokens_after(&self, uses: u32) {
        self.lock().options.token_max_uses = Some(uses);
    }

    /// How many obtained tokens are still valid (not revoked, not expired).
    pub fn live_tokens(&self) -> usize {
        let t = now();
        self.lock()
            .tokens
            .iter()
            .filter(|k| !k.revoked && k.expires > t)
            .count()
    }

    pub fn router(&self) -> Router {
        Router::new().fallback(handle).with_state(self.clone())
    }
}

fn apply_drift(inner: &mut Inner, id: &str, field: &str, value: Value) -> bool {
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

fn app_json(app: &TppApp) -> Value {
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
    Value::Object(o)
}

fn respond(status: StatusCode, body: &Value) -> Response {
    let mut r = Response::new(Body::from(body.to_string()));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    r
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    respond(
        status,
        &json!({"error": error, "error_description": description}),
    )
}

fn result(code: u32) -> Response {
    respond(
        StatusCode::OK,
        &json!({"Result": code, "Success": code == 0}),
    )
}

async fn handle(
    State(sim): State<TppSim>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut inner = sim.lock();
    inner
        .log
        .push(LoggedRequest::of(&method, &uri, &headers, &body));
    let path = uri.path().to_ascii_lowercase();
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(|t| t.trim().to_string());
    let json_body: Option<Map<String, Value>> = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.as_object().cloned());
    match (method.clone(), path.as_str()) {
        (Method::POST, "/vedauth/authorize/oauth") => authorize(&mut inner, json_body),
        (Method::POST, "/vedauth/authorize/token") => refresh(&mut inner, json_body),
        (Method::GET, "/vedauth/authorize/verify") => verify(&mut inner, bearer),
        (Method::GET, "/vedauth/revoke/token") => revoke(&mut inner, bearer),
        (Method::POST, p) if p.starts_with("/vedsdk/oauth/") => {
            let call = p.trim_start_matches("/vedsdk/oauth/").to_string();
            match check_token(&mut inner, bearer) {
                Ok(()) => match json_body {
                    Some(b) => oauth_call(&mut inner, &call, &b),
                    None => oauth_error(
                        StatusCode::BAD_REQUEST,
                        "invalid_request",
                        "The request body is not a JSON object",
                    ),
                },
                Err(r) => r,
            }
        }
        _ => {
            let mut r = Response::new(Body::from("Not Found"));
            *r.status_mut() = StatusCode::NOT_FOUND;
            r
        }
    }
}

fn issue(inner: &mut Inner, client_id: &str, identity: &str, scope: &str) -> Value {
    let t = now();
    let token = Token {
        access: random_token(24),
        refresh: random_token(24),
        client_id: client_id.into(),
        identity: identity.into(),
        scope: scope.into(),
        expires: t + inner.options.token_lifetime,
        uses: 0,
        revoked: false,
    };
    let body = json!({
        "access_token": token.access,
        "refresh_token": token.refresh,
        "expires": token.expires,
        "refresh_until": t + 30 * 86_400,
        "scope": token.scope,
        "identity": token.identity,
        "token_type": "Bearer",
    });
    inner.tokens.push(token);
    body
}

fn authorize(inner: &mut Inner, body: Option<Map<String, Value>>) -> Response {
    let Some(b) = body else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The request body is not JSON",
        );
    };
    let s = |k: &str| b.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let (client_id, username, password, scope) =
        (s("client_id"), s("username"), s("password"), s("scope"));
    if client_id.is_empty() || username.is_empty() {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "client_id and username are required",
        );
    }
    if inner.options.users.get(&username) != Some(&password) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "Username/password combination not valid",
        );
    }
    let scope = if scope.is_empty() {
        "any".to_string()
    } else {
        scope
    };
    let identity = format!("local:{{{username}}}");
    respond(StatusCode::OK, &issue(inner, &client_id, &identity, &scope))
}

fn refresh(inner: &mut Inner, body: Option<Map<String, Value>>) -> Response {
    let Some(b) = body else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The request body is not JSON",
        );
    };
    let refresh = b.get("refresh_token").and_then(Value::as_str).unwrap_or("");
    let client_id = b.get("client_id").and_then(Value::as_str).unwrap_or("");
    let Some(pos) = inner
        .tokens
        .iter()
        .position(|t| t.refresh == refresh && t.client_id == client_id && !t.revoked)
    else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "Grant has been revoked, has expired, or the refresh token is invalid",
        );
    };
    // The refresh token rotates: the old grant's tokens stop working.
    let (identity, scope) = match inner.tokens.get_mut(pos) {
        Some(old) => {
            old.revoked = true;
            (old.identity.clone(), old.scope.clone())
        }
        None => return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "Grant not found"),
    };
    let mut out = issue(inner, client_id, &identity, &scope);
    if let Some(o) = out.as_object_mut() {
        o.remove("scope");
    }
    respond(StatusCode::OK, &out)
}

fn find_token<'a>(inner: &'a mut Inner, bearer: &Option<String>) -> Option<&'a mut Token> {
    let b = bearer.as_ref()?;
    inner.tokens.iter_mut().find(|t| &t.access == b)
}

fn verify(inner: &mut Inner, bearer: Option<String>) -> Response {
    let t = now();
    if let Some(b) = &bearer
        && inner.options.static_tokens.contains(b)
    {
        return respond(
            StatusCode::OK,
            &json!({"application": "sandbox", "identity": "local:{sandbox}", "scope": "admin:delete", "valid_for": 0}),
        );
    }
    match find_token(inner, &bearer) {
        Some(tok) if !tok.revoked && tok.expires > t => respond(
            StatusCode::OK,
            &json!({
                "access_issued_on_ISO8601": "", "application": tok.client_id, "expires_ISO8601": "",
                "expires_unix_time": tok.expires, "grant_issued_on_ISO8601": "",
                "identity": tok.identity, "scope": tok.scope, "valid_for": tok.expires - t,
            }),
        ),
        _ => oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "The access token is not valid",
        ),
    }
}

fn revoke(inner: &mut Inner, bearer: Option<String>) -> Response {
    if bearer.is_none() {
        let mut r = Response::new(Body::from("[token] not found"));
        *r.status_mut() = StatusCode::ACCEPTED;
        return r;
    }
    match find_token(inner, &bearer) {
        Some(tok) => {
            tok.revoked = true;
            let identity = tok.identity.clone();
            let mut r = Response::new(Body::from(format!(
                "Grant for identity {identity} has been revoked"
            )));
            *r.status_mut() = StatusCode::OK;
            r
        }
        None => oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "The access token is not valid",
        ),
    }
}

/// 401 for a missing, expired, revoked or unknown token; 403 without `admin`.
fn check_token(inner: &mut Inner, bearer: Option<String>) -> Result<(), Response> {
    let Some(b) = bearer.clone() else {
        return Err(oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "No access token was provided",
        ));
    };
    if inner.options.static_tokens.contains(&b) {
        return Ok(());
    }
    let max_uses = inner.options.token_max_uses;
    let t = now();
    let Some(tok) = find_token(inner, &bearer) else {
        return Err(oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "The access token is not valid",
        ));
    };
    tok.uses += 1;
    let used_up = max_uses.is_some_and(|m| tok.uses > m);
    if tok.revoked {
        return Err(oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "The access token has been revoked",
        ));
    }
    if tok.expires <= t || used_up {
        return Err(oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "The access token has expired",
        ));
    }
    let has_admin = tok.scope.split(';').any(|s| {
        s.split(':')
            .next()
            .is_some_and(|n| n.trim().eq_ignore_ascii_case("admin"))
    });
    if !has_admin {
        return Err(oauth_error(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            "The access token does not have the admin scope required for this operation",
        ));
    }
    Ok(())
}

const REQUIRED: [(&str, &str); 6] = [
    ("Name", "name"),
    ("Vendor", "vendor"),
    ("Description", "description"),
    ("Url", "url"),
    ("Scope", "scope"),
    ("MaximumScope", "maximum_scope"),
];

/// Reads an application object; `Err` is the 400 answer for a missing or
/// mistyped field.
fn parse_app(id: &str, obj: &Map<String, Value>) -> Result<TppApp, Response> {
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
    app.access_validity = number("AccessValidity")?;
    app.grant_validity = number("GrantValidity")?;
    app.renewable = match obj.get("Renewable") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => {
            return Err(oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "Renewable must be a boolean",
            ));
        }
    };
    Ok(app)
}

fn ok_with(key: &str, value: Value) -> Response {
    let mut o = Map::new();
    o.insert(key.into(), value);
    o.insert("Result".into(), json!(0));
    o.insert("Success".into(), json!(true));
    respond(StatusCode::OK, &Value::Object(o))
}

fn oauth_call(inner: &mut Inner, call: &str, body: &Map<String, Value>) -> Response {
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
                && let Ok(mut twin) = parse_app(&id, body)
            {
                if let Some(d) = description {
                    twin.description = d;
                }
                inner.state.apps.insert(id.clone(), twin);
            }
            if inner.state.apps.contains_key(&id) {
                return result(1);
            }
            match parse_app(&id, body) {
                Ok(app) => {
                    let out = app_json(&app);
                    inner.state.apps.insert(id, app);
                    ok_with("Application", out)
                }
                Err(r) => r,
            }
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
            let count = count.clamp(1, 1000) as usize;
            let skip = match inner.options.start_mode {
                // "Start: the page of results to display" (tpp.md §7.4).
                StartMode::PageFromOne => (start.max(1) as usize - 1) * count,
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
            match parse_app(&id, obj) {
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
