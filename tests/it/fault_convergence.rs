//! Convergence under faults, for every kind: 200 changes applied while the
//! simulators answer 15% of requests 503 before acting, lose 5% of answers
//! after acting, and reset 5% of new connections; and `kill -9` of apply at
//! three points (early, middle, during deletes) followed by a re-run. Each
//! ends with no duplicate, nothing the config keeps lost, an empty second
//! plan, and (after a kill) a re-run that exits 0.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use appform::sandbox::Faults;
use appform::sandbox::awx::AwxSim;
use appform::sandbox::gateway::{GatewayOptions, GatewaySim};
use appform::sandbox::tpp::{TppOptions, TppSim};
use appform::sandbox::whm::WhmSim;
use serde_json::{Value, json};

use crate::support::texts;
use crate::world::{AwxWorld, GatewayWorld, TestKind, TppWorld, WhmWorld, World};

/// The faults of the convergence runs: 20% 5xx (a quarter of them after the
/// server acted) and 5% connection resets, with a little latency.
fn harsh() -> Faults {
    Faults {
        latency: Duration::from_millis(1),
        error_rate: 0.15,
        lost_answer_rate: 0.05,
        reset_rate: 0.05,
    }
}

/// Latency only: slow enough to kill apply part way through.
fn slow() -> Faults {
    Faults {
        latency: Duration::from_millis(8),
        ..Faults::default()
    }
}

const POLICY: &str = "policy:\n  max_deletes: 1000\n  max_change_ratio: 1.0\n";

/// The binary against `world`, retrying more than usual (faults are dense).
fn cmd<S: TestKind>(world: &World<S>, args: &[&str]) -> assert_cmd::Command {
    let mut cmd = world.cmd(args);
    cmd.args(["--max-retries", "8"]);
    cmd
}

/// `appform apply` as a child process, to be killed.
fn spawn_apply<S: TestKind>(world: &World<S>) -> Child {
    let mut command = Command::new(assert_cmd::cargo::cargo_bin("appform"));
    command
        .args(APPLY)
        .arg("-c")
        .arg(world.dir.path())
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in S::ENV {
        command.env(k, v);
    }
    command.spawn().unwrap()
}

/// Applies until a run succeeds (faults make single runs fail), then
/// checks that a plan is empty.
fn converge<S: TestKind>(world: &World<S>) {
    let mut last = String::new();
    for run in 0..6 {
        let out = cmd(world, APPLY).output().unwrap();
        let (stdout, stderr) = texts(&out);
        assert!(!stderr.contains("panicked"), "{stderr}");
        if out.status.code() == Some(0) {
            eprintln!("converged after {} run(s)", run + 1);
            assert_plan_empty(world);
            return;
        }
        eprintln!(
            "run {} exited {:?}: {}",
            run + 1,
            out.status.code(),
            stdout
                .lines()
                .filter(|l| l.contains("FAILED"))
                .collect::<Vec<_>>()
                .join("\n")
        );
        last = format!("{stdout}{stderr}");
    }
    panic!("apply did not converge in 6 runs; the last said:\n{last}");
}

fn assert_plan_empty<S: TestKind>(world: &World<S>) {
    let out = cmd(world, &["plan", "--detailed-exitcode"])
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "a second plan is not empty:\n{stdout}{stderr}"
    );
}

const APPLY: &[&str] = &[
    "apply",
    "--auto-approve",
    "--allow-replace",
    "--discard-secrets",
];

// ----- AWX: 100 updates, 20 replacements, 30 deletes, 50 creates (10 confidential)

const AWX_KEEP: usize = 100;

/// `max_in_flight` of the worlds: wide under faults, narrow when a kill must
/// land between two writes.
fn in_flight(scale: usize) -> usize {
    if scale == 200 { 8 } else { 1 }
}

fn awx_world(faults: Faults, scale: usize) -> World<AwxSim> {
    let world = AwxWorld::with_faults(faults);
    world.sim.seed_apps("app-", scale * 150 / 200);
    let n = |full: usize| full * scale / 200;
    let mut apps = String::new();
    for i in 0..n(150) {
        let name = format!("app-{i:03}");
        let body = if i < n(100) {
            "          client_type: public\n          authorization_grant_type: password\n          description: managed\n".to_string()
        } else if i < n(120) {
            "          client_type: public\n          authorization_grant_type: authorization-code\n          redirect_uris: [https://app.example.com/cb]\n".to_string()
        } else {
            "          ensure: absent\n".to_string()
        };
        apps.push_str(&format!(
            "        {name}:\n          organization: Default\n{body}"
        ));
    }
    for i in 0..n(50) {
        let client_type = if i % 5 == 0 { "confidential" } else { "public" };
        apps.push_str(&format!(
            "        new-{i:03}:\n          organization: Default\n          client_type: {client_type}\n          authorization_grant_type: password\n          description: created\n"
        ));
    }
    let config = format!(
        "{POLICY}servers:\n  awx-test:\n    awx:\n      url: {}\n      auth:\n        token: env:AWX_TOKEN\n      max_in_flight: {}\n      applications:\n{apps}",
        world.url(),
        in_flight(scale)
    );
    std::fs::write(world.path("appform.yaml"), config).unwrap();
    world
}

