//! appform: OAuth client / connected-application registrations as code.
//!
//! Crate map (data flows top to bottom; a module imports only from those above it):
//!
//! - [`model`]      the validated configuration as plain data (servers, apps, auth).
//! - [`secret`]     `env:`/`file:` references and the `Secret` newtype that never prints.
//! - [`duration`]   `90d` / `1y` / seconds.
//! - [`scope`]      TPP scope strings, parsed into a canonical set.
//! - [`config`]     YAML files → [`model::Config`]: discovery, parsing with spans
//!   (`config::source`, the only user of the YAML crate), raw serde types
//!   (`config::raw`, also the source of `schema.json`), validation with every
//!   problem reported at once (`config::validate`).
//! - [`render`]     terminal output: miette diagnostics, colour decisions.
//! - [`commands`]   one module per CLI verb; thin, they call the modules above.
//! - [`cli`]        clap types only.
//!
//! ```text
//! YAML files ──config::load──▶ Config ──▶ (plan, apply: later stages)
//! ```

pub mod cli;
pub mod commands;
pub mod config;
pub mod duration;
pub mod execute;
pub mod logging;
pub mod model;
pub mod plan;
pub mod provider;
pub mod render;
pub mod sandbox;
pub mod scope;
pub mod secret;
pub mod secrets_file;
pub mod semantics;
pub mod targets;
