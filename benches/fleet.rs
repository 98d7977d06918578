//! Fleet benchmark (run with `cargo bench`): the real binary plans against
//! simulated servers with network latency, to show what parallelism buys.
//!
//! - 40 WHM hosts at 20 ms per request, planned with `--parallelism` 1, 10, 40;
//! - one AWX server holding 1,000 applications at 20 ms per request (five
//!   pages of 200: the first, then the rest concurrently).
//!
//! Timings are printed, not asserted: speed goals live here, not in tests.

use std::process::Command;
use std::time::{Duration, Instant};

use appform::sandbox::awx::{AwxOptions, AwxSim};
use appform::sandbox::whm::{WhmOptions, WhmSim};
use appform::sandbox::{BackgroundServer, Faults, serve_in_background};

const LATENCY: Duration = Duration::from_millis(20);

fn serve(router: axum::Router) -> BackgroundServer {
    let faults = Faults {
        latency: LATENCY,
        ..Faults::default()
    };
    match serve_in_background(([127, 0, 0, 1], 0).into(), router, faults) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("cannot start a simulator: {e}");
            std::process::exit(1);
        }
    }
}

fn run(dir: &std::path::Path, args: &[&str], env: (&str, &str)) -> Duration {
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_appform"))
        .args(args)
        .arg("-c")
        .arg(dir)
        .env(env.0, env.1)
        .output();
    let elapsed = started.elapsed();
    match out {
        Ok(o) if o.status.code().is_some_and(|c| c == 0 || c == 2) => elapsed,
        Ok(o) => {
            eprintln!("appform failed: {}", String::from_utf8_lossy(&o.stderr));
            std::process::exit(1);
        }
        Err(e) => {
            eprintln!("cannot run appform: {e}");
            std::process::exit(1);
        }
    }
}

fn whm_fleet() {
    const HOSTS: usize = 40;
    let dir = tempfile_dir("whm");
    let mut sims = Vec::new();
    let mut servers = Vec::new();
    for i in 0..HOSTS {
        let sim = WhmSim::new(WhmOptions {
            seed: i as u64,
            ..WhmOptions::default()
        });
        sim.put(
            "root",
            "billing",
            serde_json::json!({"token_name": "Billing", "jwt": {"iss": "https://old.example.com"}}),
        );
        servers.push(serve(sim.router()));
        sims.push(sim);
    }
    let urls: String = servers
        .iter()
        .map(|s| format!("        - {}\n", s.url()))
        .collect();
    let config = format!(
        "servers:\n  fleet:\n    whm:\n      urls:\n{urls}      auth: {{username: root, token: env:WHM_TOKEN}}\n      applications:\n        billing:\n          data: {{token_name: Billing, jwt: {{iss: https://billing.example.com}}}}\n        monitoring:\n          data: {{token_name: Monitoring}}\n"
    );
    write(&dir, &config);
    for p in ["1", "10", "40"] {
        let t = run(
            &dir,
            &["plan", "--parallelism", p, "--format", "json"],
            ("WHM_TOKEN", "sandbox-whm-token"),
        );
        println!(
            "whm fleet: plan of {HOSTS} hosts, --parallelism {p:>2}: {:>6} ms",
            t.as_millis()
        );
    }
    let t = run(
        &dir,
        &["apply", "--auto-approve", "--parallelism", "40"],
        ("WHM_TOKEN", "sandbox-whm-token"),
    );
    println!(
        "whm fleet: apply to {HOSTS} hosts (fetch, 2 writes, verify), --parallelism 40: {} ms",
        t.as_millis()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn awx_large() {
    let dir = tempfile_dir("awx");
    let sim = AwxSim::new(AwxOptions::default());
    sim.seed_apps("app-", 1_000);
    let server = serve(sim.router());
    let config = format!(
        "servers:\n  awx-big:\n    awx:\n      url: {}\n      auth: {{token: env:AWX_TOKEN}}\n      applications:\n        app-000:\n          organization: 1\n          description: changed\n",
        server.url()
    );
    write(&dir, &config);
    let t = run(
        &dir,
        &["plan", "--format", "json"],
        ("AWX_TOKEN", "sandbox-awx-token"),
    );
    println!(
        "awx: plan against 1,000 applications (5 pages of 200): {} ms",
        t.as_millis()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempfile_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("appform-bench-{name}-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    dir
}

fn write(dir: &std::path::Path, text: &str) {
    if let Err(e) = std::fs::write(dir.join("appform.yaml"), text) {
        eprintln!("cannot write the config: {e}");
        std::process::exit(1);
    }
}

fn main() {
    println!(
        "latency {} ms per request on every simulated server",
        LATENCY.as_millis()
    );
    whm_fleet();
    awx_large();
}
