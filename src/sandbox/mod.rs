//! Faithful simulators of the managed APIs, served on loopback by axum. Used by
//! `appform sandbox`, by `plan/apply --sandbox`, by the integration tests and the
//! benchmarks. They follow `docs/contracts/`, quirks included, and share no
//! code with the providers (so they cannot share a bug with them).

pub mod awx;
mod faults;
pub mod fleet;
pub mod from_config;
pub mod gateway;
mod http;
mod simulator;
mod state_file;
pub mod tpp;
pub mod whm;

pub use faults::Faults;
pub use http::{BackgroundServer, LoggedRequest, serve, serve_in_background};
pub use simulator::Simulator;
pub use state_file::StateFile;

use std::path::PathBuf;

/// Why a sandbox could not start, restore or save its state.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("cannot {action} `{}`: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("`{}` is not a sandbox state file ({why}); move it away to start afresh", path.display())]
    NotStateFile { path: PathBuf, why: String },
    #[error("cannot encode the sandbox state: {0}")]
    Encode(serde_json::Error),
    #[error("invalid {kind} sandbox state: {source}")]
    InvalidState {
        kind: &'static str,
        source: serde_json::Error,
    },
    #[error("{}: {source}", path.display())]
    InStateFile {
        path: PathBuf,
        source: Box<SandboxError>,
    },
    #[error(
        "cannot start the {kind} simulator on {addr}: {source} (is a sandbox already running there?)"
    )]
    Bind {
        kind: String,
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("server `{server}`: {reason}")]
    Server { server: String, reason: String },
}

/// A random token of `len` letters and digits (client ids, secrets, access
/// tokens of the simulators; not for real secrets).
fn random_token(len: usize) -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    (0..len)
        .map(|_| {
            CHARS
                .get(fastrand::usize(..CHARS.len()))
                .copied()
                .map(char::from)
                .unwrap_or('x')
        })
        .collect()
}