/// No (organization, name) twice, every app the config keeps present, and
/// the updated apps still the same applications (same client id).
fn check_awx(world: &World<AwxSim>, scale: usize, before: &[(String, Value)]) {
    let sim = &world.sim;
    let names = sim.app_names();
    let mut unique = names.clone();
    unique.dedup();
    assert_eq!(names, unique, "duplicates");
    let n = |full: usize| full * scale / 200;
    assert_eq!(names.len(), n(120) + n(50), "{names:?}");
    for (name, client_id) in before {
        let app = sim
            .app_by_name(name)
            .unwrap_or_else(|| panic!("{name} was lost"));
        assert_eq!(&app["client_id"], client_id, "{name} was recreated");
    }
}

fn awx_client_ids(world: &World<AwxSim>, scale: usize) -> Vec<(String, Value)> {
    let sim = &world.sim;
    (0..AWX_KEEP * scale / 200)
        .map(|i| {
            let name = format!("app-{i:03}");
            let id = sim.app_by_name(&name).unwrap()["client_id"].clone();
            (name, id)
        })
        .collect()
}

#[test]
fn awx_converges_under_faults() {
    let world = awx_world(harsh(), 200);
    let before = awx_client_ids(&world, 200);
    converge(&world);
    check_awx(&world, 200, &before);
}

// ----- gateway: 100 updates (20 of them a grant-type change, made in
// place), 20 replacements (public to confidential), 30 deletes, 50 creates

fn gateway_world(faults: Faults, scale: usize) -> World<GatewaySim> {
    let world = GatewayWorld::of(1, |_| GatewayOptions::default(), faults);
    let n = |full: usize| full * scale / 200;
    world.sim.seed_apps("app-", n(150));
    let mut apps = String::new();
    for i in 0..n(150) {
        let body = if i < n(80) {
            "          client_type: public\n          authorization_grant_type: password\n          description: managed\n"
        } else if i < n(100) {
            "          client_type: public\n          authorization_grant_type: authorization-code\n          redirect_uris: [https://app.example.com/cb]\n"
        } else if i < n(120) {
            "          client_type: confidential\n          authorization_grant_type: password\n"
        } else {
            "          ensure: absent\n"
        };
        apps.push_str(&format!(
            "        app-{i:03}:\n          organization: Default\n{body}"
        ));
    }
    for i in 0..n(50) {
        let client_type = if i % 5 == 0 { "confidential" } else { "public" };
        apps.push_str(&format!(
            "        new-{i:03}:\n          organization: Default\n          client_type: {client_type}\n          authorization_grant_type: password\n"
        ));
    }
    let config = format!(
        "{POLICY}servers:\n  gw:\n    gateway:\n      url: {}\n      auth:\n        token: env:GATEWAY_TOKEN\n      max_in_flight: {}\n      applications:\n{apps}",
        world.url(),
        in_flight(scale)
    );
    std::fs::write(world.path("appform.yaml"), config).unwrap();
    world
}

fn gateway_client_ids(world: &World<GatewaySim>, scale: usize) -> Vec<(String, Value)> {
    (0..100 * scale / 200)
        .map(|i| {
            let name = format!("app-{i:03}");
            let id = world.sim.app_by_name(&name).unwrap()["client_id"].clone();
            (name, id)
        })
        .collect()
}

/// No name twice, every app the config keeps present, the updated ones
/// (grant-type changes included) the same applications.
fn check_gateway(world: &World<GatewaySim>, scale: usize, before: &[(String, Value)]) {
    let mut names: Vec<String> = world.sim.app_names().into_iter().map(|(_, n)| n).collect();
    let count = names.len();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), count, "duplicates");
    let n = |full: usize| full * scale / 200;
    assert_eq!(count, n(120) + n(50), "{names:?}");
    for (name, client_id) in before {
        let app = world
            .sim
            .app_by_name(name)
            .unwrap_or_else(|| panic!("{name} was lost"));
        assert_eq!(&app["client_id"], client_id, "{name} was recreated");
    }
}

