//! The real binary against the AWX simulator: every action, the request log,
//! replacement, secrets, verification, failures and exit codes. Every apply
//! scenario ends with "a second plan is empty".

use appform::sandbox::Simulator as _;
use serde_json::Value;

use crate::support::{AwxWorld, closed_port, texts};

const GRAFANA: &str = "        grafana:\n          organization: Default\n          client_type: confidential\n          authorization_grant_type: authorization-code\n          redirect_uris: [https://grafana.example.com/cb, https://grafana.example.com/cb2]\n          description: Grafana SSO\n";
const CLI: &str = "        ops-cli:\n          organization: Default\n          client_type: public\n          authorization_grant_type: password\n";

fn apply(world: &AwxWorld, extra: &[&str]) -> std::process::Output {
    let secrets = world.path("secrets.json");
    let mut args = vec![
        "apply",
        "--auto-approve",
        "--secrets-out",
        secrets.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    world.cmd(&args).output().unwrap()
}

/// A plan snapshot with the simulator's port and the random client ids
/// filtered out by insta.
fn assert_plan_snapshot(name: &str, text: &str) {
    insta::with_settings!({filters => vec![
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]"),
        (r"\(client_id [^)]*\)", "(client_id [ID])"),
    ]}, {
        insta::assert_snapshot!(name, text);
    });
}

#[test]
fn create_then_converged() {
    let world = AwxWorld::new();
    world.write_config("", &format!("{GRAFANA}{CLI}"));
    let plan = world
        .cmd(&["plan", "--detailed-exitcode"])
        .output()
        .unwrap();
    assert_eq!(plan.status.code(), Some(2));
    let (stdout, _) = texts(&plan);
    assert_plan_snapshot("awx_plan_create", &stdout);
    assert!(
        world.writes().is_empty(),
        "plan wrote: {:?}",
        world.writes()
    );

    let out = apply(&world, &[]);
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("Apply complete: 2 created, 0 updated, 0 replaced, 0 deleted."),
        "{stdout}"
    );
    let posts: Vec<_> = world.writes();
    assert_eq!(posts.len(), 2);
    assert!(
        posts
            .iter()
            .all(|(m, p)| m == "POST" && p == "/api/v2/applications/")
    );
    let grafana = world.sim.app_by_name("grafana").unwrap();
    assert_eq!(
        grafana["redirect_uris"],
        "https://grafana.example.com/cb https://grafana.example.com/cb2"
    );
    assert_eq!(grafana["description"], "Grafana SSO");
    world.assert_converged();
}

#[test]
fn update_patches_only_the_changed_managed_fields() {
    let world = AwxWorld::new();
    world.write_config("", GRAFANA);
    assert_eq!(apply(&world, &[]).status.code(), Some(0));
    // Drift on the server in a field the config manages, and in one it does not.
    world.sim.set_app_field(
        "grafana",
        "description",
        Value::String("edited by hand".into()),
    );
    world
        .sim
        .set_app_field("grafana", "skip_authorization", Value::Bool(true));
    world.sim.clear_requests();

    let plan = world
        .cmd(&["plan", "--detailed-exitcode"])
        .output()
        .unwrap();
    assert_eq!(plan.status.code(), Some(2));
    let (stdout, _) = texts(&plan);
    assert_plan_snapshot("awx_plan_update", &stdout);

    let out = apply(&world, &[]);
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    let patches: Vec<_> = world
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.method == "PATCH")
        .collect();
    assert_eq!(patches.len(), 1);
    let body = patches[0].body.as_ref().unwrap().as_object().unwrap();
    assert_eq!(
        body.keys().collect::<Vec<_>>(),
        ["description"],
        "PATCH sent more than the changed field"
    );
    assert_eq!(patches[0].content_type.as_deref(), Some("application/json"));
    // The unmanaged field keeps its live value.
    assert_eq!(
        world.sim.app_by_name("grafana").unwrap()["skip_authorization"],
        true
    );
    world.assert_converged();
}

