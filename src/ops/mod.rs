//! The operations layer: what the commands do, as functions over plain
//! option structs that return values (cargo's thin commands over an ops
//! layer). No clap type and no printing here: `commands/` maps its
//! arguments to these structs and prints what comes back.

mod error;
pub mod export;
pub mod plan;
pub mod sandbox;
pub mod session;

pub use error::Error;

/// How to reach the servers (`--sandbox`, `--max-retries`, `--parallelism`).
#[derive(Debug, Clone)]
pub struct Reach {
    pub sandbox: bool,
    pub max_retries: u32,
    pub parallelism: usize,
}

/// Which instances and applications (`--server`, `--shard I/N`, `--app`).
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub servers: Vec<String>,
    /// `(I, N)`.
    pub shard: Option<(u32, u32)>,
    pub apps: Vec<String>,
}
