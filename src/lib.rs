//! appform: OAuth client / connected-application registrations as code.
//!
//! Crate map (data flows top to bottom; a module imports only from those above it):
//!
//! - [`model`]      the validated configuration and the live state, as plain data.
//! - [`secret`]     `env:`/`file:` references and the `Secret` newtype that never prints.
//! - [`outcome`]    what an exchange with a server produced: a `Failure` and its
//!   kind, a created app and its one-time secret (made by `provider`, held by all).
//! - [`redact`]     what must never be shown: secret-looking keys and values,
//!   masks, credentials in server text, invisible characters made visible.
//! - [`files`]      bounded reads, paths confined to their roots, atomic private writes.
//! - [`aside`]      the reserved name of an AWX app being replaced (create-before-destroy);
//!   [`retiring`] the one it keeps after a rotation, for `rotation_overlap`.
//! - [`duration`], [`scope`], [`timestamp`]  `90d` durations; TPP scope strings as
//!   canonical sets; server timestamps with any UTC offset.
//! - [`exit_code`]  the exit codes of every command (docs/reference.md §4.2).
//! - [`fanout`]     one future per instance, at most `--parallelism` at once,
//!   results in input order (no head-of-line blocking).
//! - [`semantics`]  per-kind rules as data: update style, field comparison,
//!   replacement, required-to-create, server defaults.
//! - [`config`]     YAML files → [`model::Config`]: discovery, parsing with spans
//!   (`config::source`, the only user of the YAML crate, one path through
//!   serde-saphyr; files checked on every core by `config::parallel`), raw serde types
//!   (`config::raw`, also the source of `schema.json`), validation with every
//!   problem reported at once (`config::validate`: structure, then semantics),
//!   and the same files at a git revision (`config::git`, `--baseline`).
//! - [`plan`]       pure: normalization, diff → changes with reasons, fingerprints,
//!   summary and safety policy; `plan::baseline`: drift or pending against
//!   the config at a revision, and connection pinning.
//! - [`logging`]    `-v` output with secrets redacted.
//! - [`provider`]   the only HTTP client code: retries, limits, AWX and the AAP gateway (one flow, a dialect each), TPP and WHM,
//!   and their response parsers (strict JSON; server text sanitised).
//! - [`targets`]    `--server` selection and the parallel fetch of live state.
//! - [`secrets_file`] the `--secrets-out` file: merged, 0600, replaced atomically;
//!   [`seal`] encrypts it with age (default-on cargo feature `age`).
//! - [`apply`]      gates, saved-plan check, phases per server, secrets around
//!   creates, read-back verification, the report (no printing).
//! - [`export`]     live state → a config document (`appform export`).
//! - [`render`]     terminal output: text, JSON and markdown plans (every name
//!   and value of the markdown through one escaper, `render::markdown_safe`),
//!   the apply report, miette diagnostics.
//! - [`sandbox`]    the API simulators (axum on loopback), one start-up path (`fleet`) and one state-file format for `appform sandbox` and `--sandbox`; shares no code with `provider`.
//! - [`metrics`]    `--metrics-out`: Prometheus text of a run, written atomically.
//! - [`progress`]   progress on stderr, on a terminal only.
//! - [`ops`]        the operations layer: sessions with the servers, as
//!   functions over plain option structs returning values (no clap, no printing).
//! - [`commands`]   one module per CLI verb; thin, they call the modules above.
//! - [`cli`]        clap types only.
//!
//! ```text
//! YAML files ──config::load──▶ Config ─────────────────────────┐
//! servers ──targets::fetch_all (provider, parallel)──▶ live ───┤
//!                                   plan::build (pure) ◀───────┘
//!                                        │ policy ──▶ render (text | json | markdown)
//!          apply: gates ─▶ phases (provider writes) ─▶ read_back ─▶ verify ─▶ Report
//! ```

pub mod apply;
pub mod aside;
pub mod cli;
pub mod commands;
pub mod config;
pub mod duration;
pub mod exit_code;
pub mod export;
pub mod fanout;
pub mod files;
pub mod logging;
pub mod metrics;
pub mod model;
pub mod ops;
pub mod outcome;
pub mod plan;
pub mod progress;
pub mod provider;
pub mod redact;
pub mod render;
pub mod retiring;
pub mod sandbox;
pub mod scope;
pub mod seal;
pub mod secret;
pub mod secrets_file;
pub mod semantics;
pub mod targets;
pub mod timestamp;
