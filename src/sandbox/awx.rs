//! AWX 24.6.1 simulator: `/api/v2/applications/` and what a client needs around
//! it (organizations, tokens, users, me, ping, config). It follows
//! `contracts/awx.md` and, where they differ, what the real server answered in
//! `contracts/awx-oracle.json` (replayed by a test): the secret shown once,
//! silent grant-type immutability, the 200 page-size cap, `__all__` errors,
//! 403 for hidden objects, HTML 404s and 301s.

// Handlers return finished HTTP responses as their error values; boxing them
// would only add noise.
#![allow(clippy::result_large_err)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::http::LoggedRequest;
use super::random_token;

const VERSION: &str = "24.6.1";
const DEFAULT_PAGE_SIZE: usize = 25;
const MAX_PAGE_SIZE: usize = 200;
const LIST_ALLOW: &str = "GET, POST, HEAD, OPTIONS";
const DETAIL_ALLOW: &str = "GET, PUT, PATCH, DELETE, HEAD, OPTIONS";
const UNAUTHENTICATED: &str = "Authentication credentials were not provided. To establish a login session, visit /api/login/.";
const FORBIDDEN: &str = "You do not have permission to perform this action.";
const APP_NOT_FOUND: &str = "No OAuth2Application matches the given query.";
const HTML_404: &str = "\n<!doctype html>\n<html lang=\"en\">\n<head>\n  <title>Not Found</title>\n</head>\n<body>\n  <h1>Not Found</h1><p>The requested resource was not found on this server.</p>\n</body>\n</html>\n";
const HTML_500: &str = "\n<!doctype html>\n<html lang=\"en\">\n<head>\n  <title>Server Error (500)</title>\n</head>\n<body>\n  <h1>Server Error (500)</h1><p></p>\n</body>\n</html>\n";
const RESERVED_QUERY: &[&str] = &[
    "page",
    "page_size",
    "format",
    "order",
    "order_by",
    "search",
    "type",
    "host_filter",
    "count_disabled",
    "no_truncate",
    "limit",
    "validate",
];

/// Settings that are not part of the persisted state.
#[derive(Debug, Clone)]
pub struct AwxOptions {
    /// Name of the superuser that exists from the start.
    pub admin_username: String,
    /// Password of that superuser (Basic auth).
    pub admin_password: String,
    /// Bearer tokens accepted as the admin with write scope (besides tokens
    /// created through the API).
    pub admin_tokens: Vec<String>,
    /// Fields that PATCH and PUT silently ignore (as AWX does for the grant
    /// type): a test knob for verification after apply.
    pub ignore_on_update: BTreeSet<String>,
}

