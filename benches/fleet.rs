//! Fleet benchmark (`cargo bench --bench fleet`): the real binary against the
//! built-in simulators with network latency, one table of scenarios. Speed
//! goals live here (and in BENCHMARKS.md), not in tests; nothing is asserted.
//!
//! Each row: scenario, apps, instances, requests the simulators received,
//! the minimal request count, wall time, the round-trip lower bound, their
//! ratio, the process's peak RSS and CPU time (from /proc), and for plans the CPU
//! of diff + render measured in-process on the same data.
//!
//! Lower bound: every instance needs `r_i` round trips one after another
//! (AWX plan: 1, or 2 with more than 200 apps — the organizations with the
//! first page, then the other pages together; TPP plan: 2 — the defaults
//! with the count, then one EnumerateApplications; WHM plan: 1; apply adds,
//! per phase, `ceil(changes / max_in_flight) × w` with `w` the round trips of
//! one write — 1 for AWX, and for TPP and WHM 1 per create and 2 per update
//! or delete, which read the object fresh first — then the verification
//! read, like the plan). With
//! `--parallelism P`, `LB = latency × max(max_i r_i, ceil(Σ r_i / P))`.
//!
//! `APPFORM_BENCH_ONLY=text` runs the scenarios whose name contains `text`;
//! `APPFORM_BENCH_WRAP="perf record -g -o FILE --"` runs appform under a
//! profiler.
//!
//! `APPFORM_BENCH=tiny` runs every scenario at 1/50 of its size in seconds
//! (`.ci/run` runs `APPFORM_BENCH=tiny cargo test --bench fleet`, so the bench
//! cannot rot); the default is the full size.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use appform::sandbox::Faults;
use appform::sandbox::awx::AwxOptions;
use appform::sandbox::fleet::{AnySim, Sandbox, SimOptions, SimSpec};
use appform::sandbox::tpp::TppOptions;
use appform::sandbox::whm::WhmOptions;

// The simulators stand in for remote servers: they get the allocator
// appform itself uses, so they take less of the 2 cores they share with the
// measured process (about a third of their CPU was glibc's malloc/free).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const LATENCY: Duration = Duration::from_millis(20);
const AWX_PAGE: usize = 200;
const MAX_IN_FLIGHT: usize = 4;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Awx,
    Tpp,
    Whm,
}

/// One instance of a scenario: its kind, live apps, and what the config wants.
struct Host {
    kind: Kind,
    apps: usize,
    drift: usize,
    creates: usize,
    deletes: usize,
}

struct World {
    sandbox: Sandbox,
    hosts: Vec<Host>,
    dir: PathBuf,
}

fn fail(message: String) -> ! {
    eprintln!("{message}");
    std::process::exit(1)
}

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

