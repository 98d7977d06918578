//! TPP fidelity: a full replace carries every field the server returned, the
//! server's own defaults (GetConfiguration) decide what an omitted field is,
//! a large listing costs about one request per page whatever `Start` means,
//! and a delete of an app that is already gone is done. Every apply scenario
//! ends with an empty second plan.

use appform::sandbox::Simulator as _;
use appform::sandbox::tpp::{StartMode, TppOptions};
use serde_json::json;

use crate::support::{TppWorld, texts};

const VAULT: &str = "        vault-pki:\n          name: Vault PKI\n          vendor: HashiCorp\n          description: Certificates for Vault\n          url: https://vault.example.com\n          scope: \"certificate:manage,revoke\"\n          maximum_scope: \"certificate:manage,revoke,discover;configuration\"\n";

fn apply(world: &TppWorld) -> std::process::Output {
    world.cmd(&["apply", "--auto-approve"]).output().unwrap()
}

#[test]
fn a_field_appform_does_not_model_survives_an_update() {
    let world = TppWorld::new();
    world.write_config("", VAULT);
    assert_eq!(apply(&world).status.code(), Some(0));
    assert!(
        world
            .sim
            .set_extra_field("vault-pki", "UnusedExpiration", json!(2_592_000))
    );
    world.write_config(
        "",
        &VAULT.replace("Certificates for Vault", "PKI for Vault"),
    );
    let (plan, _) = texts(&world.cmd(&["plan"]).output().unwrap());
    assert!(
        plan.contains("(full replace: 1 of 11 fields changes, 10 carried over)")
            && plan.contains(
                "note: 1 field the server returned that appform does not model is carried unchanged"
            ),
        "{plan}"
    );
    let out = world.cmd(&["plan", "--format", "json"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let carried = v["servers"][0]["changes"][0]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["field"] == "UnusedExpiration" && f["carried"] == true);
    assert!(carried, "{v}");

    assert_eq!(apply(&world).status.code(), Some(0));
    let updates = world.updates();
    let body = &updates.last().unwrap()["Application"];
    assert_eq!(body["UnusedExpiration"], json!(2_592_000), "{body}");
    assert_eq!(
        world.sim.app("vault-pki").unwrap()["UnusedExpiration"],
        json!(2_592_000)
    );
    world.assert_converged();
}

fn short_defaults() -> TppOptions {
    TppOptions {
        system_defaults: (3600, 86_400, false),
        ..TppOptions::default()
    }
}

#[test]
fn the_servers_own_defaults_decide_what_an_omitted_field_is() {
    let world = TppWorld::with_options(short_defaults());
    // Omitted validities: at the server's defaults, whatever they are.
    world.write_config("", VAULT);
    assert_eq!(apply(&world).status.code(), Some(0));
    world.assert_converged();
    // Explicit values equal to the documented defaults are real changes here.
    world.write_config(
        "",
        &format!("{VAULT}          access_validity: 90d\n          grant_validity: 1y\n          renewable: true\n"),
    );
    let (plan, _) = texts(&world.cmd(&["plan"]).output().unwrap());
    assert!(
        plan.contains("~ access_validity = 3600 (1h) -> 7776000 (90d)")
            && plan.contains("~ renewable       = false -> true"),
        "{plan}"
    );
    assert_eq!(apply(&world).status.code(), Some(0));
    let stored = world.sim.app("vault-pki").unwrap();
    assert_eq!(stored["AccessValidity"], json!(7_776_000), "{stored}");
    assert_eq!(stored["GrantValidity"], json!(31_536_000));
    assert_eq!(stored["Renewable"], json!(true));
    world.assert_converged();
}

#[test]
fn without_get_configuration_an_omitted_field_is_unknown_and_never_a_perpetual_diff() {
    let world = TppWorld::with_options(TppOptions {
        get_configuration: false,
        ..short_defaults()
    });
    world.write_config("", VAULT);
    assert_eq!(apply(&world).status.code(), Some(0));
    // The config asks for 90d; the server leaves the field out and its
    // defaults cannot be read: no change is planned for that alone...
    world.write_config("", &format!("{VAULT}          access_validity: 90d\n"));
    world.assert_converged();
    // ...but the next full replace sends it, and the plan says why.
    world.write_config(
        "",
        &format!(
            "{}          access_validity: 90d\n",
            VAULT.replace("Certificates for Vault", "PKI")
        ),
    );
    let (plan, _) = texts(&world.cmd(&["plan"]).output().unwrap());
    assert!(
        plan.contains("note: `access_validity`: the server leaves it out")
            && plan.contains("defaults could not be read"),
        "{plan}"
    );
    assert_eq!(apply(&world).status.code(), Some(0));
    let updates = world.updates();
    let body = &updates.last().unwrap()["Application"];
    assert_eq!(body["AccessValidity"], json!(7_776_000), "{body}");
    assert!(
        body.get("GrantValidity").is_none(),
        "unknown, not sent: {body}"
    );
    world.assert_converged();
}

/// 1,000 applications read with a page of at most 100: every one seen in at
/// most ceil(1000 / 100) + 2 EnumerateApplications requests.
fn list_1000(mode: StartMode) {
    let world = TppWorld::with_options(TppOptions {
        start_mode: mode,
        max_page: 100,
        ..TppOptions::default()
    });
    world.sim.seed_apps("app-", 997);
    world.write_config("", "        app-500:\n          vendor: Seed\n");
    let out = world
        .cmd(&["plan", "--detailed-exitcode"])
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{mode:?}: {stdout}{stderr}");
    assert!(
        stdout.contains("1000 unmanaged") || stdout.contains("999 unmanaged"),
        "{stdout}"
    );
    let pages = world
        .sim
        .requests()
        .iter()
        .filter(|r| {
            r.path
                .eq_ignore_ascii_case("/vedsdk/oauth/EnumerateApplications")
        })
        .count();
    eprintln!("{mode:?}: {pages} EnumerateApplications requests");
    assert!(pages <= 1000 / 100 + 2, "{mode:?}: {pages} requests");
}

#[test]
fn a_large_listing_costs_one_request_per_page_when_start_is_a_page_from_one() {
    list_1000(StartMode::PageFromOne);
}

#[test]
fn a_large_listing_costs_one_request_per_page_when_start_is_an_offset() {
    list_1000(StartMode::Offset);
}

#[test]
fn a_large_listing_costs_one_request_per_page_when_start_is_a_page_from_zero() {
    list_1000(StartMode::PageFromZero);
}

#[test]
fn a_large_listing_costs_one_request_per_page_when_start_0_is_refused() {
    list_1000(StartMode::PageFromOneStrict);
}

#[test]
fn a_delete_of_an_app_that_vanished_since_the_plan_is_done() {
    let world = TppWorld::new();
    world.write_config("", VAULT);
    assert_eq!(apply(&world).status.code(), Some(0));
    world.write_config("", "        vault-pki:\n          ensure: absent\n");
    world.sim.remove_before_next_get("vault-pki");
    let out = apply(&world);
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("tpp-test: vault-pki deleted"), "{stdout}");
    world.assert_converged();
}

#[test]
fn a_token_that_cannot_be_revoked_is_a_warning() {
    let world = TppWorld::new();
    world.write_config("", VAULT);
    world.sim.fail_revocations();
    let out = world.cmd(&["-v", "plan"]).output().unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stderr.contains("GET http://127.0.0.1:") && stderr.contains("/vedauth/revoke/token -> 500"),
        "-v logs the revocation: {stderr}"
    );
    assert!(
        stderr.contains("warning: tpp-test: the token appform obtained could not be revoked and stays valid until it expires"),
        "{stderr}"
    );
}