impl Default for AwxOptions {
    fn default() -> Self {
        AwxOptions {
            admin_username: "admin".into(),
            admin_password: "password".into(),
            admin_tokens: vec!["sandbox-awx-token".into()],
            ignore_on_update: BTreeSet::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Org {
    id: u64,
    name: String,
    description: String,
    created: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct User {
    id: u64,
    username: String,
    password: String,
    email: String,
    is_superuser: bool,
    created: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Token {
    id: u64,
    token: String,
    refresh_token: Option<String>,
    user: u64,
    application: Option<u64>,
    scope: String,
    description: String,
    created: String,
    expires: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct App {
    id: u64,
    name: String,
    description: String,
    client_id: String,
    client_secret: String,
    client_type: String,
    redirect_uris: String,
    authorization_grant_type: String,
    skip_authorization: bool,
    organization: u64,
    created: String,
    modified: String,
}

/// Everything `--state` persists.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct AwxState {
    orgs: Vec<Org>,
    users: Vec<User>,
    tokens: Vec<Token>,
    apps: BTreeMap<u64, App>,
    next_app: u64,
    next_org: u64,
    next_user: u64,
    next_token: u64,
}

impl AwxState {
    fn fresh(admin_username: &str, admin_password: &str) -> Self {
        let now = now();
        AwxState {
            orgs: vec![Org {
                id: 1,
                name: "Default".into(),
                description: String::new(),
                created: now.clone(),
            }],
            users: vec![User {
                id: 1,
                username: admin_username.into(),
                password: admin_password.into(),
                email: "admin@example.invalid".into(),
                is_superuser: true,
                created: now,
            }],
            tokens: Vec::new(),
            apps: BTreeMap::new(),
            next_app: 1,
            next_org: 2,
            next_user: 2,
            next_token: 1,
        }
    }
}

struct Inner {
    state: AwxState,
    options: AwxOptions,
    log: Vec<LoggedRequest>,
    /// Test knob: the next create is stored, but answered 503 (an ambiguous failure).
    lose_next_create_answer: bool,
}

/// A simulated AWX. Cheap to clone; clones share the state.
#[derive(Clone)]
pub struct AwxSim {
    inner: Arc<Mutex<Inner>>,
}

impl AwxSim {
    /// A fresh server: the `admin` superuser and organization 1 `Default`.
    pub fn new(options: AwxOptions) -> Self {
        let state = AwxState::fresh(&options.admin_username, &options.admin_password);
        AwxSim {
            inner: Arc::new(Mutex::new(Inner {
                state,
                options,
                log: Vec::new(),
                lose_next_create_answer: false,
            })),
        }
    }

    /// A server restored from [`AwxSim::state_json`].
    pub fn from_state(options: AwxOptions, state: &Value) -> Result<Self, String> {
        let state: AwxState = serde_json::from_value(state.clone())
            .map_err(|e| format!("invalid AWX sandbox state: {e}"))?;
        Ok(AwxSim {
            inner: Arc::new(Mutex::new(Inner {
                state,
                options,
                log: Vec::new(),
                lose_next_create_answer: false,
            })),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A poisoned lock only means a handler panicked; the data is still usable.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The whole state, for `--state` files and test assertions.
    pub fn state_json(&self) -> Value {
        serde_json::to_value(&self.lock().state).unwrap_or(Value::Null)
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.lock().log.clone()
    }

    pub fn clear_requests(&self) {
        self.lock().log.clear();
    }

    /// Stores the next created application but answers 503, as a proxy that
    /// timed out after the server acted would.
    pub fn lose_next_create_answer(&self) {
        self.lock().lose_next_create_answer = true;
    }

    /// Makes PATCH/PUT silently ignore `field` from now on.
    pub fn ignore_on_update(&self, field: &str) {
        self.lock()
            .options
            .ignore_on_update
            .insert(field.to_string());
    }

    /// Adds an organization (for tests and seeding); returns its id.
    pub fn add_organization(&self, name: &str) -> u64 {
        let mut inner = self.lock();
        let id = inner.state.next_org;
        inner.state.next_org += 1;
        inner.state.orgs.push(Org {
            id,
            name: name.into(),
            description: String::new(),
            created: now(),
        });
        id
    }

    /// The stored application with this name (any organization), as the list shows it
    /// plus its stored `client_secret` in clear (test use only).
    pub fn app_by_name(&self, name: &str) -> Option<Value> {
        let inner = self.lock();
        let app = inner.state.apps.values().find(|a| a.name == name)?;
        let mut v = app_json(&inner.state, app, true, Secret::Masked);
        if let Some(obj) = v.as_object_mut() {
            obj.insert("stored_client_secret".into(), json!(app.client_secret));
        }
        Some(v)
    }

    /// Sets a field of the stored application `name` directly (drift for tests).
    pub fn set_app_field(&self, name: &str, field: &str, value: Value) -> bool {
        let mut inner = self.lock();
        let Some(app) = inner.state.apps.values_mut().find(|a| a.name == name) else {
            return false;
        };
        match (field, value) {
            ("description", Value::String(s)) => app.description = s,
            ("redirect_uris", Value::String(s)) => app.redirect_uris = s,
            ("client_type", Value::String(s)) => app.client_type = s,
            ("authorization_grant_type", Value::String(s)) => app.authorization_grant_type = s,
            ("skip_authorization", Value::Bool(b)) => app.skip_authorization = b,
            ("organization", Value::Number(n)) => app.organization = n.as_u64().unwrap_or(1),
            _ => return false,
        }
        app.modified = now();
        true
    }

    /// Demo data for `--sandbox` and `appform sandbox --demo`: an app to update,
    /// one to delete and one nobody manages.
    pub fn seed_demo(&self) {
        let mut inner = self.lock();
        let demo = [
            (
                "jenkins",
                "confidential",
                "authorization-code",
                "http://old.example.com/cb",
                "Jenkins CI",
            ),
            ("old-portal", "public", "password", "", "Retired portal"),
            (
                "system-metrics",
                "confidential",
                "password",
                "",
                "Platform metrics",
            ),
        ];
        for (name, client_type, grant, redirect, description) in demo {
            let id = inner.state.next_app;
            inner.state.next_app += 1;
            let t = now();
            inner.state.apps.insert(
                id,
                App {
                    id,
                    name: name.into(),
                    description: description.into(),
                    client_id: random_token(40),
                    client_secret: random_token(128),
                    client_type: client_type.into(),
                    redirect_uris: redirect.into(),
                    authorization_grant_type: grant.into(),
                    skip_authorization: false,
                    organization: 1,
                    created: t.clone(),
                    modified: t,
                },
            );
        }
    }

    /// Creates `count` applications named `<prefix>NNN` in organization 1 (benchmarks, tests).
    pub fn seed_apps(&self, prefix: &str, count: usize) {
        let mut inner = self.lock();
        for i in 0..count {
            let id = inner.state.next_app;
            inner.state.next_app += 1;
            let t = now();
            inner.state.apps.insert(
                id,
                App {
                    id,
                    name: format!("{prefix}{i:03}"),
                    description: String::new(),
                    client_id: random_token(40),
                    client_secret: random_token(128),
                    client_type: "public".into(),
                    redirect_uris: String::new(),
                    authorization_grant_type: "password".into(),
                    skip_authorization: false,
                    organization: 1,
                    created: t.clone(),
                    modified: t,
                },
            );
        }
    }

    /// The axum router serving this simulator.
    pub fn router(&self) -> Router {
        Router::new().fallback(handle).with_state(self.clone())
    }
}

// ------------------------------------------------------------------ helpers

fn now() -> String {
    humantime::format_rfc3339_micros(std::time::SystemTime::now()).to_string()
}

fn json_response(status: StatusCode, body: &Value, allow: Option<&str>, authed: bool) -> Response {
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(allow) = allow.and_then(|a| HeaderValue::from_str(a).ok()) {
        h.insert(header::ALLOW, allow);
    }
    h.insert("X-API-Product-Name", HeaderValue::from_static("AWX"));
    if authed {
        h.insert("X-API-Product-Version", HeaderValue::from_static(VERSION));
    }
    response
}

fn html_response(status: StatusCode, body: &'static str) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

fn detail(status: StatusCode, message: &str, allow: Option<&str>, authed: bool) -> Response {
    json_response(status, &json!({ "detail": message }), allow, authed)
}

fn unauthorized() -> Response {
    let mut r = detail(StatusCode::UNAUTHORIZED, UNAUTHENTICATED, None, false);
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=api authorization_url=/api/o/authorize/"),
    );
    r
}

fn redirect(location: &str) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::MOVED_PERMANENTLY;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}

/// Who is calling.
#[derive(Debug, Clone, Copy)]
struct Principal {
    user: u64,
    superuser: bool,
    write: bool,
}

enum Auth {
    None,
    Invalid,
    User(Principal),
}

fn authenticate(inner: &Inner, headers: &HeaderMap) -> Auth {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Auth::None;
    };
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok());
        let Some((user, pass)) = decoded.as_deref().and_then(|d| d.split_once(':')) else {
            return Auth::Invalid;
        };
        match inner
            .state
            .users
            .iter()
            .find(|u| u.username == user && u.password == pass)
        {
            Some(u) => Auth::User(Principal {
                user: u.id,
                superuser: u.is_superuser,
                write: true,
            }),
            None => Auth::Invalid,
        }
    } else if scheme.eq_ignore_ascii_case("bearer") {
        let token = rest.trim();
        if inner.options.admin_tokens.iter().any(|t| t == token) {
            return Auth::User(Principal {
                user: 1,
                superuser: true,
                write: true,
            });
        }
        match inner.state.tokens.iter().find(|t| t.token == token) {
            Some(t) => {
                let superuser = inner
                    .state
                    .users
                    .iter()
                    .any(|u| u.id == t.user && u.is_superuser);
                Auth::User(Principal {
                    user: t.user,
                    superuser,
                    write: t.scope.split_whitespace().any(|s| s == "write"),
                })
            }
            None => Auth::Invalid,
        }
    } else {
        Auth::Invalid
    }
}

/// How `client_secret` appears in an application body.
#[derive(Clone, Copy, PartialEq)]
enum Secret {
    /// Only in the 201 of a create.
    Clear,
    Masked,
}

fn app_json(state: &AwxState, app: &App, detail: bool, secret: Secret) -> Value {
    app_json_for(state, app, detail, secret, true)
}

/// `can_write`: `user_capabilities` of a read-scope token are false.
fn app_json_for(
    state: &AwxState,
    app: &App,
    detail: bool,
    secret: Secret,
    can_write: bool,
) -> Value {
    let org = state.orgs.iter().find(|o| o.id == app.organization);
    let mut related = Map::new();
    if detail {
        let org_name = org.map(|o| o.name.as_str()).unwrap_or("");
        related.insert(
            "named_url".into(),
            json!(format!(
                "/api/v2/applications/{}++{}/",
                named_url_part(&app.name),
                org_name
            )),
        );
    }
    related.insert(
        "tokens".into(),
        json!(format!("/api/v2/applications/{}/tokens/", app.id)),
    );
    related.insert(
        "activity_stream".into(),
        json!(format!("/api/v2/applications/{}/activity_stream/", app.id)),
    );
    related.insert(
        "organization".into(),
        json!(format!("/api/v2/organizations/{}/", app.organization)),
    );
    let tokens: Vec<&Token> = state
        .tokens
        .iter()
        .filter(|t| t.application == Some(app.id))
        .collect();
    let mut obj = Map::new();
    obj.insert("id".into(), json!(app.id));
    obj.insert("type".into(), json!("o_auth2_application"));
    obj.insert(
        "url".into(),
        json!(format!("/api/v2/applications/{}/", app.id)),
    );
    obj.insert("related".into(), Value::Object(related));
    obj.insert(
        "summary_fields".into(),
        json!({
            "organization": {
                "id": app.organization,
                "name": org.map(|o| o.name.clone()).unwrap_or_default(),
                "description": org.map(|o| o.description.clone()).unwrap_or_default(),
            },
            "user_capabilities": {"edit": can_write, "delete": can_write},
            "tokens": {
                "count": tokens.len(),
                "results": tokens.iter().take(10).map(|t| json!({"id": t.id, "token": "************", "scope": t.scope})).collect::<Vec<_>>(),
            },
        }),
    );
    obj.insert("created".into(), json!(app.created));
    obj.insert("modified".into(), json!(app.modified));
    obj.insert("name".into(), json!(app.name));
    obj.insert("description".into(), json!(app.description));
    obj.insert("client_id".into(), json!(app.client_id));
    // awx.md §3: clear text only in the POST 201, only for confidential apps;
    // the key is absent for public apps.
    if app.client_type == "confidential" {
        let shown = match secret {
            Secret::Clear => app.client_secret.clone(),
            Secret::Masked => "************".into(),
        };
        obj.insert("client_secret".into(), json!(shown));
    }
    obj.insert("client_type".into(), json!(app.client_type));
    obj.insert("redirect_uris".into(), json!(app.redirect_uris));
    obj.insert(
        "authorization_grant_type".into(),
        json!(app.authorization_grant_type),
    );
    obj.insert("skip_authorization".into(), json!(app.skip_authorization));
    obj.insert("organization".into(), json!(app.organization));
    Value::Object(obj)
}

/// Named-URL spelling of a name: `+` as `[+]`, and the characters that would
/// break the path percent-encoded (observed: `a/b?c` → `a%2Fb%3Fc`).
fn named_url_part(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        match c {
            '+' => out.push_str("[+]"),
            '/' => out.push_str("%2F"),
            '?' => out.push_str("%3F"),
            '#' => out.push_str("%23"),
            '%' => out.push_str("%25"),
            c => out.push(c),
        }
    }
    out
}

fn org_json(org: &Org, detail: bool) -> Value {
    let base = format!("/api/v2/organizations/{}/", org.id);
    let mut related = Map::new();
    if detail {
        related.insert(
            "named_url".into(),
            json!(format!("/api/v2/organizations/{}/", org.name)),
        );
    }
    for r in [
        "users",
        "admins",
        "teams",
        "applications",
        "activity_stream",
    ] {
        related.insert(r.into(), json!(format!("{base}{r}/")));
    }
    json!({
        "id": org.id,
        "type": "organization",
        "url": base,
        "related": related,
        "summary_fields": {"user_capabilities": {"edit": true, "delete": true}},
        "created": org.created,
        "modified": org.created,
        "name": org.name,
        "description": org.description,
        "max_hosts": 0,
        "custom_virtualenv": null,
        "default_environment": null,
    })
}

fn user_json(user: &User) -> Value {
    json!({
        "id": user.id,
        "type": "user",
        "url": format!("/api/v2/users/{}/", user.id),
        "related": {"tokens": format!("/api/v2/users/{}/tokens/", user.id)},
        "summary_fields": {"user_capabilities": {"edit": true, "delete": user.id != 1}},
        "created": user.created,
        "modified": null,
        "username": user.username,
        "first_name": "",
        "last_name": "",
        "email": user.email,
        "is_superuser": user.is_superuser,
        "is_system_auditor": false,
        "password": "$encrypted$",
        "ldap_dn": "",
        "last_login": null,
        "external_account": null,
        "auth": [],
    })
}

fn token_json(state: &AwxState, token: &Token, clear: bool) -> Value {
    let user = state.users.iter().find(|u| u.id == token.user);
    let mut related = Map::new();
    related.insert(
        "user".into(),
        json!(format!("/api/v2/users/{}/", token.user)),
    );
    let mut summary = Map::new();
    summary.insert(
        "user".into(),
        json!({"id": token.user, "username": user.map(|u| u.username.clone()).unwrap_or_default(), "first_name": "", "last_name": ""}),
    );
    if let Some(app_id) = token.application {
        related.insert(
            "application".into(),
            json!(format!("/api/v2/applications/{app_id}/")),
        );
        let name = state
            .apps
            .get(&app_id)
            .map(|a| a.name.clone())
            .unwrap_or_default();
        summary.insert("application".into(), json!({"id": app_id, "name": name}));
    }
    related.insert(
        "activity_stream".into(),
        json!(format!("/api/v2/tokens/{}/activity_stream/", token.id)),
    );
    let mask = |s: &str| {
        if clear {
            s.to_string()
        } else {
            "************".into()
        }
    };
    json!({
        "id": token.id,
        "type": "o_auth2_access_token",
        "url": format!("/api/v2/tokens/{}/", token.id),
        "related": related,
        "summary_fields": summary,
        "created": token.created,
        "modified": token.created,
        "description": token.description,
        "user": token.user,
        "token": mask(&token.token),
        "refresh_token": token.refresh_token.as_deref().map(mask),
        "application": token.application,
        "expires": token.expires,
        "scope": token.scope,
    })
}

// ------------------------------------------------------------------ request

struct Req<'a> {
    method: &'a Method,
    path: &'a str,
    query: Vec<(String, String)>,
    raw_query: Option<&'a str>,
    content_type: Option<&'a str>,
    body: &'a [u8],
}

impl Req<'_> {
    fn param(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The JSON object body, or the error response AWX gives.
    fn json_object(&self, authed: bool, allow: &str) -> Result<Map<String, Value>, Response> {
        let ct = self.content_type.unwrap_or("application/json");
        if !ct
            .trim()
            .to_ascii_lowercase()
            .starts_with("application/json")
        {
            // Parse failures are answered before AWX adds its version header (observed).
            let _ = authed;
            return Err(detail(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "You did not use correct Content-Type in your HTTP request. If you are using our REST API, the Content-Type must be application/json",
                Some(allow),
                false,
            ));
        }
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Map::new());
        }
        match serde_json::from_slice::<Value>(self.body) {
            Ok(Value::Object(m)) => Ok(m),
            Ok(_) => Err(detail(
                StatusCode::BAD_REQUEST,
                "JSON parse error - not a JSON object",
                Some(allow),
                false,
            )),
            Err(e) => Err(detail(
                StatusCode::BAD_REQUEST,
                &format!("JSON parse error - {e}"),
                Some(allow),
                false,
            )),
        }
    }
}

