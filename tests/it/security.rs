//! Security findings, each a named test: credentials never go through a proxy
//! in clear; warnings about weakened transport are shown even with
//! `--quiet`; special files are refused at once; files stay inside the
//! configuration root. (Hostile servers, including
//! one that would make a plan page forever, are in `hostile.rs`.)

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::support::{AwxWorld, appform, texts};
use appform::sandbox::Simulator as _;

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
    // Named by -c (found in a directory, it would be a link out of it).
    let out = appform()
        .args(["validate", "-c"])
        .arg(dir.path().join("zero.yaml"))
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
    let out = world
        .cmd(&["plan"])
        .env("APPFORM_SECRET_DIRS", "/dev")
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        format!("{stdout}{stderr}").contains("not a regular file"),
        "{stdout}{stderr}"
    );
}

const CANARY: &str = "canary-shadow-root:$6$do-not-print";

/// `file:` secrets stay inside the configuration root (or APPFORM_SECRET_DIRS):
/// `../outside` and absolute paths are refused by `validate`; a link inside
/// the root that leads out is refused too; nothing of the file is printed.
#[test]
fn file_secrets_outside_the_config_root_are_refused() {
    let world = AwxWorld::new();
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("shadow");
    std::fs::write(&secret, format!("{CANARY}\n")).unwrap();
    let config = |reference: &str| {
        std::fs::write(
            world.path("appform.yaml"),
            format!("servers:\n  awx-test:\n    awx:\n      url: {}\n      auth:\n        token: {reference}\n      applications: {{}}\n", world.url()),
        )
        .unwrap();
    };
    let relative = pathdiff(&secret, world.dir.path());
    #[cfg(unix)]
    std::os::unix::fs::symlink(&secret, world.path("innocent-token")).unwrap();
    for reference in [
        format!("file:{relative}"),
        format!("file:{}", secret.display()),
        "file:innocent-token".to_string(),
    ] {
        config(&reference);
        for command in ["validate", "plan"] {
            let out = world.cmd(&[command]).output().unwrap();
            let (stdout, stderr) = texts(&out);
            assert_eq!(out.status.code(), Some(1), "{reference}: {stdout}{stderr}");
            assert!(
                stderr.contains("appform::config::outside_root")
                    && stderr.contains("the `file:` secret is outside the configuration directory"),
                "{reference}: {stderr}"
            );
            assert!(!format!("{stdout}{stderr}").contains(CANARY));
        }
        assert!(world.sim.requests().is_empty(), "nothing was sent");
    }
    // A directory named in APPFORM_SECRET_DIRS is allowed (mounted secrets).
    config(&format!("file:{}", secret.display()));
    let out = world
        .cmd(&["validate"])
        .env("APPFORM_SECRET_DIRS", outside.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
}

/// The path of `to` relative to `from` (both absolute, `from` a directory).
fn pathdiff(to: &std::path::Path, from: &std::path::Path) -> String {
    let ups = from.components().count() - 1;
    format!(
        "{}{}",
        "../".repeat(ups),
        to.strip_prefix("/").unwrap().display()
    )
}

/// A config file in the directory that is a link to a file outside it is
/// refused, and its content never reaches the output.
#[cfg(unix)]
#[test]
fn a_config_file_linked_from_outside_the_root_is_not_read() {
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("credentials");
    std::fs::write(&target, format!("aws_secret_access_key = {CANARY}\n")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("appform.yaml"),
        "policy: {max_deletes: 1}\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(&target, dir.path().join("servers.yaml")).unwrap();
    for format in ["text", "json"] {
        let out = appform()
            .args(["plan", "--format", format, "-c"])
            .arg(dir.path())
            .output()
            .unwrap();
        let (stdout, stderr) = texts(&out);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains("appform::config::outside_root")
                && stderr.contains("servers.yaml` is a symbolic link that leads out of"),
            "{stderr}"
        );
        assert!(
            !format!("{stdout}{stderr}").contains(CANARY),
            "{stdout}{stderr}"
        );
    }
}

/// A `file:` secret of several lines is refused, never sent whole as a
/// password, and not shown.
#[test]
fn a_multi_line_file_secret_is_refused() {
    let world = AwxWorld::new();
    std::fs::write(world.path("token"), format!("{CANARY}\nsecond line\n")).unwrap();
    std::fs::write(
        world.path("appform.yaml"),
        format!("servers:\n  awx-test:\n    awx:\n      url: {}\n      auth:\n        token: file:token\n      applications: {{}}\n", world.url()),
    )
    .unwrap();
    let out = world.cmd(&["plan"]).output().unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stderr.contains("holds more than one line; a `file:` secret is a single line"),
        "{stderr}"
    );
    assert!(!format!("{stdout}{stderr}").contains(CANARY));
    assert!(world.sim.requests().is_empty(), "nothing was sent");
}
