//! What CI logs and terminals see: configuration errors as JSON diagnostics in
//! JSON mode (and on stderr), `--color auto|always|never` with NO_COLOR, and
//! progress only on a terminal.

use std::time::Duration;

use serde_json::Value;

use crate::support::{AwxWorld, appform, texts};

const APP: &str = "        ops-cli:\n          organization: Default\n          client_type: public\n          authorization_grant_type: password\n";

#[test]
fn config_errors_in_json_mode_are_a_json_list_on_stdout_and_text_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("appform.yaml"),
        "servers:\n  awx-a:\n    awx:\n      url: ftp://example.com\n      auth:\n        token: env:T\n      applications: {}\n",
    )
    .unwrap();
    for args in [
        &["plan", "--format", "json"][..],
        &["apply", "--format", "json", "--auto-approve"][..],
    ] {
        let out = appform()
            .args(args)
            .arg("-c")
            .arg(dir.path())
            .output()
            .unwrap();
        let (stdout, stderr) = texts(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let list: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
        let first = &list[0];
        assert_eq!(first["code"], "appform::config::bad_url", "{list}");
        assert!(
            first["file"].as_str().unwrap().ends_with("appform.yaml"),
            "{list}"
        );
        assert_eq!(first["line"], 4, "{list}");
        assert_eq!(first["column"], 12, "{list}");
        assert!(first["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert!(stderr.contains("appform::config::bad_url"), "{stderr}");
    }
    // Text mode keeps stdout empty.
    let out = appform()
        .arg("plan")
        .arg("-c")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(texts(&out).0, "");
}

#[test]
fn color_is_chosen_by_the_flag_then_no_color_then_the_terminal() {
    let world = AwxWorld::new();
    world.write_config("", APP);
    let run = |extra: &[&str], no_color: bool| {
        let mut cmd = world.cmd(&["plan"]);
        cmd.args(extra);
        if !no_color {
            cmd.env_remove("NO_COLOR");
        }
        texts(&cmd.output().unwrap()).0
    };
    assert!(
        run(&["--color", "always"], true).contains("\x1b["),
        "always beats NO_COLOR"
    );
    assert!(
        !run(&[], false).contains("\x1b["),
        "auto: a pipe is not a terminal"
    );
    assert!(!run(&["--color", "never"], false).contains("\x1b["));
    assert!(!run(&["--color", "always", "--no-color"], false).contains("\x1b["));
    let out = world
        .cmd(&["plan", "--color", "sometimes"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "a usage error is exit 1");
}

/// A plan that takes more than a second: the simulator answers slowly (a plan
/// of one AWX server is one round trip here).
fn slow_world() -> AwxWorld {
    let world = AwxWorld::with_faults(appform::sandbox::Faults {
        latency: Duration::from_millis(1200),
        ..Default::default()
    });
    world.write_config("", APP);
    world
}

#[test]
fn progress_is_absent_without_a_terminal() {
    let world = slow_world();
    let out = world.cmd(&["plan"]).output().unwrap();
    let (stdout, stderr) = texts(&out);
    assert!(stdout.contains("+ ops-cli"), "{stdout}");
    assert!(!stderr.contains("servers read"), "{stderr}");
}

#[test]
fn progress_shows_on_a_terminal_unless_quiet_or_json() {
    let world = slow_world();
    let bin = assert_cmd::cargo::cargo_bin("appform");
    let screen = |args: &str| {
        let command = format!(
            "{} plan {args} -c {}",
            bin.display(),
            world.dir.path().display()
        );
        let out = std::process::Command::new("script")
            .args(["-qec", &command, "/dev/null"])
            .env("AWX_TOKEN", crate::support::AWX_TOKEN)
            .env("NO_COLOR", "1")
            .stdin(std::process::Stdio::null())
            .output()
            .expect("`script` (util-linux) gives the command a terminal");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let shown = screen("");
    assert!(shown.contains("1/1 servers read"), "{shown}");
    assert!(shown.contains("+ ops-cli"), "{shown}");
    assert!(!screen("--quiet").contains("servers read"));
    assert!(!screen("--format json").contains("servers read"));
}

/// Terraform's convention: every error is on stderr too, so `appform plan >
/// plan.txt` in a CI log still shows why it failed; stdout keeps the plan
/// with the same error under its server.
#[test]
fn server_errors_are_on_stderr_in_text_and_json_mode() {
    let world = AwxWorld::new();
    world.write_config("", APP);
    for format in ["text", "json"] {
        let out = world
            .cmd(&["plan", "--format", format])
            .env("AWX_TOKEN", "wrong-token")
            .output()
            .unwrap();
        let (stdout, stderr) = texts(&out);
        assert_eq!(out.status.code(), Some(1), "{format}");
        assert!(
            stderr.contains("error: awx-test: ") && stderr.contains("HTTP 401"),
            "{format}: {stderr}"
        );
        assert!(stdout.contains("HTTP 401"), "{format}: {stdout}");
    }
    let mut down = AwxWorld::new();
    down.write_config("", APP);
    down.kill_server();
    let out = down.cmd(&["plan", "--max-retries", "0"]).output().unwrap();
    let (_, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("error: awx-test: could not be reached: "),
        "{stderr}"
    );
}
