//! `--sandbox` on plan and apply: the built-in simulators started in-process on
//! the loopback URLs the selected servers name, with their state kept in
//! `.appform/sandbox.json` so that successive commands see the same servers.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::model::{Auth, Kind};
use crate::provider::SecretSource;
use crate::sandbox::awx::{AwxOptions, AwxSim};
use crate::sandbox::tpp::{TppOptions, TppSim};
use crate::sandbox::whm::{WhmOptions, WhmSim};
use crate::sandbox::{BackgroundServer, Faults, serve_in_background};
use crate::secret::{Credential, ResolveError, Secret, SecretRef};
use crate::targets::Target;

/// Where `--sandbox` keeps the simulators' state.
pub const STATE_PATH: &str = ".appform/sandbox.json";

/// The sandbox's own credentials, used for `env:` references that are not set.
pub const SANDBOX_TOKEN: &str = "sandbox-awx-token";
pub const SANDBOX_PASSWORD: &str = "password";

/// Secrets from the environment and files, falling back to the sandbox's
/// credentials for environment variables that are not set.
pub struct SandboxSecrets;

impl SecretSource for SandboxSecrets {
    fn secret(&self, reference: &SecretRef, field: &str) -> Result<Secret, ResolveError> {
        match reference.resolve() {
            Err(ResolveError::EnvUnset(_)) => Ok(Secret::new(if field == "password" {
                SANDBOX_PASSWORD
            } else {
                SANDBOX_TOKEN
            })),
            other => other,
        }
    }
    fn credential(&self, credential: &Credential, _field: &str) -> Result<String, ResolveError> {
        match credential.resolve() {
            Err(ResolveError::EnvUnset(_)) => Ok("admin".into()),
            other => other,
        }
    }
}

/// The running simulators; [`Embedded::save`] writes their state back.
pub struct Embedded {
    awx: Vec<(String, AwxSim, BackgroundServer)>,
    tpp: Vec<(String, TppSim, BackgroundServer)>,
    whm: Vec<(String, WhmSim, BackgroundServer)>,
    path: PathBuf,
}

fn loopback_addr(url: &str) -> Result<SocketAddr, String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("{url}: {e}"))?;
    let host = parsed.host_str().unwrap_or("");
    let ip = match host {
        "localhost" => "127.0.0.1".to_string(),
        h => h.trim_start_matches('[').trim_end_matches(']').to_string(),
    };
    let ip: std::net::IpAddr = ip
        .parse()
        .map_err(|_| format!("--sandbox needs loopback URLs; `{url}` is not one"))?;
    if !ip.is_loopback() || parsed.scheme() != "http" {
        return Err(format!(
            "--sandbox needs http:// loopback URLs (like http://127.0.0.1:8043); `{url}` is not one"
        ));
    }
    let port = parsed.port_or_known_default().unwrap_or(80);
    Ok(SocketAddr::new(ip, port))
}

