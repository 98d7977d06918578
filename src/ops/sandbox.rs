//! `sandbox`: which simulators to start (the defaults on the ports given,
//! or one per server URL a config names) and with which faults. Plain
//! options in, start-up specs out.

use std::net::{Ipv4Addr, SocketAddr};

use crate::model::Config;
use crate::sandbox::Faults;
use crate::sandbox::awx::AwxOptions;
use crate::sandbox::fleet::{SimOptions, SimSpec};
use crate::sandbox::from_config::{SandboxSecrets, specs_for};
use crate::sandbox::gateway::GatewayOptions;
use crate::sandbox::tpp::TppOptions;
use crate::sandbox::whm::WhmOptions;

/// The ports of the default simulators (0: any free port).
pub struct Ports {
    pub awx: u16,
    pub gateway: u16,
    pub tpp: u16,
    /// The first WHM host's; the others follow it.
    pub whm: u16,
    pub whm_hosts: u16,
}

/// The faults asked for (`--latency`, and the rates between 0 and 1).
pub struct FaultOptions<'a> {
    pub latency: Option<&'a str>,
    pub error_rate: f64,
    pub reset_rate: f64,
    pub lost_answer_rate: f64,
}

/// One simulator per server URL `config` names, with its credentials.
pub fn specs_of_config(config: &Config) -> Result<Vec<SimSpec>, super::Error> {
    let targets = crate::targets::select(config, &[])?;
    Ok(specs_for(
        targets.iter().map(|t| (t.server, t.instance)),
        &SandboxSecrets,
    )?)
}

/// AWX, the gateway, TPP and the WHM hosts on the ports the flags give.
pub fn default_specs(ports: &Ports) -> Result<Vec<SimSpec>, super::Error> {
    let at = |port: u16| SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut specs = vec![
        SimSpec {
            addr: at(ports.awx),
            options: SimOptions::Awx(AwxOptions::default()),
        },
        SimSpec {
            addr: at(ports.gateway),
            options: SimOptions::Gateway(GatewayOptions::default()),
        },
        SimSpec {
            addr: at(ports.tpp),
            options: SimOptions::Tpp(TppOptions::default()),
        },
    ];
    for i in 0..ports.whm_hosts {
        let port = if ports.whm == 0 {
            0
        } else {
            ports.whm.checked_add(i).ok_or_else(|| {
                super::Error::Selection("--whm-port: the WHM ports run past 65535".into())
            })?
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

/// The faults, checked.
pub fn faults(asked: &FaultOptions<'_>) -> Result<Faults, super::Error> {
    let latency = match asked.latency {
        None => std::time::Duration::ZERO,
        Some(text) => parse_latency(text).map_err(|e| format!("--latency: {e}"))?,
    };
    for (name, p) in [
        ("--error-rate", asked.error_rate),
        ("--reset-rate", asked.reset_rate),
        ("--lost-answer-rate", asked.lost_answer_rate),
    ] {
        if !(0.0..=1.0).contains(&p) {
            return Err(super::Error::Selection(format!(
                "{name} must be between 0 and 1, not {p}"
            )));
        }
    }
    Ok(Faults {
        latency,
        error_rate: asked.error_rate,
        reset_rate: asked.reset_rate,
        lost_answer_rate: asked.lost_answer_rate,
    })
}

/// `20ms`, `1s`, or a number of milliseconds. `Err`: why not, put after
/// the flag's name.
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
pub struct StopSignal {
    #[cfg(unix)]
    signals: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl StopSignal {
    /// Registers the handlers now (inside the runtime).
    pub fn install() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let signals = signal(SignalKind::interrupt())
                .and_then(|int| Ok((int, signal(SignalKind::terminate())?)))
                .ok();
            StopSignal { signals }
        }
        #[cfg(not(unix))]
        StopSignal {}
    }

    pub async fn wait(self) {
        #[cfg(unix)]
        if let Some((mut int, mut term)) = self.signals {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
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
