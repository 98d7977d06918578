//! Usage-aware deletes (AWX): an application that still has tokens that
//! have not expired is not deleted or replaced unless the reviewed config
//! says so (`allow_delete_in_use: true`), `policy.delete_in_use: warn`, or
//! `--force`; expired tokens do not count.

use serde_json::Value;

use crate::support::{AwxWorld, texts};

const FUTURE: &str = "3026-03-25T04:44:53.412613Z";
const PAST: &str = "2020-01-01T00:00:00.000000Z";

/// A config with `policy` (YAML lines, may be empty) and `applications`.
fn write(world: &AwxWorld, policy: &str, options: &str, applications: &str) {
    std::fs::write(
        world.path("appform.yaml"),
        format!(
            "{policy}servers:\n  awx-test:\n    awx:\n      url: {}\n      auth:\n        token: env:AWX_TOKEN\n{options}      applications:\n{applications}",
            world.url()
        ),
    )
    .unwrap();
}

const KEEP: &str = "        keep:\n          organization: Default\n          client_type: public\n          authorization_grant_type: password\n";

/// `plan --format json --detailed-exitcode`: the exit code and the plan.
pub(crate) fn plan_json(world: &AwxWorld) -> (Option<i32>, Value) {
    let out = world
        .cmd(&["plan", "--format", "json", "--detailed-exitcode"])
        .output()
        .unwrap();
    (
        out.status.code(),
        serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{:?}", texts(&out))),
    )
}

