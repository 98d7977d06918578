//! Plans send the fewest requests their API allows, and send together what
//! can go together (counted, not timed): the simulators log every request and
//! the peak number in flight at once.

use std::time::Duration;

use appform::sandbox::Faults;
use appform::sandbox::tpp::TppOptions;
use appform::sandbox::whm::WhmOptions;

use crate::support::texts;
use crate::world::{AwxWorld, TppWorld, WhmWorld, World};

/// A little latency, so that requests sent together overlap on the server.
fn latency() -> Faults {
    Faults {
        latency: Duration::from_millis(30),
        ..Faults::default()
    }
}

fn plan_ok<S: crate::world::TestKind>(world: &World<S>) {
    let out = world.cmd(&["plan"]).output().unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
}

fn paths<S: crate::world::TestKind>(world: &World<S>, i: usize) -> Vec<String> {
    world.sims[i]
        .requests()
        .into_iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

/// AWX, 450 applications in three organizations the config names by name:
/// one organization list and three application pages of 200, in two round
/// trips (the organizations with the first page, then pages 2 and 3 together).
#[test]
fn an_awx_plan_is_one_organization_list_and_the_pages_of_applications() {
    let world = AwxWorld::with_faults(latency());
    let mut apps = String::new();
    for (o, org) in ["Default", "Engineering", "Finance"].iter().enumerate() {
        if o > 0 {
            world.sim.add_organization(org);
        }
        for i in 0..150 {
            apps.push_str(&format!(
                "        {org}-{i:03}:\n          name: app-{i:03}\n          organization: {org}\n          client_type: public\n          authorization_grant_type: password\n"
            ));
        }
    }
    world.write_config("", &apps);
    let out = world.cmd(&["apply", "--auto-approve"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    world.clear_requests();
    plan_ok(&world);
    let mut seen = paths(&world, 0);
    seen.sort();
    assert_eq!(
        seen,
        vec![
            "GET /api/v2/applications/?page_size=200&page=1",
            "GET /api/v2/applications/?page_size=200&page=2",
            "GET /api/v2/applications/?page_size=200&page=3",
            "GET /api/v2/organizations/?page_size=200&page=1",
        ]
    );
    assert!(
        world.peak_in_flight(0) >= 2,
        "pages sent together: peak {}",
        world.peak_in_flight(0)
    );
}

/// A site that lowered `MAX_PAGE_SIZE` to 100, with 1,500 applications: the
/// page size is taken from the first page, so the plan reads the 15 pages
/// once each (no "list kept changing"), in two round trips, and the export
/// of the server plans as "No changes".
#[test]
fn an_awx_server_with_a_lower_page_cap_is_planned_in_its_page_size() {
    let world: AwxWorld = World::of(
        1,
        |_| appform::sandbox::awx::AwxOptions {
            max_page_size: 100,
            ..Default::default()
        },
        latency(),
    );
    world.sim.seed_apps("app-", 1_500);
    world.write_config("", "        app-000:\n          organization: Default\n          client_type: public\n          authorization_grant_type: password\n");
    world.clear_requests();
    plan_ok(&world);
    let mut seen = paths(&world, 0);
    seen.sort();
    let mut expected: Vec<String> = (2..=15)
        .map(|p| format!("GET /api/v2/applications/?page_size=100&page={p}"))
        .collect();
    expected.push("GET /api/v2/applications/?page_size=200&page=1".into());
    expected.push("GET /api/v2/organizations/?page_size=200&page=1".into());
    expected.sort();
    assert_eq!(seen, expected);
    // The export of the whole server plans as "No changes".
    let exported = world.path("exported");
    std::fs::create_dir(&exported).unwrap();
    let out = world
        .cmd(&["export", "--server", "awx-test"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    std::fs::write(exported.join("awx.yaml"), &out.stdout).unwrap();
    let out = crate::support::appform()
        .args(["plan", "--detailed-exitcode", "-c"])
        .arg(&exported)
        .env("AWX_TOKEN", crate::support::AWX_TOKEN)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
}

/// TPP with a token: the server's defaults and the count together, then one
/// page that holds every application (a snapshot: the count is not read again).
#[test]
fn a_tpp_plan_reads_the_defaults_the_count_and_one_page() {
    let world = TppWorld::of(1, |_| TppOptions::default(), latency());
    world.sim.seed_apps("app-", 300);
    world.write_config_with_auth("        token: env:TPP_TOKEN\n", "", "");
    world.clear_requests();
    plan_ok(&world);
    let seen = paths(&world, 0);
    let calls: Vec<&str> = seen
        .iter()
        .map(|p| p.rsplit('/').next().unwrap_or(""))
        .collect();
    assert_eq!(calls.len(), 3, "{seen:?}");
    for call in ["GetConfiguration", "TotalCount", "EnumerateApplications"] {
        assert!(
            calls.iter().any(|c| c.eq_ignore_ascii_case(call)),
            "{call}: {seen:?}"
        );
    }
    assert!(
        world.peak_in_flight(0) >= 2,
        "GetConfiguration and TotalCount sent together: peak {}",
        world.peak_in_flight(0)
    );
}

/// WHM: one list per host.
#[test]
fn a_whm_fleet_plan_is_one_request_per_host() {
    let world = WhmWorld::of(
        20,
        |i| WhmOptions {
            seed: i as u64 + 1,
            ..WhmOptions::default()
        },
        latency(),
    );
    for sim in &world.sims {
        sim.put(
            "root",
            "billing",
            serde_json::json!({"token_name": "Billing"}),
        );
    }
    world.write_config(
        "",
        "        billing:\n          data: {token_name: Billing}\n",
    );
    plan_ok(&world);
    for i in 0..20 {
        assert_eq!(
            paths(&world, i).len(),
            1,
            "host {i}: {:?}",
            paths(&world, i)
        );
    }
}

/// A big shared AWX (1,500 applications) where the config manages 60 with
/// `listing: managed`: the organizations, one `name__in` listing and the
/// set-aside check, all at once (3 requests, one round trip); the changes are
/// the same as with a full listing, a `renamed_from` old name is found, the
/// unmanaged apps are said not to be counted, and apply converges.
#[test]
fn a_config_managing_60_of_1500_apps_reads_only_those_with_listing_managed() {
    let world = AwxWorld::with_faults(latency());
    world.sim.seed_apps("app-", 1_500);
    let mut apps = String::new();
    for i in 0..59 {
        let description = if i < 2 {
            "          description: changed\n"
        } else {
            ""
        };
        apps.push_str(&format!(
            "        app-{i:03}:\n          organization: Default\n          client_type: public\n          authorization_grant_type: password\n{description}"
        ));
    }
    apps.push_str("        renamed:\n          organization: Default\n          client_type: public\n          authorization_grant_type: password\n          renamed_from: [app-059]\n");
    world.write_config("      listing: managed\n", &apps);
    world.clear_requests();
    let out = world
        .cmd(&["plan", "--detailed-exitcode"])
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    let seen = paths(&world, 0);
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert!(
        seen.iter()
            .any(|p| p.contains("name__in=app-000%2Capp-001")),
        "{seen:?}"
    );
    assert!(
        stdout.contains("Plan: 0 to create, 3 to update, 0 to replace, 0 to delete. 57 unchanged, 0 unmanaged (more not counted: `listing: managed`)."),
        "{stdout}"
    );
    assert!(stdout.contains("renamed (Default)"), "{stdout}");
    let out = world.cmd(&["apply", "--auto-approve"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    world.assert_converged();
}

/// `--app` narrows a `listing: managed` read to the selected applications:
/// the name query names only them, and the plan is the one a full read
/// restricted by `--app` gives.
#[test]
fn app_globs_narrow_a_listing_managed_read() {
    let world = AwxWorld::with_faults(latency());
    world.sim.seed_apps("app-", 200);
    let mut apps = String::new();
    for i in 0..60 {
        let description = if i % 5 == 0 {
            "          description: changed\n"
        } else {
            ""
        };
        apps.push_str(&format!(
            "        app-{i:03}:\n          organization: Default\n          client_type: public\n          authorization_grant_type: password\n{description}"
        ));
    }
    world.write_config("      listing: managed\n", &apps);
    world.clear_requests();
    let out = world
        .cmd(&["plan", "--detailed-exitcode", "--app", "app-00*"])
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    let seen = paths(&world, 0);
    assert_eq!(seen.len(), 3, "{seen:?}");
    let named: Vec<&String> = seen.iter().filter(|p| p.contains("name__in=")).collect();
    assert_eq!(named.len(), 1, "{seen:?}");
    assert!(named[0].contains("app-009"), "{seen:?}");
    assert!(!named[0].contains("app-010"), "{seen:?}");
    assert!(
        stdout.contains("Plan: 0 to create, 2 to update, 0 to replace, 0 to delete. 8 unchanged"),
        "{stdout}"
    );
    let out = world
        .cmd(&["apply", "--auto-approve", "--app", "app-00*"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    let out = world
        .cmd(&["plan", "--detailed-exitcode", "--app", "app-00*"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
}

/// `listing: managed` where every application must be read, or where the
/// kind lists everything in one request anyway, is refused by validate.
#[test]
fn listing_managed_is_refused_with_prune_authoritative_or_a_kind_without_name_filters() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.yaml"),
        "servers:\n  a:\n    awx:\n      url: http://127.0.0.1:1\n      auth: {token: env:T}\n      listing: managed\n      prune: true\n  b:\n    awx:\n      url: http://127.0.0.1:2\n      auth: {token: env:T}\n      listing: managed\n      authoritative: true\n  c:\n    whm:\n      url: http://127.0.0.1:3\n      auth: {username: root, token: env:T}\n      listing: managed\n  d:\n    gateway:\n      url: http://127.0.0.1:4\n      auth: {token: env:T}\n      listing: managed\n",
    )
    .unwrap();
    let out = crate::support::appform()
        .args(["validate", "-c"])
        .arg(dir.path())
        .env("COLUMNS", "400")
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    let text = format!("{stdout}{stderr}");
    for (server, why) in [
        ("a", "`prune: true`"),
        ("b", "`authoritative: true`"),
        ("c", "a whm server lists every application"),
    ] {
        assert!(
            text.contains(&format!(
                "server `{server}`: `listing: managed` cannot be used here: {why}"
            )),
            "{server}: {text}"
        );
    }
    assert!(!text.contains("server `d`"), "{text}");
}
