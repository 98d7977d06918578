//! cPanel WHM API 1 connected-applications simulator (docs/contracts/whm.md): one
//! store per WHM user; `save` is an upsert that replaces the whole `data`;
//! `remove` always succeeds; failures are HTTP 200 with `metadata.result: 0`
//! and an `API failure: (XID …)` reason; JSON mode only for a Content-Type of
//! exactly `application/json` (anything else is form parsing, where `data`
//! arrives as a string and then breaks every list); list order unspecified
//! (shuffled, deterministically per seed). One instance is one host.

use std::collections::BTreeMap;
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

#[derive(Debug, Clone)]
pub struct WhmOptions {
    /// WHM users: name → the (API token, password) pairs it logs in with
    /// (an empty one is never accepted).
    pub users: BTreeMap<String, Vec<(String, String)>>,
    /// Seed of the list order shuffle.
    pub seed: u64,
}

impl Default for WhmOptions {
    fn default() -> Self {
        WhmOptions {
            users: [(
                "root".to_string(),
                vec![("sandbox-whm-token".to_string(), "password".to_string())],
            )]
            .into_iter()
            .collect(),
            seed: 1,
        }
    }
}

/// Per user: app name → stored `data` (normally an object; a string when a
/// client sent `data` in form mode).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct WhmState {
    stores: BTreeMap<String, BTreeMap<String, Value>>,
}

struct Inner {
    state: WhmState,
    options: WhmOptions,
    log: Vec<LoggedRequest>,
    rng: fastrand::Rng,
    xid: u64,
    /// Test knob: every save fails with this message.
    failing_saves: Option<String>,
}

#[derive(Clone)]
pub struct WhmSim {
    inner: Arc<Mutex<Inner>>,
}

