//! "Never lose an application": replacements that the server refuses, runs
//! interrupted halfway through a replacement, creates that meet an app that
//! is already there, organizations in identity and output, a server that dies
//! mid-apply, and listings that move while they are read. Every apply
//! scenario ends with "a second plan is empty".

use appform::sandbox::Simulator as _;
use serde_json::Value;

use crate::support::{AWX_TOKEN, AwxWorld, texts};

const GRAFANA: &str = "        grafana:\n          organization: Default\n          client_type: confidential\n          authorization_grant_type: authorization-code\n          redirect_uris: [https://grafana.example.com/cb]\n          description: Grafana SSO\n";
const CLI: &str = "        ops-cli:\n          organization: Default\n          client_type: public\n          authorization_grant_type: password\n";

fn apply(world: &AwxWorld, extra: &[&str]) -> std::process::Output {
    let secrets = format!("--secrets-out={}", world.path("secrets.json").display());
    let mut args = vec!["apply", "--auto-approve", secrets.as_str()];
    args.extend_from_slice(extra);
    world.cmd(&args).output().unwrap()
}

fn plan(world: &AwxWorld) -> String {
    texts(&world.cmd(&["plan"]).output().unwrap()).0
}

fn client_id(world: &AwxWorld, name: &str) -> Value {
    world.sim.app_by_name(name).unwrap()["client_id"].clone()
}

#[test]
fn a_replacement_whose_create_is_refused_keeps_the_old_application() {
    let world = AwxWorld::new();
    world.write_config("", GRAFANA);
    assert_eq!(apply(&world, &[]).status.code(), Some(0));
    let old_id = client_id(&world, "grafana");

    world.write_config("", &GRAFANA.replace("authorization-code", "password"));
    world.sim.clear_requests();
    world.sim.reject_creates("grafana");
    let out = apply(&world, &["--allow-replace"]);
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stdout.contains("grafana (Default) FAILED: replace failed, old application kept")
            && stdout.contains("Enter a valid URL."),
        "{stdout}"
    );
    let writes: Vec<String> = world.writes().into_iter().map(|(m, _)| m).collect();
    assert_eq!(
        writes,
        ["PATCH", "POST", "PATCH"],
        "aside, refused create, name given back"
    );
    let app = world
        .sim
        .app_by_name("grafana")
        .expect("the old app is there");
    assert_eq!(app["client_id"], old_id, "with its client id");
    assert_eq!(app["authorization_grant_type"], "authorization-code");
    assert_eq!(
        world.sim.app_names().len(),
        1,
        "{:?}",
        world.sim.app_names()
    );

    // The server accepts it now: the next run converges.
    world.sim.accept_creates();
    let out = apply(&world, &["--allow-replace"]);
    assert_eq!(out.status.code(), Some(0), "{}", texts(&out).0);
    assert_ne!(client_id(&world, "grafana"), old_id);
    assert_eq!(world.sim.app_names().len(), 1);
    world.assert_converged();
}

/// Leaves the app `name` as a replacement interrupted right after the move
/// aside would: renamed `<name>~appform-replaced-<id>`.
fn move_aside(world: &AwxWorld, name: &str) -> String {
    let id = world.sim.app_by_name(name).unwrap()["id"].as_u64().unwrap();
    let aside = format!("{name}~appform-replaced-{id}");
    assert!(
        world
            .sim
            .set_app_field(name, "name", Value::String(aside.clone()))
    );
    aside
}

#[test]
fn a_replacement_interrupted_after_the_move_aside_is_resumed() {
    let world = AwxWorld::new();
    world.write_config("", GRAFANA);
    assert_eq!(apply(&world, &[]).status.code(), Some(0));
    let old_id = client_id(&world, "grafana");
    world.write_config("", &GRAFANA.replace("authorization-code", "password"));
    let aside = move_aside(&world, "grafana");

    let text = plan(&world);
    assert!(
        text.contains("-/+ grafana (Default)") && text.contains("must be replaced"),
        "the old copy is recognised and the replacement resumed: {text}"
    );
    assert!(!text.contains("will be created"), "{text}");
    world.sim.clear_requests();
    let out = apply(&world, &["--allow-replace"]);
    assert_eq!(out.status.code(), Some(0), "{}", texts(&out).0);
    let writes: Vec<String> = world.writes().into_iter().map(|(m, _)| m).collect();
    assert_eq!(
        writes,
        ["POST", "DELETE"],
        "already aside: create, then delete"
    );
    assert!(world.sim.app_by_name(&aside).is_none());
    assert_ne!(client_id(&world, "grafana"), old_id);
    world.assert_converged();
}

