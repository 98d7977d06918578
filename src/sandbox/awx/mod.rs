//! AWX 24.6.1 simulator: `/api/v2/applications/` and what a client needs around
//! it (organizations, tokens, users, me, ping, config). It follows
//! `docs/contracts/awx.md` and, where they differ, what the real server answered in
//! `tests/fixtures/awx-24.6.1-oracle.json` (replayed by a test): the secret shown once,
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

mod applications;
mod auth;
mod bodies;
mod filters;
mod input;
mod paginate;
mod respond;
mod routes;

use applications::*;
use auth::*;
use bodies::*;
use filters::*;
use input::*;
use paginate::*;
use respond::*;
use routes::*;

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
    /// Django's `MAX_PAGE_SIZE` (200 by default; some sites lower it): a
    /// larger `page_size` is cut to it, and the `next` link says so.
    pub max_page_size: usize,
    /// Applications (by name) the credentials may only read, as an
    /// organization member's read role gives: listed with
    /// `user_capabilities` `edit`/`delete` false, and every write to them
    /// answered 403 (awx.md, observed with a non-admin user).
    pub read_only_apps: BTreeSet<String>,
}

impl Default for AwxOptions {
    fn default() -> Self {
        AwxOptions {
            admin_username: "admin".into(),
            admin_password: "password".into(),
            admin_tokens: vec!["sandbox-awx-token".into()],
            ignore_on_update: BTreeSet::new(),
            max_page_size: MAX_PAGE_SIZE,
            read_only_apps: BTreeSet::new(),
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
pub struct AwxState {
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
    /// Test knob: creates of these names are refused with a 400.
    reject_creates: BTreeSet<String>,
    /// Test knob: right before the next create is handled, another client
    /// stores the same app (`Some(description)` overrides its description).
    collide_next_create: Option<Option<String>>,
    /// Test knob: apps deleted (by name, last first) right after a listing's first page.
    delete_after_first_page: Vec<String>,
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
                reject_creates: BTreeSet::new(),
                collide_next_create: None,
                delete_after_first_page: Vec::new(),
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A poisoned lock only means a handler panicked; the data is still usable.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stores the next created application but answers 503, as a proxy that
    /// timed out after the server acted would.
    pub fn lose_next_create_answer(&self) {
        self.lock().lose_next_create_answer = true;
    }

    /// Refuses every create of an application named `name` (400, `__all__`),
    /// until [`AwxSim::accept_creates`].
    pub fn reject_creates(&self, name: &str) {
        self.lock().reject_creates.insert(name.to_string());
    }

    /// Right before the next create is handled, stores the same application
    /// (as an earlier, killed run's create that lands late would); with
    /// `Some(description)`, the stored copy differs in its description.
    pub fn collide_next_create(&self, description: Option<&str>) {
        self.lock().collide_next_create = Some(description.map(str::to_string));
    }

    pub fn accept_creates(&self) {
        self.lock().reject_creates.clear();
    }

    /// Deletes the application `name` right after the next listing's first
    /// page is served (another client at work while appform pages).
    pub fn delete_after_next_first_page(&self, name: &str) {
        self.lock().delete_after_first_page.push(name.to_string());
    }

    /// Every stored application as (organization id, name), sorted (test use).
    pub fn app_names(&self) -> Vec<(u64, String)> {
        let mut out: Vec<(u64, String)> = self
            .lock()
            .state
            .apps
            .values()
            .map(|a| (a.organization, a.name.clone()))
            .collect();
        out.sort();
        out
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
            ("name", Value::String(s)) => app.name = s,
            ("description", Value::String(s)) => app.description = s,
            ("redirect_uris", Value::String(s)) => app.redirect_uris = s,
            ("client_type", Value::String(s)) => app.client_type = s,
            ("authorization_grant_type", Value::String(s)) => app.authorization_grant_type = s,
            ("skip_authorization", Value::Bool(b)) => app.skip_authorization = b,
            ("organization", Value::Number(n)) => app.organization = n.as_u64().unwrap_or(1),
            // An app made long ago (secret age, tests); the clock is not moved.
            ("created", Value::String(s)) => {
                app.created = s;
                return true;
            }
            _ => return false,
        }
        app.modified = now();
        true
    }

    /// Demo data for `--sandbox` and `appform sandbox --demo`: an app to
    /// update (created long ago: due for rotation where the config says
    /// `rotate_after`), one to delete (still in use: a token), one nobody
    /// manages, and the retiring
    /// copy of an earlier rotation, five days before its overlap ends (with
    /// a token).
    pub fn seed_demo(&self) {
        self.seed_demo_apps();
        self.set_app_field(
            "jenkins",
            "created",
            Value::from("2025-01-01T09:00:00.000000Z"),
        );
        // Rotated two days ago with a week of overlap: five days to go.
        let end = std::time::SystemTime::now() + std::time::Duration::from_secs(5 * 86_400);
        // Spelled out here: the simulator shares no code with appform's
        // own recognition of these names.
        let day = humantime::format_rfc3339_seconds(end).to_string()[..10].replace('-', "");
        let retiring = format!("jenkins~appform-retiring-{day}");
        let retiring = retiring.as_str();
        self.add_app(retiring, 1);
        self.set_app_field(retiring, "client_type", Value::from("confidential"));
        self.set_app_field(retiring, "description", Value::from("Jenkins CI"));
        self.issue_app_token(retiring, "3024-11-04T09:00:00.000000Z");
        // A client still holds a token of the app to delete: the plan says
        // it is in use (the config allows the delete).
        self.issue_app_token("old-portal", "3024-11-04T09:00:00.000000Z");
    }

    fn seed_demo_apps(&self) {
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

    /// A personal access token of the admin with `scope` (`read` or
    /// `write`), as `POST /api/v2/tokens/` would issue it (tests).
    pub fn issue_token(&self, scope: &str) -> String {
        let mut inner = self.lock();
        let t = now();
        let token = Token {
            id: inner.state.next_token,
            token: random_token(30),
            refresh_token: None,
            user: 1,
            application: None,
            scope: scope.into(),
            description: String::new(),
            created: t.clone(),
            expires: t,
        };
        inner.state.next_token += 1;
        let value = token.token.clone();
        inner.state.tokens.push(token);
        value
    }

    /// An access token of the admin for application `name`, expiring at
    /// `expires` (RFC 3339), as a client's token request would leave it
    /// (tests, the demo). `false` when there is no such application.
    pub fn issue_app_token(&self, name: &str, expires: &str) -> bool {
        let mut inner = self.lock();
        let Some(app) = inner
            .state
            .apps
            .values()
            .find(|a| a.name == name)
            .map(|a| a.id)
        else {
            return false;
        };
        let token = Token {
            id: inner.state.next_token,
            token: random_token(30),
            refresh_token: Some(random_token(30)),
            user: 1,
            application: Some(app),
            scope: "read".into(),
            description: String::new(),
            created: now(),
            expires: expires.to_string(),
        };
        inner.state.next_token += 1;
        inner.state.tokens.push(token);
        true
    }

    /// Creates `count` applications named `<prefix>NNN` in organization 1 (benchmarks, tests).
    pub fn seed_apps(&self, prefix: &str, count: usize) {
        for i in 0..count {
            self.add_app(&format!("{prefix}{i:03}"), 1);
        }
    }

    /// Adds a public password-grant app `name` to organization `org`.
    pub fn add_app(&self, name: &str, org: u64) {
        let mut inner = self.lock();
        let id = inner.state.next_app;
        inner.state.next_app += 1;
        let t = now();
        inner.state.apps.insert(
            id,
            App {
                id,
                name: name.to_string(),
                description: String::new(),
                client_id: random_token(40),
                client_secret: random_token(128),
                client_type: "public".into(),
                redirect_uris: String::new(),
                authorization_grant_type: "password".into(),
                skip_authorization: false,
                organization: org,
                created: t.clone(),
                modified: t,
            },
        );
    }

    /// The axum router serving this simulator.
    pub fn router(&self) -> Router {
        Router::new().fallback(handle).with_state(self.clone())
    }
}

impl super::Simulator for AwxSim {
    type Options = AwxOptions;
    type State = AwxState;
    const NAME: &'static str = "AWX";

    fn start(options: AwxOptions) -> Self {
        AwxSim::new(options)
    }
    fn routes(&self) -> Router {
        self.router()
    }
    fn add_demo_apps(&self) {
        self.seed_demo();
    }
    fn locked<R>(&self, f: impl FnOnce(&mut AwxState, &mut Vec<LoggedRequest>) -> R) -> R {
        let mut inner = self.lock();
        let inner = &mut *inner;
        f(&mut inner.state, &mut inner.log)
    }
}
