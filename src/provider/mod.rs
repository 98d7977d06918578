//! The servers: resolving credentials, connecting, reading live state and
//! carrying out one change. Only this module talks HTTP; it never formats for
//! the terminal.

pub mod awx;
pub mod http;
pub mod tpp;
pub mod whm;

use crate::model::{Auth, Instance, Kind, LiveState, Server};
use crate::plan::{Change, Operation};
use crate::secret::{ResolveError, Secret};
use http::{AuthHeader, Http};

/// What a create returned that the user must keep.
#[derive(Debug, Clone)]
pub struct Created {
    pub client_id: Option<String>,
    /// AWX confidential apps only, and only in the create response.
    pub client_secret: Option<Secret>,
    /// Something the user must know (for example a secret lost to a timeout).
    pub warning: Option<String>,
}

/// A write that failed: the request, the status and the server's message.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct WriteError {
    pub message: String,
    pub status: Option<u16>,
    /// Skipped because the object changed since the plan (full replace).
    pub stale: bool,
    /// The object no longer exists.
    pub gone: bool,
}

impl WriteError {
    pub fn new(message: impl Into<String>) -> Self {
        WriteError {
            message: message.into(),
            status: None,
            stale: false,
            gone: false,
        }
    }
    pub fn status(message: impl Into<String>, status: u16) -> Self {
        WriteError {
            status: Some(status),
            ..WriteError::new(message)
        }
    }
    pub fn stale(message: impl Into<String>) -> Self {
        WriteError {
            stale: true,
            ..WriteError::new(message)
        }
    }
    /// Authentication failures stop the server's remaining changes (SPEC §3.3).
    pub fn is_auth(&self) -> bool {
        self.status == Some(401)
    }
}

/// Settings for every connection of a run.
#[derive(Debug, Clone, Copy)]
pub struct ConnectOptions {
    pub max_retries: u32,
}

/// Where secrets come from: the environment and files, or (with `--sandbox`)
/// the sandbox's own credentials for references that are not set.
pub trait SecretSource: Sync {
    fn secret(
        &self,
        reference: &crate::secret::SecretRef,
        field: &str,
    ) -> Result<Secret, ResolveError>;
    fn credential(
        &self,
        credential: &crate::secret::Credential,
        field: &str,
    ) -> Result<String, ResolveError>;
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

fn auth_header(server: &Server, secrets: &dyn SecretSource) -> Result<AuthHeader, String> {
    let ctx = |e: ResolveError| format!("server `{}`: {e}", server.name);
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

/// A connected server instance.
pub enum Client {
    Awx(awx::Awx),
    Tpp(tpp::Tpp),
    Whm(whm::Whm),
}

impl Client {
    pub async fn connect(
        server: &Server,
        instance: &Instance,
        secrets: &dyn SecretSource,
        opts: ConnectOptions,
    ) -> Result<Client, String> {
        let auth = auth_header(server, secrets)?;
        let http = Http::new(&instance.url, &server.options, auth, opts.max_retries)
            .map_err(|e| format!("server `{}`: {e}", instance.name))?;
        match server.kind {
            Kind::Awx => Ok(Client::Awx(awx::Awx::new(
                http,
                server.options.max_in_flight,
            ))),
            Kind::Tpp => {
                let grant = match &server.auth {
                    Auth::TppPassword {
                        client_id,
                        username,
                        password,
                        scope,
                    } => {
                        let ctx = |e: ResolveError| format!("server `{}`: {e}", server.name);
                        Some(tpp::PasswordGrant {
                            client_id: secrets.credential(client_id, "client_id").map_err(ctx)?,
                            username: secrets.credential(username, "username").map_err(ctx)?,
                            password: secrets.secret(password, "password").map_err(ctx)?,
                            scope: scope.clone(),
                        })
                    }
                    _ => None,
                };
                tpp::Tpp::connect(http, grant)
                    .await
                    .map(Client::Tpp)
                    .map_err(|e| format!("server `{}`: {e}", instance.name))
            }
            Kind::Whm => Ok(Client::Whm(whm::Whm::new(http))),
        }
    }

    pub async fn fetch(&self, server: &Server) -> Result<LiveState, String> {
        match self {
            Client::Awx(a) => a.fetch(server).await,
            Client::Tpp(t) => t.fetch().await,
            Client::Whm(w) => w.fetch().await,
        }
    }

    /// Ends the session: revokes a token appform obtained.
    pub async fn close(&self) {
        if let Client::Tpp(t) = self {
            t.close().await;
        }
    }

    /// Carries out one planned change. A replace deletes, then creates.
    pub async fn execute(&self, change: &Change) -> Result<Option<Created>, WriteError> {
        let Some(operation) = &change.operation else {
            return Err(WriteError::new(
                "nothing to do: the change has no operation",
            ));
        };
        let expected = change.before_fingerprint.as_deref();
        match (self, operation) {
            (
                Client::Awx(a),
                Operation::Create {
                    name,
                    organization,
                    fields,
                },
            ) => a
                .create(name, organization.unwrap_or(1), fields)
                .await
                .map(Some),
            (Client::Awx(a), Operation::Update { id, fields }) => {
                a.update(id, fields).await.map(|_| None)
            }
            (
                Client::Awx(a),
                Operation::Replace {
                    id,
                    name,
                    organization,
                    fields,
                },
            ) => {
                a.delete(id).await?;
                a.create(name, organization.unwrap_or(1), fields)
                    .await
                    .map(Some)
            }
            (Client::Awx(a), Operation::Delete { id }) => a.delete(id).await.map(|_| None),
            (Client::Tpp(t), Operation::Create { name, fields, .. }) => {
                t.create(name, fields).await.map(Some)
            }
            (Client::Tpp(t), Operation::Update { id, fields }) => {
                t.update(id, fields, expected).await.map(|_| None)
            }
            (Client::Tpp(t), Operation::Replace { id, fields, .. }) => {
                t.delete(id, expected).await?;
                t.create(id, fields).await.map(Some)
            }
            (Client::Tpp(t), Operation::Delete { id }) => {
                t.delete(id, expected).await.map(|_| None)
            }
            (Client::Whm(w), Operation::Create { name, fields, .. }) => {
                w.save(name, fields, None).await.map(|_| None)
            }
            (Client::Whm(w), Operation::Update { id, fields }) => {
                w.save(id, fields, expected).await.map(|_| None)
            }
            (Client::Whm(w), Operation::Replace { id, fields, .. }) => {
                w.remove(id, expected).await?;
                w.save(id, fields, None).await.map(|_| None)
            }
            (Client::Whm(w), Operation::Delete { id }) => {
                w.remove(id, expected).await.map(|_| None)
            }
        }
    }
}