#[test]
fn ensure_absent_deletes() {
    let world = AwxWorld::new();
    world.write_config("", &format!("{GRAFANA}{CLI}"));
    assert_eq!(apply(&world, &[]).status.code(), Some(0));
    world.write_config(
        "",
        &format!(
            "{GRAFANA}        ops-cli:\n          organization: Default\n          ensure: absent\n"
        ),
    );
    let (stdout, _) = texts(&world.cmd(&["plan"]).output().unwrap());
    assert_plan_snapshot("awx_plan_delete", &stdout);
    world.sim.clear_requests();
    let out = apply(&world, &[]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(world.writes().len(), 1);
    assert_eq!(world.writes()[0].0, "DELETE");
    assert!(world.sim.app_by_name("ops-cli").is_none());
    world.assert_converged();
}

#[test]
fn a_grant_type_change_is_a_replacement_that_needs_allow_replace() {
    let world = AwxWorld::new();
    world.write_config("", GRAFANA);
    assert_eq!(apply(&world, &[]).status.code(), Some(0));
    let old_id = world.sim.app_by_name("grafana").unwrap()["client_id"].clone();
    world.write_config("", &GRAFANA.replace("authorization-code", "password"));

    let (stdout, _) = texts(&world.cmd(&["plan"]).output().unwrap());
    assert!(stdout.contains("-/+ grafana"), "{stdout}");
    assert!(stdout.contains("# forces replacement"), "{stdout}");
    assert_plan_snapshot("awx_plan_replace", &stdout);

    world.sim.clear_requests();
    let refused = apply(&world, &[]);
    assert_eq!(refused.status.code(), Some(3));
    assert!(texts(&refused).1.contains("--allow-replace"));
    assert!(
        world.writes().is_empty(),
        "wrote without --allow-replace: {:?}",
        world.writes()
    );

    let out = apply(&world, &["--allow-replace"]);
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("Apply complete: 0 created, 0 updated, 1 replaced, 0 deleted."),
        "{stdout}"
    );
    // Create-before-destroy: move the old app aside, create, delete the old one.
    let writes: Vec<String> = world.writes().into_iter().map(|(m, _)| m).collect();
    assert_eq!(writes, ["PATCH", "POST", "DELETE"]);
    let app = world.sim.app_by_name("grafana").unwrap();
    assert_eq!(app["authorization_grant_type"], "password");
    assert_ne!(
        app["client_id"], old_id,
        "a replacement must hand out a new client id"
    );
    // The description the config manages survived the replacement.
    assert_eq!(app["description"], "Grafana SSO");
    world.assert_converged();
}

#[test]
fn mixed_plan_runs_in_phases() {
    let world = AwxWorld::new();
    world.write_config("", &format!("{GRAFANA}        old:\n          organization: Default\n          client_type: public\n          authorization_grant_type: password\n"));
    assert_eq!(apply(&world, &[]).status.code(), Some(0));
    world.sim.seed_apps("stray-", 2);
    world.write_config(
        "",
        &format!(
            "{}{CLI}        old:\n          organization: Default\n          ensure: absent\n",
            GRAFANA.replace("Grafana SSO", "Grafana single sign-on")
        ),
    );
    let (stdout, _) = texts(&world.cmd(&["plan"]).output().unwrap());
    assert_plan_snapshot("awx_plan_mixed", &stdout);
    world.sim.clear_requests();
    let out = apply(&world, &[]);
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("Apply complete: 1 created, 1 updated, 0 replaced, 1 deleted."),
        "{stdout}"
    );
    let order: Vec<String> = world.writes().into_iter().map(|(m, _)| m).collect();
    assert_eq!(
        order,
        ["POST", "PATCH", "DELETE"],
        "phases: creates, updates, deletes"
    );
    assert!(
        world.sim.app_by_name("stray-000").is_some(),
        "unmanaged apps are never touched"
    );
    world.assert_converged();
}

#[test]
fn redirect_uris_in_another_order_than_the_server_holds_are_no_change() {
    let world = AwxWorld::new();
    world.write_config("", GRAFANA);
    assert_eq!(apply(&world, &[]).status.code(), Some(0));
    world.write_config(
        "",
        &GRAFANA.replace(
            "[https://grafana.example.com/cb, https://grafana.example.com/cb2]",
            "\"https://grafana.example.com/cb2   https://grafana.example.com/cb\"",
        ),
    );
    world.assert_converged();
}

