//! Day-2 operations: `plan --authoritative` for a drift check that sees
//! hand-set fields, and `--metrics-out` for the drift cron (checked with the
//! real Prometheus parser, `prometheus_client`, when installed).

use serde_json::Value;

use crate::support::{AwxWorld, texts};

const APP: &str = "        ops-cli:\n          organization: Default\n          client_type: public\n          authorization_grant_type: password\n";

#[test]
fn plan_authoritative_shows_hand_set_fields_for_this_plan_only() {
    let world = AwxWorld::new();
    world.write_config("", APP);
    let out = world.cmd(&["apply", "--auto-approve"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    // Someone sets a field the config leaves out, by hand.
    assert!(
        world
            .sim
            .set_app_field("ops-cli", "skip_authorization", Value::Bool(true))
    );
    world.assert_converged();
    let out = world
        .cmd(&["plan", "--authoritative", "--detailed-exitcode"])
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert!(
        stdout.contains("skip_authorization = true -> false"),
        "{stdout}"
    );
    // Not saved for apply, and apply does not do it.
    let out = world
        .cmd(&["plan", "--authoritative", "--out"])
        .arg(world.path("p.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "refused with --out");
    let out = world.cmd(&["apply", "--auto-approve"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    assert!(
        world.writes().iter().all(|(m, _)| m != "PATCH"),
        "{:?}",
        world.writes()
    );
    assert_eq!(
        world.sim.app_by_name("ops-cli").unwrap()["skip_authorization"],
        true
    );
}

/// `python3` of the linters' venv (where `.ci/run` installs
/// `prometheus-client`), or `None` outside CI when it is not there.
fn prometheus_python() -> Option<std::path::PathBuf> {
    let python =
        std::env::var_os("APPFORM_LINT_BIN").map(|d| std::path::PathBuf::from(d).join("python3"));
    let ok = python.as_ref().is_some_and(|p| {
        std::process::Command::new(p)
            .args(["-c", "import prometheus_client"])
            .status()
            .is_ok_and(|s| s.success())
    });
    if ok {
        return python;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "prometheus-client is not installed: .ci/run installs it into target/lint-venv"
    );
    eprintln!(
        "SKIPPED: the Prometheus parser check (pip install prometheus-client, set APPFORM_LINT_BIN)"
    );
    None
}

#[test]
fn metrics_are_prometheus_text_with_the_plans_counts_and_no_secret() {
    let world = AwxWorld::new();
    world.sim.seed_demo();
    world.write_config("", APP);
    let metrics = world.path("appform.prom");
    let out = world
        .cmd(&["plan", "--metrics-out", metrics.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    let text = std::fs::read_to_string(&metrics).unwrap();
    assert!(
        text.contains(
            "appform_changes{command=\"plan\",instance=\"awx-test\",action=\"create\"} 1"
        ),
        "{text}"
    );
    assert!(
        text.contains("appform_instance_planned{command=\"plan\",instance=\"awx-test\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("appform_run_success{command=\"plan\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("appform_last_success_timestamp_seconds{command=\"plan\"}"),
        "{text}"
    );
    assert!(
        !text.contains(crate::support::AWX_TOKEN) && !text.contains("password"),
        "{text}"
    );
    // A failed run keeps the time of the last success.
    let last = |t: &str| {
        t.lines()
            .find(|l| l.starts_with("appform_last_success_timestamp_seconds"))
            .map(str::to_string)
    };
    let before = last(&text);
    let out = world
        .cmd(&["plan", "--metrics-out", metrics.to_str().unwrap()])
        .env("AWX_TOKEN", "wrong")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let failed = std::fs::read_to_string(&metrics).unwrap();
    assert!(
        failed.contains("appform_run_success{command=\"plan\"} 0"),
        "{failed}"
    );
    assert!(
        failed.contains("appform_instance_planned{command=\"plan\",instance=\"awx-test\"} 0"),
        "{failed}"
    );
    assert_eq!(last(&failed), before);
    // The real parser reads it.
    let Some(python) = prometheus_python() else {
        return;
    };
    let parsed = std::process::Command::new(&python)
        .args([
            "-c",
            "import sys\nfrom prometheus_client.parser import text_string_to_metric_families as p\nfams = list(p(open(sys.argv[1]).read()))\nprint(sum(len(f.samples) for f in fams))",
        ])
        .arg(&metrics)
        .output()
        .unwrap();
    assert!(
        parsed.status.success(),
        "{}",
        String::from_utf8_lossy(&parsed.stderr)
    );
    let samples: usize = String::from_utf8_lossy(&parsed.stdout)
        .trim()
        .parse()
        .unwrap();
    assert!(samples >= 7, "{samples}");
    // And refuses a broken one (the check can fail).
    std::fs::write(&metrics, "appform_changes{instance=\"x\" 1\n").unwrap();
    let parsed = std::process::Command::new(&python)
        .args(["-c", "import sys\nfrom prometheus_client.parser import text_string_to_metric_families as p\nlist(p(open(sys.argv[1]).read()))"])
        .arg(&metrics)
        .output()
        .unwrap();
    assert!(!parsed.status.success());
}
