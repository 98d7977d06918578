//! `appform sandbox`: the built-in AWX simulator in the foreground, with its
//! URL and credentials printed, optional latency and faults, and its state
//! loaded from and saved to `--state FILE`.

use std::net::{Ipv4Addr, SocketAddr};

use super::{EXIT_OK, Output, runtime};
use crate::cli::SandboxArgs;
use crate::sandbox::Faults;
use crate::sandbox::awx::{AwxOptions, AwxSim};
use crate::sandbox::tpp::{TppOptions, TppSim};
use crate::sandbox::whm::{WhmOptions, WhmSim};

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
        ("--lost-answer-rate", args.lost_answer_rate),
    ] {
        if !(0.0..=1.0).contains(&p) {
            return out.fail(&format!("{name} must be between 0 and 1, not {p}"));
        }
    }
    let faults = Faults {
        latency,
        error_rate: args.error_rate,
        reset_rate: args.reset_rate,
        lost_answer_rate: args.lost_answer_rate,
    };
    let awx_options = AwxOptions::default();
    let tpp_options = TppOptions::default();
    let awx_login = format!(
        "{} / {}",
        awx_options.admin_username, awx_options.admin_password
    );
    let awx_token = awx_options
        .admin_tokens
        .first()
        .cloned()
        .unwrap_or_default();
    let tpp_login = tpp_options
        .users
        .iter()
        .next()
        .map(|(u, p)| format!("{u} / {p}"))
        .unwrap_or_default();
    let tpp_token = tpp_options
        .static_tokens
        .first()
        .cloned()
        .unwrap_or_default();
    let saved = args
        .state
        .as_ref()
        .and_then(|p| std::fs::read_to_string(p).ok());
    let whm_count = args.whm_hosts as usize;
    let whm_options = |i: usize| WhmOptions {
        seed: i as u64 + 1,
        ..WhmOptions::default()
    };
    let (awx, tpp, whm) = match saved {
        Some(text) => {
            let state: serde_json::Value = match serde_json::from_str(&text) {
                Ok(v) => v,
                Err(e) => return out.fail(&format!("--state: not a sandbox state file: {e}")),
            };
            let part = |k: &str| state.get(k).cloned().unwrap_or(serde_json::Value::Null);
            let whm_states = part("whm");
            let mut whm = Vec::new();
            for i in 0..whm_count {
                let state = whm_states
                    .get(i)
                    .cloned()
                    .unwrap_or(serde_json::json!({"stores": {}}));
                match WhmSim::from_state(whm_options(i), &state) {
                    Ok(w) => whm.push(w),
                    Err(e) => return out.fail(&format!("--state: {e}")),
                }
            }
            match (
                AwxSim::from_state(awx_options, &part("awx")),
                TppSim::from_state(tpp_options, &part("tpp")),
            ) {
                (Ok(a), Ok(t)) => (a, t, whm),
                (Err(e), _) | (_, Err(e)) => return out.fail(&format!("--state: {e}")),
            }
        }
        None => {
            let awx = AwxSim::new(awx_options);
            let tpp = TppSim::new(tpp_options);
            let whm: Vec<WhmSim> = (0..whm_count)
                .map(|i| WhmSim::new(whm_options(i)))
                .collect();
            if args.demo {
                awx.seed_demo();
                tpp.seed_demo();
                whm.iter().for_each(WhmSim::seed_demo);
            }
            (awx, tpp, whm)
        }
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => return out.fail(&e),
    };
    let result = rt.block_on(async {
        let awx_listener = bind(args.awx_port).await?;
        let tpp_listener = bind(args.tpp_port).await?;
        let mut whm_listeners = Vec::new();
        for i in 0..whm_count {
            let port = if args.whm_port == 0 {
                0
            } else {
                args.whm_port
                    .checked_add(i as u16)
                    .ok_or("--whm-port: the WHM ports run past 65535")?
            };
            whm_listeners.push(bind(port).await?);
        }
        let awx_at = awx_listener.local_addr().map_err(|e| e.to_string())?;
        let tpp_at = tpp_listener.local_addr().map_err(|e| e.to_string())?;
        println!("AWX simulator (AWX 24.6.1) at http://{awx_at}");
        println!("  Basic auth: {awx_login}; Bearer token: {awx_token}; organization 1: Default");
        println!("Venafi TPP simulator at http://{tpp_at}");
        println!("  VEDAuth user: {tpp_login} (any client_id); static Bearer token: {tpp_token}");
        for l in &whm_listeners {
            let at = l.local_addr().map_err(|e| e.to_string())?;
            println!("cPanel WHM simulator at http://{at}");
        }
        if whm_count > 0 {
            println!("  user root: API token sandbox-whm-token (Authorization: whm root:TOKEN), or Basic root / password");
        }
        let save_note = if args.state.is_some() {
            " and save the state"
        } else {
            ""
        };
        println!("Press Ctrl-C to stop{save_note}.");
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
            let _ = rx.changed().await;
        };
        let awx_server =
            crate::sandbox::serve(awx_listener, awx.router(), faults, stopped(stop_rx.clone()));
        let tpp_server =
            crate::sandbox::serve(tpp_listener, tpp.router(), faults, stopped(stop_rx.clone()));
        let whm_servers = futures_util::future::join_all(
            whm_listeners
                .into_iter()
                .zip(&whm)
                .map(|(l, sim)| crate::sandbox::serve(l, sim.router(), faults, stopped(stop_rx.clone()))),
        );
        let ctrl_c = async move {
            stop_signal().await;
            let _ = stop_tx.send(true);
        };
        let (a, t, w, ()) = tokio::join!(awx_server, tpp_server, whm_servers, ctrl_c);
        w.into_iter()
            .fold(a.and(t), |acc, r| acc.and(r))
            .map_err(|e| e.to_string())
    });
    if let Err(e) = result {
        return out.fail(&e);
    }
    if let Some(path) = &args.state {
        let whm_states: Vec<serde_json::Value> = whm.iter().map(WhmSim::state_json).collect();
        let doc = serde_json::json!({ "awx": awx.state_json(), "tpp": tpp.state_json(), "whm": whm_states });
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

async fn bind(port: u16) -> Result<tokio::net::TcpListener, String> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))
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