impl World {
    fn start(name: &str, hosts: Vec<Host>) -> World {
        let specs = hosts
            .iter()
            .enumerate()
            .map(|(i, h)| SimSpec {
                addr: loopback(),
                options: match h.kind {
                    Kind::Awx => SimOptions::Awx(AwxOptions::default()),
                    Kind::Tpp => SimOptions::Tpp(TppOptions::default()),
                    Kind::Whm => SimOptions::Whm(WhmOptions {
                        seed: i as u64 + 1,
                        ..WhmOptions::default()
                    }),
                },
            })
            .collect();
        let faults = Faults {
            latency: LATENCY,
            ..Faults::default()
        };
        let sandbox =
            Sandbox::start(specs, None, false, faults).unwrap_or_else(|e| fail(e.to_string()));
        let dir = std::env::temp_dir().join(format!("appform-bench-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| fail(e.to_string()));
        let world = World {
            sandbox,
            hosts,
            dir,
        };
        world.seed_and_configure();
        world
    }

    /// Live apps `app-NNN`; the config keeps all but `deletes` of them (marked
    /// absent), wants `drift` of them changed and `creates` new ones.
    fn seed_and_configure(&self) {
        // One file per server, the layout a large configuration uses (a file
        // holds at most 250,000 YAML nodes).
        let mut files = vec![(
            "policy.yaml".to_string(),
            "policy:\n  max_deletes: 100000\n  max_change_ratio: 1.0\n".to_string(),
        )];
        for (i, (h, r)) in self.hosts.iter().zip(&self.sandbox.running).enumerate() {
            let url = r.server.url();
            let mut apps = String::new();
            match &r.sim {
                AnySim::Awx(sim) => {
                    sim.seed_apps("app-", h.apps);
                    for a in 0..h.apps {
                        let body = if a < h.deletes {
                            "ensure: absent".to_string()
                        } else if a < h.deletes + h.drift {
                            "client_type: public, authorization_grant_type: password, description: changed".to_string()
                        } else {
                            "client_type: public, authorization_grant_type: password".to_string()
                        };
                        apps.push_str(&format!(
                            "        app-{a:03}: {{organization: 1, {body}}}\n"
                        ));
                    }
                    for a in 0..h.creates {
                        apps.push_str(&format!("        new-{a:03}: {{organization: 1, client_type: public, authorization_grant_type: password}}\n"));
                    }
                    files.push((format!("awx-{i:03}.yaml"), format!("servers:\n  awx-{i}:\n    awx:\n      url: {url}\n      auth: {{token: env:AWX_TOKEN}}\n      applications:\n{apps}")));
                }
                // The bench's hosts are AWX, TPP and WHM (the gateway
                // speaks AWX's API through the same provider flow).
                AnySim::Gateway(_) => {}
                AnySim::Tpp(sim) => {
                    sim.seed_apps("app-", h.apps);
                    for a in 0..h.apps {
                        let body = if a < h.deletes {
                            "ensure: absent"
                        } else if a < h.deletes + h.drift {
                            "vendor: Seed, description: changed"
                        } else {
                            "vendor: Seed"
                        };
                        apps.push_str(&format!("        app-{a:03}: {{{body}}}\n"));
                    }
                    for a in 0..h.creates {
                        apps.push_str(&format!("        new-{a:03}: {{name: New {a}, vendor: Bench, description: new, url: https://new.example.com, scope: certificate, maximum_scope: certificate}}\n"));
                    }
                    files.push((format!("tpp-{i:03}.yaml"), format!("servers:\n  tpp-{i}:\n    tpp:\n      url: {url}\n      auth: {{token: env:TPP_TOKEN}}\n      applications:\n{apps}")));
                }
                AnySim::Whm(sim) => {
                    for a in 0..h.apps {
                        sim.put(
                            "root",
                            &format!("app-{a:03}"),
                            serde_json::json!({"token_name": format!("T{a}")}),
                        );
                        let body = if a < h.deletes {
                            "ensure: absent".to_string()
                        } else if a < h.deletes + h.drift {
                            format!(
                                "data: {{token_name: T{a}, jwt: {{iss: https://changed.example.com}}}}"
                            )
                        } else {
                            format!("data: {{token_name: T{a}}}")
                        };
                        apps.push_str(&format!("        app-{a:03}: {{{body}}}\n"));
                    }
                    for a in 0..h.creates {
                        apps.push_str(&format!(
                            "        new-{a:03}: {{data: {{token_name: New {a}}}}}\n"
                        ));
                    }
                    files.push((format!("whm-{i:03}.yaml"), format!("servers:\n  whm-{i}:\n    whm:\n      url: {url}\n      auth: {{username: root, token: env:WHM_TOKEN}}\n      applications:\n{apps}")));
                }
            }
        }
        for (name, text) in files {
            std::fs::write(self.dir.join(name), text).unwrap_or_else(|e| fail(e.to_string()));
        }
    }

    fn apps(&self) -> usize {
        self.hosts.iter().map(|h| h.apps).sum()
    }

    fn requests(&self) -> usize {
        self.sandbox
            .running
            .iter()
            .map(|r| r.sim.requests().len())
            .sum()
    }

    fn clear(&self) {
        self.sandbox
            .running
            .iter()
            .for_each(|r| r.sim.clear_requests());
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Round trips one instance needs one after another to be planned, and its
/// minimal requests.
fn plan_cost(h: &Host) -> (usize, usize) {
    match h.kind {
        Kind::Awx => {
            let pages = h.apps.div_ceil(AWX_PAGE).max(1);
            (if pages > 1 { 2 } else { 1 }, 1 + pages)
        }
        Kind::Tpp => (2, 3),
        Kind::Whm => (1, 1),
    }
}

/// Round trips (one after another) and requests of one instance's apply.
fn apply_cost(h: &Host) -> (usize, usize) {
    let (plan_rt, plan_req) = plan_cost(h);
    let updates = h.drift;
    // Requests (each one round trip after the other) per create, update and
    // delete: a full-replace kind reads the object fresh before an update or
    // a delete (never a write from a stale read); a create has nothing to read.
    let per = match h.kind {
        Kind::Awx => [1, 1, 1],
        Kind::Tpp | Kind::Whm => [1, 2, 2],
    };
    let phases = [h.creates, updates, h.deletes];
    let rt: usize = phases
        .iter()
        .zip(per)
        .map(|(n, w)| n.div_ceil(MAX_IN_FLIGHT) * w)
        .sum();
    let req: usize = phases.iter().zip(per).map(|(n, p)| n * p).sum();
    let touched = phases.iter().sum::<usize>() > 0;
    // The read-back: like the plan, but TPP's defaults are known by then.
    let verify = match (touched, h.kind) {
        (false, _) => (0, 0),
        (true, Kind::Tpp) => (2, 2),
        (true, _) => plan_cost(h),
    };
    (plan_rt + rt + verify.0, plan_req + req + verify.1)
}

fn lower_bound(round_trips: &[usize], parallelism: usize) -> Duration {
    let longest = round_trips.iter().copied().max().unwrap_or(0);
    let spread = round_trips
        .iter()
        .sum::<usize>()
        .div_ceil(parallelism.max(1));
    LATENCY * longest.max(spread) as u32
}

struct Measured {
    wall: Duration,
    rss_mb: f64,
    cpu: Duration,
    /// CPU the simulators (this process's `sandbox-*` threads) used meanwhile:
    /// they share the machine's cores with appform.
    servers_cpu: Duration,
}

/// CPU time of this process's simulator threads (`sandbox-*`), from
/// /proc: `schedstat` (nanoseconds on a CPU, exact) rather than `stat`'s
/// 10 ms ticks, which miss the short bursts of a hundred idle servers.
fn simulators_cpu() -> Duration {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Duration::ZERO;
    };
    let mut nanos = 0;
    for task in tasks.flatten() {
        let is_simulator = std::fs::read_to_string(task.path().join("comm"))
            .is_ok_and(|name| name.starts_with("sandbox"));
        if !is_simulator {
            continue;
        }
        nanos += std::fs::read_to_string(task.path().join("schedstat"))
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
            .unwrap_or(0);
    }
    Duration::from_nanos(nanos)
}

/// Peak RSS (VmHWM, kB) and CPU time (utime + stime) of a running process,
/// from /proc. Both only grow, so the last reading before the process ends
/// is (within one polling interval) the final value.
fn proc_usage(pid: u32) -> Option<(u64, Duration)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let hwm = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which is in parentheses): utime is the
    // 14th field of the line, stime the 15th; both in clock ticks (100/s).
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
    let cpu = ticks(11)? + ticks(12)?;
    Some((hwm, Duration::from_millis(cpu * 10)))
}

/// Runs the binary, watching its peak RSS and CPU time in /proc. With
/// `APPFORM_BENCH_WRAP` (for example `perf record -g -o /tmp/plan.data --`)
/// the binary runs under that command (the row's RSS and CPU are then the
/// wrapper's).
fn run(dir: &Path, args: &[&str]) -> Measured {
    let servers_before = simulators_cpu();
    let started = Instant::now();
    let wrap = std::env::var("APPFORM_BENCH_WRAP").unwrap_or_default();
    let mut command = match wrap.split_whitespace().collect::<Vec<_>>().split_first() {
        Some((program, wrap_args)) => {
            let mut c = Command::new(program);
            c.args(wrap_args).arg(env!("CARGO_BIN_EXE_appform"));
            c
        }
        None => Command::new(env!("CARGO_BIN_EXE_appform")),
    };
    let mut child = command
        .args(args)
        .arg("-c")
        .arg(dir)
        .env("AWX_TOKEN", "sandbox-awx-token")
        .env("TPP_TOKEN", "sandbox-tpp-token")
        .env("WHM_TOKEN", "sandbox-whm-token")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| fail(format!("cannot run appform: {e}")));
    let mut usage = (0, Duration::ZERO);
    let status = loop {
        if let Some(u) = proc_usage(child.id()) {
            usage = u;
        }
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => std::thread::sleep(Duration::from_millis(2)),
            Err(e) => fail(format!("cannot wait for appform: {e}")),
        }
    };
    let wall = started.elapsed();
    let servers_cpu = simulators_cpu().saturating_sub(servers_before);
    let code = status.code().unwrap_or(-1);
    if code != 0 && code != 2 {
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            use std::io::Read;
            let _ = e.read_to_string(&mut err);
        }
        fail(format!("appform {args:?} exited {code}: {err}"));
    }
    Measured {
        wall,
        rss_mb: usage.0 as f64 / 1024.0,
        cpu: usage.1,
        servers_cpu,
    }
}