#[test]
fn the_secret_goes_to_the_secrets_file_and_nowhere_else() {
    let world = AwxWorld::new();
    world.write_config("", GRAFANA);
    let plan_file = world.path("plan.json");
    let plan = world
        .cmd(&[
            "-vvv",
            "plan",
            "--format",
            "json",
            "--out",
            plan_file.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let out = apply(&world, &["-vvv"]);
    assert_eq!(out.status.code(), Some(0));
    let json_out = world
        .cmd(&[
            "-vvv",
            "apply",
            "--auto-approve",
            "--format",
            "json",
            "--discard-secrets",
        ])
        .output()
        .unwrap();

    let secrets_path = world.path("secrets.json");
    let secrets: Value =
        serde_json::from_str(&std::fs::read_to_string(&secrets_path).unwrap()).unwrap();
    let entry = &secrets["awx-test/grafana"];
    let secret = entry["client_secret"].as_str().unwrap();
    assert_eq!(secret.len(), 128);
    let stored = world.sim.app_by_name("grafana").unwrap();
    assert_eq!(
        secret, stored["stored_client_secret"],
        "the file holds the real secret"
    );
    assert_eq!(entry["client_id"], stored["client_id"]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&secrets_path)
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
    }
    for (what, text) in [
        (
            "plan stdout",
            String::from_utf8_lossy(&plan.stdout).into_owned(),
        ),
        (
            "plan -vvv log",
            String::from_utf8_lossy(&plan.stderr).into_owned(),
        ),
        ("plan file", std::fs::read_to_string(&plan_file).unwrap()),
        (
            "apply stdout",
            String::from_utf8_lossy(&out.stdout).into_owned(),
        ),
        (
            "apply -vvv log",
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ),
        (
            "apply json",
            String::from_utf8_lossy(&json_out.stdout).into_owned(),
        ),
        (
            "apply json log",
            String::from_utf8_lossy(&json_out.stderr).into_owned(),
        ),
    ] {
        assert!(!text.contains(secret), "the secret appears in the {what}");
    }
    // The -vvv log did log the create response, redacted.
    assert!(String::from_utf8_lossy(&out.stderr).contains("\"client_secret\":\"(sensitive)\""));
    world.assert_converged();
}

#[test]
fn a_confidential_create_needs_secrets_out_or_discard() {
    let world = AwxWorld::new();
    world.write_config("", GRAFANA);
    let out = world.cmd(&["apply", "--auto-approve"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(texts(&out).1.contains("--secrets-out"));
    assert!(world.writes().is_empty());
    let out = world
        .cmd(&["apply", "--auto-approve", "--discard-secrets"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    world.assert_converged();
}

#[test]
fn without_a_terminal_apply_needs_auto_approve() {
    let world = AwxWorld::new();
    world.write_config("", CLI);
    let out = world.cmd(&["apply"]).write_stdin("yes\n").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(texts(&out).1.contains("--auto-approve"));
    assert!(world.writes().is_empty());
}

#[test]
fn a_field_the_server_silently_ignores_fails_verification() {
    let world = AwxWorld::new();
    world.write_config("", GRAFANA);
    assert_eq!(apply(&world, &[]).status.code(), Some(0));
    world.sim.ignore_on_update("description");
    world.write_config(
        "",
        &GRAFANA.replace("Grafana SSO", "Grafana single sign-on"),
    );
    let out = apply(&world, &[]);
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stderr.contains("did not keep `description`"), "{stderr}");
    assert!(
        !stdout.contains("Apply complete"),
        "never a success message after a failure: {stdout}"
    );
}

#[test]
fn unreachable_and_unauthorized_servers_fail_clearly_while_others_are_planned() {
    let world = AwxWorld::new();
    let text = format!(
        "servers:\n  good:\n    awx:\n      url: {url}\n      auth: {{token: env:AWX_TOKEN}}\n      applications:\n{CLI}  down:\n    awx:\n      url: http://127.0.0.1:{port}\n      timeout: 5s\n      auth: {{token: env:AWX_TOKEN}}\n      applications:\n{CLI}  badauth:\n    awx:\n      url: {url}/\n      auth: {{token: env:WRONG_TOKEN}}\n      applications:\n{CLI}",
        url = world.url(),
        port = closed_port()
    );
    // `badauth` points at the same simulator under a different spelling of its URL.
    let text = text.replace(
        &format!("{}/\n", world.url()),
        &format!("{}\n", world.url().replace("127.0.0.1", "localhost")),
    );
    std::fs::write(world.path("appform.yaml"), text).unwrap();
    let out = world
        .cmd(&["plan", "--max-retries", "1"])
        .env("WRONG_TOKEN", "not-a-token")
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stdout.contains("+ ops-cli"),
        "the good server is still planned: {stdout}"
    );
    assert!(stdout.contains("cannot connect"), "{stdout}");
    assert!(
        stdout.contains("HTTP 401 Unauthorized (check the credentials)"),
        "{stdout}"
    );
    // The errors on stderr too, for `plan > plan.txt` in a CI log.
    assert!(
        stderr.contains("error: down: ") && stderr.contains("cannot connect"),
        "{stderr}"
    );
    assert!(
        stderr.contains("error: badauth: ") && stderr.contains("HTTP 401"),
        "{stderr}"
    );
    let json = world
        .cmd(&["plan", "--format", "json", "--max-retries", "0"])
        .env("WRONG_TOKEN", "not-a-token")
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&json.stderr).contains("error: down: "),
        "JSON mode too"
    );
    let plan: Value = serde_json::from_slice(&json.stdout).unwrap();
    let errors: Vec<bool> = plan["servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["error"].is_string())
        .collect();
    assert_eq!(errors, [true, true, false], "badauth, down, good");
}

#[test]
fn an_unset_credential_is_a_clear_error() {
    let world = AwxWorld::new();
    world.write_config("", CLI);
    let out = world
        .cmd(&["plan"])
        .env_remove("AWX_TOKEN")
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout.contains("environment variable `AWX_TOKEN` is not set"),
        "{stdout}"
    );
    // A diagnostic pointing at the reference in the YAML (docs/reference.md §1.2).
    assert!(
        stderr.contains("appform::config::unresolved_credential"),
        "{stderr}"
    );
    assert!(stderr.contains("appform.yaml:6:16]"), "{stderr}");
}

#[test]
fn the_json_plan_has_the_spec_fields() {
    let world = AwxWorld::new();
    world.write_config("", &format!("{GRAFANA}{CLI}"));
    assert_eq!(apply(&world, &[]).status.code(), Some(0));
    world.write_config(
        "",
        &format!("{}{CLI}", GRAFANA.replace("Grafana SSO", "SSO")),
    );
    let out = world.cmd(&["plan", "--format", "json"]).output().unwrap();
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        keys(&plan),
        [
            "format_version",
            "appform_version",
            "config_digest",
            "servers",
            "summary",
            "blocked",
            "instances"
        ]
    );
    assert_eq!(plan["format_version"], 1);
    assert!(
        plan["config_digest"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    let server = &plan["servers"][0];
    for k in [
        "server",
        "kind",
        "url",
        "update_style",
        "error",
        "unmanaged",
        "changes",
    ] {
        assert!(server.get(k).is_some(), "server.{k} missing");
    }
    assert_eq!(server["server"], "awx-test");
    assert_eq!(server["kind"], "awx");
    assert_eq!(server["update_style"], "partial");
    let change = &server["changes"][0];
    // The keys of docs/reference.md in its order, then the organization (an extension).
    assert_eq!(
        keys(change),
        [
            "app",
            "action",
            "reason",
            "before_fingerprint",
            "fields",
            "organization"
        ]
    );
    assert_eq!(change["organization"], "Default");
    assert_eq!(change["action"], "update");
    assert_eq!(change["reason"], "fields_differ");
    assert!(
        change["before_fingerprint"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    let field = &change["fields"][0];
    assert_eq!(
        keys(field),
        [
            "field",
            "before",
            "after",
            "forces_replacement",
            "carried",
            "sensitive"
        ]
    );
    assert_eq!(field["field"], "description");
    assert_eq!(field["before"], "Grafana SSO");
    assert_eq!(field["after"], "SSO");
    assert_eq!(
        plan["summary"],
        serde_json::json!({"create": 0, "update": 1, "replace": 0, "delete": 0, "noop": 1, "unmanaged": 0})
    );
    assert_eq!(plan["blocked"], serde_json::json!([]));
    assert_eq!(
        plan["instances"],
        serde_json::json!({"in_sync": 0, "drifted": 1, "failed": 0})
    );
}

#[test]
fn a_saved_plan_is_applied_exactly_or_refused_when_stale() {
    let world = AwxWorld::new();
    world.write_config("", CLI);
    let plan_file = world.path("plan.json");
    let p = plan_file.to_str().unwrap();
    assert_eq!(
        world
            .cmd(&["plan", "--out", p])
            .output()
            .unwrap()
            .status
            .code(),
        Some(0)
    );
    let out = world.cmd(&["apply", p]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    world.assert_converged();

    // The server moves between plan and apply: nothing is written.
    world.write_config("", &format!("{CLI}          description: the CLI\n"));
    assert_eq!(
        world
            .cmd(&["plan", "--out", p])
            .output()
            .unwrap()
            .status
            .code(),
        Some(0)
    );
    world
        .sim
        .set_app_field("ops-cli", "skip_authorization", Value::Bool(true));
    world.sim.clear_requests();
    let out = world.cmd(&["apply", p]).output().unwrap();
    let (_, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("stale plan") && stderr.contains("awx-test/ops-cli"),
        "{stderr}"
    );
    assert!(world.writes().is_empty());

    // The config moves: refused before reading the servers.
    world.write_config("", &format!("{CLI}          description: changed again\n"));
    let out = world.cmd(&["apply", p]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(texts(&out).1.contains("the configuration changed"));
}

#[test]
fn the_policy_blocks_plan_and_apply_unless_forced() {
    let world = AwxWorld::new();
    world.sim.seed_apps("old-", 3);
    let absent: String = (0..3)
        .map(|i| {
            format!(
                "        old-{i:03}:\n          organization: Default\n          ensure: absent\n"
            )
        })
        .collect();
    std::fs::write(world.path("policy.yaml"), "policy:\n  max_deletes: 2\n").unwrap();
    world.write_config("", &absent);
    let plan = world.cmd(&["plan"]).output().unwrap();
    assert_eq!(plan.status.code(), Some(3));
    assert!(texts(&plan).0.contains(
        "policy.max_deletes: 3 deletions and replacements planned, more than the 2 allowed"
    ));
    assert!(texts(&plan).0.contains("\nBlocked by policy:\n"));
    let refused = world.cmd(&["apply", "--auto-approve"]).output().unwrap();
    assert_eq!(refused.status.code(), Some(3));
    assert!(!texts(&refused).0.contains("overridden"));
    assert!(world.writes().is_empty());
    // The JSON report of a refusal: error.kind `policy`, nothing attempted.
    let refused = world
        .cmd(&["apply", "--auto-approve", "--format", "json"])
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&refused);
    assert_eq!(refused.status.code(), Some(3), "{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(v["error"]["kind"], "policy", "{v}");
    assert_eq!(v["status"], "stopped");
    assert_eq!(v["summary"]["not_attempted"], 3, "{}", v["summary"]);
    assert_eq!(v["summary"]["succeeded"], 0);
    assert!(
        v["plan"]["blocked"][0]
            .as_str()
            .unwrap()
            .contains("max_deletes")
    );
    assert!(
        stderr.contains("the plan is blocked by the safety policy"),
        "{stderr}"
    );
    assert!(world.writes().is_empty());
    let forced = world
        .cmd(&["apply", "--auto-approve", "--force"])
        .output()
        .unwrap();
    assert_eq!(forced.status.code(), Some(0), "{:?}", texts(&forced));
    assert!(
        texts(&forced)
            .0
            .contains("Blocked by policy — overridden by --force:\n  - policy.max_deletes"),
        "{}",
        texts(&forced).0
    );
    world.assert_converged();
}

#[test]
fn a_failed_change_does_not_stop_the_others_and_exits_4() {
    let world = AwxWorld::new();
    world.write_config("", CLI);
    assert_eq!(apply(&world, &[]).status.code(), Some(0));
    // The server refuses the create of `ghost` (400), while the update of
    // ops-cli goes through.
    world.sim.reject_creates("ghost");
    world.write_config(
        "",
        &format!("{CLI}          description: kept
        ghost:\n          organization: Default\n          client_type: public\n          authorization_grant_type: password\n"),
    );
    let out = apply(&world, &[]);
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(4), "{stdout}{stderr}");
    assert!(
        stdout.contains("awx-test: ghost (Default) FAILED: POST http://127.0.0.1:")
            && stdout.contains("HTTP 400 Bad Request: Enter a valid URL."),
        "{stdout}"
    );
    assert!(
        stderr.contains("awx-test: ghost (Default) FAILED"),
        "failures are on stderr too: {stderr}"
    );
    assert!(
        stdout.contains("awx-test: ops-cli (Default) updated"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Apply failed: 1 succeeded, 1 failed, 0 not attempted."),
        "{stdout}"
    );
    assert!(!stdout.contains("Apply complete"));
    // A second plan still wants the failed create, and nothing else.
    let (plan, _) = texts(&world.cmd(&["plan"]).output().unwrap());
    assert!(
        plan.contains("Plan: 1 to create, 0 to update, 0 to replace, 0 to delete."),
        "{plan}"
    );
    world.sim.accept_creates();
    assert_eq!(apply(&world, &[]).status.code(), Some(0));
    world.assert_converged();
}

#[test]
fn an_unknown_organization_id_fails_at_plan_time_not_at_apply() {
    let world = AwxWorld::new();
    world.write_config(
        "",
        "        ghost:\n          organization: 99\n          client_type: public\n          authorization_grant_type: password\n",
    );
    let out = world.cmd(&["plan"]).output().unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stdout.contains("organization 99 does not exist on the server"),
        "{stdout}"
    );
    assert!(stderr.contains("ghost:"), "points at the app: {stderr}");
    let out = apply(&world, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        world.writes().is_empty(),
        "nothing was sent: {:?}",
        world.writes()
    );
}

#[test]
fn injected_503s_and_resets_are_retried() {
    let world = AwxWorld::with_faults(appform::sandbox::Faults {
        latency: std::time::Duration::from_millis(2),
        error_rate: 0.2,
        reset_rate: 0.2,
        ..Default::default()
    });
    world.write_config("", CLI);
    let out = world
        .cmd(&["apply", "--auto-approve", "--max-retries", "10"])
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    let out = world
        .cmd(&["plan", "--detailed-exitcode", "--max-retries", "10"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
}

#[test]
fn basic_auth_works_and_a_wrong_password_is_a_clear_401() {
    let world = AwxWorld::new();
    let text = format!(
        "servers:\n  awx-basic:\n    awx:\n      url: {}\n      auth:\n        username: admin\n        password: env:AWX_PASSWORD\n      applications:\n{CLI}",
        world.url()
    );
    std::fs::write(world.path("appform.yaml"), text).unwrap();
    let out = world
        .cmd(&["apply", "--auto-approve"])
        .env("AWX_PASSWORD", "password")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    assert!(world.sim.app_by_name("ops-cli").is_some());
    let out = world
        .cmd(&["plan"])
        .env("AWX_PASSWORD", "wrong")
        .output()
        .unwrap();
    let (stdout, _) = texts(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout.contains("HTTP 401 Unauthorized (check the credentials): Authentication credentials were not provided."), "{stdout}");
    let out = world
        .cmd(&["plan", "--detailed-exitcode"])
        .env("AWX_PASSWORD", "password")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "a second plan is empty: {:?}",
        texts(&out)
    );
}

/// Runs `appform` under `script`, which gives it a terminal, feeding `answer`.
fn on_a_terminal(world: &AwxWorld, args: &str, answer: &str) -> (i32, String) {
    let bin = assert_cmd::cargo::cargo_bin("appform");
    let command = format!("{} {args} -c {}", bin.display(), world.dir.path().display());
    let out = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("AWX_TOKEN", crate::support::AWX_TOKEN)
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(answer.as_bytes())?;
            child.wait_with_output()
        })
        .expect("`script` (util-linux) runs the prompt test");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn on_a_terminal_apply_asks_and_only_yes_proceeds() {
    let world = AwxWorld::new();
    world.write_config("", CLI);
    let (code, screen) = on_a_terminal(&world, "apply", "no\n");
    assert!(
        screen.contains("Do you want to perform these actions? Only 'yes' will be accepted:"),
        "{screen}"
    );
    assert_eq!(code, 1, "{screen}");
    assert!(screen.contains("Apply cancelled."), "{screen}");
    assert!(world.writes().is_empty());
    let (code, screen) = on_a_terminal(&world, "apply", "yes\n");
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("Apply complete: 1 created"), "{screen}");
    world.assert_converged();
}

#[test]
fn ctrl_c_during_apply_finishes_writes_in_flight_and_starts_no_new_ones() {
    let world = AwxWorld::with_faults(appform::sandbox::Faults {
        latency: std::time::Duration::from_millis(150),
        ..appform::sandbox::Faults::default()
    });
    let apps: String = (0..8)
        .map(|i| format!("        app{i}:\n          organization: 1\n          client_type: public\n          authorization_grant_type: password\n"))
        .collect();
    world.write_config("      max_in_flight: 1\n", &apps);
    let bin = assert_cmd::cargo::cargo_bin("appform");
    let child = std::process::Command::new(bin)
        .args(["apply", "--auto-approve", "-c"])
        .arg(world.dir.path())
        .env("AWX_TOKEN", crate::support::AWX_TOKEN)
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Interrupt once the first create has reached the server.
    let started = std::time::Instant::now();
    while !world.writes().iter().any(|(m, _)| m == "POST") {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "no write started"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(4), "{stdout}{stderr}");
    assert!(
        stderr.contains("Interrupted: finishing the writes in flight"),
        "{stderr}"
    );
    assert!(
        stdout.contains("not attempted: interrupted (Ctrl-C)"),
        "{stdout}"
    );
    let created = world.writes().len();
    assert!((1..8).contains(&created), "{created} creates");
    assert!(
        stdout.contains(&format!(
            "Apply failed: {created} succeeded, 0 failed, {} not attempted.",
            8 - created
        )),
        "{stdout}"
    );
    // Running it again converges.
    assert_eq!(
        world
            .cmd(&["apply", "--auto-approve"])
            .output()
            .unwrap()
            .status
            .code(),
        Some(0)
    );
    world.assert_converged();
}

#[test]
fn an_ambiguous_create_is_looked_up_not_repeated_and_the_lost_secret_is_a_failure() {
    let world = AwxWorld::new();
    world.write_config("", GRAFANA);
    world.sim.lose_next_create_answer();
    let secrets_out = format!("--secrets-out={}", world.path("secrets.json").display());
    let out = world
        .cmd(&["-v", "apply", "--auto-approve", &secrets_out])
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(4), "{stdout}{stderr}");
    let posts = world
        .writes()
        .into_iter()
        .filter(|(m, _)| m == "POST")
        .count();
    assert_eq!(posts, 1, "the create was not sent twice");
    assert!(
        stdout.contains("awx-test: grafana (Default) created, secret lost (client_id "),
        "{stdout}"
    );
    assert!(
        stdout.contains("appform apply --replace 'awx-test/grafana' --allow-replace"),
        "the remedy is named: {stdout}"
    );
    assert!(stdout.contains("Apply failed: 0 succeeded, 1 failed, 0 not attempted."));
    assert!(
        stderr.contains("POST http://127.0.0.1:") && stderr.contains("-> 503"),
        "-v logs the failed POST: {stderr}"
    );
    let secrets: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(world.path("secrets.json")).unwrap())
            .unwrap();
    let entry = &secrets["awx-test/grafana"];
    assert_eq!(entry["secret_lost"], true, "{secrets}");
    assert_eq!(entry["client_secret"], serde_json::Value::Null);
    assert_eq!(
        entry["client_id"],
        world.sim.app_by_name("grafana").unwrap()["client_id"]
    );
    world.assert_converged();
}

#[test]
fn a_lost_secret_is_in_the_json_report() {
    let world = AwxWorld::new();
    world.write_config("", GRAFANA);
    world.sim.lose_next_create_answer();
    let secrets_out = format!("--secrets-out={}", world.path("secrets.json").display());
    let out = world
        .cmd(&["apply", "--auto-approve", "--format", "json", &secrets_out])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let r = &v["results"][0];
    assert_eq!(r["status"], "incomplete", "{v}");
    assert_eq!(r["secret_lost"], true);
    assert_eq!(r["error"]["kind"], "secret_lost");
    assert!(r["client_id"].is_string());
    world.assert_converged();
}

#[test]
fn with_discard_secrets_a_lost_answer_is_just_a_create() {
    let world = AwxWorld::new();
    world.write_config("", GRAFANA);
    world.sim.lose_next_create_answer();
    let out = world
        .cmd(&["apply", "--auto-approve", "--discard-secrets"])
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("Apply complete: 1 created"), "{stdout}");
    world.assert_converged();
}

#[test]
fn the_json_apply_report_has_counts_and_the_servers_that_failed() {
    let world = AwxWorld::new();
    let text = format!(
        "servers:\n  good:\n    awx:\n      url: {url}\n      auth: {{token: env:AWX_TOKEN}}\n      applications:\n{CLI}  down:\n    awx:\n      url: http://127.0.0.1:{port}\n      timeout: 5s\n      auth: {{token: env:AWX_TOKEN}}\n      applications:\n{CLI}",
        url = world.url(),
        port = closed_port()
    );
    std::fs::write(world.path("appform.yaml"), text).unwrap();
    let out = world
        .cmd(&[
            "apply",
            "--auto-approve",
            "--format",
            "json",
            "--max-retries",
            "0",
        ])
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(4), "{stdout}{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    let down = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["server"] == "down")
        .unwrap();
    assert_eq!(down["status"], "failed");
    assert_eq!(down["error"]["kind"], "network", "{down}");
    let good = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["server"] == "good")
        .unwrap();
    assert_eq!(good["status"], "done");
    assert!(good["client_id"].is_string(), "{good}");
    assert_eq!(v["summary"]["created"], 1, "{}", v["summary"]);
    assert_eq!(v["summary"]["servers_failed"], 1);
    assert_eq!(v["summary"]["failed"], 1);
    assert!(
        v["summary"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Apply failed: 1 succeeded, 1 failed")
    );
}

#[test]
fn secrets_out_inside_a_git_work_tree_warns_unless_git_ignores_it() {
    let world = AwxWorld::new();
    world.write_config("", GRAFANA);
    crate::baseline::git(world.dir.path(), &["init", "-q"]);
    let secrets_out = format!("--secrets-out={}", world.path("secrets.json").display());
    let out = world
        .cmd(&["--quiet", "apply", "--auto-approve", &secrets_out])
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stderr.contains("warning: --secrets-out `")
            && stderr.contains("which does not ignore it")
            && stderr.contains(".gitignore"),
        "warned even with --quiet: {stderr}"
    );
    assert!(world.path("secrets.json").exists());

    // Ignored by the repository: no warning.
    std::fs::write(world.path(".gitignore"), ".appform/\nsecrets*.json\n").unwrap();
    world.write_config("", &format!("{GRAFANA}{CLI}"));
    let out = world
        .cmd(&["apply", "--auto-approve", &secrets_out])
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(!stderr.contains("--secrets-out"), "{stderr}");
    world.assert_converged();
}
