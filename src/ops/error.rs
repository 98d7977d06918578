//! Why an operation stopped before it had anything to show.

use std::path::PathBuf;

use crate::sandbox::SandboxError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A flag or selection the configuration cannot satisfy (`--server`,
    /// `--app`, `--shard`, `--latency`, an export target): the text says
    /// which and why, for the user as is.
    #[error("{0}")]
    Selection(String),
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    /// The simulators `--sandbox` would start do not fit the config.
    #[error("--sandbox: {0}")]
    SandboxConfig(SandboxError),
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
    #[error("cannot read the plan `{}`: {source}", path.display())]
    PlanUnreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("`{}` is not an appform JSON plan: {why}", path.display())]
    NotAPlan { path: PathBuf, why: String },
    #[error("`{}` has plan format {found}, this appform reads format {expected}", path.display())]
    PlanFormat {
        path: PathBuf,
        found: u32,
        expected: u32,
    },
    /// The server could not be read (export).
    #[error("{0}")]
    Server(String),
}

impl From<String> for Error {
    /// Selection checks below `ops` (target selection, `--app` globs) speak
    /// in messages for the user.
    fn from(message: String) -> Self {
        Error::Selection(message)
    }
}
