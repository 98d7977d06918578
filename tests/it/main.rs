//! The integration-test binary: the real CLI and the library's public entry
//! points, against files on disk (and, later, the sandbox servers on 127.0.0.1).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod awx_apply;
mod awx_oracle;
mod baseline;
mod ci_output;
mod cli_help;
mod corpus;
mod credential_lifecycle;
mod day2;
mod discovery;
mod docs;
mod examples;
mod export_report;
mod fault_convergence;
mod fuzz_loader;
mod gateway_contract;
mod hostile;
mod never_lose;
mod odd_data;
mod packaging;
mod permissions;
mod plan_snapshots;
mod recipe_runs;
mod recipes;
mod request_counts;
mod response_parsers;
mod review;
mod rotation;
mod sandbox_cmd;
mod saved_plans;
mod schema;
mod security;
mod support;
mod tls;
mod tpp_apply;
mod tpp_fidelity;
mod tpp_simulator;
mod whm_fleet;
mod world;