impl WhmSim {
    pub fn new(options: WhmOptions) -> Self {
        let rng = fastrand::Rng::with_seed(options.seed);
        WhmSim {
            inner: Arc::new(Mutex::new(Inner {
                state: WhmState::default(),
                options,
                log: Vec::new(),
                rng,
                xid: 0,
                failing_saves: None,
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The stored `data` of `user`'s app `name` (test use).
    pub fn app(&self, user: &str, name: &str) -> Option<Value> {
        self.lock()
            .state
            .stores
            .get(user)
            .and_then(|s| s.get(name))
            .cloned()
    }

    /// Stores `data` for `user`'s app `name` directly (seeding and drift).
    pub fn put(&self, user: &str, name: &str, data: Value) {
        self.lock()
            .state
            .stores
            .entry(user.into())
            .or_default()
            .insert(name.into(), data);
    }

    /// Makes every save fail with `metadata.result: 0` and this reason.
    pub fn fail_saves(&self, message: &str) {
        self.lock().failing_saves = Some(message.into());
    }

    /// Demo data for `--sandbox`: `billing` with an older JWT issuer and a key
    /// the config does not declare.
    pub fn seed_demo(&self) {
        self.put(
            "root",
            "billing",
            json!({"token_name": "Billing API Token", "public_key": "AAF6253E6A1225324305623EE",
                   "jwt": {"iss": "https://old-billing.example.com", "scope": ["admin:users"]},
                   "private_key": "billing-2023"}),
        );
    }

    pub fn router(&self) -> Router {
        Router::new().fallback(handle).with_state(self.clone())
    }
}

fn respond(status: StatusCode, body: &Value) -> Response {
    let mut r = Response::new(Body::from(body.to_string()));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn envelope(command: &str, result: u8, reason: &str, data: Option<Value>) -> Response {
    let mut o = Map::new();
    o.insert(
        "metadata".into(),
        json!({"command": command, "reason": reason, "result": result, "version": 1}),
    );
    if let Some(d) = data {
        o.insert("data".into(), d);
    }
    respond(StatusCode::OK, &Value::Object(o))
}

fn failure(inner: &mut Inner, command: &str, message: &str) -> Response {
    inner.xid += 1;
    let reason = format!("API failure: (XID sbx{:05}) {message}", inner.xid);
    envelope(command, 0, &reason, None)
}

/// `whm user:token` or Basic; `None` when the credentials are not valid.
fn authenticate(inner: &Inner, headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.split_once(' ')?;
    if scheme.eq_ignore_ascii_case("whm") {
        let (user, token) = rest.trim().split_once(':')?;
        let logins = inner.options.users.get(user)?;
        (!token.is_empty() && logins.iter().any(|(t, _)| t == token)).then(|| user.to_string())
    } else if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest.trim())
            .ok()?;
        let decoded = String::from_utf8(decoded).ok()?;
        let (user, pass) = decoded.split_once(':')?;
        let logins = inner.options.users.get(user)?;
        (!pass.is_empty() && logins.iter().any(|(_, p)| p == pass)).then(|| user.to_string())
    } else {
        None
    }
}

async fn handle(
    State(sim): State<WhmSim>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut inner = sim.lock();
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    inner
        .log
        .push(LoggedRequest::of(&method, &uri, &headers, &body));
    let Some(user) = authenticate(&inner, &headers) else {
        // With token auth WHM sends real HTTP error codes (whm.md §2).
        let mut r = Response::new(Body::from("Access denied"));
        *r.status_mut() = StatusCode::UNAUTHORIZED;
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        return r;
    };
    let Some(function) = uri.path().strip_prefix("/json-api/") else {
        let mut r = Response::new(Body::from("Not Found"));
        *r.status_mut() = StatusCode::NOT_FOUND;
        return r;
    };
    let function = function.trim_end_matches('/').to_string();
    // whm.md §2: JSON mode only for exactly `application/json`; the query
    // string is then not merged. Otherwise: form mode, query + body, strings.
    let json_mode = method == Method::POST && content_type.as_deref() == Some("application/json");
    let args: Map<String, Value> = if json_mode {
        match serde_json::from_slice::<Value>(&body) {
            Ok(Value::Object(m)) => m,
            _ => {
                return failure(
                    &mut inner,
                    &function,
                    "The request body is not a JSON object.",
                );
            }
        }
    } else {
        let mut m = Map::new();
        for source in [uri.query().unwrap_or("").as_bytes(), &body[..]] {
            for (k, v) in url::form_urlencoded::parse(source) {
                m.insert(k.into_owned(), Value::String(v.into_owned()));
            }
        }
        m
    };
    let version_ok = match args.get("api.version") {
        Some(Value::Number(n)) => n.as_u64() == Some(1),
        Some(Value::String(s)) => s == "1",
        _ => false,
    };
    if !version_ok {
        return failure(
            &mut inner,
            &function,
            "WHM API 1 calls need “api.version=1”.",
        );
    }
    let name = args
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    match function.as_str() {
        "list_connected_applications" => {
            let store = inner.state.stores.get(&user).cloned().unwrap_or_default();
            let mut list = Vec::new();
            for (app, data) in &store {
                let Some(obj) = data.as_object() else {
                    // whm.md §2: a `data` stored as a string breaks every list.
                    return failure(&mut inner, &function, "Not a HASH reference");
                };
                let mut item = Map::new();
                item.insert("name".into(), json!(app));
                for (k, v) in obj {
                    item.insert(k.clone(), v.clone());
                }
                list.push(Value::Object(item));
            }
            // Perl hash order: unspecified. Shuffle, deterministically per seed.
            inner.rng.shuffle(&mut list);
            envelope(&function, 1, "OK", Some(json!({ "list": list })))
        }
        "fetch_connected_application" => {
            if name.is_empty() {
                return failure(&mut inner, &function, "Provide the “name” parameter.");
            }
            let app = inner
                .state
                .stores
                .get(&user)
                .and_then(|s| s.get(&name))
                .cloned();
            let app = match app {
                None => Value::Null,
                Some(Value::Object(obj)) => {
                    let mut item = Map::new();
                    item.insert("name".into(), json!(name));
                    for (k, v) in obj {
                        item.insert(k, v);
                    }
                    Value::Object(item)
                }
                Some(_) => return failure(&mut inner, &function, "Not a HASH reference"),
            };
            envelope(&function, 1, "OK", Some(json!({ "app": app })))
        }
        "save_connected_application" => {
            if let Some(message) = inner.failing_saves.clone() {
                return failure(&mut inner, &function, &message);
            }
            if name.is_empty() {
                return failure(
                    &mut inner,
                    &function,
                    "Provide the “name” parameter for the “save_connected_application” function.",
                );
            }
            let data = match args.get("data") {
                None => return failure(&mut inner, &function, "Provide the “data” parameter."),
                Some(Value::String(s)) if s.is_empty() => {
                    return failure(
                        &mut inner,
                        &function,
                        "The value of “data” may not be empty.",
                    );
                }
                Some(Value::Object(o)) if o.is_empty() => {
                    return failure(
                        &mut inner,
                        &function,
                        "The value of “data” may not be empty.",
                    );
                }
                Some(v) => v.clone(),
            };
            inner
                .state
                .stores
                .entry(user)
                .or_default()
                .insert(name, data);
            envelope(&function, 1, "OK", None)
        }
        "remove_connected_application" => {
            if name.is_empty() {
                return failure(&mut inner, &function, "Provide the “name” parameter.");
            }
            if let Some(store) = inner.state.stores.get_mut(&user) {
                store.remove(&name);
            }
            // whm.md §1: removing a missing name still succeeds.
            envelope(&function, 1, "OK", None)
        }
        other => failure(&mut inner, other, &format!("Unknown function “{other}”.")),
    }
}

impl super::Simulator for WhmSim {
    type Options = WhmOptions;
    type State = WhmState;
    const NAME: &'static str = "WHM";

    fn start(options: WhmOptions) -> Self {
        WhmSim::new(options)
    }
    fn routes(&self) -> Router {
        self.router()
    }
    fn add_demo_apps(&self) {
        self.seed_demo();
    }
    fn locked<R>(&self, f: impl FnOnce(&mut WhmState, &mut Vec<LoggedRequest>) -> R) -> R {
        let mut inner = self.lock();
        let inner = &mut *inner;
        f(&mut inner.state, &mut inner.log)
    }
}