#[test]
fn an_old_copy_whose_replacement_was_dropped_gets_its_name_back() {
    let world = AwxWorld::new();
    world.write_config("", GRAFANA);
    assert_eq!(apply(&world, &[]).status.code(), Some(0));
    let old_id = client_id(&world, "grafana");
    // The replacement was interrupted, and the config went back meanwhile.
    move_aside(&world, "grafana");
    let text = plan(&world);
    assert!(
        text.contains("~ grafana (Default)") && text.contains("-> \"grafana\""),
        "{text}"
    );
    let out = apply(&world, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", texts(&out).0);
    assert_eq!(client_id(&world, "grafana"), old_id, "the same application");
    world.assert_converged();
}

#[test]
fn an_old_copy_left_after_the_new_app_exists_is_deleted() {
    let world = AwxWorld::new();
    world.write_config("", &format!("{GRAFANA}{CLI}"));
    assert_eq!(apply(&world, &[]).status.code(), Some(0));
    // The replacement created the new app, then the run died before the delete.
    let aside = move_aside(&world, "grafana");
    assert!(
        world
            .sim
            .set_app_field("ops-cli", "name", Value::String("grafana".into()))
    );
    for (field, value) in [
        ("client_type", "confidential"),
        ("authorization_grant_type", "authorization-code"),
        ("redirect_uris", "https://grafana.example.com/cb"),
        ("description", "Grafana SSO"),
    ] {
        world
            .sim
            .set_app_field("grafana", field, Value::String(value.into()));
    }
    let new_id = client_id(&world, "grafana");
    world.write_config("", GRAFANA);
    let text = plan(&world);
    assert!(
        text.contains(&format!("- {aside} (Default)"))
            && text.contains("note: the old copy of `grafana`"),
        "{text}"
    );
    let out = apply(&world, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", texts(&out).0);
    assert!(world.sim.app_by_name(&aside).is_none());
    assert_eq!(client_id(&world, "grafana"), new_id, "the new app is kept");
    world.assert_converged();
}

#[test]
fn a_create_that_meets_the_same_app_adopts_it_and_never_duplicates() {
    let world = AwxWorld::new();
    world.write_config("", CLI);
    world.sim.collide_next_create(None);
    let out = apply(&world, &[]);
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("ops-cli (Default) created"), "{stdout}");
    assert_eq!(
        world.sim.app_names(),
        [(1, "ops-cli".to_string())],
        "no duplicate"
    );
    world.assert_converged();
}

#[test]
fn a_confidential_app_adopted_that_way_reports_its_secret_lost() {
    let world = AwxWorld::new();
    world.write_config("", GRAFANA);
    world.sim.collide_next_create(None);
    let out = apply(&world, &[]);
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(4), "{stdout}{stderr}");
    assert!(
        stdout.contains("grafana (Default) created, secret lost"),
        "{stdout}"
    );
    assert!(stdout.contains("interrupted"), "{stdout}");
    assert_eq!(world.sim.app_names().len(), 1);
    world.assert_converged();
}

#[test]
fn a_create_that_meets_a_different_app_reports_the_difference() {
    let world = AwxWorld::new();
    world.write_config("", &format!("{CLI}          description: ours\n"));
    world.sim.collide_next_create(Some("someone else's"));
    let out = apply(&world, &[]);
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stdout.contains("already exists")
            && stdout.contains("differs from the config in `description`"),
        "{stdout}"
    );
    assert_eq!(world.sim.app_names().len(), 1, "no duplicate");
    let text = plan(&world);
    assert!(
        text.contains("~ ops-cli (Default)") && text.contains("someone else's"),
        "the next plan shows it: {text}"
    );
}

