//! The printing side of a session with the servers (the work is
//! `ops::session`): the config loaded with its diagnostics shown, the
//! flags mapped to `ops` options, problems and warnings printed.

use super::Output;
use crate::cli::ServerArgs;
use crate::config;
use crate::model::Config;
use crate::ops::{Reach, Selection};
use crate::plan::{InstanceProblem, Plan};
use crate::sandbox::fleet::Sandbox;
use crate::targets::{Fetched, Target};

pub use crate::ops::session::{fetch_and_plan, problem_diagnostic, read_plan};

/// Where `-c` (or the default location) says the configuration is.
pub fn config_location(arg: &crate::cli::ConfigArg) -> (std::path::PathBuf, config::Discovery) {
    crate::ops::session::config_location(arg.config.as_deref())
}

/// Loads the config (`-c`, else the default location) and prints its
/// diagnostics and warnings. `None`: invalid.
pub fn load_config(arg: &crate::cli::ConfigArg, out: Output) -> Option<Config> {
    let (path, discovery) = config_location(arg);
    reported(config::load_with(&path, discovery), out)
}

/// A loaded configuration with its warnings printed, or its diagnostics
/// printed and `None`.
pub fn reported(loaded: Result<Config, config::ConfigErrors>, out: Output) -> Option<Config> {
    match loaded {
        Ok(cfg) => {
            cfg.warnings.iter().for_each(|w| out.warn_always(w));
            Some(cfg)
        }
        Err(errors) => {
            out.config_errors(&errors);
            None
        }
    }
}

/// The configuration a plan file carries, with relative references resolved
/// from [`crate::plan::SavedConfig::base`].
pub fn load_saved_config(
    saved: &crate::plan::SavedConfig,
    out: Output,
) -> Option<crate::model::Config> {
    let base = match saved.base() {
        Ok(b) => b,
        Err(e) => {
            out.error_text(&e);
            return None;
        }
    };
    let files = saved
        .files
        .iter()
        .map(|f| (base.join(&f.path), f.text.clone().into_bytes()))
        .collect();
    reported(crate::config::load_files(&base, files), out)
}

/// The plain options of `--server`, `--shard`, `--app` and the connection flags.
pub fn reach(args: &ServerArgs) -> Reach {
    Reach {
        sandbox: args.sandbox,
        max_retries: args.max_retries,
        parallelism: args.parallelism as usize,
    }
}

pub fn selection(args: &ServerArgs) -> Selection {
    Selection {
        servers: args.servers.clone(),
        shard: args.shard.map(|s| (s.index, s.count)),
        apps: args.apps.clone(),
    }
}

/// [`crate::ops::session::prepare`], with the credential problems and what
/// was started printed.
pub fn prepare(
    config: &Config,
    targets: &[Target<'_>],
    args: &ServerArgs,
    out: Output,
) -> Result<(tokio::runtime::Runtime, Option<Sandbox>), crate::ops::Error> {
    let prepared = crate::ops::session::prepare(config, targets, &reach(args))?;
    prepared
        .credential_problems
        .iter()
        .for_each(|p| out.error(p));
    prepared.started.iter().for_each(|s| out.info(s));
    Ok((prepared.runtime, prepared.sandbox))
}

/// Ends every session, printing each token that could not be revoked.
pub async fn close_all(fetched: &[Fetched<'_>], out: Output) {
    let warnings = crate::ops::session::close_all(fetched).await;
    warnings.iter().for_each(|w| out.warn(w));
}

/// Servers that could not be read or planned, on stderr too (Terraform's
/// convention: `appform plan > plan.txt` in a CI log still shows why), except
/// those whose problems were already shown as diagnostics.
pub fn server_errors_to_stderr(plan: &Plan, problems: &[InstanceProblem], out: Output) {
    for sp in &plan.servers {
        if let Some(e) = &sp.error
            && !problems.iter().any(|p| p.instance == sp.server)
        {
            out.error_text(&format!("{}: {e}", sp.server));
        }
    }
}