/// The simulators' tokens, by the `env:` names the bench configs use.
struct BenchSecrets;

impl appform::secret::SecretSource for BenchSecrets {
    fn secret(
        &self,
        reference: &appform::secret::SecretRef,
        _field: &str,
    ) -> Result<appform::secret::Secret, appform::secret::ResolveError> {
        let value = match reference {
            appform::secret::SecretRef::Env(name) if name == "TPP_TOKEN" => "sandbox-tpp-token",
            appform::secret::SecretRef::Env(name) if name == "WHM_TOKEN" => "sandbox-whm-token",
            _ => "sandbox-awx-token",
        };
        Ok(appform::secret::Secret::new(value))
    }
    fn credential(
        &self,
        credential: &appform::secret::Credential,
        _field: &str,
    ) -> Result<String, appform::secret::ResolveError> {
        match credential {
            appform::secret::Credential::Literal(s) => Ok(s.clone()),
            appform::secret::Credential::Ref(_) => Ok("root".into()),
        }
    }
}

/// diff + render of the world's config against what its servers hold, in
/// this process (no network): the CPU the plan itself costs.
fn diff_and_render_cpu(world: &World) -> Duration {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail(e.to_string()));
    let config = appform::config::load(&world.dir).unwrap_or_else(|e| fail(e.to_string()));
    let secrets = BenchSecrets;
    let targets = appform::targets::select(&config, &[]).unwrap_or_else(|e| fail(e));
    let fetched = rt.block_on(appform::targets::fetch_all(
        &targets,
        &secrets,
        appform::provider::ConnectOptions { max_retries: 0 },
        100,
        &[],
    ));
    let started = Instant::now();
    let states = fetched
        .iter()
        .map(|f| appform::plan::InstanceState {
            server: f.target.server,
            instance: f.target.instance,
            live: f.live.as_ref(),
        })
        .collect();
    let (plan, _) = appform::plan::build(&config, states);
    let text = appform::render::text::plan(appform::render::text::Style { color: false }, &plan);
    let elapsed = started.elapsed();
    std::hint::black_box(text);
    elapsed
}