impl Embedded {
    pub fn start(
        targets: &[Target<'_>],
        secrets: &dyn SecretSource,
        path: &Path,
    ) -> Result<Embedded, String> {
        let saved: Map<String, Value> = match std::fs::read_to_string(path) {
            Ok(text) => match serde_json::from_str(&text) {
                Ok(Value::Object(m)) => m,
                _ => {
                    return Err(format!(
                        "`{}` is not a sandbox state file; delete it to start afresh",
                        path.display()
                    ));
                }
            },
            Err(_) => Map::new(),
        };
        let mut awx = Vec::new();
        let mut tpp = Vec::new();
        let mut whm = Vec::new();
        let mut seen = BTreeMap::new();
        for t in targets {
            if seen.insert(t.instance.url.clone(), ()).is_some() {
                continue;
            }
            let addr = loopback_addr(&t.instance.url)?;
            if t.server.kind == Kind::Whm {
                let mut options = WhmOptions::default();
                let (user, token, password) = match &t.server.auth {
                    Auth::Token {
                        username: Some(u),
                        token,
                    } => (
                        secrets
                            .credential(u, "username")
                            .map_err(|e| e.to_string())?,
                        secrets
                            .secret(token, "token")
                            .map_err(|e| e.to_string())?
                            .expose()
                            .to_string(),
                        String::new(),
                    ),
                    Auth::Basic { username, password } => (
                        secrets
                            .credential(username, "username")
                            .map_err(|e| e.to_string())?,
                        String::new(),
                        secrets
                            .secret(password, "password")
                            .map_err(|e| e.to_string())?
                            .expose()
                            .to_string(),
                    ),
                    _ => ("root".into(), String::new(), String::new()),
                };
                options.users.insert(user, (token, password));
                let key = format!("whm {}", t.instance.url);
                let sim = match saved.get(&key) {
                    Some(state) => WhmSim::from_state(options, state)?,
                    None => {
                        let sim = WhmSim::new(options);
                        sim.seed_demo();
                        sim
                    }
                };
                let server = serve_in_background(addr, sim.router(), Faults::default()).map_err(|e| {
                    format!("cannot start the sandbox on {addr}: {e} (is `appform sandbox` already running there? then run without --sandbox)")
                })?;
                whm.push((key, sim, server));
                continue;
            }
            if t.server.kind == Kind::Tpp {
                let mut options = TppOptions::default();
                match &t.server.auth {
                    Auth::Token { token, .. } => {
                        let token = secrets.secret(token, "token").map_err(|e| e.to_string())?;
                        options.static_tokens = vec![token.expose().to_string()];
                    }
                    Auth::TppPassword {
                        username, password, ..
                    } => {
                        let user = secrets
                            .credential(username, "username")
                            .map_err(|e| e.to_string())?;
                        let pass = secrets
                            .secret(password, "password")
                            .map_err(|e| e.to_string())?;
                        options.users.insert(user, pass.expose().to_string());
                    }
                    Auth::Basic { .. } => {}
                }
                let key = format!("tpp {}", t.instance.url);
                let sim = match saved.get(&key) {
                    Some(state) => TppSim::from_state(options, state)?,
                    None => {
                        let sim = TppSim::new(options);
                        sim.seed_demo();
                        sim
                    }
                };
                let server = serve_in_background(addr, sim.router(), Faults::default()).map_err(|e| {
                    format!("cannot start the sandbox on {addr}: {e} (is `appform sandbox` already running there? then run without --sandbox)")
                })?;
                tpp.push((key, sim, server));
                continue;
            }
            let mut options = AwxOptions::default();
            match &t.server.auth {
                Auth::Token { token, .. } => {
                    let token = secrets.secret(token, "token").map_err(|e| e.to_string())?;
                    options.admin_tokens = vec![token.expose().to_string()];
                }
                Auth::Basic { username, password } => {
                    options.admin_username = secrets
                        .credential(username, "username")
                        .map_err(|e| e.to_string())?;
                    options.admin_password = secrets
                        .secret(password, "password")
                        .map_err(|e| e.to_string())?
                        .expose()
                        .to_string();
                }
                Auth::TppPassword { .. } => {}
            }
            let key = format!("awx {}", t.instance.url);
            let sim = match saved.get(&key) {
                Some(state) => AwxSim::from_state(options, state)?,
                None => {
                    let sim = AwxSim::new(options);
                    sim.seed_demo();
                    sim
                }
            };
            let server = serve_in_background(addr, sim.router(), Faults::default()).map_err(|e| {
                format!("cannot start the sandbox on {addr}: {e} (is `appform sandbox` already running there? then run without --sandbox)")
            })?;
            awx.push((key, sim, server));
        }
        Ok(Embedded {
            awx,
            tpp,
            whm,
            path: path.to_path_buf(),
        })
    }

    /// Writes every simulator's state, keeping entries of servers not started.
    pub fn save(&self) -> Result<(), String> {
        let mut all: Map<String, Value> = std::fs::read_to_string(&self.path)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        for (key, sim, _) in &self.awx {
            all.insert(key.clone(), sim.state_json());
        }
        for (key, sim, _) in &self.tpp {
            all.insert(key.clone(), sim.state_json());
        }
        for (key, sim, _) in &self.whm {
            all.insert(key.clone(), sim.state_json());
        }
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
        }
        let text = serde_json::to_string_pretty(&Value::Object(all)).unwrap_or_default();
        std::fs::write(&self.path, text)
            .map_err(|e| format!("cannot write `{}`: {e}", self.path.display()))
    }
}