async fn handle(
    State(sim): State<AwxSim>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let query: Vec<(String, String)> = uri
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let req = Req {
        method: &method,
        path: uri.path(),
        query,
        raw_query: uri.query(),
        content_type,
        body: &body,
    };
    let mut inner = sim.lock();
    inner.log.push(LoggedRequest {
        method: method.to_string(),
        path: uri
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_default(),
        body: serde_json::from_slice(&body).ok(),
        content_type: content_type.map(str::to_string),
    });
    route(&mut inner, &req, &headers)
}

fn route(inner: &mut Inner, req: &Req<'_>, headers: &HeaderMap) -> Response {
    let path = req.path;
    let valid_credentials = matches!(authenticate(inner, headers), Auth::User(_));
    if path == "/api/" {
        return json_response(
            StatusCode::OK,
            &json!({"description": "AWX REST API", "current_version": "/api/v2/", "available_versions": {"v2": "/api/v2/"}, "oauth2": "/api/o/", "custom_logo": "", "custom_login_info": "", "login_redirect_override": ""}),
            Some("GET, HEAD, OPTIONS"),
            valid_credentials,
        );
    }
    if path == "/api/v2/ping/" {
        return json_response(
            StatusCode::OK,
            &json!({"ha": false, "version": VERSION, "active_node": "sandbox", "install_uuid": "00000000-0000-0000-0000-000000000000", "instances": [{"node": "sandbox", "node_type": "hybrid", "uuid": "00000000-0000-0000-0000-000000000001", "heartbeat": null, "capacity": 0, "version": ""}], "instance_groups": [{"name": "default", "capacity": 0, "instances": ["sandbox"]}]}),
            Some("GET, HEAD, OPTIONS"),
            false,
        );
    }
    let Some(rest) = path.strip_prefix("/api/v2/") else {
        return html_response(StatusCode::NOT_FOUND, HTML_404);
    };
    let segments: Vec<&str> = rest.split('/').collect();
    // A collection without its trailing slash is redirected (Django APPEND_SLASH);
    // a numeric detail without it is served (awx.md, observed).
    if !path.ends_with('/') {
        let numeric_detail = matches!(segments.as_slice(), [_, id] if id.parse::<u64>().is_ok());
        if !numeric_detail {
            let location = match req.raw_query {
                Some(q) => format!("{path}/?{q}"),
                None => format!("{path}/"),
            };
            return redirect(&location);
        }
    }
    let segments: Vec<&str> = segments.into_iter().filter(|s| !s.is_empty()).collect();
    if segments.is_empty() {
        return json_response(
            StatusCode::OK,
            &json!({"ping": "/api/v2/ping/", "config": "/api/v2/config/", "me": "/api/v2/me/", "organizations": "/api/v2/organizations/", "users": "/api/v2/users/", "applications": "/api/v2/applications/", "tokens": "/api/v2/tokens/"}),
            Some("GET, HEAD, OPTIONS"),
            true,
        );
    }
    let principal = match authenticate(inner, headers) {
        Auth::User(p) => p,
        Auth::None | Auth::Invalid => return unauthorized(),
    };
    if req.method != Method::GET
        && req.method != Method::HEAD
        && req.method != Method::OPTIONS
        && !principal.write
    {
        return detail(StatusCode::FORBIDDEN, FORBIDDEN, None, true);
    }
    match segments.as_slice() {
        ["config"] => json_response(
            StatusCode::OK,
            &json!({"time_zone": "UTC", "license_info": {"license_type": "open", "valid_key": true, "subscription_name": "OPEN", "product_name": "AWX"}, "version": VERSION, "eula": "", "analytics_status": "off"}),
            Some("GET, POST, DELETE, HEAD, OPTIONS"),
            true,
        ),
        ["me"] => {
            let users: Vec<Value> = inner
                .state
                .users
                .iter()
                .filter(|u| u.id == principal.user)
                .map(user_json)
                .collect();
            json_response(
                StatusCode::OK,
                &json!({"count": users.len(), "next": null, "previous": null, "results": users}),
                Some("GET, HEAD, OPTIONS"),
                true,
            )
        }
        ["users"] => users(inner, req, principal),
        ["organizations"] => organizations(inner, req, principal),
        ["organizations", org] => organization_detail(inner, req, principal, org),
        ["organizations", org, "applications"] => {
            match org
                .parse::<u64>()
                .ok()
                .filter(|id| inner.state.orgs.iter().any(|o| o.id == *id))
            {
                Some(org_id) => applications(inner, req, principal, Some(org_id)),
                None => detail(StatusCode::NOT_FOUND, "Not found.", Some(LIST_ALLOW), true),
            }
        }
        ["tokens"] => tokens(inner, req, principal, None),
        ["tokens", id] => token_detail(inner, req, principal, id),
        ["applications"] => applications(inner, req, principal, None),
        ["applications", key] => application_detail(inner, req, principal, key),
        ["applications", key, "tokens"] => match resolve_app(inner, key, principal) {
            Ok(app_id) => tokens(inner, req, principal, Some(app_id)),
            Err(r) => r,
        },
        _ => html_response(StatusCode::NOT_FOUND, HTML_404),
    }
}

