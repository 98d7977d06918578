//! AAP platform gateway simulator (django-ansible-base `oauth2_provider`
//! mounted at `/api/gateway/v1/`), written from `docs/contracts/gateway.md`:
//! lists ordered by (organization, name) in pages of 50 (at most 200, a bad
//! size falls back to 50, a page past the end is 404 "Invalid page."),
//! a 128-character secret shown once and `$encrypted$` afterwards, a grant
//! type PATCH changes, no redirect URI checks, `non_field_errors` for a
//! duplicate (organization, name), only superusers (anyone else 403 on every
//! URL), read-scope tokens refused on writes, and `/o/token/` for the
//! password grant.

// Handlers return finished HTTP responses as their error values.
#![allow(clippy::result_large_err)]

mod api;
mod input;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::http::LoggedRequest;
use super::random_token;

/// Users, tokens and limits the simulator starts with.
#[derive(Debug, Clone)]
pub struct GatewayOptions {
    /// The superuser that exists from the start (Basic auth).
    pub admin_username: String,
    pub admin_password: String,
    /// Bearer tokens of the admin with `read write` scope.
    pub admin_tokens: Vec<String>,
    /// Bearer tokens of the admin with `read` scope only.
    pub read_tokens: Vec<String>,
    /// `MAX_PAGE_SIZE` (DAB default 200).
    pub max_page_size: usize,
}

impl Default for GatewayOptions {
    fn default() -> Self {
        GatewayOptions {
            admin_username: "admin".into(),
            admin_password: "password".into(),
            admin_tokens: vec!["sandbox-gateway-token".into()],
            read_tokens: vec!["sandbox-gateway-read-token".into()],
            max_page_size: 200,
        }
    }
}

/// One OAuth2 application as the server stores it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct App {
    pub id: u64,
    pub name: String,
    pub organization: u64,
    pub client_id: String,
    /// Kept in clear here (the real server hashes it) so `/o/token/` can check it.
    pub client_secret: String,
    pub client_type: String,
    pub authorization_grant_type: String,
    pub redirect_uris: String,
    pub post_logout_redirect_uris: String,
    pub algorithm: String,
    pub app_url: Option<String>,
    pub skip_authorization: bool,
    pub description: String,
    pub user: Option<u64>,
    pub created: String,
    pub modified: String,
    pub created_by: u64,
    pub modified_by: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub username: String,
    pub password: String,
    pub superuser: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Token {
    pub user: u64,
    pub scope: String,
    /// The application the token was obtained through, if any.
    pub application: Option<u64>,
    /// When it stops being valid (RFC 3339); state files of older versions
    /// have none (never expires).
    #[serde(default)]
    pub expires: Option<String>,
    /// When it last authenticated a request (django-ansible-base's
    /// `OAuth2AccessToken.last_used`, shown in token lists).
    #[serde(default)]
    pub last_used: Option<String>,
}

/// Everything a state file keeps.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GatewayState {
    pub next_app_id: u64,
    pub apps: BTreeMap<u64, App>,
    pub organizations: BTreeMap<u64, String>,
    pub users: BTreeMap<u64, User>,
    pub tokens: BTreeMap<String, Token>,
}

impl GatewayState {
    fn fresh(options: &GatewayOptions) -> Self {
        let mut state = GatewayState {
            next_app_id: 1,
            ..Default::default()
        };
        state.organizations.insert(1, "Default".into());
        state.users.insert(
            1,
            User {
                username: options.admin_username.clone(),
                password: options.admin_password.clone(),
                superuser: true,
            },
        );
        for (tokens, scope) in [
            (&options.admin_tokens, "read write"),
            (&options.read_tokens, "read"),
        ] {
            for t in tokens {
                state.tokens.insert(
                    t.clone(),
                    Token {
                        user: 1,
                        scope: scope.into(),
                        application: None,
                        expires: None,
                        last_used: None,
                    },
                );
            }
        }
        state
    }
}

struct Inner {
    state: GatewayState,
    options: GatewayOptions,
    log: Vec<LoggedRequest>,
    /// Test knob: the next create finds its (organization, name) taken by
    /// someone else's app, created just before it.
    collide_next_create: bool,
}

#[derive(Clone)]
pub struct GatewaySim {
    inner: Arc<Mutex<Inner>>,
}