#[test]
fn gateway_converges_under_faults() {
    let world = gateway_world(harsh(), 200);
    let before = gateway_client_ids(&world, 200);
    converge(&world);
    check_gateway(&world, 200, &before);
}

// ----- TPP: 100 updates, 40 deletes, 60 creates

fn tpp_world(faults: Faults, scale: usize) -> World<TppSim> {
    let world = TppWorld::of(1, |_| TppOptions::default(), faults);
    let n = |full: usize| full * scale / 200;
    world.sim.seed_apps("app-", n(140));
    let mut apps = String::new();
    for i in 0..n(140) {
        let body = if i < n(100) {
            "          description: managed\n          access_validity: 1d\n".to_string()
        } else {
            "          ensure: absent\n".to_string()
        };
        apps.push_str(&format!("        app-{i:03}:\n{body}"));
    }
    for i in 0..n(60) {
        apps.push_str(&format!(
            "        new-{i:03}:\n          name: New {i}\n          vendor: Test\n          description: created\n          url: https://new.example.com\n          scope: certificate:manage\n          maximum_scope: certificate:manage,revoke\n"
        ));
    }
    let config = format!(
        "{POLICY}servers:\n  tpp-test:\n    tpp:\n      url: {}\n      auth:\n        client_id: appform\n        username: tppadmin\n        password: env:TPP_PASSWORD\n      max_in_flight: {}\n      applications:\n{apps}",
        world.url(),
        in_flight(scale)
    );
    std::fs::write(world.path("appform.yaml"), config).unwrap();
    world
}

fn check_tpp(world: &World<TppSim>, scale: usize) {
    let sim = &world.sim;
    let n = |full: usize| full * scale / 200;
    for i in 0..n(100) {
        let app = sim.app(&format!("app-{i:03}")).expect("kept");
        assert_eq!(app["Vendor"], "Seed", "carried over: {app}");
        assert_eq!(app["Description"], "managed");
    }
    for i in n(100)..n(140) {
        assert!(sim.app(&format!("app-{i:03}")).is_none());
    }
    for i in 0..n(60) {
        assert!(sim.app(&format!("new-{i:03}")).is_some());
    }
}

#[test]
fn tpp_converges_under_faults() {
    let world = tpp_world(harsh(), 200);
    converge(&world);
    check_tpp(&world, 200);
}

// ----- WHM: a fleet of 5 hosts, 40 changes each (16 updates, 12 deletes, 12 creates)

fn whm_world(faults: Faults, scale: usize) -> World<WhmSim> {
    let n = |full: usize| full * scale / 200;
    let world = WhmWorld::fleet(5, faults);
    for (h, sim) in world.sims.iter().enumerate() {
        for i in 0..n(28) {
            sim.put(
                "root",
                &format!("app-{i:03}"),
                json!({"token_name": format!("T{i}"), "extra": h}),
            );
        }
    }
    let mut apps = String::new();
    for i in 0..n(28) {
        if i < n(16) {
            apps.push_str(&format!(
                "        app-{i:03}:\n          data:\n            token_name: T{i}\n            jwt: {{iss: https://app.example.com}}\n"
            ));
        } else {
            apps.push_str(&format!("        app-{i:03}:\n          ensure: absent\n"));
        }
    }
    for i in 0..n(12) {
        apps.push_str(&format!(
            "        new-{i:03}:\n          data:\n            token_name: New {i}\n"
        ));
    }
    let urls: String = world
        .urls()
        .iter()
        .map(|u| format!("        - {u}\n"))
        .collect();
    let config = format!(
        "{POLICY}servers:\n  whm-fleet:\n    whm:\n      urls:\n{urls}      auth:\n        username: root\n        token: env:WHM_TOKEN\n      max_in_flight: {}\n      applications:\n{apps}",
        in_flight(scale)
    );
    std::fs::write(world.path("appform.yaml"), config).unwrap();
    world
}

fn check_whm(world: &World<WhmSim>, scale: usize) {
    let sims = &world.sims;
    let n = |full: usize| full * scale / 200;
    for (h, sim) in sims.iter().enumerate() {
        for i in 0..n(16) {
            let data = sim.app("root", &format!("app-{i:03}")).expect("kept");
            assert_eq!(
                data["extra"],
                json!(h),
                "an undeclared key is carried: {data}"
            );
            assert_eq!(data["jwt"]["iss"], "https://app.example.com");
        }
        for i in n(16)..n(28) {
            assert!(sim.app("root", &format!("app-{i:03}")).is_none());
        }
        for i in 0..n(12) {
            assert!(sim.app("root", &format!("new-{i:03}")).is_some());
        }
    }
}