struct Row {
    scenario: String,
    apps: usize,
    instances: usize,
    requests: usize,
    minimal: usize,
    measured: Measured,
    bound: Duration,
    diff_render: Option<Duration>,
}

fn print(rows: &[Row]) {
    println!(
        "| scenario | apps | instances | requests | minimal | wall | lower bound | ratio | peak RSS | CPU | servers' CPU | CPU floor | wall / max(bound, floor) | diff+render |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u32;
    // The CPU floor: appform's CPU and the simulated servers' CPU spread over
    // the cores they share here (real servers bring their own).
    let floor = |r: &Row| (r.measured.cpu + r.measured.servers_cpu) / cores;
    for r in rows {
        let ms = |d: Duration| format!("{} ms", d.as_millis());
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {:.2} | {:.0} MB | {} | {} | {} | {:.2} | {} |",
            r.scenario,
            r.apps,
            r.instances,
            r.requests,
            r.minimal,
            ms(r.measured.wall),
            ms(r.bound),
            r.measured.wall.as_secs_f64() / r.bound.as_secs_f64().max(1e-9),
            r.measured.rss_mb,
            ms(r.measured.cpu),
            ms(r.measured.servers_cpu),
            ms(floor(r)),
            r.measured.wall.as_secs_f64() / r.bound.max(floor(r)).as_secs_f64().max(1e-9),
            r.diff_render.map(ms).unwrap_or_else(|| "–".into()),
        );
    }
}

/// 10,000 apps over 100 instances: 10 AWX × 500, 10 TPP × 300, 80 WHM × 25
/// (divided by `scale`), with `drift_percent` of them to update.
fn mixed(scale: usize, drift_percent: usize) -> Vec<Host> {
    let host = |kind, apps: usize| Host {
        kind,
        apps: (apps / scale).max(1),
        drift: (apps / scale).max(1) * drift_percent / 100,
        creates: 0,
        deletes: 0,
    };
    let mut hosts = Vec::new();
    for _ in 0..10 {
        hosts.push(host(Kind::Awx, 500));
    }
    for _ in 0..10 {
        hosts.push(host(Kind::Tpp, 300));
    }
    for _ in 0..80 {
        hosts.push(host(Kind::Whm, 25));
    }
    hosts
}

