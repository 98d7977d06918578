//! `appform sandbox` in the foreground: prints where its simulators listen,
//! serves them, and keeps state across runs with `--state`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use crate::support;

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

/// The names of the AWX apps in a state file (one format for `appform sandbox`
/// and `--sandbox`).
fn saved_awx_apps(state: &std::path::Path) -> Vec<String> {
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(state).unwrap()).unwrap();
    assert_eq!(saved["appform_sandbox_state"], 1, "{saved}");
    saved["servers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["kind"] == "awx")
        .flat_map(|s| s["state"]["apps"].as_object().unwrap().values())
        .map(|a| a["name"].as_str().unwrap().to_string())
        .collect()
}

fn start(state: &std::path::Path) -> (Running, String, String, Vec<String>) {
    spawn(&[
        "sandbox",
        "--awx-port",
        "0",
        "--gateway-port",
        "0",
        "--tpp-port",
        "0",
        "--whm-port",
        "0",
        "--whm-hosts",
        "3",
        "--demo",
        "--state",
        state.to_str().unwrap(),
    ])
}

/// Starts `appform ARGS` and reads the simulators' URLs it prints.
fn spawn(args: &[&str]) -> (Running, String, String, Vec<String>) {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("appform"))
        .args(args)
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

    assert!(saved_awx_apps(&state).contains(&"kept".to_string()));

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
    assert!(saved_awx_apps(&state).contains(&"kept-too".to_string()));
}

