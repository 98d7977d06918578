//! What an exchange with a server produced, as plain data every layer may
//! hold: a failure with its kind (the plan keeps it for a server it could
//! not read, apply for a change that failed), or a created application with
//! the client secret it showed once. The server clients make these; `plan`,
//! `apply` and `render` read them without importing the clients.

use crate::secret::Secret;

/// The client secret of a new application (AWX confidential apps only).
#[derive(Debug, Clone)]
pub enum NewSecret {
    /// The app has no secret anyone can be shown (public apps, TPP, WHM).
    None,
    /// Shown in the create answer: the only time it can be read.
    Captured(Secret),
    /// The app exists, but the answer that carried its secret was lost; the
    /// text says how (a dropped answer, an earlier interrupted run).
    Lost(String),
}

/// What a create returned that the user must keep.
#[derive(Debug, Clone)]
pub struct Created {
    pub client_id: Option<String>,
    pub secret: NewSecret,
}

impl Created {
    pub fn without_secret(client_id: Option<String>) -> Self {
        Created {
            client_id,
            secret: NewSecret::None,
        }
    }
}

/// What a write failed on; decides whether the server's other changes go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The server answered with this HTTP status.
    Status(u16),
    /// No answer at all (refused, reset, timed out) after every retry.
    Unreachable,
    /// The server answered 200 but refused in its own terms (TPP `Result`,
    /// WHM `metadata.result`), or rejected the values.
    Rejected,
    /// The answer is not what the API documents.
    Malformed,
    /// Skipped: the object changed since the plan was made.
    Stale,
    /// Skipped: the object no longer exists.
    Gone,
    /// A create met an application of that identity that differs from the config.
    Conflict,
    /// Nothing to do with the server: a local step (saving a secret) failed.
    Local,
    /// The application was created, but its one-time client secret was lost.
    SecretLost,
    /// A listing kept changing while it was read.
    InconsistentListing,
    /// A credential could not be resolved (`env:` unset, `file:` unreadable).
    Credentials,
    /// The TLS settings cannot be used (`ca_file` unreadable or not PEM).
    Tls,
    /// Deliberately not contacted: `--baseline` pins connection settings and
    /// these changed, or a reviewed plan did not plan this server.
    NotContacted,
}

impl FailureKind {
    /// The words the apply report and `error.kind` use.
    pub fn name(self) -> &'static str {
        match self {
            FailureKind::Status(401) => "auth",
            FailureKind::Status(_) => "http_status",
            FailureKind::Unreachable => "network",
            FailureKind::Rejected => "rejected",
            FailureKind::Malformed => "malformed_response",
            FailureKind::Stale | FailureKind::Gone => "stale",
            FailureKind::Conflict => "conflict",
            FailureKind::Local => "local",
            FailureKind::SecretLost => "secret_lost",
            FailureKind::InconsistentListing => "inconsistent_listing",
            FailureKind::Credentials => "credentials",
            FailureKind::Tls => "tls",
            FailureKind::NotContacted => "not_contacted",
        }
    }
}

/// What an exchange with a server failed on: the request, the status and
/// the server's message, and a machine-readable kind.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    pub message: String,
    pub kind: FailureKind,
}

impl Failure {
    pub fn new(kind: FailureKind, message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            kind,
        }
    }
    pub fn status(message: impl Into<String>, status: u16) -> Self {
        Failure::new(FailureKind::Status(status), message)
    }
    pub fn stale(message: impl Into<String>) -> Self {
        Failure::new(FailureKind::Stale, message)
    }
    pub fn malformed(message: impl Into<String>) -> Self {
        Failure::new(FailureKind::Malformed, message)
    }
    pub fn is_auth(&self) -> bool {
        self.kind == FailureKind::Status(401)
    }
    /// docs/reference.md §3.3 and §4.5: an authentication failure or a host that does not
    /// answer stops that server; its remaining changes are not attempted.
    pub fn stops_server(&self) -> bool {
        self.is_auth() || self.kind == FailureKind::Unreachable
    }
    /// Whether the server certainly created nothing: it refused (4xx, its own
    /// refusal, a conflict). After no answer or a 5xx it may have.
    pub fn certainly_nothing_created(&self) -> bool {
        match self.kind {
            FailureKind::Status(s) => (400..500).contains(&s) && s != 408 && s != 429,
            FailureKind::Rejected | FailureKind::Conflict | FailureKind::Local => true,
            _ => false,
        }
    }

    /// The error as a plan shows a server that could not be read: a host
    /// that does not answer says so first ("could not be reached"), so no
    /// one mistakes it for a stale plan or a refusal.
    pub fn headline(&self) -> String {
        match self.kind {
            FailureKind::Unreachable => format!("could not be reached: {}", self.message),
            _ => self.message.clone(),
        }
    }

    /// The words the apply report and `error.kind` use.
    pub fn kind_name(&self) -> &'static str {
        self.kind.name()
    }
}
