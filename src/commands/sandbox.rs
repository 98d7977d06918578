//! `appform sandbox`: the built-in simulators in the foreground (AWX, TPP and
//! `--whm-hosts` WHM hosts, or with `-c` one per server URL a config names),
//! with their URLs and credentials printed, optional latency and faults, and
//! their state loaded from and saved to `--state FILE`.

use std::net::{Ipv4Addr, SocketAddr};

use super::session::load_config;
use super::{EXIT_OK, Output, runtime};
use crate::cli::SandboxArgs;
use crate::sandbox::awx::AwxOptions;
use crate::sandbox::fleet::{Sandbox, SimOptions, SimSpec};
use crate::sandbox::from_config::{SandboxSecrets, specs_for};
use crate::sandbox::tpp::TppOptions;
use crate::sandbox::whm::WhmOptions;
use crate::sandbox::{Faults, StateFile};

pub fn run(args: &SandboxArgs, out: Output) -> u8 {
    let faults = match faults(args) {
        Ok(f) => f,
        Err(e) => return out.fail(&e),
    };
    let from_config = args.config.is_some();
    let specs = match &args.config {
        Some(path) => {
            let arg = crate::cli::ConfigArg {
                config: Some(path.clone()),
            };
            let Some(config) = load_config(&arg, out) else {
                return crate::exit_code::EXIT_ERROR;
            };
            let specs = crate::targets::select(&config, &[]).and_then(|targets| {
                specs_for(
                    targets.iter().map(|t| (t.server, t.instance)),
                    &SandboxSecrets,
                )
            });
            match specs {
                Ok(specs) => specs,
                Err(e) => return out.fail(&e),
            }
        }
        None => match default_specs(args) {
            Ok(specs) => specs,
            Err(e) => return out.fail(&e),
        },
    };
    let state = match args.state.as_deref().map(StateFile::load).transpose() {
        Ok(state) => state,
        Err(e) => return out.fail(&format!("--state: {e}")),
    };
    let sandbox = match Sandbox::start(specs, state, args.demo, faults) {
        Ok(sandbox) => sandbox,
        Err(e) => return out.fail(&e),
    };
    print_servers(&sandbox, from_config);
    let save_note = if args.state.is_some() {
        " and save the state"
    } else {
        ""
    };
    println!("Press Ctrl-C to stop{save_note}.");
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => return out.fail(&e),
    };
    rt.block_on(stop_signal());
    if let Some(path) = sandbox.state_path().map(|p| p.display().to_string()) {
        if let Err(e) = sandbox.save() {
            return out.fail(&format!("cannot save the state: {e}"));
        }
        out.info(&format!("State saved to {path}."));
    }
    EXIT_OK
}

/// AWX, TPP and the WHM hosts on the ports the flags give.
fn default_specs(args: &SandboxArgs) -> Result<Vec<SimSpec>, String> {
    let at = |port: u16| SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut specs = vec![
        SimSpec {
            addr: at(args.awx_port),
            options: SimOptions::Awx(AwxOptions::default()),
        },
        SimSpec {
            addr: at(args.tpp_port),
            options: SimOptions::Tpp(TppOptions::default()),
        },
    ];
    for i in 0..args.whm_hosts {
        let port = if args.whm_port == 0 {
            0
        } else {
            args.whm_port
                .checked_add(i)
                .ok_or("--whm-port: the WHM ports run past 65535")?
        };
        specs.push(SimSpec {
            addr: at(port),
            options: SimOptions::Whm(WhmOptions {
                seed: u64::from(i) + 1,
                ..WhmOptions::default()
            }),
        });
    }
    Ok(specs)
}

fn faults(args: &SandboxArgs) -> Result<Faults, String> {
    let latency = match &args.latency {
        None => std::time::Duration::ZERO,
        Some(text) => parse_latency(text).map_err(|e| format!("--latency: {e}"))?,
    };
    for (name, p) in [
        ("--error-rate", args.error_rate),
        ("--reset-rate", args.reset_rate),
        ("--lost-answer-rate", args.lost_answer_rate),
    ] {
        if !(0.0..=1.0).contains(&p) {
            return Err(format!("{name} must be between 0 and 1, not {p}"));
        }
    }
    Ok(Faults {
        latency,
        error_rate: args.error_rate,
        reset_rate: args.reset_rate,
        lost_answer_rate: args.lost_answer_rate,
    })
}

/// One line per simulator, then how to log in. With a config, the
/// credentials are the config's own and are not printed.
fn print_servers(sandbox: &Sandbox, from_config: bool) {
    let mut kinds = Vec::new();
    for running in &sandbox.running {
        println!("{}", running.banner());
        let kind = running.sim.kind();
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    if from_config {
        println!(
            "  Credentials: those of the config (an `env:` reference that is not set gets the sandbox's default)."
        );
        return;
    }
    for kind in kinds {
        println!("  {}", crate::sandbox::fleet::default_login(kind));
    }
}

/// `20ms`, `1s`, or a number of milliseconds.
fn parse_latency(text: &str) -> Result<std::time::Duration, String> {
    let t = text.trim();
    if let Some(ms) = t.strip_suffix("ms") {
        return ms
            .trim()
            .parse::<u64>()
            .map(std::time::Duration::from_millis)
            .map_err(|_| format!("`{text}` is not a duration like `20ms`"));
    }
    if let Some(s) = t.strip_suffix('s') {
        return s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(std::time::Duration::from_secs_f64)
            .ok_or_else(|| format!("`{text}` is not a duration like `1s`"));
    }
    t.parse::<u64>()
        .map(std::time::Duration::from_millis)
        .map_err(|_| format!("`{text}` is not a duration like `20ms`"))
}

/// Ctrl-C, or SIGTERM (what `kill`, systemd and container runtimes send): the
/// sandbox stops and saves `--state` either way.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_forms() {
        assert_eq!(
            parse_latency("20ms"),
            Ok(std::time::Duration::from_millis(20))
        );
        assert_eq!(parse_latency("1s"), Ok(std::time::Duration::from_secs(1)));
        assert_eq!(
            parse_latency("15"),
            Ok(std::time::Duration::from_millis(15))
        );
        assert!(parse_latency("fast").is_err());
        assert!(parse_latency("-1s").is_err());
    }
}