impl GatewaySim {
    pub fn new(options: GatewayOptions) -> Self {
        GatewaySim {
            inner: Arc::new(Mutex::new(Inner {
                state: GatewayState::fresh(&options),
                options,
                log: Vec::new(),
                collide_next_create: false,
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn router(&self) -> Router {
        Router::new().fallback(api::handle).with_state(self.clone())
    }

    /// Adds an organization; returns its id.
    pub fn add_organization(&self, name: &str) -> u64 {
        let mut inner = self.lock();
        let id = inner.state.organizations.keys().max().copied().unwrap_or(0) + 1;
        inner.state.organizations.insert(id, name.into());
        id
    }

    /// Adds a user who is not a superuser; returns its id.
    pub fn add_user(&self, username: &str, password: &str) -> u64 {
        let mut inner = self.lock();
        let id = inner.state.users.keys().max().copied().unwrap_or(0) + 1;
        inner.state.users.insert(
            id,
            User {
                username: username.into(),
                password: password.into(),
                superuser: false,
            },
        );
        id
    }

    /// The stored app named `name` (in any organization), as JSON.
    pub fn app_by_name(&self, name: &str) -> Option<Value> {
        let inner = self.lock();
        inner
            .state
            .apps
            .values()
            .find(|a| a.name == name)
            .and_then(|a| serde_json::to_value(a).ok())
    }

    /// An access token for application `name` expiring at `expires`
    /// (RFC 3339), as `/o/token/` would leave it (tests). `false` when there
    /// is no such application.
    pub fn issue_app_token(&self, name: &str, expires: &str) -> bool {
        let mut inner = self.lock();
        let Some(id) = inner
            .state
            .apps
            .values()
            .find(|a| a.name == name)
            .map(|a| a.id)
        else {
            return false;
        };
        inner.state.tokens.insert(
            random_token(30),
            Token {
                user: 1,
                scope: "read".into(),
                application: Some(id),
                expires: Some(expires.to_string()),
                last_used: None,
            },
        );
        true
    }

    /// Every app's (id, name).
    pub fn app_names(&self) -> Vec<(u64, String)> {
        let inner = self.lock();
        inner
            .state
            .apps
            .values()
            .map(|a| (a.id, a.name.clone()))
            .collect()
    }

    /// Stores an app directly (seeding, drift): `fields` overrides the
    /// defaults of a public password-grant app. Returns its id.
    pub fn put_app(&self, name: &str, organization: u64, fields: &Value) -> u64 {
        let mut inner = self.lock();
        let app = input::new_app(&mut inner.state, name, organization, 1);
        let id = app.id;
        let mut value = serde_json::to_value(&app).unwrap_or(Value::Null);
        if let (Some(obj), Some(over)) = (value.as_object_mut(), fields.as_object()) {
            for (k, v) in over {
                obj.insert(k.clone(), v.clone());
            }
        }
        let app = serde_json::from_value(value).unwrap_or(app);
        inner.state.apps.insert(id, app);
        id
    }

    /// `count` public apps named `<prefix><i:03>` in organization 1.
    pub fn seed_apps(&self, prefix: &str, count: usize) {
        for i in 0..count {
            self.put_app(&format!("{prefix}{i:03}"), 1, &Value::Null);
        }
    }

    /// The next create meets a duplicate made a moment before by someone
    /// else with the same fields (a race the create must adopt).
    pub fn collide_next_create(&self) {
        self.lock().collide_next_create = true;
    }

    /// Demo data for `--sandbox`: one app the examples update.
    pub fn seed_demo(&self) {
        let engineering = self.add_organization("Engineering");
        self.put_app(
            "portal",
            engineering,
            &serde_json::json!({
                "client_type": "confidential",
                "authorization_grant_type": "password",
                "description": "Self-service portal",
            }),
        );
    }
}

impl super::Simulator for GatewaySim {
    type Options = GatewayOptions;
    type State = GatewayState;
    const NAME: &'static str = "gateway";

    fn start(options: GatewayOptions) -> Self {
        GatewaySim::new(options)
    }
    fn routes(&self) -> Router {
        self.router()
    }
    fn add_demo_apps(&self) {
        self.seed_demo();
    }
    fn locked<R>(&self, f: impl FnOnce(&mut GatewayState, &mut Vec<LoggedRequest>) -> R) -> R {
        let mut inner = self.lock();
        let inner = &mut *inner;
        f(&mut inner.state, &mut inner.log)
    }
}

/// A new client id (40 characters, like django-oauth-toolkit's).
fn client_id() -> String {
    random_token(40)
}
