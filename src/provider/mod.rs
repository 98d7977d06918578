//! The servers: resolving credentials, connecting, reading live state and
//! carrying out one change. Only this module talks HTTP; it never formats for
//! the terminal.

pub mod awx;
pub mod http;
pub mod strict_json;
pub mod tpp;
pub mod whm;

use crate::model::{Auth, Instance, Kind, LiveState, Server};
use crate::plan::{Change, Operation};
use crate::secret::{ResolveError, Secret};
use http::{AuthHeader, Http};

pub use crate::outcome::{Created, Failure as Error, FailureKind, NewSecret};

impl Error {
    pub fn unreachable(e: &http::TransportError) -> Self {
        Error::new(FailureKind::Unreachable, e.to_string())
    }
}

/// What one change did on the server.
#[derive(Debug, Clone)]
pub struct Applied {
    /// A new application (create, replace).
    pub created: Option<Created>,
    /// The change took effect, but left something behind that the report must
    /// name (a replaced app's old copy that could not be deleted).
    pub leftover: Option<Error>,
}

impl Applied {
    fn done() -> Self {
        Applied {
            created: None,
            leftover: None,
        }
    }
    fn created(created: Created) -> Self {
        Applied {
            created: Some(created),
            leftover: None,
        }
    }
}

/// The freshness check of full-replace kinds (docs/reference.md §2.3): the object read
/// right before a write must still be the one the plan saw (`expected`
/// fingerprint). `Ok(true)`: it is; `Ok(false)`: it is gone; `Err`: it
/// changed, and the write is skipped as stale.
pub fn still_as_planned(
    kind: Kind,
    name: &str,
    current: Option<&crate::model::LiveApp>,
    expected: Option<&str>,
) -> Result<bool, Error> {
    match (current, expected) {
        (None, _) => Ok(false),
        (Some(app), Some(fp)) if crate::plan::diff::fingerprint(kind, app) != fp => {
            Err(Error::stale(format!(
                "skipped as stale: `{name}` changed on the server since the plan was made; plan again"
            )))
        }
        (Some(_), _) => Ok(true),
    }
}

/// Settings for every connection of a run.
#[derive(Debug, Clone, Copy)]
pub struct ConnectOptions {
    pub max_retries: u32,
}

pub use crate::secret::SecretSource;

/// A token appform obtained that could not be revoked at the end of a run.
#[derive(Debug, thiserror::Error)]
#[error(
    "the token appform obtained could not be revoked and stays valid until it expires: {reason}"
)]
pub struct NotRevoked {
    /// What the server (or the connection) said.
    pub reason: String,
}

/// The environment and files.
pub struct RealSecrets;

impl SecretSource for RealSecrets {
    fn secret(
        &self,
        reference: &crate::secret::SecretRef,
        _field: &str,
    ) -> Result<Secret, ResolveError> {
        reference.resolve()
    }
    fn credential(
        &self,
        credential: &crate::secret::Credential,
        _field: &str,
    ) -> Result<String, ResolveError> {
        credential.resolve()
    }
}

fn auth_header(server: &Server, secrets: &dyn SecretSource) -> Result<AuthHeader, Error> {
    let ctx = |e: ResolveError| {
        Error::new(
            FailureKind::Credentials,
            format!("server `{}`: {e}", server.name),
        )
    };
    Ok(match &server.auth {
        Auth::Token {
            username: None,
            token,
        } => AuthHeader::Bearer(secrets.secret(token, "token").map_err(ctx)?),
        Auth::Token {
            username: Some(user),
            token,
        } => AuthHeader::WhmToken {
            username: secrets.credential(user, "username").map_err(ctx)?,
            token: secrets.secret(token, "token").map_err(ctx)?,
        },
        Auth::Basic { username, password } => AuthHeader::Basic {
            username: secrets.credential(username, "username").map_err(ctx)?,
            password: secrets.secret(password, "password").map_err(ctx)?,
        },
        // A token is obtained at connect time.
        Auth::TppPassword { .. } => AuthHeader::None,
    })
}

