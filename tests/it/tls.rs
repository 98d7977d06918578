//! https end to end: the AWX simulator behind rustls with a test CA
//! (`tests/fixtures/tls/`, valid until 2125). `ca_file` makes it trusted, its
//! absence is a clear certificate error, `tls_skip_verify` works and warns.

use std::net::SocketAddr;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::support::{appform, texts};

struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((stream, addr)) = self.tcp.accept().await else {
                continue;
            };
            // A client that rejects the certificate ends its handshake: skip it.
            if let Ok(tls) = self.acceptor.accept(stream).await {
                return (tls, addr);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.tcp.local_addr()
    }
}

/// Serves `router` over TLS on a background thread; returns the https URL.
fn serve_tls(router: axum::Router) -> String {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls");
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(dir.join("server.pem"))
        .unwrap()
        .map(|c| c.unwrap())
        .collect();
    let key = PrivateKeyDer::from_pem_file(dir.join("server.key")).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    std_listener.set_nonblocking(true).unwrap();
    let port = std_listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let tcp = TcpListener::from_std(std_listener).unwrap();
            let _ = axum::serve(TlsListener { tcp, acceptor }, router).await;
        });
    });
    format!("https://127.0.0.1:{port}")
}

fn config(url: &str, tls: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let ca = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls/ca.pem");
    let tls = tls.replace("CA_PATH", ca.to_str().unwrap());
    std::fs::write(
        dir.path().join("c.yaml"),
        format!("servers:\n  secure:\n    awx:\n      url: {url}\n{tls}      auth: {{token: env:AWX_TOKEN}}\n      applications:\n        app:\n          organization: Default\n          client_type: public\n          authorization_grant_type: password\n"),
    )
    .unwrap();
    dir
}

fn run(dir: &tempfile::TempDir, args: &[&str]) -> std::process::Output {
    appform()
        .args(args)
        .arg("-c")
        .arg(dir.path())
        .env("AWX_TOKEN", crate::support::AWX_TOKEN)
        .output()
        .unwrap()
}

#[test]
fn https_with_a_ca_file_without_it_and_with_verification_off() {
    let sim = appform::sandbox::awx::AwxSim::new(appform::sandbox::awx::AwxOptions::default());
    let url = serve_tls(sim.router());

    let trusted = config(&url, "      ca_file: CA_PATH\n");
    let out = run(&trusted, &["apply", "--auto-approve"]);
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    assert!(sim.app_by_name("app").is_some());
    let out = run(&trusted, &["plan", "--detailed-exitcode"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "a second plan is empty: {:?}",
        texts(&out)
    );

    let untrusted = config(&url, "");
    let out = run(&untrusted, &["plan", "--max-retries", "0"]);
    let (stdout, _) = texts(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout.contains("certificate"),
        "a clear certificate error: {stdout}"
    );

    let skipped = config(&url, "      tls_skip_verify: true\n");
    let out = run(&skipped, &["plan", "--detailed-exitcode"]);
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stderr.contains("warning: server `secure`: tls_skip_verify is on"),
        "{stderr}"
    );
}

/// The server's error line in a plan's text output.
fn error_line(stdout: &str) -> String {
    stdout
        .lines()
        .find(|l| l.contains("error"))
        .unwrap_or_default()
        .trim()
        .to_string()
}

#[test]
fn a_scheme_that_does_not_match_the_server_says_so_in_one_short_line_without_retrying() {
    // https:// to a server that speaks plain http.
    let sim = appform::sandbox::awx::AwxSim::new(appform::sandbox::awx::AwxOptions::default());
    let plain = crate::support::serve(sim.router());
    let https_to_http = config(&plain.url().replace("http://", "https://"), "");
    let out = run(&https_to_http, &["plan", "-v"]);
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    let line = error_line(&stdout);
    assert!(
        line.contains("speaks plain http") && line.contains("use http://"),
        "{line}"
    );
    assert!(line.len() < 220, "one short line: {line}");
    assert_eq!(line.matches("127.0.0.1").count(), 1, "the URL once: {line}");
    assert!(!stderr.contains("retrying"), "not retried: {stderr}");

    // http:// to a TLS server.
    let tls = serve_tls(sim.router());
    let http_to_https = config(&tls.replace("https://", "http://"), "");
    let out = run(&http_to_https, &["plan", "-v"]);
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    let line = error_line(&stdout);
    assert!(
        line.contains("expects TLS") && line.contains("use https://"),
        "{line}"
    );
    assert!(line.len() < 220, "one short line: {line}");
    assert!(!stderr.contains("retrying"), "not retried: {stderr}");
}

#[test]
fn a_server_that_is_down_is_named_once_in_a_short_line() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let down = config(&format!("http://127.0.0.1:{port}"), "");
    let out = run(&down, &["plan", "--max-retries", "0"]);
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    let line = error_line(&stdout);
    assert_eq!(line.matches("127.0.0.1").count(), 1, "the URL once: {line}");
    assert!(line.contains("connection refused"), "{line}");
    assert!(line.len() < 200, "short: {line}");
}