#[test]
fn a_move_between_organizations_is_an_explicit_patch_that_keeps_the_client_id() {
    let world = AwxWorld::new();
    let eng = world.sim.add_organization("Engineering");
    world.write_config("", CLI);
    assert_eq!(apply(&world, &[]).status.code(), Some(0));
    let id = client_id(&world, "ops-cli");

    // Without renamed_from: a new app in Engineering, and the old one is named.
    let moved = CLI.replace("organization: Default", "organization: Engineering");
    world.write_config("", &moved);
    let text = plan(&world);
    assert!(text.contains("+ ops-cli (Engineering)"), "{text}");
    assert!(
        text.contains("note: an application `ops-cli` exists in organization `Default`")
            && text.contains("renamed_from"),
        "{text}"
    );
    assert!(
        text.contains(
            "ops-cli (Default): the config has `ops-cli` in organization `Engineering`, not in this one"
        ),
        "{text}"
    );

    // With renamed_from: one PATCH of `organization`.
    world.write_config(
        "",
        &format!("{moved}          renamed_from: [{{name: ops-cli, organization: Default}}]\n"),
    );
    let text = plan(&world);
    assert!(
        text.contains("~ ops-cli (Engineering)")
            && text.contains("will be updated (PATCH 1 field)")
            && text.contains("organization = \"Default\" -> \"Engineering\""),
        "{text}"
    );
    world.sim.clear_requests();
    let out = apply(&world, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", texts(&out).0);
    let patch = world
        .sim
        .requests()
        .into_iter()
        .find(|r| r.method == "PATCH")
        .unwrap();
    assert_eq!(patch.body, Some(serde_json::json!({"organization": eng})));
    assert_eq!(client_id(&world, "ops-cli"), id);
    assert_eq!(world.sim.app_names(), [(eng, "ops-cli".to_string())]);
    world.assert_converged();
}

#[test]
fn a_rename_keeps_the_client_id() {
    let world = AwxWorld::new();
    world.write_config("", CLI);
    assert_eq!(apply(&world, &[]).status.code(), Some(0));
    let id = client_id(&world, "ops-cli");
    world.write_config(
        "",
        &format!(
            "{}          renamed_from: [ops-cli]\n",
            CLI.replace("ops-cli:", "ops-tool:")
        ),
    );
    let text = plan(&world);
    assert!(
        text.contains("name = \"ops-cli\" -> \"ops-tool\""),
        "{text}"
    );
    let out = apply(&world, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", texts(&out).0);
    assert_eq!(client_id(&world, "ops-tool"), id);
    world.assert_converged();
}

#[test]
fn prune_says_which_organizations_copy_goes() {
    let world = AwxWorld::new();
    world.sim.add_organization("Engineering");
    world.write_config("", CLI);
    assert_eq!(apply(&world, &[]).status.code(), Some(0));
    let eng = CLI.replace("organization: Default", "organization: Engineering");
    world.write_config("", &eng);
    assert_eq!(apply(&world, &[]).status.code(), Some(0));
    assert_eq!(world.sim.app_names().len(), 2, "one per organization");
    world.write_config("      prune: true\n", &eng);
    let text = plan(&world);
    assert!(
        text.contains("- ops-cli (Default)") && text.contains("will be deleted (prune"),
        "{text}"
    );
    assert!(!text.contains("ops-cli (Engineering)"), "{text}");
    let out = apply(&world, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", texts(&out).0);
    assert_eq!(world.sim.app_names().len(), 1);
    world.assert_converged();
}

#[test]
fn a_listing_that_moves_between_pages_is_read_again() {
    let world = AwxWorld::new();
    world.sim.seed_apps("app-", 250);
    // app-200 is on page 2; deleting app-000 after page 1 shifts it onto
    // page 1, which was already read: a naive listing loses it.
    world.write_config(
        "",
        "        app-200:\n          organization: Default\n          client_type: public\n          authorization_grant_type: password\n",
    );
    world.sim.delete_after_next_first_page("app-000");
    let out = world
        .cmd(&["-v", "plan", "--detailed-exitcode"])
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("No changes."), "{stdout}");
    assert!(
        stderr.contains("the application count changed from 250 to 249")
            && stderr.contains("reading it again"),
        "{stderr}"
    );
}

#[test]
fn a_server_that_dies_mid_apply_stops_alone_and_the_run_exits_4() {
    let mut dying = AwxWorld::with_faults(appform::sandbox::Faults {
        latency: std::time::Duration::from_millis(40),
        ..Default::default()
    });
    let healthy = AwxWorld::new();
    let apps = |n: usize| -> String {
        (0..n)
            .map(|i| format!("        app-{i:02}:\n          organization: Default\n          client_type: public\n          authorization_grant_type: password\n"))
            .collect()
    };
    let server = |name: &str, url: &str| {
        format!(
            "  {name}:\n    awx:\n      url: {url}\n      auth:\n        token: env:AWX_TOKEN\n      max_in_flight: 1\n      applications:\n{}",
            apps(20)
        )
    };
    let config = format!(
        "policy:\n  max_deletes: 5\nservers:\n{}{}",
        server("awx-dying", &dying.url()),
        server("awx-healthy", &healthy.url())
    );
    std::fs::write(dying.path("appform.yaml"), config).unwrap();
    let bin = assert_cmd::cargo::cargo_bin("appform");
    let child = std::process::Command::new(bin)
        .args(["apply", "--auto-approve", "-c"])
        .arg(dying.dir.path())
        .env("AWX_TOKEN", AWX_TOKEN)
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Kill the server after its third create.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while dying.writes().len() < 3 {
        assert!(std::time::Instant::now() < deadline, "no writes arrived");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    dying.kill_server();
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(4), "{stdout}{stderr}");
    let failed = stdout
        .lines()
        .filter(|l| l.starts_with("awx-dying: ") && l.contains("FAILED"))
        .count();
    let not_attempted = stdout
        .lines()
        .filter(|l| {
            l.starts_with("awx-dying: ")
                && l.contains("not attempted: the server stopped answering")
        })
        .count();
    assert_eq!(failed, 1, "one create met the dead server: {stdout}");
    assert!(not_attempted >= 15, "the rest were not attempted: {stdout}");
    assert_eq!(
        healthy.sim.app_names().len(),
        20,
        "the other server finished: {stdout}"
    );
}

#[test]
fn a_lost_secret_is_rotated_with_replace() {
    let world = AwxWorld::new();
    world.write_config("", GRAFANA);
    world.sim.lose_next_create_answer();
    assert_eq!(apply(&world, &[]).status.code(), Some(4));
    let lost_id = client_id(&world, "grafana");

    let out = apply(&world, &["--replace", "awx-test/grafana"]);
    assert_eq!(out.status.code(), Some(3), "needs --allow-replace");
    assert!(texts(&out).1.contains("--allow-replace"));

    let out = apply(&world, &["--replace", "nothing-*"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        texts(&out)
            .1
            .contains("--replace `nothing-*` matches no application"),
        "{}",
        texts(&out).1
    );

    let out = apply(
        &world,
        &["--replace", "awx-test/grafana", "--allow-replace"],
    );
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("note: replacement requested with --replace"),
        "{stdout}"
    );
    let new_id = client_id(&world, "grafana");
    assert_ne!(new_id, lost_id);
    let secrets: Value =
        serde_json::from_str(&std::fs::read_to_string(world.path("secrets.json")).unwrap())
            .unwrap();
    let entry = &secrets["awx-test/grafana"];
    assert_eq!(entry["client_id"], new_id);
    assert_eq!(
        entry["client_secret"],
        world.sim.app_by_name("grafana").unwrap()["stored_client_secret"]
    );
    assert!(entry.get("secret_lost").is_none(), "{entry}");
    world.assert_converged();
}

/// The redirect URIs `validate` refuses are the ones the AWX simulator (a
/// port of AWX 24.6.1's checks) refuses, so a bad URI fails at review time,
/// never halfway through an apply. One exception, on purpose: a bare `#`.
#[test]
fn validate_and_the_server_agree_on_redirect_uris() {
    let world = AwxWorld::new();
    let cases = [
        "https:///nohost",
        "https://",
        "https://@host/cb",
        "https://-dash.example.com/cb",
        "https://.example.com/cb",
        "https://[zz::1]/cb",
        "https://[::1/cb",
        "ftp://files.example.com/cb",
        "https://example.com/cb#frag",
        "mailto:someone@example.com",
        // Non-ASCII hosts the server converts with IDNA and refuses.
        "https://ñ..example.com/cb",
        "https://ñaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example.com/cb",
        "https://example.com/cb",
        "http://localhost",
        "http://127.0.0.1:8080/cb?x=1",
        "https://[::1]:8443/cb",
        "https://intranet/cb",
        "https://user:pw@host.example.com/cb",
        "HTTPS://EXAMPLE.COM/CB",
        "https://bücher.example/cb",
        "https://ñ.example.com/cb",
        "https://a..example.com/cb",
    ];
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = reqwest::Client::new();
    let mut accepted = Vec::new();
    for (i, uri) in cases.iter().enumerate() {
        let app = format!(
            "        app-{i}:\n          organization: Default\n          client_type: public\n          authorization_grant_type: authorization-code\n          redirect_uris: [\"{uri}\"]\n"
        );
        world.write_config("", &app);
        let validate = world.cmd(&["validate"]).output().unwrap();
        let accepted_here = validate.status.code() == Some(0);
        let answer = rt.block_on(async {
            client
                .post(format!("{}/api/v2/applications/", world.url()))
                .bearer_auth(AWX_TOKEN)
                .json(
                    &serde_json::json!({"name": format!("app-{i}"), "organization": 1,
                    "client_type": "public", "authorization_grant_type": "authorization-code",
                    "redirect_uris": uri}),
                )
                .send()
                .await
                .unwrap()
        });
        let accepted_there = answer.status().as_u16() == 201;
        if accepted_here {
            accepted.push(*uri);
        }
        assert_eq!(
            accepted_here,
            accepted_there,
            "`{uri}`: validate {} it, the server {} it",
            if accepted_here { "accepts" } else { "refuses" },
            if accepted_there { "accepts" } else { "refuses" }
        );
    }
    assert_eq!(accepted, cases[12..], "the valid ones are the last ten");
}

#[test]
fn a_create_killed_before_its_secret_was_saved_is_reported_by_the_next_run() {
    let world = AwxWorld::new();
    world.write_config("", GRAFANA);
    // A normal create leaves no journal mark behind.
    assert_eq!(apply(&world, &[]).status.code(), Some(0));
    let text = std::fs::read_to_string(world.path("secrets.json")).unwrap();
    assert!(!text.contains("pending_create_since"), "{text}");

    // As a run killed between the server's create and saving the answer leaves it.
    world.write_config(
        "",
        &format!("{GRAFANA}{}", GRAFANA.replace("grafana:", "kibana:")),
    );
    let out = world
        .cmd(&["apply", "--auto-approve", "--discard-secrets"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let mut secrets: Value = serde_json::from_str(&text).unwrap();
    secrets["awx-test/kibana"] =
        serde_json::json!({"pending_create_since": "2026-12-01T00:00:00Z"});
    std::fs::write(world.path("secrets.json"), secrets.to_string()).unwrap();

    let out = apply(&world, &[]);
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(4), "{stdout}{stderr}");
    assert!(
        stdout.contains("awx-test: kibana created, secret lost")
            && stdout.contains("an earlier run was stopped")
            && stdout.contains("--replace 'awx-test/kibana'"),
        "{stdout}"
    );
    let secrets: Value =
        serde_json::from_str(&std::fs::read_to_string(world.path("secrets.json")).unwrap())
            .unwrap();
    assert_eq!(secrets["awx-test/kibana"]["secret_lost"], true, "{secrets}");
    assert!(secrets["awx-test/grafana"]["client_secret"].is_string());
    // Reported once: the record replaced the mark.
    assert_eq!(apply(&world, &[]).status.code(), Some(0));
    world.assert_converged();
}

#[test]
fn a_mark_for_a_create_that_never_happened_is_taken_over_by_the_create() {
    let world = AwxWorld::new();
    world.write_config("", GRAFANA);
    std::fs::write(
        world.path("secrets.json"),
        r#"{"awx-test/grafana": {"pending_create_since": "2026-12-01T00:00:00Z"}}"#,
    )
    .unwrap();
    let out = apply(&world, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", texts(&out).0);
    let secrets: Value =
        serde_json::from_str(&std::fs::read_to_string(world.path("secrets.json")).unwrap())
            .unwrap();
    assert!(
        secrets["awx-test/grafana"]["client_secret"].is_string(),
        "{secrets}"
    );
    assert!(
        secrets["awx-test/grafana"]
            .get("pending_create_since")
            .is_none()
    );
}

#[test]
fn a_run_refused_by_a_gate_leaves_an_earlier_runs_mark_for_the_next() {
    let world = AwxWorld::new();
    world.write_config("", &format!("{GRAFANA}{CLI}"));
    assert_eq!(apply(&world, &[]).status.code(), Some(0));
    let mut secrets: Value =
        serde_json::from_str(&std::fs::read_to_string(world.path("secrets.json")).unwrap())
            .unwrap();
    secrets["awx-test/ops-cli"] =
        serde_json::json!({"pending_create_since": "2026-12-01T00:00:00Z"});
    std::fs::write(world.path("secrets.json"), secrets.to_string()).unwrap();
    // A replacement without --allow-replace: refused before any write.
    world.write_config(
        "",
        &format!("{}{CLI}", GRAFANA.replace("authorization-code", "password")),
    );
    assert_eq!(apply(&world, &[]).status.code(), Some(3));
    let text = std::fs::read_to_string(world.path("secrets.json")).unwrap();
    assert!(text.contains("pending_create_since"), "{text}");
    // The run that goes on reports it.
    let out = apply(&world, &["--allow-replace"]);
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(4), "{stdout}{stderr}");
    assert!(stdout.contains("ops-cli created, secret lost"), "{stdout}");
    world.assert_converged();
}