#[test]
fn a_whm_fleet_converges_under_faults() {
    let world = whm_world(harsh(), 200);
    converge(&world);
    check_whm(&world, 200);
}

// ----- kill -9 at three points, then a re-run

#[derive(Clone, Copy, Debug)]
enum KillPoint {
    Early,
    Middle,
    DuringDeletes,
}

/// Starts apply, kills it (SIGKILL) at `point`, then runs apply again: the
/// re-run exits 0 and a plan after it is empty.
fn kill_and_rerun<S: TestKind>(
    world: &World<S>,
    point: KillPoint,
    total_writes: usize,
    earlier_deletes: usize,
) {
    let mut child = spawn_apply(world);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (writes, deletes) = world.write_counts();
        let reached = match point {
            KillPoint::Early => writes >= 3,
            KillPoint::Middle => writes >= total_writes / 2,
            KillPoint::DuringDeletes => deletes > earlier_deletes,
        };
        if reached {
            break;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "apply ended ({status}) before the kill point {point:?}: {writes} writes, {deletes} deletes"
            );
        }
        assert!(
            Instant::now() < deadline,
            "kill point {point:?} never reached"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap();
    let _ = child.wait();
    // The kill left work behind (else this test would prove nothing).
    let out = cmd(world, &["plan", "--detailed-exitcode"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "nothing left to do after kill -9 at {point:?}: {}",
        texts(&out).0
    );
    let out = cmd(world, APPLY).output().unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "the re-run after kill -9 at {point:?}:\n{stdout}{stderr}"
    );
    assert_plan_empty(world);
}

/// A small world (40 changes) with latency, so that a kill lands mid-run.
const KILL_SCALE: usize = 40;

fn awx_kill(point: KillPoint) {
    let world = awx_world(slow(), KILL_SCALE);
    let before = awx_client_ids(&world, KILL_SCALE);
    // Creates 10, updates 20, replaces 4 (3 writes each), deletes 6.
    kill_and_rerun(&world, point, 10 + 20 + 4 * 3 + 6, 4);
    check_awx(&world, KILL_SCALE, &before);
}

#[test]
fn awx_kill_early() {
    awx_kill(KillPoint::Early);
}

#[test]
fn awx_kill_middle() {
    awx_kill(KillPoint::Middle);
}

#[test]
fn awx_kill_during_deletes() {
    awx_kill(KillPoint::DuringDeletes);
}

fn gateway_kill(point: KillPoint) {
    let world = gateway_world(slow(), KILL_SCALE);
    let before = gateway_client_ids(&world, KILL_SCALE);
    // Creates 10, updates 20, replaces 4 (3 writes each), deletes 6.
    kill_and_rerun(&world, point, 10 + 20 + 4 * 3 + 6, 4);
    check_gateway(&world, KILL_SCALE, &before);
}

#[test]
fn gateway_kill_early() {
    gateway_kill(KillPoint::Early);
}

#[test]
fn gateway_kill_middle() {
    gateway_kill(KillPoint::Middle);
}

#[test]
fn gateway_kill_during_deletes() {
    gateway_kill(KillPoint::DuringDeletes);
}

fn tpp_kill(point: KillPoint) {
    let world = tpp_world(slow(), KILL_SCALE);
    kill_and_rerun(&world, point, 40, 0);
    check_tpp(&world, KILL_SCALE);
}

#[test]
fn tpp_kill_early() {
    tpp_kill(KillPoint::Early);
}

#[test]
fn tpp_kill_middle() {
    tpp_kill(KillPoint::Middle);
}

#[test]
fn tpp_kill_during_deletes() {
    tpp_kill(KillPoint::DuringDeletes);
}

fn whm_kill(point: KillPoint) {
    let world = whm_world(slow(), KILL_SCALE);
    kill_and_rerun(&world, point, 35, 0);
    check_whm(&world, KILL_SCALE);
}

#[test]
fn whm_kill_early() {
    whm_kill(KillPoint::Early);
}

#[test]
fn whm_kill_middle() {
    whm_kill(KillPoint::Middle);
}

#[test]
fn whm_kill_during_deletes() {
    whm_kill(KillPoint::DuringDeletes);
}
