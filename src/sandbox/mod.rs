//! Faithful simulators of the managed APIs, served on loopback by axum. Used by
//! `appform sandbox`, by `plan/apply --sandbox`, by the integration tests and the
//! benchmarks. They follow `../shared/contracts/`, quirks included, and share no
//! code with the providers (so they cannot share a bug with them).

pub mod awx;
mod faults;
mod http;
pub mod tpp;
pub mod whm;

pub use faults::Faults;
pub use http::{BackgroundServer, LoggedRequest, serve, serve_in_background};
