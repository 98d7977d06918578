//! `appform validate`: load and check the configuration, no network access.

use super::{EXIT_ERROR, EXIT_OK, Output};
use crate::cli::{ApplyFormat, ValidateArgs};
use crate::config::ConfigErrors;
use crate::model::Config;

pub fn run(args: &ValidateArgs, out: Output) -> u8 {
    if args.format == ApplyFormat::Json {
        let (path, discovery) = super::session::config_location(&args.config);
        let loaded = crate::config::load_with(&path, discovery);
        let valid = loaded.is_ok();
        println!("{}", report_json(&loaded));
        return if valid { EXIT_OK } else { EXIT_ERROR };
    }
    let Some(cfg) = super::session::load_config(&args.config, out) else {
        return EXIT_ERROR;
    };
    if cfg.servers.is_empty() {
        out.warn(super::no_servers(&cfg));
    }
    let c = Counts::of(&cfg);
    println!(
        "Configuration is valid: {} file{}, {} server{} ({} instance{}), {} application{}.",
        c.files,
        plural(c.files),
        c.servers,
        plural(c.servers),
        c.instances,
        plural(c.instances),
        c.applications,
        plural(c.applications)
    );
    EXIT_OK
}

struct Counts {
    files: usize,
    servers: usize,
    instances: usize,
    applications: usize,
}

impl Counts {
    fn of(cfg: &Config) -> Self {
        Counts {
            files: cfg.sources.len(),
            servers: cfg.servers.len(),
            instances: cfg.servers.iter().map(|s| s.instances.len()).sum(),
            applications: cfg.servers.iter().map(|s| s.apps.len()).sum(),
        }
    }
}

/// `validate --format json`: one object, whatever the outcome.
fn report_json(loaded: &Result<Config, ConfigErrors>) -> serde_json::Value {
    use serde_json::json;
    match loaded {
        Ok(cfg) => {
            let c = Counts::of(cfg);
            let mut warnings = cfg.warnings.clone();
            if cfg.servers.is_empty() {
                warnings.push(super::no_servers(cfg));
            }
            json!({
                "valid": true,
                "files": c.files,
                "servers": c.servers,
                "instances": c.instances,
                "applications": c.applications,
                "warnings": warnings,
                "problems": [],
            })
        }
        Err(errors) => {
            let problems: Vec<_> = errors
                .problems
                .iter()
                .map(|p| {
                    let (file, line, column) = match p.location() {
                        Some((f, l, c)) => (Some(f), Some(l), Some(c)),
                        None => (None, None, None),
                    };
                    json!({
                        "code": p.code.as_str(),
                        "file": file,
                        "line": line,
                        "column": column,
                        "message": p.message,
                        "help": p.help,
                    })
                })
                .collect();
            json!({"valid": false, "warnings": [], "problems": problems})
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
