//! The servers: resolving credentials, connecting, reading live state and
//! carrying out one change. Only this module talks HTTP; it never formats for
//! the terminal.

pub mod awx;
pub mod http;

use crate::model::{Auth, Instance, Kind, LiveState, Server};
use crate::plan::Operation;
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
}

impl WriteError {
    pub fn new(message: impl Into<String>) -> Self {
        WriteError {
            message: message.into(),
            status: None,
        }
    }
    pub fn status(message: impl Into<String>, status: u16) -> Self {
        WriteError {
            message: message.into(),
            status: Some(status),
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
        Auth::TppPassword { .. } => {
            return Err(format!(
                "server `{}`: TPP is not supported by this build yet",
                server.name
            ));
        }
    })
}

/// A connected server instance.
pub enum Client {
    Awx(awx::Awx),
}

impl Client {
    pub fn connect(
        server: &Server,
        instance: &Instance,
        secrets: &dyn SecretSource,
        opts: ConnectOptions,
    ) -> Result<Client, String> {
        match server.kind {
            Kind::Awx => {
                let auth = auth_header(server, secrets)?;
                let http = Http::new(&instance.url, &server.options, auth, opts.max_retries)
                    .map_err(|e| format!("server `{}`: {e}", instance.name))?;
                Ok(Client::Awx(awx::Awx::new(
                    http,
                    server.options.max_in_flight,
                )))
            }
            Kind::Tpp | Kind::Whm => Err(format!(
                "server `{}`: {} servers are not supported by this build yet",
                instance.name, server.kind
            )),
        }
    }

    pub async fn fetch(&self, server: &Server) -> Result<LiveState, String> {
        match self {
            Client::Awx(a) => a.fetch(server).await,
        }
    }

    /// Carries out one operation. A replace deletes, then creates.
    pub async fn execute(&self, operation: &Operation) -> Result<Option<Created>, WriteError> {
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
        }
    }
}
