//! Venafi TPP WebSDK simulator (docs/contracts/tpp.md): VEDAuth tokens (obtain,
//! refresh with rotation, verify, revoke; configurable lifetime), and the
//! `/vedsdk/oauth/*` application calls with their quirks: HTTP 200 carrying
//! `Result` codes, a flat create body, a wrapped full-replace update whose
//! omitted validity fields fall back to the system defaults (and are then
//! omitted from reads), page-numbered enumeration, built-in applications.
//! Here: options, state and the test knobs; `routes.rs` the HTTP side,
//! `vedauth.rs` the token lifecycle, `apps.rs` the OAuth application calls.

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

mod apps;
mod routes;
mod vedauth;

use apps::*;
use routes::*;
use vedauth::*;

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
    /// Pages counting from 1, and `Start` 0 refused (InvalidParameters).
    PageFromOneStrict,
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
    /// The server's "API Default Settings": access token validity, grant
    /// validity (seconds) and whether grants are refreshable. An app whose
    /// value equals the default is shown without it (tpp.md §2).
    pub system_defaults: (u64, u64, bool),
    /// Whether `OAuth/GetConfiguration` exists (older TPP versions lack it).
    pub get_configuration: bool,
    /// The largest `Count` EnumerateApplications serves (larger ones are capped).
    pub max_page: usize,
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
            system_defaults: (DEFAULT_ACCESS_VALIDITY, DEFAULT_GRANT_VALIDITY, true),
            get_configuration: true,
            max_page: 1000,
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
    /// Fields of newer TPP versions the client may not know (`UnusedExpiration`):
    /// kept as sent, and, like every field, reset when an update leaves them out.
    #[serde(default)]
    extra: BTreeMap<String, Value>,
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
pub struct TppState {
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
    /// Test knob: an application deleted right before the next GetApplication of it.
    remove_before_get: Option<String>,
    /// Test knob: revocations answer 500 (the token stays valid).
    fail_revocations: bool,
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
                extra: BTreeMap::new(),
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
                remove_before_get: None,
                fail_revocations: false,
                collide_next_create: None,
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
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
                extra: BTreeMap::new(),
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
    /// Makes every token revocation fail with a 500 from now on.
    pub fn fail_revocations(&self) {
        self.lock().fail_revocations = true;
    }

    /// Deletes `id` right before the next GetApplication of it (another client
    /// removed it between a plan and its write).
    pub fn remove_before_next_get(&self, id: &str) {
        self.lock().remove_before_get = Some(id.into());
    }

    /// Sets a field the client does not model (`UnusedExpiration`) on `id`.
    pub fn set_extra_field(&self, id: &str, key: &str, value: Value) -> bool {
        match self.lock().state.apps.get_mut(id) {
            Some(app) => {
                app.extra.insert(key.into(), value);
                true
            }
            None => false,
        }
    }

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

impl super::Simulator for TppSim {
    type Options = TppOptions;
    type State = TppState;
    const NAME: &'static str = "TPP";

    fn start(options: TppOptions) -> Self {
        TppSim::new(options)
    }
    fn routes(&self) -> Router {
        self.router()
    }
    fn add_demo_apps(&self) {
        self.seed_demo();
    }
    fn locked<R>(&self, f: impl FnOnce(&mut TppState, &mut Vec<LoggedRequest>) -> R) -> R {
        let mut inner = self.lock();
        let inner = &mut *inner;
        f(&mut inner.state, &mut inner.log)
    }
}
