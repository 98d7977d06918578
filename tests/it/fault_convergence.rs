//! Convergence under faults, for every kind: 200 changes applied while the
//! simulators answer 15% of requests 503 before acting, lose 5% of answers
//! after acting, and reset 5% of new connections; and `kill -9` of apply at
//! three points (early, middle, during deletes) followed by a re-run. Each
//! ends with no duplicate, nothing the config keeps lost, an empty second
//! plan, and (after a kill) a re-run that exits 0.

use appform::sandbox::Simulator as _;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use appform::sandbox::awx::{AwxOptions, AwxSim};
use appform::sandbox::tpp::{TppOptions, TppSim};
use appform::sandbox::whm::{WhmOptions, WhmSim};
use appform::sandbox::{BackgroundServer, Faults, serve_in_background};
use serde_json::{Value, json};

use crate::support::{AWX_TOKEN, appform, texts};

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

fn serve(router: axum::Router, faults: Faults) -> BackgroundServer {
    serve_in_background("127.0.0.1:0".parse().unwrap(), router, faults).unwrap()
}

const POLICY: &str = "policy:\n  max_deletes: 1000\n  max_change_ratio: 1.0\n";

/// The simulators of one kind and the config that manages them.
enum Sims {
    Awx(AwxSim),
    Tpp(TppSim),
    Whm(Vec<WhmSim>),
}

struct World {
    sims: Sims,
    _servers: Vec<BackgroundServer>,
    dir: tempfile::TempDir,
}

impl World {
    fn cmd(&self, args: &[&str]) -> assert_cmd::Command {
        let mut cmd = appform();
        cmd.args(args)
            .arg("-c")
            .arg(self.dir.path())
            .args(["--max-retries", "8"])
            .env("AWX_TOKEN", AWX_TOKEN)
            .env("TPP_PASSWORD", "password")
            .env("WHM_TOKEN", "sandbox-whm-token");
        cmd
    }

    fn spawn_apply(&self) -> Child {
        Command::new(assert_cmd::cargo::cargo_bin("appform"))
            .args(APPLY)
            .arg("-c")
            .arg(self.dir.path())
            .env("AWX_TOKEN", AWX_TOKEN)
            .env("TPP_PASSWORD", "password")
            .env("WHM_TOKEN", "sandbox-whm-token")
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    }

