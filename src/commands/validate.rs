//! `appform validate`: load and check the configuration, no network access.

use super::{EXIT_ERROR, EXIT_OK, Output};
use crate::cli::ValidateArgs;

pub fn run(args: &ValidateArgs, out: Output) -> u8 {
    let Some(cfg) = super::session::load_config(&args.config, out) else {
        return EXIT_ERROR;
    };
    let instances: usize = cfg.servers.iter().map(|s| s.instances.len()).sum();
    let apps: usize = cfg.servers.iter().map(|s| s.apps.len()).sum();
    if cfg.servers.is_empty() {
        out.warn(super::no_servers(&cfg));
    }
    println!(
        "Configuration is valid: {} file{}, {} server{} ({} instance{}), {} application{}.",
        cfg.sources.len(),
        plural(cfg.sources.len()),
        cfg.servers.len(),
        plural(cfg.servers.len()),
        instances,
        plural(instances),
        apps,
        plural(apps)
    );
    EXIT_OK
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
