//! WHM fleets: one config, many hosts (`urls:`), planned and applied in
//! parallel; each host's drift shown on its own; one failing host never stops
//! the others; `data` compared as JSON and saved whole.

use appform::sandbox::Faults;
use appform::sandbox::Simulator as _;
use appform::sandbox::whm::WhmOptions;
use serde_json::{Value, json};

use crate::support::texts;
use crate::world::WhmWorld;

const BILLING: &str = "        billing:\n          data:\n            token_name: Billing API Token\n            jwt:\n              iss: https://billing.example.com\n              scope: [admin:users]\n";
const MONITORING: &str = "        monitoring:\n          data:\n            token_name: Monitoring\n            jwt: {iss: https://monitoring.example.com, scope: [read]}\n";

fn billing() -> Value {
    json!({"token_name": "Billing API Token", "jwt": {"iss": "https://billing.example.com", "scope": ["admin:users"]}})
}

fn monitoring() -> Value {
    json!({"token_name": "Monitoring", "jwt": {"iss": "https://monitoring.example.com", "scope": ["read"]}})
}

#[test]
fn a_fleet_with_different_drift_is_planned_per_host_and_converged_where_reachable() {
    // Host 5 rejects the token.
    let fleet = WhmWorld::of(
        6,
        |i| WhmOptions {
            seed: i as u64 + 1,
            users: if i == 5 {
                [(
                    "root".to_string(),
                    vec![("another-token".to_string(), "x".to_string())],
                )]
                .into_iter()
                .collect()
            } else {
                WhmOptions::default().users
            },
        },
        Faults::default(),
    );
    for (i, sim) in fleet.sims.iter().enumerate() {
        match i {
            0 => {
                sim.put("root", "billing", billing());
                sim.put("root", "monitoring", monitoring());
            }
            // 1: both apps missing
            2 => {
                let mut b = billing();
                b["jwt"]["iss"] = json!("https://old.example.com");
                sim.put("root", "billing", b);
                sim.put("root", "monitoring", monitoring());
            }
            3 => {
                let mut b = billing();
                b["private_key"] = json!("billing-2024");
                sim.put("root", "billing", b);
                sim.put("root", "monitoring", monitoring());
            }
            4 => {
                sim.put("root", "billing", billing());
                sim.put("root", "monitoring", monitoring());
                sim.put("root", "legacy", json!({"token_name": "Legacy"}));
            }
            _ => {}
        }
    }
    fleet.write_config("", &format!("{BILLING}{MONITORING}"));
    let bad_instance = fleet.instance(5);

    let out = fleet.cmd(&["plan"]).output().unwrap();
    let (stdout, _) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "a host failed: {stdout}");
    let section = |instance: &str| -> String {
        let start = stdout
            .find(&format!("{instance} (whm,"))
            .unwrap_or_else(|| panic!("no section for {instance}: {stdout}"));
        let rest = &stdout[start..];
        rest[..rest.find("\n\n").unwrap_or(rest.len())].to_string()
    };
    assert!(
        !stdout.contains(&format!("{} (whm,", fleet.instance(0))),
        "in sync: not listed"
    );
    let s1 = section(&fleet.instance(1));
    assert!(
        s1.contains("+ billing") && s1.contains("+ monitoring"),
        "{s1}"
    );
    let s2 = section(&fleet.instance(2));
    assert!(s2.contains("~ billing                 will be updated (full replace: 1 of 2 fields changes, 1 carried over)"), "{s2}");
    assert!(
        s2.contains("-   \"iss\": \"https://old.example.com\"")
            && s2.contains("+   \"iss\": \"https://billing.example.com\""),
        "{s2}"
    );
    assert!(
        !stdout.contains(&format!("{} (whm,", fleet.instance(3))),
        "an undeclared key is carried, not a change"
    );
    let s4 = section(&fleet.instance(4));
    assert!(
        s4.contains("1 unmanaged application not in config (prune is off): legacy"),
        "{s4}"
    );
    let s5 = section(&bad_instance);
    assert!(
        s5.contains("error:")
            && s5.contains("HTTP 401 Unauthorized (check the username and token or password)"),
        "{s5}"
    );
    assert!(
        stdout.contains("Instances: 3 in sync, 2 with changes, 1 failed."),
        "{stdout}"
    );

    let json = fleet.cmd(&["plan", "--format", "json"]).output().unwrap();
    let plan: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(
        plan["instances"],
        json!({"in_sync": 3, "drifted": 2, "failed": 1})
    );
    assert_eq!(plan["servers"].as_array().unwrap().len(), 6 - 1 + 1);

    let md = fleet
        .cmd(&["plan", "--format", "markdown"])
        .output()
        .unwrap();
    let (md, _) = texts(&md);
    assert!(
        md.starts_with("<!-- appform-plan -->\n**1 server could not be planned.** **Plan on the others: 2 to create, 1 to update"),
        "the failure comes first: {md}"
    );
    assert_eq!(
        md.matches("<details").count(),
        3,
        "two drifted hosts and the failed one: {md}"
    );
    assert_eq!(
        md.matches("<details open>").count(),
        1,
        "the failed one is open: {md}"
    );

    let out = fleet.cmd(&["apply", "--auto-approve"]).output().unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(
        out.status.code(),
        Some(4),
        "some succeeded, one host failed: {stdout}{stderr}"
    );
    assert!(
        stdout.contains("Apply failed: 3 succeeded, 1 failed, 0 not attempted."),
        "{stdout}"
    );
    assert_eq!(fleet.sims[1].app("root", "monitoring"), Some(monitoring()));
    assert_eq!(fleet.sims[2].app("root", "billing"), Some(billing()));
    assert_eq!(
        fleet.sims[3].app("root", "billing").unwrap()["private_key"],
        "billing-2024",
        "carried over"
    );
    assert_eq!(
        fleet.sims[4].app("root", "legacy"),
        Some(json!({"token_name": "Legacy"})),
        "unmanaged: untouched"
    );

    // A second plan of the reachable hosts is empty; --server globs match instances.
    let mut args = vec!["plan", "--detailed-exitcode"];
    let names: Vec<String> = (0..5).map(|i| fleet.instance(i)).collect();
    for n in &names {
        args.push("--server");
        args.push(n);
    }
    let out = fleet.cmd(&args).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    let glob = fleet
        .cmd(&[
            "plan",
            "--server",
            "whm-fleet@127.0.0.1:*",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let plan: Value = serde_json::from_slice(&glob.stdout).unwrap();
    assert_eq!(plan["servers"].as_array().unwrap().len(), 6);
}

#[test]
fn saves_carry_undeclared_keys_unless_authoritative() {
    let fleet = WhmWorld::fleet(1, Faults::default());
    let mut live = billing();
    live["private_key"] = json!("billing-2024");
    live["jwt"]["iss"] = json!("https://old.example.com");
    fleet.sims[0].put("root", "billing", live);
    fleet.write_config("", BILLING);
    let out = fleet.cmd(&["apply", "--auto-approve"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    let saves = fleet.saves(0);
    assert_eq!(saves.len(), 1);
    assert_eq!(
        saves[0]["data"]["private_key"], "billing-2024",
        "an undeclared live key is carried over"
    );
    assert_eq!(
        saves[0]["data"]["jwt"]["iss"],
        "https://billing.example.com"
    );
    assert_eq!(saves[0]["name"], "billing");
    assert!(
        fleet
            .cmd(&["plan", "--detailed-exitcode"])
            .output()
            .unwrap()
            .status
            .success()
    );

    fleet.write_config("      authoritative: true\n", BILLING);
    let (stdout, _) = texts(&fleet.cmd(&["plan"]).output().unwrap());
    assert!(
        stdout
            .contains("~ data.private_key = (sensitive: not in the config, 12 characters) -> null"),
        "the plan shows the drop: {stdout}"
    );
    fleet.sims[0].clear_requests();
    let out = fleet.cmd(&["apply", "--auto-approve"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    let saves = fleet.saves(0);
    assert!(
        saves[0]["data"].get("private_key").is_none(),
        "dropped: {}",
        saves[0]
    );
    assert_eq!(fleet.sims[0].app("root", "billing"), Some(billing()));
    let out = fleet
        .cmd(&["plan", "--detailed-exitcode"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
}

#[test]
fn a_shuffled_list_order_never_makes_a_diff() {
    let fleet = WhmWorld::fleet(1, Faults::default());
    let mut apps = String::new();
    for i in 0..30 {
        let data =
            json!({"token_name": format!("t{i}"), "ips": [format!("10.0.0.{i}"), "10.0.1.1"]});
        fleet.sims[0].put("root", &format!("app{i:02}"), data);
        apps.push_str(&format!(
            "        app{i:02}:\n          data: {{ips: [\"10.0.0.{i}\", \"10.0.1.1\"], token_name: t{i}}}\n"
        ));
    }
    fleet.write_config("", &apps);
    for _ in 0..5 {
        let out = fleet
            .cmd(&["plan", "--detailed-exitcode"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    }
    // Array order is kept: a reordered list is a change.
    fleet.write_config(
        "",
        &apps.replace(
            "[\"10.0.0.3\", \"10.0.1.1\"]",
            "[\"10.0.1.1\", \"10.0.0.3\"]",
        ),
    );
    assert_eq!(
        fleet
            .cmd(&["plan", "--detailed-exitcode"])
            .output()
            .unwrap()
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn a_result_0_answer_is_an_error_with_the_servers_reason() {
    let fleet = WhmWorld::fleet(1, Faults::default());
    fleet.write_config("", BILLING);
    fleet.sims[0].fail_saves("The connected applications file is locked.");
    let out = fleet.cmd(&["apply", "--auto-approve"]).output().unwrap();
    let (stdout, _) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "nothing succeeded: {stdout}");
    assert!(
        stdout.contains("billing FAILED: POST http://127.0.0.1:")
            && stdout.contains("WHM result 0: API failure: (XID sbx00001) The connected applications file is locked."),
        "{stdout}"
    );
}

#[test]
fn requests_are_json_with_the_api_version_in_the_body() {
    let fleet = WhmWorld::fleet(2, Faults::default());
    fleet.sims[1].put("root", "monitoring", monitoring());
    fleet.write_config(
        "",
        &format!("{BILLING}        monitoring:\n          ensure: absent\n"),
    );
    let out = fleet.cmd(&["apply", "--auto-approve"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    let mut functions = Vec::new();
    for sim in &fleet.sims {
        for r in sim.requests() {
            assert_eq!(r.method, "POST");
            assert_eq!(
                r.content_type.as_deref(),
                Some("application/json"),
                "exactly application/json: {r:?}"
            );
            let body = r.body.as_ref().unwrap();
            assert_eq!(body["api.version"], 1, "{r:?}");
            let (function, query) = r
                .path
                .trim_start_matches("/json-api/")
                .split_once('?')
                .unwrap();
            assert_eq!(query, "api.version=1", "{r:?}");
            functions.push(function.to_string());
        }
    }
    for f in [
        "list_connected_applications",
        "save_connected_application",
        "fetch_connected_application",
        "remove_connected_application",
    ] {
        assert!(
            functions.iter().any(|x| x == f),
            "{f} was never called: {functions:?}"
        );
    }
    assert!(fleet.sims[1].app("root", "monitoring").is_none());
    let out = fleet
        .cmd(&["plan", "--detailed-exitcode"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
}

#[test]
fn form_mode_data_breaks_every_list_as_the_contract_says() {
    let fleet = WhmWorld::fleet(1, Faults::default());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = reqwest::Client::new();
    let url = fleet.urls()[0].clone();
    let post = |ct: &'static str, body: String, function: &str| {
        rt.block_on(async {
            client
                .post(format!("{url}/json-api/{function}"))
                .header("Authorization", "whm root:sandbox-whm-token")
                .header("Content-Type", ct)
                .body(body)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        })
    };
    // A charset parameter is not JSON mode: `data` arrives as a string.
    let saved = post(
        "application/json; charset=utf-8",
        "api.version=1&name=x&data=%7B%7D".into(),
        "save_connected_application",
    );
    assert_eq!(saved["metadata"]["result"], 1);
    let listed = post(
        "application/json",
        json!({"api.version": 1}).to_string(),
        "list_connected_applications",
    );
    assert_eq!(listed["metadata"]["result"], 0);
    assert!(
        listed["metadata"]["reason"]
            .as_str()
            .unwrap()
            .starts_with("API failure: (XID ")
    );
    // And appform reports it instead of planning from nothing.
    fleet.write_config("", BILLING);
    let out = fleet.cmd(&["plan"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        texts(&out).0.contains("Not a HASH reference"),
        "{}",
        texts(&out).0
    );
}

/// whm.md §8: the server masks nothing in `data`, so appform does: a
/// secret-named key (`data.client_secret`) and secret-named keys nested in an
/// object (`data.jwt.secret`) never appear in a text, JSON or markdown plan,
/// nor in apply's output, while the server receives the real values.
#[test]
fn secret_named_data_keys_are_never_shown_but_are_written() {
    let fleet = WhmWorld::fleet(1, Faults::default());
    fleet.write_config(
        "",
        "        partner:\n          data:\n            token_name: Partner\n            client_secret: env-not-needed-s3cr3t-one\n            jwt: {iss: https://partner.example.com, secret: nested-s3cr3t-two}\n",
    );
    for format in ["text", "json", "markdown"] {
        let out = fleet.cmd(&["plan", "--format", format]).output().unwrap();
        let (stdout, stderr) = texts(&out);
        assert!(stdout.contains("client_secret"), "{format}: {stdout}");
        assert!(stdout.contains("(sensitive)"), "{format}: {stdout}");
        for secret in ["s3cr3t-one", "s3cr3t-two"] {
            assert!(
                !stdout.contains(secret),
                "{format} shows {secret}: {stdout}"
            );
            assert!(
                !stderr.contains(secret),
                "{format} shows {secret}: {stderr}"
            );
        }
    }
    let out = fleet
        .cmd(&["apply", "--auto-approve", "-vv"])
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    for secret in ["s3cr3t-one", "s3cr3t-two"] {
        assert!(!stdout.contains(secret), "{stdout}");
        assert!(!stderr.contains(secret), "{stderr}");
    }
    let stored = fleet.sims[0].app("root", "partner").unwrap();
    assert_eq!(stored["client_secret"], "env-not-needed-s3cr3t-one");
    assert_eq!(stored["jwt"]["secret"], "nested-s3cr3t-two");
    // A changed secret shows as a change, without either value.
    fleet.write_config(
        "",
        "        partner:\n          data:\n            token_name: Partner\n            client_secret: rotated-s3cr3t-three\n            jwt: {iss: https://partner.example.com, secret: nested-s3cr3t-two}\n",
    );
    let out = fleet
        .cmd(&["plan", "--detailed-exitcode"])
        .output()
        .unwrap();
    let (stdout, _) = texts(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(
        stdout.contains("~ data.client_secret = (sensitive) -> (sensitive)"),
        "{stdout}"
    );
    assert!(!stdout.contains("s3cr3t"), "{stdout}");
    let out = fleet.cmd(&["apply", "--auto-approve"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    let out = fleet
        .cmd(&["plan", "--detailed-exitcode"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
}
