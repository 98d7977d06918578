//! The reqwest clients: one per distinct TLS settings for the whole run,
//! with only an HTTPS proxy from the environment.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use super::error_chain;
use crate::model::ServerOptions;

/// The TLS settings a reqwest client is built for; one client serves every
/// host that shares them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct TlsSettings {
    /// Plain `http://` (allowed with `allow_insecure_http`, as the sandbox
    /// is) without TLS options: no trust store is loaded for it (about 150
    /// certificate files, the largest start-up cost of a small plan).
    plain: bool,
    ca_file: Option<std::path::PathBuf>,
    skip_verify: bool,
}

/// One client per distinct TLS settings for the whole run: the system trust
/// store is loaded once, not once per host, and every host shares one
/// connection pool (a fleet of hundreds of hosts is then bound by the network,
/// not by start-up work per host).
static CLIENTS: OnceLock<Mutex<BTreeMap<TlsSettings, reqwest::Client>>> = OnceLock::new();

/// How many clients (trust-store loads) this process built.
static CLIENTS_BUILT: AtomicUsize = AtomicUsize::new(0);

/// The number of HTTP clients built so far (one per distinct TLS settings).
pub fn clients_built() -> usize {
    CLIENTS_BUILT.load(Ordering::SeqCst)
}

pub(super) fn shared_client(
    base: &str,
    options: &ServerOptions,
) -> Result<reqwest::Client, String> {
    let key = TlsSettings {
        plain: base
            .get(..7)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("http://"))
            && options.ca_file.is_none()
            && !options.tls_skip_verify,
        ca_file: options.ca_file.clone(),
        skip_verify: options.tls_skip_verify,
    };
    let clients = CLIENTS.get_or_init(|| Mutex::new(BTreeMap::new()));
    let mut clients = clients.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(client) = clients.get(&key) {
        return Ok(client.clone());
    }
    // The timeout is per request (servers differ); connecting takes at most 10 s.
    let mut builder = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .pool_idle_timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("appform/", env!("CARGO_PKG_VERSION")));
    if key.plain {
        // No roots: redirects are not followed and http never goes through
        // a proxy, so this client never makes a TLS connection.
        builder = builder.tls_certs_only(Vec::new());
    }
    if let Some(path) = &key.ca_file {
        let pem = crate::files::read_bounded(path, crate::files::MAX_SMALL_FILE_BYTES)
            .map_err(|e| format!("cannot read ca_file `{}`: {e}", path.display()))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
            format!(
                "ca_file `{}` is not a PEM certificate bundle: {e}",
                path.display()
            )
        })?;
        if certs.is_empty() {
            return Err(format!("ca_file `{}` holds no certificate", path.display()));
        }
        builder = builder.tls_certs_merge(certs);
    }
    if key.skip_verify {
        builder = builder.tls_danger_accept_invalid_certs(true);
    }
    builder = with_https_proxy_only(builder)?;
    let client = builder
        .build()
        .map_err(|e| format!("cannot set up the HTTP client: {}", error_chain(&e)))?;
    CLIENTS_BUILT.fetch_add(1, Ordering::SeqCst);
    clients.insert(key, client.clone());
    Ok(client)
}

/// Proxies: plain http never goes through one (its headers, credentials
/// included, would be readable by the proxy; and loopback must stay on the
/// machine), so the environment's `HTTP_PROXY`/`ALL_PROXY` are ignored. https
/// may use `HTTPS_PROXY` (or `ALL_PROXY`), honouring `NO_PROXY`: the CONNECT
/// tunnel keeps the headers inside TLS.
fn with_https_proxy_only(
    builder: reqwest::ClientBuilder,
) -> Result<reqwest::ClientBuilder, String> {
    let builder = builder.no_proxy();
    let from_env = ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()));
    let Some(url) = from_env else {
        return Ok(builder);
    };
    let proxy = reqwest::Proxy::https(url.as_str())
        .map_err(|e| format!("HTTPS_PROXY: not a proxy URL: {}", error_chain(&e)))?
        .no_proxy(reqwest::NoProxy::from_env());
    Ok(builder.proxy(proxy))
}