/// `e` with its text sanitised against `in_use`.
fn sanitized(e: Error, in_use: &[String]) -> Error {
    Error {
        message: crate::redact::sanitize_server_text(&e.message, in_use),
        ..e
    }
}

/// The tokens of one application that are still valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenUse {
    pub live: u64,
    /// The latest `expires` among them, as the server wrote it.
    pub until: Option<String>,
    /// The latest `last_used` of any of the app's tokens, where the server
    /// records it (the gateway; AWX 24.6.1's tokens have no such field).
    pub last_used: Option<String>,
}

/// A connected server instance. Every error it returns has the server's text
/// sanitised ([`crate::redact::sanitize_server_text`]): the credentials in
/// use redacted, control characters made visible.
pub struct Client {
    backend: Box<dyn Provider>,
    /// The secret values this client sends (token, password).
    in_use: Vec<String>,
}

/// What one kind's client does, the one shape every kind implements:
/// read every application (its listing checked for consistency, its errors
/// recognised the way the API signals them), carry out one planned
/// operation, and end the session. Added kinds implement it in their own
/// module; nothing here branches on the kind but the choice of constructor
/// in [`Client::connect`].
pub(crate) trait Provider: Send + Sync {
    /// The live state: every application, and what the kind reads beside
    /// them (AWX organizations, TPP defaults).
    fn fetch(&self) -> BoxFuture<'_, Result<LiveState, Error>>;
    /// `listing: managed`: only the applications with these names (and
    /// those an interrupted replacement set aside), for kinds whose API
    /// filters by name; `None` for the others (validate allows `listing:
    /// managed` only where this answers).
    fn fetch_named<'a>(
        &'a self,
        _names: &'a [String],
    ) -> Option<BoxFuture<'a, Result<LiveState, Error>>> {
        None
    }
    /// Carries out one planned operation. `expected`: the fingerprint the
    /// plan saw, for kinds that read before they write (full replace).
    fn execute<'a>(
        &'a self,
        operation: &'a Operation,
        expected: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Applied, Error>>;
    /// AWX and the gateway: the application's tokens that have not expired
    /// (their number and the latest `expires`); `None` for kinds without
    /// tokens of their own.
    fn live_tokens<'a>(
        &'a self,
        _app_id: &'a str,
    ) -> Option<BoxFuture<'a, Result<TokenUse, Error>>> {
        None
    }
    /// Ends the session (TPP revokes the token it obtained).
    fn close(&self) -> BoxFuture<'_, Result<(), NotRevoked>> {
        Box::pin(async { Ok(()) })
    }
    /// Credentials obtained during the session, to redact from server text.
    fn obtained_credentials(&self) -> Vec<String> {
        Vec::new()
    }
}

/// The answer of a kind whose identity is the app's only key (TPP, WHM) to
/// a replacement: it would delete before it creates, which
/// docs/reference.md §3.2 forbids; the semantics table never plans one.
pub(crate) fn replacement_refused() -> Result<Applied, Error> {
    Err(Error::new(
        FailureKind::Local,
        "TPP and WHM applications cannot be replaced (their identity is their only key); nothing was changed",
    ))
}

/// A boxed future borrowing its provider (trait objects cannot have async fns).
pub(crate) type BoxFuture<'a, T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// The secret values of `server`'s credentials that resolve, and the forms
/// they travel in: a Basic `Authorization` value is `user:password` in
/// base64, which a server may echo back as it is.
fn secrets_in_use(server: &Server, secrets: &dyn SecretSource) -> Vec<String> {
    let refs = match &server.auth {
        Auth::Token { token, .. } => vec![(token, "token")],
        Auth::Basic { password, .. } | Auth::TppPassword { password, .. } => {
            vec![(password, "password")]
        }
    };
    let mut out: Vec<String> = refs
        .into_iter()
        .filter_map(|(r, field)| secrets.secret(r, field).ok())
        .map(|s| s.expose().to_string())
        .collect();
    if let Auth::Basic { username, password } = &server.auth
        && let (Ok(user), Ok(password)) = (
            secrets.credential(username, "username"),
            secrets.secret(password, "password"),
        )
    {
        use base64::Engine as _;
        let pair = format!("{user}:{}", password.expose());
        for engine in [
            &base64::engine::general_purpose::STANDARD,
            &base64::engine::general_purpose::STANDARD_NO_PAD,
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ] {
            out.push(engine.encode(pair.as_bytes()));
        }
    }
    out
}