// ------------------------------------------------------------------ users, orgs, tokens

fn users(inner: &mut Inner, req: &Req<'_>, principal: Principal) -> Response {
    if *req.method != Method::POST {
        let users: Vec<Value> = inner
            .state
            .users
            .iter()
            .filter(|u| principal.superuser || u.id == principal.user)
            .map(user_json)
            .collect();
        return json_response(
            StatusCode::OK,
            &json!({"count": users.len(), "next": null, "previous": null, "results": users}),
            Some(LIST_ALLOW),
            true,
        );
    }
    if !principal.superuser {
        return detail(StatusCode::FORBIDDEN, FORBIDDEN, Some(LIST_ALLOW), true);
    }
    let body = match req.json_object(true, LIST_ALLOW) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let username = body.get("username").and_then(Value::as_str).unwrap_or("");
    if username.is_empty() {
        return json_response(
            StatusCode::BAD_REQUEST,
            &json!({"username": ["This field is required."]}),
            Some(LIST_ALLOW),
            true,
        );
    }
    if inner.state.users.iter().any(|u| u.username == username) {
        return json_response(
            StatusCode::BAD_REQUEST,
            &json!({"username": ["A user with that username already exists."]}),
            Some(LIST_ALLOW),
            true,
        );
    }
    let user = User {
        id: inner.state.next_user,
        username: username.into(),
        password: body
            .get("password")
            .and_then(Value::as_str)
            .unwrap_or("")
            .into(),
        email: body
            .get("email")
            .and_then(Value::as_str)
            .unwrap_or("")
            .into(),
        is_superuser: body
            .get("is_superuser")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        created: now(),
    };
    inner.state.next_user += 1;
    let out = user_json(&user);
    let location = format!("/api/v2/users/{}/", user.id);
    inner.state.users.push(user);
    created(&out, &location)
}

