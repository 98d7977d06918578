//! `appform sandbox` in the foreground: prints where its simulators listen,
//! serves them, and keeps state across runs with `--state`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

/// Kills the sandbox if a test fails before stopping it, so that no process
/// outlives the test and holds its ports.
struct Running(Option<Child>);

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn start(state: &std::path::Path) -> (Running, String, String, Vec<String>) {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("appform"))
        .args([
            "sandbox",
            "--awx-port",
            "0",
            "--tpp-port",
            "0",
            "--whm-port",
            "0",
            "--whm-hosts",
            "3",
            "--demo",
            "--state",
        ])
        .arg(state)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let (mut awx, mut tpp, mut whm) = (String::new(), String::new(), Vec::new());
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(url) = line.strip_prefix("AWX simulator (AWX 24.6.1) at ") {
            awx = url.to_string();
        }
        if let Some(url) = line.strip_prefix("Venafi TPP simulator at ") {
            tpp = url.to_string();
        }
        if let Some(url) = line.strip_prefix("cPanel WHM simulator at ") {
            whm.push(url.to_string());
        }
        if line.starts_with("Press Ctrl-C") {
            break;
        }
    }
    (Running(Some(child)), awx, tpp, whm)
}

/// Stops the sandbox with `signal` (`INT` as Ctrl-C does, or `TERM`).
fn stop(mut running: Running, signal: &str) {
    let mut child = running.0.take().unwrap();
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "sandbox exited with {status}");
}

#[test]
fn the_sandbox_serves_both_simulators_and_keeps_state_across_runs() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let (child, awx, tpp, whm) = start(&state);
    assert_eq!(whm.len(), 3, "{whm:?}");
    assert!(awx.starts_with("http://127.0.0.1:"), "{awx}");
    assert!(tpp.starts_with("http://127.0.0.1:"), "{tpp}");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = reqwest::Client::new();
    let created = rt
        .block_on(
            client
                .post(format!("{awx}/api/v2/applications/"))
                .bearer_auth("sandbox-awx-token")
                .json(&serde_json::json!({"name": "kept", "organization": 1, "client_type": "public", "authorization_grant_type": "password"}))
                .send(),
        )
        .unwrap();
    assert_eq!(created.status().as_u16(), 201);
    let tpp_count: Value = rt
        .block_on(async {
            client
                .post(format!("{tpp}/vedsdk/oauth/TotalCount"))
                .bearer_auth("sandbox-tpp-token")
                .json(&serde_json::json!({}))
                .send()
                .await
                .unwrap()
                .json()
                .await
        })
        .unwrap();
    assert_eq!(
        tpp_count["ApplicationCount"], 4,
        "3 built-in apps and the demo app"
    );
    stop(child, "INT");

    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
    assert!(
        saved["awx"]["apps"]
            .as_object()
            .unwrap()
            .values()
            .any(|a| a["name"] == "kept")
    );

    let (child, awx, _, _) = start(&state);
    let list: Value = rt
        .block_on(async {
            client
                .get(format!("{awx}/api/v2/applications/?name=kept"))
                .bearer_auth("sandbox-awx-token")
                .send()
                .await
                .unwrap()
                .json()
                .await
        })
        .unwrap();
    assert_eq!(list["count"], 1, "the app survived the restart");
    let created = rt
        .block_on(
            client
                .post(format!("{awx}/api/v2/applications/"))
                .bearer_auth("sandbox-awx-token")
                .json(&serde_json::json!({"name": "kept-too", "organization": 1, "client_type": "public", "authorization_grant_type": "password"}))
                .send(),
        )
        .unwrap();
    assert_eq!(created.status().as_u16(), 201);
    // SIGTERM (kill, systemd, containers) saves the state too.
    stop(child, "TERM");
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
    assert!(
        saved["awx"]["apps"]
            .as_object()
            .unwrap()
            .values()
            .any(|a| a["name"] == "kept-too"),
        "{saved}"
    );
}