impl Client {
    pub async fn connect(
        server: &Server,
        instance: &Instance,
        secrets: &dyn SecretSource,
        opts: ConnectOptions,
    ) -> Result<Client, Error> {
        let in_use = secrets_in_use(server, secrets);
        match Self::connect_backend(server, instance, secrets, opts).await {
            Ok(backend) => Ok(Client { backend, in_use }),
            Err(e) => Err(sanitized(e, &in_use)),
        }
    }

    /// `e` with the server's text made safe to show.
    fn clean(&self, e: Error) -> Error {
        let mut in_use = self.in_use.clone();
        in_use.extend(self.backend.obtained_credentials());
        sanitized(e, &in_use)
    }

    async fn connect_backend(
        server: &Server,
        instance: &Instance,
        secrets: &dyn SecretSource,
        opts: ConnectOptions,
    ) -> Result<Box<dyn Provider>, Error> {
        let auth = auth_header(server, secrets)?;
        let http =
            Http::new(&instance.url, &server.options, auth, opts.max_retries).map_err(|e| {
                Error::new(FailureKind::Tls, format!("server `{}`: {e}", instance.name))
            })?;
        // The one choice by kind: which client to build.
        match server.kind {
            Kind::Awx => Ok(Box::new(awx::Awx::new(
                http,
                server.options.max_in_flight,
                &awx::AWX,
            ))),
            Kind::Gateway => Ok(Box::new(awx::Awx::new(
                http,
                server.options.max_in_flight,
                &awx::GATEWAY,
            ))),
            Kind::Tpp => Ok(Box::new(
                tpp::Tpp::connect_for(http, server, instance, secrets).await?,
            )),
            Kind::Whm => Ok(Box::new(whm::Whm::new(http))),
        }
    }

    /// Every application (export).
    pub async fn fetch(&self) -> Result<LiveState, Error> {
        self.backend.fetch().await.map_err(|e| self.clean(e))
    }

    /// What a plan of `server` reads: every application, or with `listing:
    /// managed` only those its config names (and of those, with `--app`
    /// globs, only the selected ones: a restricted plan drops the rest).
    pub async fn fetch_for(
        &self,
        server: &Server,
        apps: &[glob::Pattern],
    ) -> Result<LiveState, Error> {
        if server.options.listing == crate::model::Listing::Managed {
            let names = server.managed_names_selected(apps);
            if let Some(fetch) = self.backend.fetch_named(&names) {
                return fetch.await.map_err(|e| self.clean(e));
            }
        }
        self.fetch().await
    }

    /// The application's tokens that have not expired; `None` for kinds
    /// without tokens of their own.
    pub async fn live_tokens(&self, app_id: &str) -> Option<Result<TokenUse, Error>> {
        let read = self.backend.live_tokens(app_id)?;
        Some(read.await.map_err(|e| self.clean(e)))
    }

    /// Ends the session: revokes a token appform obtained.
    /// `Err`: a token appform obtained could not be revoked.
    pub async fn close(&self) -> Result<(), NotRevoked> {
        // Captured before the revocation forgets them.
        let mut in_use = self.in_use.clone();
        in_use.extend(self.backend.obtained_credentials());
        self.backend.close().await.map_err(|e| NotRevoked {
            reason: crate::redact::sanitize_server_text(&e.reason, &in_use),
        })
    }

    /// Carries out one planned change; a leftover's text is sanitised too.
    pub async fn execute(&self, change: &Change) -> Result<Applied, Error> {
        match self.execute_raw(change).await {
            Ok(mut applied) => {
                applied.leftover = applied.leftover.map(|e| self.clean(e));
                Ok(applied)
            }
            Err(e) => Err(self.clean(e)),
        }
    }

    async fn execute_raw(&self, change: &Change) -> Result<Applied, Error> {
        self.backend
            .execute(&change.operation, change.before_fingerprint.as_deref())
            .await
    }
}
