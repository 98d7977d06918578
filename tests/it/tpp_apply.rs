//! The real binary against the TPP simulator: full-replace bodies on the
//! wire, carried fields, `authoritative`, semantic scopes, the token lifecycle,
//! stale writes and built-in applications. Every apply scenario ends with a
//! second plan that is empty.

use appform::sandbox::Simulator as _;
use serde_json::{Value, json};

use crate::support::{TppWorld, texts};

const VAULT: &str = "        vault-pki:\n          name: Vault PKI\n          vendor: HashiCorp\n          description: Certificates for Vault\n          url: https://vault.example.com\n          scope: \"certificate:manage,revoke\"\n          maximum_scope: \"certificate:manage,revoke,discover;configuration\"\n";

fn apply(world: &TppWorld) -> std::process::Output {
    world.cmd(&["apply", "--auto-approve"]).output().unwrap()
}

#[test]
fn an_update_sends_the_whole_object_and_keeps_unmanaged_values() {
    let world = TppWorld::new();
    world.write_config(
        "",
        &format!("{VAULT}          access_validity: 30d\n          renewable: false\n"),
    );
    assert_eq!(apply(&world).status.code(), Some(0));
    // Live values the next config will not mention.
    world
        .sim
        .set_app_field("vault-pki", "GrantValidity", json!(86_400));
    // The next config manages fewer fields and changes one.
    world.write_config(
        "",
        &VAULT.replace("Certificates for Vault", "PKI for Vault"),
    );
    let plan = world.cmd(&["plan"]).output().unwrap();
    let (stdout, _) = texts(&plan);
    assert!(
        stdout.contains("~ vault-pki               will be updated (full replace: 1 of 10 fields changes, 9 carried over)"),
        "{stdout}"
    );
    let json = world.cmd(&["plan", "--format", "json"]).output().unwrap();
    let plan: Value = serde_json::from_slice(&json.stdout).unwrap();
    let change = &plan["servers"][0]["changes"][0];
    let carried: Vec<&str> = change["fields"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["carried"] == true)
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        carried,
        [
            "access_validity",
            "grant_validity",
            "id",
            "maximum_scope",
            "name",
            "renewable",
            "scope",
            "url",
            "vendor"
        ]
    );
    for f in change["fields"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["carried"] == true)
    {
        assert_eq!(f["before"], f["after"], "a carried field keeps its value");
    }

    world.sim.clear_requests();
    let out = apply(&world);
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    let updates = world.updates();
    assert_eq!(updates.len(), 1);
    let app = updates[0]["Application"].as_object().unwrap();
    let mut keys: Vec<&String> = app.keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "AccessValidity",
            "Description",
            "GrantValidity",
            "ID",
            "MaximumScope",
            "Name",
            "Renewable",
            "Scope",
            "Url",
            "Vendor"
        ],
        "UpdateApplication must carry every field"
    );
    assert_eq!(app["Description"], "PKI for Vault");
    assert_eq!(app["AccessValidity"], 2_592_000, "carried from live");
    assert_eq!(app["GrantValidity"], 86_400, "carried from live");
    assert_eq!(app["Renewable"], false, "carried from live");
    let stored = world.sim.app("vault-pki").unwrap();
    assert_eq!(stored["AccessValidity"], 2_592_000);
    assert_eq!(stored["GrantValidity"], 86_400);
    assert_eq!(stored["Renewable"], false);
    world.assert_converged();
}

