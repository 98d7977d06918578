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

fn plan_json(world: &AwxWorld) -> (Option<i32>, Value) {
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
