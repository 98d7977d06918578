//! Rotation with overlap (AWX): `apply --rotate` gives due apps (or the one
//! named) a new client id and secret through create-before-destroy; with
//! `rotation_overlap` the old app is kept under its retiring name and still
//! authenticates at the token endpoint, later runs list it with its end, and
//! the first run after that day deletes it. A run killed during rotations
//! converges with no duplicate.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::credential_lifecycle::{days_ago, plan_json};
use crate::support::texts;
use crate::world::{AWX_TOKEN, AwxWorld};

const GRAFANA: &str = "        grafana:\n          organization: Default\n          client_type: confidential\n          authorization_grant_type: password\n";

/// The UTC day `days` from now, `YYYY-MM-DD`.
fn day_in(days: u64) -> String {
    humantime::format_rfc3339_seconds(
        std::time::SystemTime::now() + Duration::from_secs(days * 86_400),
    )
    .to_string()[..10]
        .to_string()
}

/// The status of a password grant at the AWX simulator's `/api/o/token/`
/// with this client (Basic auth, as the transcripts show).
fn password_grant(world: &AwxWorld, client_id: &str, secret: &str) -> u16 {
    use base64::Engine;
    let address = world.url().trim_start_matches("http://").to_string();
    let body = "grant_type=password&username=admin&password=password&scope=read";
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{client_id}:{secret}"));
    let mut stream = std::net::TcpStream::connect(&address).unwrap();
    write!(
        stream,
        "POST /api/o/token/ HTTP/1.1\r\nHost: {address}\r\nAuthorization: Basic {basic}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    reply
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {reply:?}"))
}

fn secrets(world: &AwxWorld) -> Value {
    serde_json::from_str(&std::fs::read_to_string(world.path("secrets.json")).unwrap()).unwrap()
}

/// Writes the config (server `options`, `applications`) and applies it
/// with `--secrets-out secrets.json`: the argument, for the next applies.
fn applied(world: &AwxWorld, options: &str, applications: &str) -> String {
    world.write_config(options, applications);
    let secrets_out = format!("--secrets-out={}", world.path("secrets.json").display());
    let out = world
        .cmd(&["apply", "--auto-approve", &secrets_out])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    secrets_out
}

#[test]
fn apply_rotate_keeps_the_old_client_working_for_the_overlap_then_deletes_it() {
    let world = AwxWorld::new();
    let secrets_out = applied(
        &world,
        "      rotate_after: 90d\n      rotation_overlap: 7d\n",
        GRAFANA,
    );
    let old = secrets(&world)["awx-test/grafana"].clone();
    let (old_id, old_secret) = (
        old["client_id"].as_str().unwrap().to_string(),
        old["client_secret"].as_str().unwrap().to_string(),
    );
    assert_eq!(password_grant(&world, &old_id, &old_secret), 200);
    assert_eq!(password_grant(&world, &old_id, "wrong"), 401);
    assert!(
        world
            .sim
            .set_app_field("grafana", "created", Value::from(days_ago(200)))
    );

    // `--rotate` alone rotates what is due; no --allow-replace needed.
    let out = world
        .cmd(&["apply", "--auto-approve", "--rotate", &secrets_out])
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    let until = day_in(7);
    let retiring_name = format!("grafana~appform-retiring-{}", until.replace('-', ""));
    assert!(
        stdout.contains(&format!(
            "the old application is kept as `{retiring_name}`, its client id and secret working until {until}"
        )),
        "{stdout}"
    );
    let new = secrets(&world)["awx-test/grafana"].clone();
    let (new_id, new_secret) = (
        new["client_id"].as_str().unwrap().to_string(),
        new["client_secret"].as_str().unwrap().to_string(),
    );
    assert_ne!(new_id, old_id, "a new client id");
    assert_eq!(
        world.sim.app_by_name("grafana").unwrap()["client_id"],
        new_id.as_str()
    );
    let kept = world
        .sim
        .app_by_name(&retiring_name)
        .expect("the old app is kept");
    assert_eq!(kept["client_id"], old_id.as_str());
    // Both the old and the new credentials authenticate.
    assert_eq!(password_grant(&world, &old_id, &old_secret), 200);
    assert_eq!(password_grant(&world, &new_id, &new_secret), 200);

    // A second plan is empty; it lists the retiring copy and its end.
    let (code, plan) = plan_json(&world);
    assert_eq!(code, Some(0), "{plan}");
    let retiring = &plan["servers"][0]["retiring"][0];
    assert_eq!(retiring["name"], retiring_name.as_str());
    assert_eq!(retiring["app"], "grafana (Default)");
    assert_eq!(retiring["until"], until.as_str());
    assert_eq!(retiring["live_tokens"], 2, "{retiring}");
    assert!(
        plan["servers"][0]["unmanaged"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let metrics = world.path("metrics.prom");
    let out = world
        .cmd(&[
            "plan",
            "--fail-on",
            "rotation",
            "--metrics-out",
            metrics.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let (stdout, _) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "not due any more: {stdout}");
    let prom = std::fs::read_to_string(&metrics).unwrap();
    assert!(
        prom.contains(&format!(
            "appform_retiring_live_tokens{{command=\"plan\",instance=\"awx-test\",application=\"{retiring_name}\"}} 2"
        )),
        "{prom}"
    );
    assert!(
        stdout.contains(&format!(
            "awx-test: grafana (Default): the old application `{retiring_name}` keeps working until {until}, 2 tokens not expired"
        )),
        "{stdout}"
    );

    // The clock past the overlap: the copy's end date is in the past. The
    // next apply deletes it (its live tokens do not block: the overlap was
    // reviewed), and the plan after is empty.
    assert!(world.sim.set_app_field(
        &retiring_name,
        "name",
        Value::from("grafana~appform-retiring-20200101")
    ));
    let (code, plan) = plan_json(&world);
    assert_eq!(code, Some(2), "{plan}");
    let change = &plan["servers"][0]["changes"][0];
    assert_eq!(change["action"], "delete");
    assert_eq!(change["app"], "grafana~appform-retiring-20200101");
    assert_eq!(change["in_use"]["allowed"], true, "{change}");
    assert!(
        change["notes"][0]
            .as_str()
            .unwrap()
            .contains("kept working after a rotation: its overlap ended on 2020-01-01"),
        "{change}"
    );
    assert!(plan["blocked"].as_array().unwrap().is_empty(), "{plan}");
    let out = world.cmd(&["apply", "--auto-approve"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    assert!(
        world
            .sim
            .app_by_name("grafana~appform-retiring-20200101")
            .is_none()
    );
    assert_eq!(password_grant(&world, &old_id, &old_secret), 401);
    assert_eq!(password_grant(&world, &new_id, &new_secret), 200);
    world.assert_converged();
}

#[test]
fn a_rotation_without_overlap_deletes_the_old_app_and_respects_live_tokens() {
    let world = AwxWorld::new();
    let apps = format!(
        "{GRAFANA}        other:\n          organization: Default\n          client_type: confidential\n          authorization_grant_type: password\n"
    );
    let secrets_out = applied(&world, "", &apps);
    let other_id = world.sim.app_by_name("other").unwrap()["client_id"].clone();

    // Nothing is due (no rotate_after): a bare --rotate changes nothing.
    let out = world
        .cmd(&["apply", "--auto-approve", "--rotate", &secrets_out])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    assert!(texts(&out).0.contains("No changes."), "{:?}", texts(&out));

    // A name that matches nothing is an error.
    let out = world
        .cmd(&[
            "apply",
            "--auto-approve",
            "--rotate",
            "nosuch",
            &secrets_out,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        texts(&out)
            .1
            .contains("--rotate `nosuch` matches no application of the selected servers"),
        "{:?}",
        texts(&out)
    );

    // A pattern that is not a glob is an error too.
    let out = world
        .cmd(&[
            "apply",
            "--auto-approve",
            "--rotate",
            "gra[fana",
            &secrets_out,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        texts(&out)
            .1
            .contains("--rotate `gra[fana` is not a valid glob"),
        "{:?}",
        texts(&out)
    );

    // The old app has a live token, and without an overlap a rotation
    // deletes it: the policy blocks it, nothing is written.
    assert!(
        world
            .sim
            .issue_app_token("grafana", "3026-03-25T04:44:53.412613Z")
    );
    let before = world.writes().len();
    let out = world
        .cmd(&[
            "apply",
            "--auto-approve",
            "--rotate",
            "grafana",
            &secrets_out,
        ])
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(3), "{stdout}{stderr}");
    assert!(stdout.contains("policy.delete_in_use"), "{stdout}");
    assert_eq!(world.writes().len(), before, "nothing written");

    // With an overlap the old app is kept: nothing is taken from its users.
    world.write_config("      rotation_overlap: 1d\n", &apps);
    let out = world
        .cmd(&["apply", "--auto-approve", "--rotate=grafana", &secrets_out])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    let names: Vec<String> = world.sim.app_names().into_iter().map(|(_, n)| n).collect();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("grafana~appform-retiring-"))
    );
    assert_eq!(
        world.sim.app_by_name("other").unwrap()["client_id"],
        other_id,
        "only the app named is rotated"
    );

    // Without an overlap (and no token), the old app goes at once.
    world.write_config("", &apps);
    let out = world
        .cmd(&[
            "apply",
            "--auto-approve",
            "--rotate",
            "awx-test/other",
            &secrets_out,
        ])
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("without `rotation_overlap` the old application is deleted"),
        "{stdout}"
    );
    assert_ne!(
        world.sim.app_by_name("other").unwrap()["client_id"],
        other_id
    );
    assert_eq!(world.sim.app_names().len(), 3, "the old `other` is gone");
    assert_eq!(
        secrets(&world)["awx-test/other"]["client_id"],
        world.sim.app_by_name("other").unwrap()["client_id"]
    );
    // --replace still needs --allow-replace.
    let out = world
        .cmd(&[
            "apply",
            "--auto-approve",
            "--replace",
            "other",
            &secrets_out,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{:?}", texts(&out));
    world.assert_converged();
}

#[test]
fn retiring_copies_are_never_unmanaged_or_pruned_early_and_go_sooner_when_their_tokens_expired() {
    let world = AwxWorld::new();
    world.sim.add_app("keep", 1);
    let far = day_in(30).replace('-', "");
    // Kept: no token was ever issued for it (a client may hold its secret).
    world
        .sim
        .add_app(&format!("keep~appform-retiring-{far}"), 1);
    // Deleted sooner: tokens were issued for it, and all have expired.
    world
        .sim
        .add_app(&format!("gone~appform-retiring-{far}"), 1);
    assert!(world.sim.issue_app_token(
        &format!("gone~appform-retiring-{far}"),
        "2020-01-01T00:00:00.000000Z"
    ));
    // Kept: a token still valid.
    world
        .sim
        .add_app(&format!("busy~appform-retiring-{far}"), 1);
    assert!(world.sim.issue_app_token(
        &format!("busy~appform-retiring-{far}"),
        "3026-03-25T04:44:53.412613Z"
    ));
    // prune: true, and the config names none of the originals but `keep`.
    world.write_config(
        "      prune: true\n",
        "        keep:\n          organization: Default\n          client_type: public\n          authorization_grant_type: password\n",
    );
    let (code, plan) = plan_json(&world);
    assert_eq!(code, Some(2), "{plan}");
    let server = &plan["servers"][0];
    let changes = server["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{plan}");
    assert_eq!(changes[0]["app"], format!("gone~appform-retiring-{far}"));
    assert!(
        changes[0]["notes"][0]
            .as_str()
            .unwrap()
            .contains("but every token issued for it has expired"),
        "{plan}"
    );
    assert!(server["unmanaged"].as_array().unwrap().is_empty(), "{plan}");
    let kept: Vec<&str> = server["retiring"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        kept,
        [
            format!("busy~appform-retiring-{far}"),
            format!("keep~appform-retiring-{far}")
        ]
    );
    // `--app` selects a retiring copy with the application it was.
    let out = world
        .cmd(&["plan", "--format", "json", "--app", "keep"])
        .output()
        .unwrap();
    let partial: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        partial["servers"][0]["changes"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{partial}"
    );
    assert_eq!(
        partial["servers"][0]["retiring"].as_array().unwrap().len(),
        1,
        "{partial}"
    );
    let out = world
        .cmd(&["plan", "--format", "json", "--app", "gone"])
        .output()
        .unwrap();
    let partial: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        partial["servers"][0]["changes"].as_array().unwrap().len(),
        1,
        "{partial}"
    );

    let out = world.cmd(&["apply", "--auto-approve"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    assert_eq!(world.sim.app_names().len(), 3);
    world.assert_converged();

    // A config cannot name an application like a retiring copy.
    world.write_config(
        "",
        "        x~appform-retiring-20260101:\n          organization: Default\n          client_type: public\n          authorization_grant_type: password\n",
    );
    let out = world.cmd(&["validate"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(texts(&out).1.contains("reserved"), "{:?}", texts(&out));
}

#[test]
fn rotation_overlap_is_checked_where_it_is_written() {
    let world = AwxWorld::new();
    for (value, message) in [
        ("1h", "`rotation_overlap` must be at least 1 day"),
        ("2y", "`rotation_overlap` must be at most 366 days"),
        (
            "soon",
            "`rotation_overlap`: `soon` does not start with a number",
        ),
    ] {
        world.write_config(&format!("      rotation_overlap: {value}\n"), GRAFANA);
        let out = world.cmd(&["validate"]).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{value}");
        assert!(
            texts(&out).1.contains(message),
            "{value}: {:?}",
            texts(&out)
        );
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("c.yaml"),
        "servers:\n  whm:\n    whm:\n      url: https://whm.example.com:2087\n      auth: {username: root, token: env:WHM_TOKEN}\n      rotation_overlap: 7d\n      applications: {}\n",
    )
    .unwrap();
    let out = crate::support::appform()
        .args(["validate", "-c"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        texts(&out).1.contains("`rotation_overlap` on a whm server"),
        "{:?}",
        texts(&out)
    );
}

/// `kill -9` of `apply --rotate` in the middle of twelve rotations (two
/// writes each: the move to the retiring name, the create), then a re-run:
/// every app exists once with a new client id, every old client id survives
/// exactly once under a retiring name, and the plan after is empty.
#[test]
fn a_rotation_killed_half_way_converges_with_no_duplicate() {
    let world = AwxWorld::with_faults(appform::sandbox::Faults {
        latency: Duration::from_millis(20),
        ..Default::default()
    });
    const N: usize = 12;
    let mut apps = String::new();
    for i in 0..N {
        apps.push_str(&format!(
            "        app-{i:02}:\n          organization: Default\n          client_type: confidential\n          authorization_grant_type: password\n"
        ));
    }
    world.write_config(
        "      max_in_flight: 1\n      rotate_after: 30d\n      rotation_overlap: 7d\n",
        &apps,
    );
    let apply = ["apply", "--auto-approve", "--discard-secrets", "--rotate"];
    let out = world.cmd(&apply[..3]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    let old_ids: Vec<Value> = (0..N)
        .map(|i| {
            let name = format!("app-{i:02}");
            assert!(
                world
                    .sim
                    .set_app_field(&name, "created", Value::from(days_ago(40)))
            );
            world.sim.app_by_name(&name).unwrap()["client_id"].clone()
        })
        .collect();

    let writes_before = world.writes().len();
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("appform"))
        .args(apply)
        .arg("-c")
        .arg(world.dir.path())
        .env("AWX_TOKEN", AWX_TOKEN)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Seven writes: three rotations done, the fourth moved aside (its
    // create not yet answered).
    let deadline = Instant::now() + Duration::from_secs(120);
    while world.writes().len() < writes_before + 7 {
        if child.try_wait().unwrap().is_some() {
            let mut stderr = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut stderr)
                .unwrap();
            panic!("apply ended before the kill: {stderr}");
        }
        assert!(
            Instant::now() < deadline,
            "the kill point was never reached"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    child.kill().unwrap();
    let _ = child.wait();
    // The kill left work behind: some rotated, not all.
    let retiring = |world: &AwxWorld| {
        world
            .sim
            .app_names()
            .iter()
            .filter(|(_, n)| n.contains("~appform-retiring-"))
            .count()
    };
    let done = retiring(&world);
    assert!(
        (1..N).contains(&done),
        "{done} rotations done before the kill"
    );

    let out = world.cmd(&apply).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    let names: Vec<String> = world.sim.app_names().into_iter().map(|(_, n)| n).collect();
    let mut unique = names.clone();
    unique.dedup();
    assert_eq!(names, unique, "duplicates");
    assert_eq!(names.len(), 2 * N, "{names:?}");
    for (i, old_id) in old_ids.iter().enumerate() {
        let name = format!("app-{i:02}");
        assert_ne!(
            &world.sim.app_by_name(&name).unwrap()["client_id"],
            old_id,
            "{name} not rotated"
        );
        let holders: Vec<&String> = names
            .iter()
            .filter(|n| {
                world
                    .sim
                    .app_by_name(n)
                    .is_some_and(|a| &a["client_id"] == old_id)
            })
            .collect();
        assert_eq!(holders.len(), 1, "{name}'s old client id: {holders:?}");
        assert!(
            holders[0].starts_with(&format!("{name}~appform-retiring-")),
            "{holders:?}"
        );
    }
    world.assert_converged();
}

/// The state a rotation stopped right after moving the old app aside
/// leaves (its retiring copy, no app under the name): the next run creates
/// the new app, says why, and keeps the retiring copy until its end.
#[test]
fn a_rotation_stopped_after_the_move_aside_creates_the_new_app_next_run() {
    let world = AwxWorld::new();
    let secrets_out = applied(&world, "      rotation_overlap: 7d\n", GRAFANA);
    let old_id = world.sim.app_by_name("grafana").unwrap()["client_id"].clone();
    let retiring_name = format!("grafana~appform-retiring-{}", day_in(7).replace('-', ""));
    assert!(
        world
            .sim
            .set_app_field("grafana", "name", Value::from(retiring_name.clone()))
    );

    let out = world.cmd(&["plan"]).output().unwrap();
    let (stdout, _) = texts(&out);
    assert!(
        stdout.contains(&format!(
            "`grafana` was rotated: its old application `{retiring_name}` keeps working until {}",
            day_in(7)
        )),
        "{stdout}"
    );
    let out = world
        .cmd(&["apply", "--auto-approve", &secrets_out])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    assert_ne!(
        world.sim.app_by_name("grafana").unwrap()["client_id"],
        old_id
    );
    assert_eq!(
        world.sim.app_by_name(&retiring_name).unwrap()["client_id"],
        old_id
    );
    world.assert_converged();
}

/// `plan --rotate --out` shows the rotations `apply --rotate` would make;
/// `apply PLANFILE` carries them out exactly (no `--rotate` beside a plan
/// file).
#[test]
fn a_reviewed_plan_file_carries_its_rotations() {
    let world = AwxWorld::new();
    let secrets_out = applied(
        &world,
        "      rotate_after: 90d\n      rotation_overlap: 7d\n",
        GRAFANA,
    );
    let old_id = world.sim.app_by_name("grafana").unwrap()["client_id"].clone();
    assert!(
        world
            .sim
            .set_app_field("grafana", "created", Value::from(days_ago(200)))
    );

    let plan_file = world.path("plan.json");
    let writes_before = world.writes().len();
    let out = world
        .cmd(&[
            "plan",
            "--rotate",
            "--detailed-exitcode",
            "--out",
            plan_file.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert!(
        stdout.contains(&format!(
            "-/+ grafana (Default)     will be rotated (new client id; the old one works until {})",
            day_in(7)
        )),
        "{stdout}"
    );
    assert_eq!(world.writes().len(), writes_before, "a plan writes nothing");

    let out = world
        .cmd(&[
            "apply",
            plan_file.to_str().unwrap(),
            "--rotate",
            &secrets_out,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{:?}", texts(&out));
    assert!(
        texts(&out)
            .1
            .contains("cannot be combined with a saved plan"),
        "{:?}",
        texts(&out)
    );

    let out = world
        .cmd(&["apply", plan_file.to_str().unwrap(), &secrets_out])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    assert_ne!(
        world.sim.app_by_name("grafana").unwrap()["client_id"],
        old_id
    );
    let retiring_name = format!("grafana~appform-retiring-{}", day_in(7).replace('-', ""));
    assert_eq!(
        world.sim.app_by_name(&retiring_name).unwrap()["client_id"],
        old_id
    );
    world.assert_converged();
}

/// On a shared server without `prune`, another config's retiring copy is
/// none of this config's business: shown as unmanaged, never deleted (its
/// own config deletes it when its overlap ends).
#[test]
fn another_configs_retiring_copy_is_left_alone_without_prune() {
    let world = AwxWorld::new();
    world.sim.add_app("keep", 1);
    world.sim.add_app("theirs~appform-retiring-20200101", 1);
    world.write_config(
        "",
        "        keep:\n          organization: Default\n          client_type: public\n          authorization_grant_type: password\n",
    );
    let (code, plan) = plan_json(&world);
    assert_eq!(code, Some(0), "{plan}");
    assert_eq!(
        plan["servers"][0]["unmanaged"],
        serde_json::json!(["theirs~appform-retiring-20200101"])
    );
    assert!(plan["servers"][0]["retiring"].is_null(), "{plan}");
    // The config that names `theirs` deletes it.
    world.write_config(
        "",
        "        theirs:\n          organization: Default\n          client_type: public\n          authorization_grant_type: password\n",
    );
    let (code, plan) = plan_json(&world);
    assert_eq!(code, Some(2), "{plan}");
    let apps: Vec<&str> = plan["servers"][0]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["app"].as_str().unwrap())
        .collect();
    assert_eq!(
        apps,
        ["theirs", "theirs~appform-retiring-20200101"],
        "{plan}"
    );
}
