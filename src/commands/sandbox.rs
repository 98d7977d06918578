//! `appform sandbox`: the built-in AWX simulator in the foreground, with its
//! URL and credentials printed, optional latency and faults, and its state
//! loaded from and saved to `--state FILE`.

use std::net::{Ipv4Addr, SocketAddr};

use super::{EXIT_OK, Output, runtime};
use crate::cli::SandboxArgs;
use crate::sandbox::Faults;
use crate::sandbox::awx::{AwxOptions, AwxSim};

pub fn run(args: &SandboxArgs, out: Output) -> u8 {
    let latency = match &args.latency {
        None => std::time::Duration::ZERO,
        Some(text) => match parse_latency(text) {
            Ok(d) => d,
            Err(e) => return out.fail(&format!("--latency: {e}")),
        },
    };
    for (name, p) in [
        ("--error-rate", args.error_rate),
        ("--reset-rate", args.reset_rate),
    ] {
        if !(0.0..=1.0).contains(&p) {
            return out.fail(&format!("{name} must be between 0 and 1, not {p}"));
        }
    }
    let faults = Faults {
        latency,
        error_rate: args.error_rate,
        reset_rate: args.reset_rate,
    };
    let options = AwxOptions::default();
    let (admin, password, token) = (
        options.admin_username.clone(),
        options.admin_password.clone(),
        options.admin_tokens.first().cloned().unwrap_or_default(),
    );
    let sim = match args
        .state
        .as_ref()
        .and_then(|p| std::fs::read_to_string(p).ok())
    {
        Some(text) => {
            let state: serde_json::Value = match serde_json::from_str(&text) {
                Ok(v) => v,
                Err(e) => return out.fail(&format!("--state: not a sandbox state file: {e}")),
            };
            let awx = state.get("awx").cloned().unwrap_or(serde_json::Value::Null);
            match AwxSim::from_state(options, &awx) {
                Ok(s) => s,
                Err(e) => return out.fail(&format!("--state: {e}")),
            }
        }
        None => {
            let sim = AwxSim::new(options);
            if args.demo {
                sim.seed_demo();
            }
            sim
        }
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => return out.fail(&e),
    };
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, args.awx_port));
    let result = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        let bound = listener.local_addr().map_err(|e| e.to_string())?;
        println!("AWX simulator (AWX 24.6.1) at http://{bound}");
        println!("  Basic auth: {admin} / {password}");
        println!("  Bearer token: {token}");
        println!("  organization 1: Default");
        println!(
            "Press Ctrl-C to stop{}.",
            if args.state.is_some() {
                " and save the state"
            } else {
                ""
            }
        );
        crate::sandbox::serve(listener, sim.router(), faults, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| e.to_string())
    });
    if let Err(e) = result {
        return out.fail(&e);
    }
    if let Some(path) = &args.state {
        let doc = serde_json::json!({ "awx": sim.state_json() });
        if let Err(e) = std::fs::write(path, serde_json::to_string_pretty(&doc).unwrap_or_default())
        {
            return out.fail(&format!(
                "cannot save the state to `{}`: {e}",
                path.display()
            ));
        }
        out.info(&format!("State saved to {}.", path.display()));
    }
    EXIT_OK
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