#[test]
fn authoritative_resets_unmentioned_fields_and_the_plan_says_so() {
    let world = TppWorld::new();
    world.write_config(
        "",
        &format!("{VAULT}          access_validity: 30d\n          renewable: false\n"),
    );
    assert_eq!(apply(&world).status.code(), Some(0));
    world.write_config("      authoritative: true\n", VAULT);
    let (stdout, _) = texts(&world.cmd(&["plan"]).output().unwrap());
    assert!(
        stdout.contains("~ access_validity = 2592000 (30d) -> 7776000 (90d)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("~ renewable       = false -> true"),
        "{stdout}"
    );
    assert!(
        stdout.contains("(full replace: 2 of 10 fields change, 8 carried over)"),
        "{stdout}"
    );
    let out = apply(&world);
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    // tpp.md §7.2: a default is sent explicitly unless the server already
    // omits it; the server then shows a value equal to its default by leaving
    // it out, like one never set.
    let bodies = world.updates();
    let body = &bodies.last().unwrap()["Application"];
    assert_eq!(body["AccessValidity"], 7_776_000, "{body}");
    assert_eq!(body["Renewable"], true, "{body}");
    assert!(body.get("GrantValidity").is_none(), "{body}");
    let stored = world.sim.app("vault-pki").unwrap();
    for omitted in ["AccessValidity", "Renewable", "GrantValidity"] {
        assert!(stored.get(omitted).is_none(), "{omitted}: {stored}");
    }
    world.assert_converged();
}

#[test]
fn scopes_in_another_order_or_case_are_equal_and_a_real_change_is_not() {
    let world = TppWorld::new();
    world.write_config("", VAULT);
    assert_eq!(apply(&world).status.code(), Some(0));
    world.write_config(
        "",
        &VAULT
            .replace(
                "\"certificate:manage,revoke\"",
                "\"Certificate: revoke, manage\"",
            )
            .replace(
                "certificate:manage,revoke,discover;configuration",
                "configuration; CERTIFICATE:discover,manage,revoke",
            ),
    );
    world.assert_converged();
    world.write_config(
        "",
        &VAULT.replace("\"certificate:manage,revoke\"", "\"certificate:manage\""),
    );
    let out = world
        .cmd(&["plan", "--detailed-exitcode"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        texts(&out)
            .0
            .contains("~ scope = \"certificate:manage,revoke\" -> \"certificate:manage\""),
        "{}",
        texts(&out).0
    );
    assert_eq!(apply(&world).status.code(), Some(0));
    world.assert_converged();
}

#[test]
fn an_expiring_token_is_refreshed_once_and_revoked_at_the_end() {
    let world = TppWorld::new();
    world.write_config("", VAULT);
    // Every token dies after 2 calls: the plan (TotalCount, Enumerate) uses
    // them up, so the create needs a refreshed one.
    world.sim.expire_tokens_after(2);
    let out = apply(&world);
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    let paths: Vec<String> = world.sim.requests().into_iter().map(|r| r.path).collect();
    assert!(
        paths.iter().any(|p| p == "/vedauth/authorize/token"),
        "no refresh: {paths:?}"
    );
    assert!(
        paths.last().is_some_and(|p| p == "/vedauth/revoke/token"),
        "token not revoked at the end: {paths:?}"
    );
    assert_eq!(world.sim.live_tokens(), 0);
    world.assert_converged();
}

#[test]
fn an_invalid_static_token_is_a_clear_error() {
    let world = TppWorld::new();
    world.write_config_with_auth("        token: env:TPP_TOKEN\n", "", VAULT);
    let out = world
        .cmd(&["plan"])
        .env("TPP_TOKEN", "revoked-or-made-up")
        .output()
        .unwrap();
    let (stdout, _) = texts(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout.contains("HTTP 401 Unauthorized: invalid_token"),
        "{stdout}"
    );
    // The static sandbox token works.
    assert_eq!(
        world.cmd(&["plan"]).output().unwrap().status.code(),
        Some(0)
    );
}

#[test]
fn a_token_without_the_admin_scope_is_a_clear_403() {
    let world = TppWorld::new();
    world.write_config_with_auth(
        "        client_id: appform\n        username: tppadmin\n        password: env:TPP_PASSWORD\n        scope: \"certificate:manage\"\n",
        "",
        VAULT,
    );
    let out = world.cmd(&["plan"]).output().unwrap();
    let (stdout, _) = texts(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout.contains("HTTP 403 Forbidden: insufficient_scope"),
        "{stdout}"
    );
    assert!(stdout.contains("needs the `admin` scope"), "{stdout}");
}

#[test]
fn wrong_credentials_are_a_clear_error() {
    let world = TppWorld::new();
    world.write_config("", VAULT);
    let out = world
        .cmd(&["plan"])
        .env("TPP_PASSWORD", "wrong")
        .output()
        .unwrap();
    let (stdout, _) = texts(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout.contains("cannot obtain a token") && stdout.contains("invalid_grant"),
        "{stdout}"
    );
}

#[test]
fn a_write_to_an_app_that_moved_since_the_plan_is_skipped_as_stale() {
    let world = TppWorld::new();
    let other = VAULT.replace("vault-pki:", "other-app:");
    world.write_config("", &format!("{VAULT}{other}"));
    assert_eq!(apply(&world).status.code(), Some(0));
    world.write_config(
        "",
        &format!(
            "{}{}",
            VAULT.replace("for Vault", "v2"),
            other.replace("for Vault", "v2")
        ),
    );
    // Someone edits vault-pki right after appform read the list.
    world.sim.drift_after_next_enumerate(
        "vault-pki",
        "Url",
        Value::String("https://elsewhere.example.com".into()),
    );
    world.sim.clear_requests();
    let out = apply(&world);
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(4), "{stdout}{stderr}");
    assert!(
        stdout.contains("vault-pki FAILED: skipped as stale"),
        "{stdout}"
    );
    assert!(stdout.contains("tpp-test: other-app updated"), "{stdout}");
    assert_eq!(world.updates().len(), 1, "only the fresh app was written");
    assert_eq!(
        world.sim.app("vault-pki").unwrap()["Url"],
        "https://elsewhere.example.com",
        "the edit was not overwritten"
    );
    // A re-run converges.
    assert_eq!(apply(&world).status.code(), Some(0));
    world.assert_converged();
}

#[test]
fn built_in_apps_are_unmanaged_unless_pruned_and_not_protected() {
    let world = TppWorld::new();
    world.write_config("", VAULT);
    let (stdout, _) = texts(&world.cmd(&["plan"]).output().unwrap());
    assert!(
        stdout.contains("3 unmanaged applications not in config (prune is off): VenafiCodeSignClient, VenafiMMCEventViewer, VenafiMMCReports"),
        "{stdout}"
    );
    assert!(
        world.writes().is_empty(),
        "a plan never writes: {:?}",
        world.writes()
    );
    assert_eq!(apply(&world).status.code(), Some(0));
    assert!(world.sim.app("VenafiMMCReports").is_some());

    world.write_config(
        "      prune: true\n      protect: [\"VenafiMMC*\"]\n",
        VAULT,
    );
    let (stdout, _) = texts(&world.cmd(&["plan"]).output().unwrap());
    assert!(
        stdout.contains("- VenafiCodeSignClient    will be deleted (prune: not in config)"),
        "{stdout}"
    );
    let out = apply(&world);
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    assert!(world.sim.app("VenafiCodeSignClient").is_none());
    assert!(world.sim.app("VenafiMMCReports").is_some(), "protected");
    assert!(world.sim.app("VenafiMMCEventViewer").is_some(), "protected");
    world.assert_converged();
}

#[test]
fn a_create_without_required_fields_points_at_the_app() {
    let world = TppWorld::new();
    world.write_config("", "        new-app:\n          name: New\n");
    let out = world.cmd(&["plan"]).output().unwrap();
    let (_, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("appform::plan::cannot_plan"), "{stderr}");
    assert!(
        stderr.contains("`vendor`") && stderr.contains("`maximum_scope`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("appform.yaml:"),
        "points into the YAML: {stderr}"
    );
}

#[test]
fn every_reading_of_enumerate_start_lists_every_application() {
    use appform::sandbox::tpp::{StartMode, TppOptions};
    for mode in [
        StartMode::PageFromOne,
        StartMode::Offset,
        StartMode::PageFromZero,
    ] {
        let world = TppWorld::with_options(TppOptions {
            start_mode: mode,
            ..TppOptions::default()
        });
        world.sim.seed_apps("bulk-", 250);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("t.yaml"),
            format!("servers:\n  t:\n    tpp:\n      url: {}\n      auth: {{token: env:TPP_TOKEN}}\n      applications: {{}}\n", world.url()),
        )
        .unwrap();
        let out = crate::support::appform()
            .args(["plan", "--format", "json", "-c"])
            .arg(dir.path())
            .env("TPP_TOKEN", "sandbox-tpp-token")
            .output()
            .unwrap();
        let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            plan["summary"]["unmanaged"],
            253,
            "{mode:?}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

#[test]
fn a_create_that_meets_the_same_app_adopts_it_and_a_different_one_is_reported() {
    let world = TppWorld::new();
    world.write_config("", VAULT);
    world.sim.collide_next_create(None);
    let out = apply(&world);
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("tpp-test: vault-pki created"), "{stdout}");
    world.assert_converged();

    let other = VAULT.replace("vault-pki", "vault-two");
    world.write_config("", &format!("{VAULT}{other}"));
    world.sim.collide_next_create(Some("made by someone else"));
    let out = apply(&world);
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stdout.contains("application `vault-two` already exists")
            && stdout.contains("differs from the config in `description`"),
        "{stdout}"
    );
    assert_eq!(
        world.sim.app("vault-two").unwrap()["Description"],
        "made by someone else",
        "nothing was overwritten"
    );
}

#[test]
fn a_listing_whose_total_moves_is_read_again() {
    // Pages of 10: the list is read in several answers, between which it can
    // move (one answer holding every application is a snapshot by itself).
    let world = TppWorld::with_options(appform::sandbox::tpp::TppOptions {
        max_page: 10,
        ..Default::default()
    });
    world.sim.seed_apps("app-", 30);
    world.write_config("", "        app-005:\n          vendor: Seed\n");
    world.sim.remove_after_next_enumerate("app-020");
    let out = world
        .cmd(&["-v", "plan", "--detailed-exitcode"])
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stderr.contains("TotalCount changed from 33 to 32 while the list was read")
            && stderr.contains("reading the list again"),
        "{stderr}"
    );
}

#[test]
fn replace_is_refused_for_tpp_whose_id_is_its_only_key() {
    let world = TppWorld::new();
    world.write_config("", VAULT);
    assert_eq!(apply(&world).status.code(), Some(0));
    world.sim.clear_requests();
    let out = world
        .cmd(&[
            "apply",
            "--auto-approve",
            "--allow-replace",
            "--replace",
            "vault-pki",
        ])
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stdout.contains("it cannot be created before the old one is deleted"),
        "{stdout}"
    );
    assert!(stderr.contains("appform::plan::cannot_plan"), "{stderr}");
    assert!(world.writes().is_empty(), "{:?}", world.writes());
    world.assert_converged();
}