    /// (writes so far, deletes so far) as the simulators saw them.
    fn writes(&self) -> (usize, usize) {
        let count = |reqs: Vec<appform::sandbox::LoggedRequest>,
                     is_delete: &dyn Fn(&str, &str) -> bool| {
            let writes: Vec<_> = reqs
                .into_iter()
                .filter(|r| {
                    r.method != "GET"
                        && !r.path.to_ascii_lowercase().contains("enumerate")
                        && !r.path.to_ascii_lowercase().contains("getapplication")
                        && !r.path.to_ascii_lowercase().contains("totalcount")
                        && !r.path.contains("list_connected")
                        && !r.path.contains("fetch_connected")
                        && !r.path.starts_with("/vedauth")
                })
                .collect();
            let deletes = writes
                .iter()
                .filter(|r| is_delete(&r.method, &r.path))
                .count();
            (writes.len(), deletes)
        };
        match &self.sims {
            Sims::Awx(sim) => count(sim.requests(), &|m, _| m == "DELETE"),
            Sims::Tpp(sim) => count(sim.requests(), &|_, p| {
                p.to_ascii_lowercase().ends_with("deleteapplication")
            }),
            Sims::Whm(sims) => sims
                .iter()
                .map(|s| count(s.requests(), &|_, p| p.contains("remove_connected")))
                .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1)),
        }
    }

    /// Applies until a run succeeds (faults make single runs fail), then
    /// checks that a plan is empty.
    fn converge(&self) {
        let mut last = String::new();
        for run in 0..6 {
            let out = self.cmd(APPLY).output().unwrap();
            let (stdout, stderr) = texts(&out);
            assert!(!stderr.contains("panicked"), "{stderr}");
            if out.status.code() == Some(0) {
                eprintln!("converged after {} run(s)", run + 1);
                self.assert_plan_empty();
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

    fn assert_plan_empty(&self) {
        let out = self.cmd(&["plan", "--detailed-exitcode"]).output().unwrap();
        let (stdout, stderr) = texts(&out);
        assert_eq!(
            out.status.code(),
            Some(0),
            "a second plan is not empty:\n{stdout}{stderr}"
        );
    }
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

fn awx_world(faults: Faults, scale: usize) -> World {
    let sim = AwxSim::new(AwxOptions::default());
    sim.seed_apps("app-", scale * 150 / 200);
    let server = serve(sim.router(), faults);
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
        server.url(),
        in_flight(scale)
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("appform.yaml"), config).unwrap();
    World {
        sims: Sims::Awx(sim),
        _servers: vec![server],
        dir,
    }
}

/// No (organization, name) twice, every app the config keeps present, and
/// the updated apps still the same applications (same client id).
fn check_awx(world: &World, scale: usize, before: &[(String, Value)]) {
    let Sims::Awx(sim) = &world.sims else {
        unreachable!()
    };
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

fn awx_client_ids(world: &World, scale: usize) -> Vec<(String, Value)> {
    let Sims::Awx(sim) = &world.sims else {
        unreachable!()
    };
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
    world.converge();
    check_awx(&world, 200, &before);
}

// ----- TPP: 100 updates, 40 deletes, 60 creates

fn tpp_world(faults: Faults, scale: usize) -> World {
    let sim = TppSim::new(TppOptions::default());
    let n = |full: usize| full * scale / 200;
    sim.seed_apps("app-", n(140));
    let server = serve(sim.router(), faults);
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
        server.url(),
        in_flight(scale)
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("appform.yaml"), config).unwrap();
    World {
        sims: Sims::Tpp(sim),
        _servers: vec![server],
        dir,
    }
}

fn check_tpp(world: &World, scale: usize) {
    let Sims::Tpp(sim) = &world.sims else {
        unreachable!()
    };
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
    world.converge();
    check_tpp(&world, 200);
}

// ----- WHM: a fleet of 5 hosts, 40 changes each (16 updates, 12 deletes, 12 creates)

fn whm_world(faults: Faults, scale: usize) -> World {
    let n = |full: usize| full * scale / 200;
    let mut sims = Vec::new();
    let mut servers = Vec::new();
    for h in 0..5 {
        let sim = WhmSim::new(WhmOptions {
            seed: h + 1,
            ..WhmOptions::default()
        });
        for i in 0..n(28) {
            sim.put(
                "root",
                &format!("app-{i:03}"),
                json!({"token_name": format!("T{i}"), "extra": h}),
            );
        }
        servers.push(serve(sim.router(), faults));
        sims.push(sim);
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
    let urls: String = servers
        .iter()
        .map(|s| format!("        - {}\n", s.url()))
        .collect();
    let config = format!(
        "{POLICY}servers:\n  whm-fleet:\n    whm:\n      urls:\n{urls}      auth:\n        username: root\n        token: env:WHM_TOKEN\n      max_in_flight: {}\n      applications:\n{apps}",
        in_flight(scale)
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("appform.yaml"), config).unwrap();
    World {
        sims: Sims::Whm(sims),
        _servers: servers,
        dir,
    }
}

fn check_whm(world: &World, scale: usize) {
    let Sims::Whm(sims) = &world.sims else {
        unreachable!()
    };
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
    world.converge();
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
fn kill_and_rerun(world: &World, point: KillPoint, total_writes: usize, earlier_deletes: usize) {
    let mut child = world.spawn_apply();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (writes, deletes) = world.writes();
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
    let out = world
        .cmd(&["plan", "--detailed-exitcode"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "nothing left to do after kill -9 at {point:?}: {}",
        texts(&out).0
    );
    let out = world.cmd(APPLY).output().unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "the re-run after kill -9 at {point:?}:\n{stdout}{stderr}"
    );
    world.assert_plan_empty();
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