/// `APPFORM_BENCH_ONLY=text`: only the scenarios whose name contains it.
fn selected(name: &str) -> bool {
    std::env::var("APPFORM_BENCH_ONLY").map_or(true, |only| name.contains(&only))
}

fn plan_row(name: &str, hosts: Vec<Host>, parallelism: usize, rows: &mut Vec<Row>) {
    if !selected(&format!("{name}, --parallelism {parallelism}")) {
        return;
    }
    let world = World::start("plan", hosts);
    let costs: Vec<(usize, usize)> = world.hosts.iter().map(plan_cost).collect();
    world.clear();
    let p = parallelism.to_string();
    let measured = run(
        &world.dir,
        &["plan", "--format", "json", "--parallelism", &p],
    );
    let requests = world.requests();
    let diff_render = diff_and_render_cpu(&world);
    rows.push(Row {
        scenario: format!("{name}, --parallelism {parallelism}"),
        apps: world.apps(),
        instances: world.hosts.len(),
        requests,
        minimal: costs.iter().map(|c| c.1).sum(),
        bound: lower_bound(&costs.iter().map(|c| c.0).collect::<Vec<_>>(), parallelism),
        measured,
        diff_render: Some(diff_render),
    });
}

fn apply_row(name: &str, hosts: Vec<Host>, parallelism: usize, rows: &mut Vec<Row>) {
    if !selected(&format!("{name}, --parallelism {parallelism}")) {
        return;
    }
    let world = World::start("apply", hosts);
    let costs: Vec<(usize, usize)> = world.hosts.iter().map(apply_cost).collect();
    world.clear();
    let p = parallelism.to_string();
    let measured = run(
        &world.dir,
        &["apply", "--auto-approve", "--parallelism", &p],
    );
    // APPFORM_BENCH_DEBUG=1: every request of the apply, per instance.
    if std::env::var_os("APPFORM_BENCH_DEBUG").is_some() {
        for r in world.sandbox.running.iter().skip(6).step_by(6).take(2) {
            eprintln!("--");
            for q in r.sim.requests() {
                eprintln!("{} {}", q.method, q.path);
            }
        }
    }
    rows.push(Row {
        scenario: format!("{name}, --parallelism {parallelism}"),
        apps: world.apps(),
        instances: world.hosts.len(),
        requests: world.requests(),
        minimal: costs.iter().map(|c| c.1).sum(),
        bound: lower_bound(&costs.iter().map(|c| c.0).collect::<Vec<_>>(), parallelism),
        measured,
        diff_render: None,
    });
}

fn main() {
    let tiny = std::env::var("APPFORM_BENCH").is_ok_and(|v| v == "tiny");
    let scale = if tiny { 50 } else { 1 };
    println!(
        "latency {} ms per request on every simulated server; max_in_flight {MAX_IN_FLIGHT}; {}",
        LATENCY.as_millis(),
        if tiny {
            "tiny run (1/50 of the apps)"
        } else {
            "full size"
        }
    );
    let mut rows = Vec::new();
    plan_row("no-op plan, mixed", mixed(scale, 0), 10, &mut rows);
    plan_row("no-op plan, mixed", mixed(scale, 0), 100, &mut rows);
    plan_row(
        "plan with 10% drift, mixed",
        mixed(scale, 10),
        100,
        &mut rows,
    );
    // Apply: 2,000 changes over 20 instances (per instance 50 updates, 30
    // creates, 20 deletes): 6 AWX, 6 TPP, 8 WHM.
    let changes = |kind| Host {
        kind,
        apps: (120 / scale).max(3),
        drift: (50 / scale).max(1),
        creates: (30 / scale).max(1),
        deletes: (20 / scale).max(1),
    };
    let mut apply_hosts = Vec::new();
    for (kind, n) in [(Kind::Awx, 6), (Kind::Tpp, 6), (Kind::Whm, 8)] {
        for _ in 0..n {
            apply_hosts.push(changes(kind));
        }
    }
    apply_row("apply of 2,000 mixed changes", apply_hosts, 20, &mut rows);
    // Scaling: WHM hosts of 100 apps each (AWX and TPP grow by pages).
    for total in [1_000, 10_000, 50_000] {
        let hosts: Vec<Host> = (0..(total / 100 / scale).max(1))
            .map(|_| Host {
                kind: Kind::Whm,
                apps: 100,
                drift: 0,
                creates: 0,
                deletes: 0,
            })
            .collect();
        plan_row(
            &format!("scaling: no-op plan, {total} WHM apps"),
            hosts,
            100,
            &mut rows,
        );
    }
    print(&rows);
}
