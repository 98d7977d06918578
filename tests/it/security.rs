//! Security findings, each a named test: credentials never go through a proxy
//! in clear; warnings about weakened transport are shown even with
//! `--quiet`; special files are refused at once. (Hostile servers, including
//! one that would make a plan page forever, are in `hostile.rs`.)

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::support::{AwxWorld, appform, texts};

const APP: &str = "        ops-cli:\n          organization: Default\n          client_type: public\n          authorization_grant_type: password\n";

/// A "proxy" that counts the connections it receives (and answers nothing).
fn counting_proxy() -> (String, Arc<AtomicUsize>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            counter.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 1024];
            let mut s = stream;
            let _ = s.set_read_timeout(Some(std::time::Duration::from_millis(200)));
            let _ = s.read(&mut buf);
        }
    });
    (url, seen)
}

/// HTTP_PROXY (and ALL_PROXY) would have received the Bearer token of a plain
/// http server in clear; plain http never uses a proxy now.
#[test]
fn plain_http_never_goes_through_a_proxy() {
    let world = AwxWorld::new();
    world.write_config("", APP);
    let (proxy, seen) = counting_proxy();
    let out = world
        .cmd(&["plan", "--max-retries", "0"])
        .env("HTTP_PROXY", &proxy)
        .env("http_proxy", &proxy)
        .env("ALL_PROXY", &proxy)
        .env("all_proxy", &proxy)
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("+ ops-cli"), "{stdout}");
    assert_eq!(seen.load(Ordering::SeqCst), 0, "requests reached the proxy");
}

/// Weakened transport is always said, `--quiet` or not.
#[test]
fn transport_warnings_are_shown_even_with_quiet() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("c.yaml"),
        "servers:\n  a:\n    awx:\n      url: https://awx.example.com\n      tls_skip_verify: true\n      auth: {token: env:T}\n      applications: {}\n  b:\n    awx:\n      url: http://awx.internal.example.com\n      allow_insecure_http: true\n      auth: {token: env:T}\n      applications: {}\n",
    )
    .unwrap();
    let out = appform()
        .args(["-q", "validate", "-c"])
        .arg(dir.path())
        .output()
        .unwrap();
    let (_, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("server `a`: tls_skip_verify is on"),
        "{stderr}"
    );
    assert!(
        stderr.contains("server `b`: allow_insecure_http sends the credentials in clear to http://awx.internal.example.com"),
        "{stderr}"
    );
}

/// Bounded input: a config file that is a symlink to /dev/zero, or a FIFO,
/// is a clear error at once (it used to grow without bound, or hang); so is a
/// `file:` secret that is not a regular file.
#[cfg(unix)]
#[test]
fn special_files_are_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero.yaml")).unwrap();
    let started = std::time::Instant::now();
    let out = appform()
        .args(["validate", "-c"])
        .arg(dir.path())
        .output()
        .unwrap();
    let (_, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("not a regular file"), "{stderr}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));

    let fifo_dir = tempfile::tempdir().unwrap();
    let fifo = fifo_dir.path().join("pipe.yaml");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if made.is_ok_and(|s| s.success()) {
        let out = appform()
            .args(["validate", "-c"])
            .arg(fifo_dir.path())
            .output()
            .unwrap();
        let (_, stderr) = texts(&out);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("not a regular file"), "{stderr}");
    }

    // A `file:` secret pointing at a device is refused when the plan runs.
    let world = AwxWorld::new();
    std::fs::write(
        world.path("appform.yaml"),
        format!("servers:\n  awx-test:\n    awx:\n      url: {}\n      auth:\n        token: file:/dev/zero\n      applications: {{}}\n", world.url()),
    )
    .unwrap();
    let out = world.cmd(&["plan"]).output().unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        format!("{stdout}{stderr}").contains("not a regular file"),
        "{stdout}{stderr}"
    );
}