#[test]
fn a_pruned_app_with_a_live_token_is_not_deleted_until_the_config_allows_it() {
    let world = AwxWorld::new();
    world.sim.add_app("keep", 1);
    world.sim.add_app("legacy", 1);
    assert!(world.sim.issue_app_token("legacy", FUTURE));
    assert!(world.sim.issue_app_token("legacy", PAST));
    write(&world, "", "      prune: true\n", KEEP);

    // The plan shows it in use (one token: the expired one does not count)
    // and is blocked.
    let (code, plan) = plan_json(&world);
    assert_eq!(code, Some(3), "{plan}");
    let change = &plan["servers"][0]["changes"][0];
    assert_eq!(change["action"], "delete");
    assert_eq!(change["in_use"]["live_tokens"], 1, "{change}");
    assert_eq!(change["in_use"]["until"], FUTURE);
    let blocked = plan["blocked"].to_string();
    assert!(blocked.contains("policy.delete_in_use: awx-test: `legacy (Default)` would be deleted while 1 token issued for it has not expired"), "{blocked}");
    let text = world.cmd(&["plan"]).output().unwrap();
    let (stdout, _) = texts(&text);
    assert!(
        stdout.contains("in use: 1 token not expired, the last valid until 3026-03-25"),
        "{stdout}"
    );
    let markdown = world
        .cmd(&["plan", "--format", "markdown"])
        .output()
        .unwrap();
    let md = texts(&markdown).0;
    assert!(md.contains("delete **`in use: 1 token not expired"), "{md}");

    let metrics = world.path("metrics.prom");
    let out = world
        .cmd(&["plan", "--metrics-out", metrics.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let prom = std::fs::read_to_string(&metrics).unwrap();
    assert!(
        prom.contains("appform_deletes_in_use{command=\"plan\",instance=\"awx-test\"} 1"),
        "{prom}"
    );

    // Apply refuses before any write.
    let out = world.cmd(&["apply", "--auto-approve"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{:?}", texts(&out));
    assert!(world.writes().is_empty(), "{:?}", world.writes());
    assert!(world.sim.app_by_name("legacy").is_some());

    // The reviewed config says so: deleted.
    write(
        &world,
        "",
        "      prune: true\n",
        &format!(
            "{KEEP}        legacy:\n          organization: Default\n          ensure: absent\n          allow_delete_in_use: true\n"
        ),
    );
    let (code, plan) = plan_json(&world);
    assert_eq!(code, Some(2), "{plan}");
    assert_eq!(plan["servers"][0]["changes"][0]["in_use"]["allowed"], true);
    let out = world.cmd(&["apply", "--auto-approve"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    assert!(world.sim.app_by_name("legacy").is_none());
    world.assert_converged();
}

#[test]
fn expired_tokens_do_not_count_and_warn_or_force_let_a_delete_through() {
    // Only expired tokens: not in use.
    let world = AwxWorld::new();
    world.sim.add_app("keep", 1);
    world.sim.add_app("stale", 1);
    assert!(world.sim.issue_app_token("stale", PAST));
    write(&world, "", "      prune: true\n", KEEP);
    let (code, plan) = plan_json(&world);
    assert_eq!(code, Some(2), "{plan}");
    assert_eq!(plan["servers"][0]["changes"][0]["in_use"], Value::Null);
    let out = world.cmd(&["apply", "--auto-approve"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    world.assert_converged();

    // policy.delete_in_use: warn marks it and lets it through.
    let world = AwxWorld::new();
    world.sim.add_app("keep", 1);
    world.sim.add_app("busy", 1);
    assert!(world.sim.issue_app_token("busy", FUTURE));
    write(
        &world,
        "policy:\n  delete_in_use: warn\n",
        "      prune: true\n",
        KEEP,
    );
    let (code, plan) = plan_json(&world);
    assert_eq!(code, Some(2), "{plan}");
    assert_eq!(plan["servers"][0]["changes"][0]["in_use"]["live_tokens"], 1);
    let out = world.cmd(&["apply", "--auto-approve"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    world.assert_converged();

    // --force overrides the block.
    let world = AwxWorld::new();
    world.sim.add_app("keep", 1);
    world.sim.add_app("busy", 1);
    assert!(world.sim.issue_app_token("busy", FUTURE));
    write(&world, "", "      prune: true\n", KEEP);
    let out = world
        .cmd(&["apply", "--auto-approve", "--force"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    assert!(world.sim.app_by_name("busy").is_none());
    world.assert_converged();
}

#[test]
fn the_gateway_kind_reads_the_token_list_the_same_way() {
    let world = crate::world::GatewayWorld::of(
        1,
        |_| appform::sandbox::gateway::GatewayOptions::default(),
        appform::sandbox::Faults::default(),
    );
    world.sim.seed_apps("app-", 2);
    let (legacy, stale) = ("app-000", "app-001");
    assert!(world.sim.issue_app_token(legacy, FUTURE));
    assert!(world.sim.issue_app_token(stale, PAST));
    std::fs::write(
        world.path("appform.yaml"),
        format!(
            "servers:\n  gw:\n    gateway:\n      url: {}\n      auth:\n        token: env:GATEWAY_TOKEN\n      prune: true\n      applications: {{}}\n",
            world.url()
        ),
    )
    .unwrap();
    let out = world
        .cmd(&["plan", "--format", "json", "--detailed-exitcode"])
        .output()
        .unwrap();
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(3), "{plan}");
    let in_use: Vec<_> = plan["servers"][0]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["app"].as_str().unwrap().to_string(),
                c["in_use"]["live_tokens"].clone(),
            )
        })
        .collect();
    assert_eq!(
        in_use,
        [
            (legacy.to_string(), serde_json::json!(1)),
            (stale.to_string(), Value::Null)
        ]
    );
}

/// RFC 3339 time `days` ago.
pub(crate) fn days_ago(days: u64) -> String {
    humantime::format_rfc3339_micros(
        std::time::SystemTime::now() - std::time::Duration::from_secs(days * 86_400),
    )
    .to_string()
}

#[test]
fn a_confidential_app_older_than_rotate_after_is_due_and_a_replacement_rotates_it() {
    let world = AwxWorld::new();
    let app = "        grafana:\n          organization: Default\n          client_type: confidential\n          authorization_grant_type: password\n";
    let young = "        young:\n          organization: Default\n          client_type: confidential\n          authorization_grant_type: password\n          rotate_after: 1y\n";
    write(
        &world,
        "",
        "      rotate_after: 90d\n",
        &format!("{app}{young}"),
    );
    let secrets = format!("--secrets-out={}", world.path("secrets.json").display());
    let out = world
        .cmd(&["apply", "--auto-approve", &secrets])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    let old_id = world.sim.app_by_name("grafana").unwrap()["client_id"].clone();
    let created = days_ago(200);
    assert!(
        world
            .sim
            .set_app_field("grafana", "created", Value::from(created.clone()))
    );
    assert!(
        world
            .sim
            .set_app_field("young", "created", Value::from(created.clone()))
    );

    // Due (90d), not the one whose own rotate_after is a year; no change.
    let out = world
        .cmd(&["plan", "--fail-on", "rotation"])
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert!(stdout.contains("Rotation due:"), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "awx-test: grafana (Default): rotation due (created {}, 200 days ago; rotate_after 90d)",
            &created[..10]
        )),
        "{stdout}"
    );
    assert!(
        !stdout.contains("young (Default): rotation due"),
        "{stdout}"
    );
    assert!(stdout.contains("No changes."), "{stdout}");
    let out = world
        .cmd(&["plan", "--format", "json", "--detailed-exitcode"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "a due rotation is not a change");
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["servers"][0]["rotation_due"][0]["age_days"], 200);
    let metrics = world.path("metrics.prom");
    world
        .cmd(&["plan", "--metrics-out", metrics.to_str().unwrap()])
        .output()
        .unwrap();
    let prom = std::fs::read_to_string(&metrics).unwrap();
    let created_at = humantime::parse_rfc3339_weak(&created)
        .unwrap()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(
        prom.contains(&format!("appform_application_created_timestamp_seconds{{command=\"plan\",instance=\"awx-test\",application=\"grafana (Default)\"}} {created_at}")),
        "{prom}"
    );

    // The remedy the plan names: a new client id and secret, delivered.
    let out = world
        .cmd(&[
            "apply",
            "--auto-approve",
            "--replace",
            "awx-test/grafana",
            "--allow-replace",
            &secrets,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    let new = world.sim.app_by_name("grafana").unwrap();
    assert_ne!(new["client_id"], old_id);
    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(world.path("secrets.json")).unwrap())
            .unwrap();
    assert_eq!(file["awx-test/grafana"]["client_id"], new["client_id"]);
    let out = world
        .cmd(&["plan", "--fail-on", "rotation"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    world.assert_converged();
}

#[test]
fn rotate_after_is_refused_where_the_server_makes_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("c.yaml"),
        "servers:\n  whm:\n    whm:\n      url: https://whm.example.com:2087\n      auth: {username: root, token: env:WHM_TOKEN}\n      rotate_after: 90d\n      applications: {}\n",
    )
    .unwrap();
    let out = crate::support::appform()
        .args(["validate", "--format", "json", "-c"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let message = report["problems"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("`rotate_after` on a whm server") && message.contains("nothing to rotate"),
        "{message}"
    );
}