fn created(body: &Value, location: &str) -> Response {
    let mut r = json_response(StatusCode::CREATED, body, Some(LIST_ALLOW), true);
    if let Ok(v) = HeaderValue::from_str(location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

type OrgPredicate = Box<dyn Fn(&Org) -> bool>;

fn organizations(inner: &mut Inner, req: &Req<'_>, principal: Principal) -> Response {
    if *req.method == Method::POST {
        if !principal.superuser {
            return detail(StatusCode::FORBIDDEN, FORBIDDEN, Some(LIST_ALLOW), true);
        }
        let body = match req.json_object(true, LIST_ALLOW) {
            Ok(b) => b,
            Err(r) => return r,
        };
        let name = body
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim()
            .to_string();
        if name.is_empty() {
            return json_response(
                StatusCode::BAD_REQUEST,
                &json!({"name": ["This field is required."]}),
                Some(LIST_ALLOW),
                true,
            );
        }
        if inner.state.orgs.iter().any(|o| o.name == name) {
            return json_response(
                StatusCode::BAD_REQUEST,
                &json!({"name": ["Organization with this Name already exists."]}),
                Some(LIST_ALLOW),
                true,
            );
        }
        let org = Org {
            id: inner.state.next_org,
            name,
            description: body
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or("")
                .into(),
            created: now(),
        };
        inner.state.next_org += 1;
        let out = org_json(&org, true);
        let location = format!("/api/v2/organizations/{}/", org.id);
        inner.state.orgs.push(org);
        return created(&out, &location);
    }
    if *req.method != Method::GET {
        return method_not_allowed(req.method, LIST_ALLOW);
    }
    let mut orgs: Vec<&Org> = if principal.superuser {
        inner.state.orgs.iter().collect()
    } else {
        Vec::new()
    };
    let mut any_of: Vec<OrgPredicate> = Vec::new();
    for (key, value) in &req.query {
        if RESERVED_QUERY.contains(&key.as_str()) {
            continue;
        }
        let (or, field) = match key.strip_prefix("or__") {
            Some(f) => (true, f),
            None => (false, key.as_str()),
        };
        let v = value.clone();
        let pred: OrgPredicate = match field {
            "name" => Box::new(move |o: &Org| o.name == v),
            "id" => {
                let id = v.parse::<u64>().ok();
                Box::new(move |o: &Org| Some(o.id) == id)
            }
            other => {
                return detail(
                    StatusCode::BAD_REQUEST,
                    &format!("Organization has no field named '{other}'"),
                    Some(LIST_ALLOW),
                    true,
                );
            }
        };
        if or {
            any_of.push(pred);
        } else {
            orgs.retain(|o| pred(o));
        }
    }
    if !any_of.is_empty() {
        orgs.retain(|o| any_of.iter().any(|p| p(o)));
    }
    orgs.sort_by(|a, b| a.name.cmp(&b.name));
    let items: Vec<Value> = orgs.iter().map(|o| org_json(o, false)).collect();
    match paginate(req, items) {
        Ok(v) => json_response(StatusCode::OK, &v, Some(LIST_ALLOW), true),
        Err(r) => r,
    }
}

fn organization_detail(
    inner: &mut Inner,
    req: &Req<'_>,
    principal: Principal,
    key: &str,
) -> Response {
    let decoded = percent_decode(key);
    let org = match key.parse::<u64>() {
        Ok(id) => inner.state.orgs.iter().find(|o| o.id == id),
        Err(_) => inner.state.orgs.iter().find(|o| o.name == decoded),
    };
    match org {
        Some(o) if principal.superuser && *req.method == Method::GET => json_response(
            StatusCode::OK,
            &org_json(o, true),
            Some("GET, PUT, PATCH, DELETE, HEAD, OPTIONS"),
            true,
        ),
        Some(_) if !principal.superuser => detail(StatusCode::FORBIDDEN, FORBIDDEN, None, true),
        Some(_) => method_not_allowed(req.method, "GET, HEAD, OPTIONS"),
        None => detail(StatusCode::NOT_FOUND, "Not found.", None, true),
    }
}

fn tokens(inner: &mut Inner, req: &Req<'_>, principal: Principal, app: Option<u64>) -> Response {
    if *req.method == Method::POST {
        let body = match req.json_object(true, LIST_ALLOW) {
            Ok(b) => b,
            Err(r) => return r,
        };
        let scope = body
            .get("scope")
            .and_then(Value::as_str)
            .unwrap_or("write")
            .to_string();
        if scope.split_whitespace().count() == 0
            || !scope
                .split_whitespace()
                .all(|s| s == "read" || s == "write")
        {
            return json_response(
                StatusCode::BAD_REQUEST,
                &json!({"scope": ["Must be a simple space-separated string with allowed scopes ['read', 'write']."]}),
                Some(LIST_ALLOW),
                true,
            );
        }
        let application = app.or_else(|| body.get("application").and_then(Value::as_u64));
        let t = now();
        let token = Token {
            id: inner.state.next_token,
            token: random_token(30),
            refresh_token: application.map(|_| random_token(30)),
            user: principal.user,
            application,
            scope,
            description: body
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or("")
                .into(),
            created: t.clone(),
            expires: t,
        };
        inner.state.next_token += 1;
        let out = token_json(&inner.state, &token, true);
        let location = format!("/api/v2/tokens/{}/", token.id);
        inner.state.tokens.push(token);
        return created(&out, &location);
    }
    if *req.method != Method::GET {
        return method_not_allowed(req.method, LIST_ALLOW);
    }
    let items: Vec<Value> = inner
        .state
        .tokens
        .iter()
        .filter(|t| match app {
            Some(a) => t.application == Some(a),
            None => principal.superuser || t.user == principal.user,
        })
        .map(|t| token_json(&inner.state, t, false))
        .collect();
    match paginate(req, items) {
        Ok(v) => json_response(StatusCode::OK, &v, Some(LIST_ALLOW), true),
        Err(r) => r,
    }
}

fn token_detail(inner: &mut Inner, req: &Req<'_>, principal: Principal, key: &str) -> Response {
    let Ok(id) = key.parse::<u64>() else {
        return html_response(StatusCode::NOT_FOUND, HTML_404);
    };
    let pos = inner
        .state
        .tokens
        .iter()
        .position(|t| t.id == id && (principal.superuser || t.user == principal.user));
    let Some(pos) = pos else {
        return detail(
            StatusCode::NOT_FOUND,
            "No OAuth2AccessToken matches the given query.",
            Some("GET, PUT, PATCH, DELETE, HEAD, OPTIONS"),
            true,
        );
    };
    match *req.method {
        Method::DELETE => {
            inner.state.tokens.remove(pos);
            no_content()
        }
        Method::GET => match inner.state.tokens.get(pos) {
            Some(t) => json_response(
                StatusCode::OK,
                &token_json(&inner.state, t, false),
                Some("GET, PUT, PATCH, DELETE, HEAD, OPTIONS"),
                true,
            ),
            None => html_response(StatusCode::NOT_FOUND, HTML_404),
        },
        _ => method_not_allowed(req.method, "GET, PUT, PATCH, DELETE, HEAD, OPTIONS"),
    }
}

fn no_content() -> Response {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::NO_CONTENT;
    r.headers_mut()
        .insert("X-API-Product-Name", HeaderValue::from_static("AWX"));
    r.headers_mut()
        .insert("X-API-Product-Version", HeaderValue::from_static(VERSION));
    r
}

fn method_not_allowed(method: &Method, allow: &str) -> Response {
    detail(
        StatusCode::METHOD_NOT_ALLOWED,
        &format!("Method \"{method}\" not allowed."),
        Some(allow),
        true,
    )
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("k={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

// ------------------------------------------------------------------ pagination

fn paginate(req: &Req<'_>, items: Vec<Value>) -> Result<Value, Response> {
    let count = items.len();
    let raw_size = req.param("page_size");
    let (size, link_size): (usize, Option<String>) = match raw_size {
        None => (DEFAULT_PAGE_SIZE, None),
        Some(s) => match s.parse::<i64>() {
            Ok(n) if n > MAX_PAGE_SIZE as i64 => (MAX_PAGE_SIZE, Some(MAX_PAGE_SIZE.to_string())),
            Ok(n) if n > 0 => (n as usize, Some(n.to_string())),
            Ok(n) => (DEFAULT_PAGE_SIZE, Some(n.to_string())),
            // AWX 24.6.1 bug (observed): a non-numeric page_size breaks the link
            // rewriting with a 500 once there is more than one page.
            Err(_) if count > DEFAULT_PAGE_SIZE => {
                return Err(html_response(StatusCode::INTERNAL_SERVER_ERROR, HTML_500));
            }
            Err(_) => (DEFAULT_PAGE_SIZE, None),
        },
    };
    // Zero or negative sizes fall back to the default but keep no links (observed).
    let no_links = matches!(raw_size.and_then(|s| s.parse::<i64>().ok()), Some(n) if n <= 0)
        && count <= DEFAULT_PAGE_SIZE;
    let pages = count.div_ceil(size).max(1);
    let page = match req.param("page") {
        None => 1,
        Some("last") => pages,
        Some(p) => match p.parse::<usize>() {
            Ok(n) if n >= 1 && n <= pages => n,
            _ => {
                return Err(detail(
                    StatusCode::NOT_FOUND,
                    "Invalid page.",
                    Some(LIST_ALLOW),
                    true,
                ));
            }
        },
    };
    let results: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * size)
        .take(size)
        .collect();
    if req
        .param("count_disabled")
        .is_some_and(|v| v == "1" || v == "true")
    {
        return Ok(json!({ "results": results }));
    }
    let link = |target: usize| -> String {
        let mut params: Vec<(String, String)> = req
            .query
            .iter()
            .filter(|(k, _)| k != "page" && k != "page_size")
            .cloned()
            .collect();
        params.push(("page".into(), target.to_string()));
        if let Some(s) = &link_size {
            params.push(("page_size".into(), s.clone()));
        }
        params.sort();
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &params {
            ser.append_pair(k, v);
        }
        format!("{}?{}", req.path, ser.finish())
    };
    let next = (page < pages && !no_links).then(|| link(page + 1));
    let previous = (page > 1).then(|| link(page - 1));
    Ok(json!({"count": count, "next": next, "previous": previous, "results": results}))
}

// ------------------------------------------------------------------ applications

/// A value of an application for filtering and ordering.
#[derive(Debug, Clone, PartialEq, PartialOrd)]
enum FieldValue {
    Int(u64),
    Text(String),
    Bool(bool),
}

const APP_TEXT_FIELDS: &[&str] = &[
    "name",
    "description",
    "client_type",
    "redirect_uris",
    "authorization_grant_type",
    "created",
];

fn app_field(state: &AwxState, app: &App, path: &[&str]) -> Result<Option<FieldValue>, String> {
    Ok(match path {
        ["id"] => Some(FieldValue::Int(app.id)),
        ["name"] => Some(FieldValue::Text(app.name.clone())),
        ["description"] => Some(FieldValue::Text(app.description.clone())),
        ["client_type"] => Some(FieldValue::Text(app.client_type.clone())),
        ["redirect_uris"] => Some(FieldValue::Text(app.redirect_uris.clone())),
        ["authorization_grant_type"] => {
            Some(FieldValue::Text(app.authorization_grant_type.clone()))
        }
        ["skip_authorization"] => Some(FieldValue::Bool(app.skip_authorization)),
        ["created"] => Some(FieldValue::Text(app.created.clone())),
        ["organization"] | ["organization", "id"] => Some(FieldValue::Int(app.organization)),
        ["user"] => None,
        ["organization", f] => {
            let org = state.orgs.iter().find(|o| o.id == app.organization);
            match *f {
                "name" => org.map(|o| FieldValue::Text(o.name.clone())),
                "description" => org.map(|o| FieldValue::Text(o.description.clone())),
                other => return Err(format!("Organization has no field named '{other}'")),
            }
        }
        [other, ..] => return Err(format!("OAuth2Application has no field named '{other}'")),
        [] => None,
    })
}

const LOOKUPS: &[&str] = &[
    "exact",
    "iexact",
    "contains",
    "icontains",
    "startswith",
    "istartswith",
    "endswith",
    "iendswith",
    "in",
    "gt",
    "gte",
    "lt",
    "lte",
    "isnull",
];

/// One `?key=value` filter of the DAB field-lookup backend, compiled.
struct Filter {
    negate: bool,
    or: bool,
    path: Vec<String>,
    lookup: String,
    value: String,
}

/// Filtering on a secret is refused with 403 (awx.md §5).
struct FilterForbidden(String);

fn parse_filter(key: &str, value: &str) -> Result<Filter, FilterForbidden> {
    let mut parts: Vec<&str> = key.split("__").collect();
    let mut negate = false;
    let mut or = false;
    loop {
        match parts.first() {
            Some(&"not") => {
                negate = true;
                parts.remove(0);
            }
            Some(&"or") => {
                or = true;
                parts.remove(0);
            }
            Some(&"chain") => {
                parts.remove(0);
            }
            _ => break,
        }
    }
    if let Some(first) = parts
        .first()
        .filter(|f| **f == "client_id" || **f == "client_secret")
    {
        return Err(FilterForbidden(format!(
            "Filtering on {first} is not allowed."
        )));
    }
    let lookup = match parts.last() {
        Some(l) if LOOKUPS.contains(l) && parts.len() > 1 => {
            let l = l.to_string();
            parts.pop();
            l
        }
        _ => "exact".to_string(),
    };
    Ok(Filter {
        negate,
        or,
        path: parts.into_iter().map(str::to_string).collect(),
        lookup,
        value: value.to_string(),
    })
}

fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "true" | "True" | "TRUE" | "1" | "t" | "T" | "yes" | "on" => Some(true),
        "false" | "False" | "FALSE" | "0" | "f" | "F" | "no" | "off" => Some(false),
        _ => None,
    }
}

fn filter_matches(state: &AwxState, app: &App, f: &Filter) -> Result<bool, String> {
    let path: Vec<&str> = f.path.iter().map(String::as_str).collect();
    let field = app_field(state, app, &path)?;
    let is_text = matches!(path.as_slice(), [p] if APP_TEXT_FIELDS.contains(p))
        || matches!(path.as_slice(), ["organization", "name" | "description"]);
    if f.lookup.starts_with('i') && f.lookup != "in" && f.lookup != "isnull" && !is_text {
        return Err(format!(
            "{} is not a text field and cannot be filtered by case-insensitive search",
            f.path.join("__")
        ));
    }
    if f.lookup == "isnull" {
        let want = parse_bool(&f.value).unwrap_or(true);
        return Ok(field.is_none() == want);
    }
    let Some(field) = field else {
        return Ok(false);
    };
    let parse_as = |raw: &str| -> Result<FieldValue, String> {
        match &field {
            FieldValue::Int(_) => raw.parse::<u64>().map(FieldValue::Int).map_err(|_| {
                if path.first() == Some(&"organization") && path.len() == 1 {
                    format!("Invalid organization id: {raw}")
                } else {
                    format!("[\"\u{201c}{raw}\u{201d} value must be an integer.\"]")
                }
            }),
            FieldValue::Bool(_) => parse_bool(raw)
                .map(FieldValue::Bool)
                .ok_or_else(|| format!("Unable to convert \"{raw}\" to boolean")),
            FieldValue::Text(_) => Ok(FieldValue::Text(raw.to_string())),
        }
    };
    let text = |v: &FieldValue| match v {
        FieldValue::Text(s) => s.clone(),
        FieldValue::Int(i) => i.to_string(),
        FieldValue::Bool(b) => b.to_string(),
    };
    Ok(match f.lookup.as_str() {
        "in" => {
            if f.value.is_empty() {
                return Err("cannot provide empty value for __in".into());
            }
            let mut any = false;
            for item in f.value.split(',') {
                if parse_as(item)? == field {
                    any = true;
                }
            }
            any
        }
        "exact" => parse_as(&f.value)? == field,
        "iexact" => text(&field).to_lowercase() == f.value.to_lowercase(),
        "contains" => text(&field).contains(&f.value),
        "icontains" => text(&field)
            .to_lowercase()
            .contains(&f.value.to_lowercase()),
        "startswith" => text(&field).starts_with(&f.value),
        "istartswith" => text(&field)
            .to_lowercase()
            .starts_with(&f.value.to_lowercase()),
        "endswith" => text(&field).ends_with(&f.value),
        "iendswith" => text(&field)
            .to_lowercase()
            .ends_with(&f.value.to_lowercase()),
        "gt" => field > parse_as(&f.value)?,
        "gte" => field >= parse_as(&f.value)?,
        "lt" => field < parse_as(&f.value)?,
        "lte" => field <= parse_as(&f.value)?,
        _ => false,
    })
}

fn list_apps(
    inner: &Inner,
    req: &Req<'_>,
    principal: Principal,
    org: Option<u64>,
) -> Result<Vec<Value>, Response> {
    let state = &inner.state;
    let bad = |msg: String| detail(StatusCode::BAD_REQUEST, &msg, Some(LIST_ALLOW), true);
    let mut filters = Vec::new();
    for (key, value) in &req.query {
        if RESERVED_QUERY.contains(&key.as_str()) {
            continue;
        }
        match parse_filter(key, value) {
            Ok(f) => filters.push(f),
            Err(FilterForbidden(m)) => {
                return Err(detail(StatusCode::FORBIDDEN, &m, Some(LIST_ALLOW), true));
            }
        }
    }
    // Visibility (awx.md §5): superusers see everything; this simulator gives
    // other users no organization roles, so they see nothing.
    let mut apps: Vec<&App> = if principal.superuser {
        state.apps.values().collect()
    } else {
        Vec::new()
    };
    if let Some(org) = org {
        apps.retain(|a| a.organization == org);
    }
    if req
        .param("type")
        .is_some_and(|t| t.split(',').all(|t| t != "o_auth2_application"))
    {
        apps.clear();
    }
    let mut kept = Vec::new();
    for app in apps {
        let mut ok = true;
        let mut any_or: Option<bool> = None;
        for f in &filters {
            let m = filter_matches(state, app, f).map_err(bad)? != f.negate;
            if f.or {
                any_or = Some(any_or.unwrap_or(false) || m);
            } else {
                ok &= m;
            }
        }
        if ok && any_or.unwrap_or(true) {
            kept.push(app);
        }
    }
    if let Some(search) = req.param("search") {
        let terms: Vec<String> = search
            .split([',', ' '])
            .filter(|t| !t.is_empty())
            .map(str::to_lowercase)
            .collect();
        kept.retain(|a| {
            terms.iter().all(|t| {
                a.name.to_lowercase().contains(t) || a.description.to_lowercase().contains(t)
            })
        });
    }
    // Default order: organization, then name (model Meta.ordering); byte order.
    let mut keys: Vec<(String, bool)> =
        vec![("organization".into(), false), ("name".into(), false)];
    if let Some(order) = req.param("order_by").or_else(|| req.param("order")) {
        keys = order
            .split(',')
            .filter(|k| !k.is_empty())
            .map(|k| match k.strip_prefix('-') {
                Some(f) => (f.to_string(), true),
                None => (k.to_string(), false),
            })
            .collect();
        for (k, _) in &keys {
            let path: Vec<&str> = k.split("__").collect();
            if let Some(first) = kept.first() {
                app_field(state, first, &path).map_err(bad)?;
            } else if !matches!(path.as_slice(), [p] if APP_TEXT_FIELDS.contains(p) || ["id", "organization", "skip_authorization"].contains(p))
            {
                return Err(bad(format!("OAuth2Application has no field named '{k}'")));
            }
        }
    }
    kept.sort_by(|a, b| {
        for (k, desc) in &keys {
            let path: Vec<&str> = k.split("__").collect();
            let va = app_field(state, a, &path).ok().flatten();
            let vb = app_field(state, b, &path).ok().flatten();
            let ord = va.partial_cmp(&vb).unwrap_or(std::cmp::Ordering::Equal);
            let ord = if *desc { ord.reverse() } else { ord };
            if ord != std::cmp::Ordering::Equal {
                return ord;
            }
        }
        a.id.cmp(&b.id)
    });
    Ok(kept
        .into_iter()
        .map(|a| app_json_for(state, a, false, Secret::Masked, principal.write))
        .collect())
}

fn applications(
    inner: &mut Inner,
    req: &Req<'_>,
    principal: Principal,
    org: Option<u64>,
) -> Response {
    match *req.method {
        Method::GET | Method::HEAD => match list_apps(inner, req, principal, org) {
            Ok(items) => match paginate(req, items) {
                Ok(v) => json_response(StatusCode::OK, &v, Some(LIST_ALLOW), true),
                Err(r) => r,
            },
            Err(r) => r,
        },
        Method::OPTIONS => json_response(
            StatusCode::OK,
            &options_body(false, principal.superuser),
            Some(LIST_ALLOW),
            true,
        ),
        Method::POST => create_app(inner, req, principal, org),
        _ => method_not_allowed(req.method, LIST_ALLOW),
    }
}

/// DRF metadata: `actions` lists the write verb only when the caller may use it;
/// the detail view's PUT has no grant type (read-only on update).
fn options_body(detail_view: bool, can_write: bool) -> Value {
    let mut fields = json!({
        "name": {"type": "string", "required": true, "label": "Name", "max_length": 255},
        "description": {"type": "string", "required": false, "label": "Description", "default": ""},
        "client_type": {"type": "choice", "required": true, "label": "Client Type", "choices": [["confidential", "Confidential"], ["public", "Public"]]},
        "redirect_uris": {"type": "string", "required": false, "label": "Redirect URIs"},
        "authorization_grant_type": {"type": "choice", "required": true, "label": "Authorization Grant Type", "choices": [["authorization-code", "Authorization code"], ["password", "Resource owner password-based"]]},
        "skip_authorization": {"type": "boolean", "required": false, "label": "Skip Authorization", "default": false},
        "organization": {"type": "id", "required": true, "label": "Organization"},
    });
    let (name, verb) = if detail_view {
        if let Some(f) = fields.as_object_mut() {
            f.remove("authorization_grant_type");
        }
        ("OAuth 2 Application Detail", "PUT")
    } else {
        ("OAuth 2 Applications", "POST")
    };
    let mut actions = Map::new();
    actions.insert("GET".into(), json!({}));
    if can_write {
        actions.insert(verb.into(), fields);
    }
    let mut body = json!({
        "name": name,
        "description": "",
        "renders": ["application/json", "text/html"],
        "parses": ["application/json"],
        "actions": actions,
        "types": ["o_auth2_application"],
    });
    if let (false, Some(b)) = (detail_view, body.as_object_mut()) {
        b.insert("search_fields".into(), json!(["name", "description"]));
        b.insert(
            "related_search_fields".into(),
            json!(["organization__search", "user__search"]),
        );
        b.insert("max_page_size".into(), json!(MAX_PAGE_SIZE));
    }
    body
}

/// The serializer's field-level result for one write.
#[derive(Default)]
struct AppInput {
    name: Option<String>,
    description: Option<String>,
    client_type: Option<String>,
    redirect_uris: Option<String>,
    grant: Option<String>,
    skip_authorization: Option<bool>,
    organization: Option<u64>,
}

#[derive(Clone, Copy, PartialEq)]
enum WriteKind {
    Create,
    Put,
    Patch,
}

fn choice(value: &Value, choices: &[&str]) -> Result<String, String> {
    let s = match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if choices.contains(&s.as_str()) {
        Ok(s)
    } else {
        Err(format!("\"{s}\" is not a valid choice."))
    }
}

fn char_field(value: &Value) -> Result<String, String> {
    match value {
        Value::Null => Ok(String::new()),
        Value::String(s) => Ok(s.trim().to_string()),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err("Not a valid string.".into()),
    }
}

/// DRF serializer validation (awx.md §3, observed messages), in field order.
fn parse_app_input(
    state: &AwxState,
    body: &Map<String, Value>,
    kind: WriteKind,
    ignore: &BTreeSet<String>,
) -> Result<AppInput, Map<String, Value>> {
    let mut errors = Map::new();
    let mut input = AppInput::default();
    let required = |field: &str| -> bool {
        match kind {
            WriteKind::Create => true,
            WriteKind::Put => field != "authorization_grant_type",
            WriteKind::Patch => false,
        }
    };
    let skip = |field: &str| kind != WriteKind::Create && ignore.contains(field);
    let mut err = |field: &str, msg: String| {
        errors.insert(field.to_string(), json!([msg]));
    };
    match body.get("name") {
        _ if skip("name") => {}
        None if required("name") => err("name", "This field is required.".into()),
        None => {}
        Some(v) => match char_field(v) {
            Ok(s) if s.chars().count() > 255 => err(
                "name",
                "Ensure this field has no more than 255 characters.".into(),
            ),
            Ok(s) => input.name = Some(s),
            Err(m) => err("name", m),
        },
    }
    match body.get("description") {
        None => {}
        Some(_) if skip("description") => {}
        Some(v) => match char_field(v) {
            Ok(s) => input.description = Some(s),
            Err(m) => err("description", m),
        },
    }
    match body.get("client_type") {
        _ if skip("client_type") => {}
        None if required("client_type") => err("client_type", "This field is required.".into()),
        None => {}
        Some(v) => match choice(v, &["confidential", "public"]) {
            Ok(s) => input.client_type = Some(s),
            Err(m) => err("client_type", m),
        },
    }
    match body.get("redirect_uris") {
        None => {}
        Some(_) if skip("redirect_uris") => {}
        Some(Value::Null) => input.redirect_uris = Some(String::new()),
        Some(Value::String(s)) => input.redirect_uris = Some(s.trim().to_string()),
        Some(_) => err("redirect_uris", "Not a valid string.".into()),
    }
    // The grant type is read-only once the app exists: ignored, silently (awx.md §3).
    if kind == WriteKind::Create {
        match body.get("authorization_grant_type") {
            None => err("authorization_grant_type", "This field is required.".into()),
            Some(v) => match choice(v, &["authorization-code", "password"]) {
                Ok(s) => input.grant = Some(s),
                Err(m) => err("authorization_grant_type", m),
            },
        }
    }
    match body.get("skip_authorization") {
        None => {}
        Some(_) if skip("skip_authorization") => {}
        Some(Value::Null) => input.skip_authorization = Some(false),
        Some(Value::Bool(b)) => input.skip_authorization = Some(*b),
        Some(Value::String(s)) if s.is_empty() => input.skip_authorization = Some(false),
        Some(Value::String(s)) => match parse_bool(s) {
            Some(b) => input.skip_authorization = Some(b),
            None => err("skip_authorization", "Must be a valid boolean.".into()),
        },
        Some(Value::Number(n)) if n.as_u64() == Some(1) || n.as_u64() == Some(0) => {
            input.skip_authorization = Some(n.as_u64() == Some(1))
        }
        Some(_) => err("skip_authorization", "Must be a valid boolean.".into()),
    }
    match body.get("organization") {
        _ if skip("organization") => {}
        None if required("organization") => err("organization", "This field is required.".into()),
        None => {}
        Some(Value::Null) => err("organization", "This field may not be null.".into()),
        Some(v) => {
            let id = match v {
                Value::Number(n) => n
                    .as_u64()
                    .ok_or_else(|| format!("Invalid pk \"{n}\" - object does not exist.")),
                Value::String(s) => s
                    .trim()
                    .parse::<u64>()
                    .map_err(|_| "Incorrect type. Expected pk value, received str.".to_string()),
                Value::Bool(_) => Err("Incorrect type. Expected pk value, received bool.".into()),
                Value::Array(_) => Err("Incorrect type. Expected pk value, received list.".into()),
                _ => Err("Incorrect type. Expected pk value, received dict.".into()),
            };
            match id {
                Ok(id) if state.orgs.iter().any(|o| o.id == id) => input.organization = Some(id),
                Ok(id) => err(
                    "organization",
                    format!("Invalid pk \"{id}\" - object does not exist."),
                ),
                Err(m) => err("organization", m),
            }
        }
    }
    if errors.is_empty() {
        Ok(input)
    } else {
        Err(errors)
    }
}

/// DOT `clean()` plus the unique-together check (awx.md §4, observed order).
fn model_clean(state: &AwxState, app: &App) -> Vec<String> {
    let mut errors = Vec::new();
    let uris: Vec<&str> = app.redirect_uris.split_whitespace().collect();
    if uris.is_empty() && app.authorization_grant_type == "authorization-code" {
        errors.push("redirect_uris cannot be empty with grant_type authorization-code".to_string());
    } else {
        for uri in uris {
            let parsed = url::Url::parse(uri)
                .ok()
                .filter(|u| u.host_str().is_some_and(|h| !h.is_empty()));
            match parsed {
                None => {
                    errors.push("Enter a valid URL.".into());
                    break;
                }
                Some(u) if u.fragment().is_some() => {
                    errors.push("Redirect URIs must not contain fragments".into());
                    break;
                }
                Some(u) if u.scheme() != "http" && u.scheme() != "https" => {
                    errors.push(format!("Unauthorized redirect scheme: {}", u.scheme()));
                    break;
                }
                Some(_) => {}
            }
        }
    }
    if state
        .apps
        .values()
        .any(|a| a.id != app.id && a.name == app.name && a.organization == app.organization)
    {
        errors.push("Application with this Name and Organization already exists.".into());
    }
    errors
}

fn create_app(
    inner: &mut Inner,
    req: &Req<'_>,
    principal: Principal,
    org: Option<u64>,
) -> Response {
    let mut body = match req.json_object(true, LIST_ALLOW) {
        Ok(b) => b,
        Err(r) => return r,
    };
    if let Some(org) = org {
        body.insert("organization".into(), json!(org));
    }
    // Access is checked before validation (awx.md §6).
    if !principal.superuser {
        return match body.get("organization") {
            Some(Value::Number(n))
                if !inner.state.orgs.iter().any(|o| Some(o.id) == n.as_u64()) =>
            {
                detail(
                    StatusCode::BAD_REQUEST,
                    "Organization matching query does not exist.",
                    Some(LIST_ALLOW),
                    true,
                )
            }
            Some(Value::String(s)) if s.parse::<u64>().is_err() => detail(
                StatusCode::BAD_REQUEST,
                "Bad data found in related field organization.",
                Some(LIST_ALLOW),
                true,
            ),
            _ => detail(StatusCode::FORBIDDEN, FORBIDDEN, Some(LIST_ALLOW), true),
        };
    }
    let input = match parse_app_input(&inner.state, &body, WriteKind::Create, &BTreeSet::new()) {
        Ok(i) => i,
        Err(errors) => {
            return json_response(
                StatusCode::BAD_REQUEST,
                &Value::Object(errors),
                Some(LIST_ALLOW),
                true,
            );
        }
    };
    let t = now();
    let app = App {
        id: inner.state.next_app,
        name: input.name.unwrap_or_default(),
        description: input.description.unwrap_or_default(),
        client_id: random_token(40),
        client_secret: random_token(128),
        client_type: input.client_type.unwrap_or_default(),
        redirect_uris: input.redirect_uris.unwrap_or_default(),
        authorization_grant_type: input.grant.unwrap_or_default(),
        skip_authorization: input.skip_authorization.unwrap_or(false),
        organization: input.organization.unwrap_or(1),
        created: t.clone(),
        modified: t,
    };
    let errors = model_clean(&inner.state, &app);
    if !errors.is_empty() {
        return json_response(
            StatusCode::BAD_REQUEST,
            &json!({ "__all__": errors }),
            Some(LIST_ALLOW),
            true,
        );
    }
    inner.state.next_app += 1;
    let out = app_json(&inner.state, &app, true, Secret::Clear);
    let location = format!("/api/v2/applications/{}/", app.id);
    inner.state.apps.insert(app.id, app);
    if std::mem::take(&mut inner.lose_next_create_answer) {
        return html_response(StatusCode::SERVICE_UNAVAILABLE, HTML_500);
    }
    created(&out, &location)
}

/// Resolves `{id}` or `{name}++{org}` to an id the caller may see, or the error response.
fn resolve_app(inner: &Inner, key: &str, principal: Principal) -> Result<u64, Response> {
    let not_found = || {
        detail(
            StatusCode::NOT_FOUND,
            APP_NOT_FOUND,
            Some(DETAIL_ALLOW),
            true,
        )
    };
    let id = if let Ok(id) = key.parse::<u64>() {
        if !inner.state.apps.contains_key(&id) {
            return Err(not_found());
        }
        id
    } else if let Some((name, org)) = key.rsplit_once("++") {
        let name = percent_decode(name).replace("[+]", "+");
        let org = percent_decode(org);
        if name.contains('/') {
            return Err(html_response(StatusCode::NOT_FOUND, HTML_404));
        }
        let Some(org) = inner.state.orgs.iter().find(|o| o.name == org) else {
            // A named URL whose organization does not resolve is answered by the
            // URL rewriting layer: JSON, but without AWX's product headers (observed).
            let mut r = Response::new(Body::from(json!({ "detail": APP_NOT_FOUND }).to_string()));
            *r.status_mut() = StatusCode::NOT_FOUND;
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            return Err(r);
        };
        match inner
            .state
            .apps
            .values()
            .find(|a| a.name == name && a.organization == org.id)
        {
            Some(a) => a.id,
            None => return Err(html_response(StatusCode::NOT_FOUND, HTML_404)),
        }
    } else {
        return Err(html_response(StatusCode::NOT_FOUND, HTML_404));
    };
    // Detail views use the unfiltered queryset: hidden objects are 403, not 404.
    if !principal.superuser {
        return Err(detail(
            StatusCode::FORBIDDEN,
            FORBIDDEN,
            Some(DETAIL_ALLOW),
            true,
        ));
    }
    Ok(id)
}

fn application_detail(
    inner: &mut Inner,
    req: &Req<'_>,
    principal: Principal,
    key: &str,
) -> Response {
    if *req.method == Method::OPTIONS {
        let exists = key
            .parse::<u64>()
            .is_ok_and(|id| inner.state.apps.contains_key(&id));
        return json_response(
            StatusCode::OK,
            &options_body(true, exists && principal.superuser),
            Some(DETAIL_ALLOW),
            true,
        );
    }
    if *req.method == Method::POST {
        return method_not_allowed(req.method, DETAIL_ALLOW);
    }
    let id = match resolve_app(inner, key, principal) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let Some(current) = inner.state.apps.get(&id).cloned() else {
        return detail(
            StatusCode::NOT_FOUND,
            APP_NOT_FOUND,
            Some(DETAIL_ALLOW),
            true,
        );
    };
    match *req.method {
        Method::GET | Method::HEAD => json_response(
            StatusCode::OK,
            &app_json(&inner.state, &current, true, Secret::Masked),
            Some(DETAIL_ALLOW),
            true,
        ),
        Method::DELETE => {
            inner.state.apps.remove(&id);
            // Deleting an app deletes its tokens (awx.md §6).
            inner.state.tokens.retain(|t| t.application != Some(id));
            no_content()
        }
        Method::PATCH | Method::PUT => {
            let kind = if *req.method == Method::PUT {
                WriteKind::Put
            } else {
                WriteKind::Patch
            };
            let body = match req.json_object(true, DETAIL_ALLOW) {
                Ok(b) => b,
                Err(r) => return r,
            };
            let input =
                match parse_app_input(&inner.state, &body, kind, &inner.options.ignore_on_update) {
                    Ok(i) => i,
                    Err(errors) => {
                        return json_response(
                            StatusCode::BAD_REQUEST,
                            &Value::Object(errors),
                            Some(DETAIL_ALLOW),
                            true,
                        );
                    }
                };
            let mut app = current;
            if let Some(v) = input.name {
                app.name = v;
            }
            match (input.description, kind) {
                (Some(v), _) => app.description = v,
                // PUT re-applies defaults for omitted fields (awx.md §6).
                (None, WriteKind::Put)
                    if !inner.options.ignore_on_update.contains("description") =>
                {
                    app.description = String::new()
                }
                _ => {}
            }
            if let Some(v) = input.client_type {
                app.client_type = v;
            }
            if let Some(v) = input.redirect_uris {
                app.redirect_uris = v;
            }
            match (input.skip_authorization, kind) {
                (Some(v), _) => app.skip_authorization = v,
                (None, WriteKind::Put)
                    if !inner
                        .options
                        .ignore_on_update
                        .contains("skip_authorization") =>
                {
                    app.skip_authorization = false
                }
                _ => {}
            }
            if let Some(v) = input.organization {
                app.organization = v;
            }
            let errors = model_clean(&inner.state, &app);
            if !errors.is_empty() {
                return json_response(
                    StatusCode::BAD_REQUEST,
                    &json!({ "__all__": errors }),
                    Some(DETAIL_ALLOW),
                    true,
                );
            }
            app.modified = now();
            let out = app_json(&inner.state, &app, true, Secret::Masked);
            inner.state.apps.insert(id, app);
            json_response(StatusCode::OK, &out, Some(DETAIL_ALLOW), true)
        }
        _ => method_not_allowed(req.method, DETAIL_ALLOW),
    }
}
