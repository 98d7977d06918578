//! `export` (planning an exported config shows no changes), `--shard`
//! (disjoint shards that cover the fleet) and `report` (merging shard plans).

use serde_json::{Value, json};

use crate::support::{AwxWorld, TppWorld, appform, texts};
use crate::world::WhmWorld;

fn plan_file(path: &std::path::Path, env: (&str, &str)) -> std::process::Output {
    appform()
        .args(["plan", "--detailed-exitcode", "-c"])
        .arg(path)
        .env(env.0, env.1)
        .env("TPP_PASSWORD", "password")
        .output()
        .unwrap()
}

/// The `auth:` block of an exported file.
fn auth_block(text: &str) -> &str {
    let start = text.find("auth:").unwrap();
    let end = text[start..].find("applications:").unwrap();
    &text[start..start + end]
}

#[test]
fn an_exported_awx_config_plans_no_changes() {
    let world = AwxWorld::new();
    world.sim.seed_demo();
    let second = world.sim.add_organization("Second");
    world.sim.seed_apps("bulk-", 3);
    // The same name in two organizations.
    world.write_config(
        "",
        &format!("        dup:\n          organization: {second}\n          client_type: public\n          authorization_grant_type: password\n        dup-default:\n          name: dup\n          organization: Default\n          client_type: public\n          authorization_grant_type: password\n"),
    );
    assert_eq!(
        world
            .cmd(&["apply", "--auto-approve"])
            .output()
            .unwrap()
            .status
            .code(),
        Some(0)
    );
    let out_dir = tempfile::tempdir().unwrap();
    let exported = out_dir.path().join("awx.yaml");
    let out = world
        .cmd(&[
            "export",
            "--server",
            "awx-test",
            "--output",
            exported.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    let text = std::fs::read_to_string(&exported).unwrap();
    assert!(
        text.contains("token: env:AWX_TOKEN"),
        "credentials stay references: {text}"
    );
    assert!(
        !text.contains("client_secret") && !text.contains(crate::support::AWX_TOKEN),
        "{text}"
    );
    assert!(
        text.contains("dup@org1:") && text.contains("dup@org2:"),
        "{text}"
    );
    let plan = plan_file(&exported, ("AWX_TOKEN", crate::support::AWX_TOKEN));
    let (stdout, stderr) = texts(&plan);
    assert_eq!(plan.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("No changes."), "{stdout}");
}

#[test]
fn an_exported_tpp_config_plans_no_changes() {
    let world = TppWorld::new();
    world.sim.seed_demo();
    world
        .sim
        .set_app_field("vault-pki", "AccessValidity", json!(3600));
    world.write_config("", "");
    let out_dir = tempfile::tempdir().unwrap();
    let exported = out_dir.path().join("tpp.yaml");
    let out = world
        .cmd(&[
            "export",
            "--server",
            "tpp-test",
            "--output",
            exported.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    let text = std::fs::read_to_string(&exported).unwrap();
    assert!(text.contains("access_validity: 1h"), "{text}");
    assert!(
        !auth_block(&text).contains("scope"),
        "a scope the config did not set is not invented: {text}"
    );
    let plan = plan_file(&exported, ("TPP_TOKEN", "sandbox-tpp-token"));
    let (stdout, stderr) = texts(&plan);
    assert_eq!(plan.status.code(), Some(0), "{stdout}{stderr}");
}

/// A fleet of `hosts` WHM hosts (demo apps on every other one) and a config
/// `fleet.yaml` naming them all as server `fleet`.
fn whm_fleet(hosts: usize) -> WhmWorld {
    let world = WhmWorld::fleet(hosts, appform::sandbox::Faults::default());
    for sim in world.sims.iter().step_by(2) {
        sim.seed_demo();
    }
    let urls: String = world
        .urls()
        .iter()
        .map(|u| format!("        - {u}\n"))
        .collect();
    std::fs::write(
        world.path("fleet.yaml"),
        format!("servers:\n  fleet:\n    whm:\n      urls:\n{urls}      auth: {{username: root, token: env:WHM_TOKEN}}\n      applications:\n        billing:\n          data: {{token_name: Billing API Token, jwt: {{iss: https://billing.example.com}}}}\n"),
    )
    .unwrap();
    world
}

#[test]
fn an_exported_whm_instance_plans_no_changes_and_a_fleet_must_name_one() {
    let fleet = whm_fleet(2);
    let dir = &fleet.dir;
    let out = appform()
        .args(["export", "--server", "fleet", "-c"])
        .arg(dir.path())
        .env("WHM_TOKEN", "sandbox-whm-token")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        texts(&out)
            .1
            .contains("has 2 instances; export one of them"),
        "{:?}",
        texts(&out)
    );
    let instance = format!("fleet@{}", fleet.urls()[0].trim_start_matches("http://"));
    let out = appform()
        .args(["export", "--server", &instance, "-c"])
        .arg(dir.path())
        .env("WHM_TOKEN", "sandbox-whm-token")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    let export_dir = tempfile::tempdir().unwrap();
    std::fs::write(export_dir.path().join("whm.yaml"), &out.stdout).unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.contains("public_key: AAF6253E6A1225324305623EE") && !text.contains("billing-2023"),
        "undeclared keys are exported, secrets never: {text}"
    );
    assert!(
        texts(&out)
            .1
            .contains("`billing`: `data.private_key` looks like a secret"),
        "{:?}",
        texts(&out)
    );
    let plan = plan_file(export_dir.path(), ("WHM_TOKEN", "sandbox-whm-token"));
    assert_eq!(plan.status.code(), Some(0), "{:?}", texts(&plan));
}

#[test]
fn shards_split_a_fleet_and_report_merges_them_back() {
    let fleet = whm_fleet(9);
    let dir = &fleet.dir;
    let run = |extra: &[&str]| {
        let out = appform()
            .args(["plan", "--format", "json"])
            .args(extra)
            .arg("-c")
            .arg(dir.path())
            .env("WHM_TOKEN", "sandbox-whm-token")
            .output()
            .unwrap();
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let full = run(&[]);
    let mut seen = Vec::new();
    let mut files = Vec::new();
    for i in 1..=3 {
        let file = dir.path().join(format!("shard-{i}.json"));
        let plan = run(&[
            "--shard",
            &format!("{i}/3"),
            "--out",
            file.to_str().unwrap(),
        ]);
        for s in plan["servers"].as_array().unwrap() {
            seen.push(s["server"].as_str().unwrap().to_string());
        }
        files.push(file);
    }
    let mut all: Vec<String> = full["servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["server"].as_str().unwrap().to_string())
        .collect();
    seen.sort();
    all.sort();
    assert_eq!(seen, all, "the shards are disjoint and cover the fleet");

    let out = appform()
        .arg("report")
        .args(&files)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    let merged: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(merged["summary"], full["summary"]);
    assert_eq!(merged["instances"], full["instances"]);
    assert_eq!(merged["config_digest"], full["config_digest"]);
    let out = appform()
        .arg("report")
        .args(&files)
        .args(["--format", "markdown"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("<!-- appform-plan -->"));
    let out = appform().arg("report").args(&files).output().unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Plan: 4 to create, 5 to update"),
        "{:?}",
        texts(&out)
    );
    // The drift alarm reads the merged report's exit code, as `plan`'s.
    let code = |extra: &[&str]| {
        let out = appform()
            .arg("report")
            .args(&files)
            .args(extra)
            .output()
            .unwrap();
        (out.status.code(), texts(&out).1)
    };
    assert_eq!(code(&[]).0, Some(0), "changes alone exit 0");
    assert_eq!(code(&["--detailed-exitcode"]).0, Some(2));
    assert_eq!(code(&["--fail-on", "changes"]).0, Some(2));
    let (status, stderr) = code(&["--fail-on", "drift"]);
    assert_eq!(status, Some(1), "{stderr}");
    assert!(
        stderr.contains("--fail-on drift needs plans made with --baseline"),
        "{stderr}"
    );
    let (status, stderr) = code(&["--fail-on", "changes", "--detailed-exitcode"]);
    assert_eq!(
        status,
        Some(1),
        "conflicting flags are a usage error: {stderr}"
    );

    // The same shard twice is refused.
    let nonempty = files
        .iter()
        .find(|f| {
            let v: Value = serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
            !v["servers"].as_array().unwrap().is_empty()
        })
        .unwrap();
    let out = appform()
        .arg("report")
        .arg(nonempty)
        .arg(nonempty)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        texts(&out).1.contains("appears in more than one plan"),
        "{:?}",
        texts(&out)
    );
    let bad = appform()
        .args(["plan", "--shard", "4/3", "-c"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        bad.status.code(),
        Some(1),
        "a bad --shard is a usage error: exit 1, never 2"
    );
    assert!(
        texts(&bad).1.contains("I must be between 1 and N"),
        "{:?}",
        texts(&bad)
    );
}

/// A first export needs no config: `--kind`, `--url`, `--server` (the name to
/// write) and the credentials as environment variable names.
#[test]
fn export_works_from_a_url_without_a_config() {
    let world = AwxWorld::new();
    world.sim.seed_demo();
    let dir = tempfile::tempdir().unwrap();
    let exported = dir.path().join("awx-new.yaml");
    let out = appform()
        .current_dir(dir.path())
        .args([
            "export",
            "--kind",
            "awx",
            "--url",
            &world.url(),
            "--server",
            "awx-new",
        ])
        .args(["--token-env", "AWX_TOKEN", "--output"])
        .arg(&exported)
        .env("AWX_TOKEN", crate::support::AWX_TOKEN)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    let text = std::fs::read_to_string(&exported).unwrap();
    assert!(
        text.contains("awx-new:") && text.contains("token: env:AWX_TOKEN"),
        "{text}"
    );
    assert!(!text.contains(crate::support::AWX_TOKEN), "{text}");
    let plan = plan_file(&exported, ("AWX_TOKEN", crate::support::AWX_TOKEN));
    assert_eq!(plan.status.code(), Some(0), "{:?}", texts(&plan));

    // TPP with password auth: no scope unless asked for.
    let tpp = TppWorld::new();
    let out = appform()
        .current_dir(dir.path())
        .args([
            "export",
            "--kind",
            "tpp",
            "--url",
            &tpp.url(),
            "--server",
            "tpp-new",
        ])
        .args([
            "--client-id",
            "appform",
            "--username",
            "tppadmin",
            "--password-env",
            "TPP_PASSWORD",
        ])
        .env("TPP_PASSWORD", "password")
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("password: env:TPP_PASSWORD"), "{stdout}");
    assert!(!auth_block(&stdout).contains("scope"), "{stdout}");

    // Bad options are diagnostics, as in a config file.
    let out = appform()
        .args([
            "export",
            "--kind",
            "awx",
            "--url",
            "ftp://x",
            "--server",
            "a",
            "--token-env",
            "T",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        texts(&out).1.contains("appform::config::bad_url"),
        "{:?}",
        texts(&out)
    );
    let out = appform()
        .args(["export", "--url", "https://x", "--server", "a"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "--url needs --kind");
}