/// `appform sandbox -c DIR` serves every server URL the config names, with the
/// config's credentials, so that `appform plan -c DIR` (no `--sandbox`) works
/// against it; its state file is the one `--sandbox` uses.
#[test]
fn the_sandbox_serves_the_servers_a_config_names() {
    let dir = tempfile::tempdir().unwrap();
    let free = [
        support::closed_port(),
        support::closed_port(),
        support::closed_port(),
    ];
    std::fs::write(
        dir.path().join("appform.yaml"),
        format!(
            r#"servers:
  awx-a:
    awx:
      url: http://127.0.0.1:{a}
      auth:
        token: env:APPFORM_TEST_UNSET_TOKEN
      applications:
        grafana:
          organization: Default
          client_type: public
          authorization_grant_type: password
  awx-b:
    awx:
      url: http://127.0.0.1:{b}
      auth:
        token: env:APPFORM_TEST_UNSET_TOKEN
      applications: {{}}
  tpp:
    tpp:
      url: http://127.0.0.1:{t}
      auth:
        client_id: appform
        username: env:APPFORM_TEST_UNSET_USER
        password: env:APPFORM_TEST_UNSET_PASSWORD
      applications: {{}}
"#,
            a = free[0],
            b = free[1],
            t = free[2]
        ),
    )
    .unwrap();
    let config = dir.path().join("appform.yaml");
    let state = dir.path().join("sandbox.json");
    let (child, awx, tpp, whm) = spawn(&[
        "sandbox",
        "-c",
        config.to_str().unwrap(),
        "--state",
        state.to_str().unwrap(),
    ]);
    assert_eq!(
        awx,
        format!("http://127.0.0.1:{}", free[1]),
        "the last AWX line"
    );
    assert_eq!(tpp, format!("http://127.0.0.1:{}", free[2]));
    assert!(whm.is_empty(), "{whm:?}");
    // The config's credentials work against it: unset env: references take
    // the sandbox's defaults on both sides.
    let plan = support::appform()
        .env("APPFORM_TEST_UNSET_TOKEN", "sandbox-awx-token")
        .env("APPFORM_TEST_UNSET_USER", "admin")
        .env("APPFORM_TEST_UNSET_PASSWORD", "password")
        .args(["plan", "-c"])
        .arg(&config)
        .output()
        .unwrap();
    let (stdout, stderr) = support::texts(&plan);
    assert!(stdout.contains("+ grafana"), "{stdout}\n{stderr}");
    assert!(!stdout.contains("could not"), "{stdout}\n{stderr}");
    let apply = support::appform()
        .env("APPFORM_TEST_UNSET_TOKEN", "sandbox-awx-token")
        .env("APPFORM_TEST_UNSET_USER", "admin")
        .env("APPFORM_TEST_UNSET_PASSWORD", "password")
        .args(["apply", "--auto-approve", "-c"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(apply.status.code(), Some(0), "{:?}", support::texts(&apply));
    stop(child, "TERM");
    assert_eq!(saved_awx_apps(&state), vec!["grafana".to_string()]);
}

#[test]
fn the_sandbox_refuses_a_config_with_a_real_server_url() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("appform.yaml");
    std::fs::write(
        &config,
        "servers:\n  prod:\n    awx:\n      url: https://awx.example.com\n      auth:\n        token: env:X\n      applications: {}\n",
    )
    .unwrap();
    let out = support::appform()
        .args(["sandbox", "-c"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let (_, stderr) = support::texts(&out);
    assert!(
        stderr.contains("server `prod`: the sandbox serves only http:// loopback URLs"),
        "{stderr}"
    );
}

/// The HTTP status of `GET url` with `authorization`.
fn status_with(url: &str, authorization: &str) -> u16 {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        reqwest::Client::new()
            .get(url)
            .header("authorization", authorization)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    })
}

fn basic(user: &str, password: &str) -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

#[test]
fn the_sandbox_accepts_the_credentials_its_banner_prints_with_and_without_a_config() {
    let dir = tempfile::tempdir().unwrap();
    let (awx_port, whm_port) = (support::closed_port(), support::closed_port());
    std::fs::write(
        dir.path().join("appform.yaml"),
        format!(
            "servers:\n  awx:\n    awx:\n      url: http://127.0.0.1:{awx_port}\n      auth: {{token: env:APPFORM_TEST_AWX_TOKEN}}\n      applications: {{}}\n  whm:\n    whm:\n      url: http://127.0.0.1:{whm_port}\n      auth: {{username: root, token: env:APPFORM_TEST_WHM_TOKEN}}\n      applications: {{}}\n"
        ),
    )
    .unwrap();
    let config = dir.path().join("appform.yaml");
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("appform"))
        .args(["sandbox", "-c", config.to_str().unwrap()])
        .env("APPFORM_TEST_AWX_TOKEN", "config-awx-token")
        .env("APPFORM_TEST_WHM_TOKEN", "config-whm-token")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let running = Running(Some(child));
    let banner: Vec<String> = BufReader::new(stdout)
        .lines()
        .map(|l| l.unwrap())
        .take_while(|l| !l.starts_with("Press Ctrl-C"))
        .collect();
    let banner = banner.join("\n");
    assert!(
        banner.contains("API token sandbox-whm-token")
            && banner.contains("Bearer token: sandbox-awx-token")
            && banner.contains("the config's own credentials (not printed"),
        "{banner}"
    );
    assert!(
        !banner.contains("config-whm-token"),
        "never printed: {banner}"
    );

    let whm =
        format!("http://127.0.0.1:{whm_port}/json-api/get_connected_applications?api.version=1");
    let awx = format!("http://127.0.0.1:{awx_port}/api/v2/me/");
    // The banner's credentials…
    assert_eq!(status_with(&whm, "whm root:sandbox-whm-token"), 200);
    assert_eq!(status_with(&whm, &basic("root", "password")), 200);
    assert_eq!(status_with(&awx, "Bearer sandbox-awx-token"), 200);
    // …and the config's.
    assert_eq!(status_with(&whm, "whm root:config-whm-token"), 200);
    assert_eq!(status_with(&awx, "Bearer config-awx-token"), 200);
    // Nothing else.
    assert_eq!(status_with(&whm, "whm root:sandbox-awx-token"), 401);
    assert_eq!(status_with(&awx, "Bearer wrong"), 401);
    stop(running, "TERM");
}
