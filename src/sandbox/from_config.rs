//! Simulators for the servers a config names: one per distinct loopback URL,
//! accepting the config's credentials (an `env:` reference that is not set
//! gets the sandbox's default). Used by `--sandbox` and `appform sandbox -c`.

use std::net::SocketAddr;

use super::awx::AwxOptions;
use super::fleet::{SimOptions, SimSpec};
use super::gateway::GatewayOptions;
use super::tpp::TppOptions;
use super::whm::WhmOptions;
use crate::model::{Auth, Instance, Kind, Server};
use crate::secret::{Credential, ResolveError, Secret, SecretRef, SecretSource};

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

/// The address of an `http://` loopback URL; anything else is refused, so the
/// sandbox never stands in for a real server. `Err`: the reason, which
/// [`specs_for`] and the CLI's flag checks put after the server or flag.
pub fn loopback_addr(url: &str) -> Result<SocketAddr, String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("{url}: {e}"))?;
    let host = parsed.host_str().unwrap_or("");
    let ip = match host {
        "localhost" => "127.0.0.1".to_string(),
        h => h.trim_start_matches('[').trim_end_matches(']').to_string(),
    };
    let loopback = ip
        .parse::<std::net::IpAddr>()
        .ok()
        .filter(|ip| ip.is_loopback());
    match loopback {
        Some(ip) if parsed.scheme() == "http" => Ok(SocketAddr::new(
            ip,
            parsed.port_or_known_default().unwrap_or(80),
        )),
        _ => Err(format!(
            "the sandbox serves only http:// loopback URLs (like http://127.0.0.1:8043); `{url}` is not one"
        )),
    }
}

/// One simulator per distinct URL of `targets`, accepting their credentials.
pub fn specs_for<'a>(
    targets: impl IntoIterator<Item = (&'a Server, &'a Instance)>,
    secrets: &dyn SecretSource,
) -> Result<Vec<SimSpec>, super::SandboxError> {
    let mut specs: Vec<SimSpec> = Vec::new();
    let mut urls: Vec<&str> = Vec::new();
    for (server, instance) in targets {
        if urls.contains(&instance.url.as_str()) {
            continue;
        }
        urls.push(&instance.url);
        let in_server = |reason: String| super::SandboxError::Server {
            server: instance.name.clone(),
            reason,
        };
        let addr = loopback_addr(&instance.url).map_err(in_server)?;
        let options =
            login_for(server.kind, &server.auth, secrets).map_err(|e| in_server(e.to_string()))?;
        specs.push(SimSpec { addr, options });
    }
    Ok(specs)
}

/// Simulator options that accept the config's credentials besides the
/// sandbox's own (the ones `appform sandbox` prints).
fn login_for(
    kind: Kind,
    auth: &Auth,
    secrets: &dyn SecretSource,
) -> Result<SimOptions, ResolveError> {
    let secret = |r: &SecretRef, field: &str| -> Result<String, ResolveError> {
        Ok(secrets.secret(r, field)?.expose().to_string())
    };
    Ok(match kind {
        Kind::Awx => {
            let mut options = AwxOptions::default();
            match auth {
                Auth::Token { token, .. } => options.admin_tokens.push(secret(token, "token")?),
                Auth::Basic { username, password } => {
                    options.admin_username = secrets.credential(username, "username")?;
                    options.admin_password = secret(password, "password")?;
                }
                Auth::TppPassword { .. } => {}
            }
            SimOptions::Awx(options)
        }
        Kind::Gateway => {
            let mut options = GatewayOptions::default();
            match auth {
                Auth::Token { token, .. } => options.admin_tokens.push(secret(token, "token")?),
                Auth::Basic { username, password } => {
                    options.admin_username = secrets.credential(username, "username")?;
                    options.admin_password = secret(password, "password")?;
                }
                Auth::TppPassword { .. } => {}
            }
            SimOptions::Gateway(options)
        }
        Kind::Tpp => {
            let mut options = TppOptions::default();
            match auth {
                Auth::Token { token, .. } => options.static_tokens.push(secret(token, "token")?),
                Auth::TppPassword {
                    username, password, ..
                } => {
                    let user = secrets.credential(username, "username")?;
                    options.users.insert(user, secret(password, "password")?);
                }
                Auth::Basic { .. } => {}
            }
            SimOptions::Tpp(options)
        }
        Kind::Whm => {
            let mut options = WhmOptions::default();
            let (user, token, password) = match auth {
                Auth::Token {
                    username: Some(u),
                    token,
                } => (
                    secrets.credential(u, "username")?,
                    secret(token, "token")?,
                    String::new(),
                ),
                Auth::Basic { username, password } => (
                    secrets.credential(username, "username")?,
                    String::new(),
                    secret(password, "password")?,
                ),
                _ => ("root".into(), String::new(), String::new()),
            };
            options
                .users
                .entry(user)
                .or_default()
                .push((token, password));
            SimOptions::Whm(options)
        }
    })
}
