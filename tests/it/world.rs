//! The one test world of the integration tests: simulators of one kind on
//! free loopback ports (one, or a fleet), a temporary config directory, and
//! the binary run against them with the sandbox's credentials in the
//! environment. `AwxWorld`, `TppWorld` and `WhmWorld` are this world for one
//! kind; what differs per kind (its credentials, which requests write, how
//! its config is written) is in [`TestKind`] and the kind's `impl` block.

use appform::sandbox::awx::{AwxOptions, AwxSim};
use appform::sandbox::gateway::GatewaySim;
use appform::sandbox::tpp::{TppOptions, TppSim};
use appform::sandbox::whm::{WhmOptions, WhmSim};
use appform::sandbox::{BackgroundServer, Faults, LoggedRequest, Simulator, serve_in_background};

use crate::support::{appform, texts};

pub const AWX_TOKEN: &str = "sandbox-awx-token";

/// What the tests need to know of a kind's simulator.
pub trait TestKind: Simulator {
    /// The environment the kind's configs reference, with the simulator's values.
    const ENV: &'static [(&'static str, &'static str)];
    /// Whether a request changes the server.
    fn writes(r: &LoggedRequest) -> bool;
    /// Whether a request deletes an application.
    fn deletes(r: &LoggedRequest) -> bool;
}

impl TestKind for AwxSim {
    const ENV: &'static [(&'static str, &'static str)] = &[("AWX_TOKEN", AWX_TOKEN)];
    fn writes(r: &LoggedRequest) -> bool {
        !matches!(r.method.as_str(), "GET" | "HEAD" | "OPTIONS")
    }
    fn deletes(r: &LoggedRequest) -> bool {
        r.method == "DELETE"
    }
}

impl TestKind for GatewaySim {
    const ENV: &'static [(&'static str, &'static str)] =
        &[("GATEWAY_TOKEN", "sandbox-gateway-token")];
    fn writes(r: &LoggedRequest) -> bool {
        !matches!(r.method.as_str(), "GET" | "HEAD" | "OPTIONS")
    }
    fn deletes(r: &LoggedRequest) -> bool {
        r.method == "DELETE"
    }
}

impl TestKind for TppSim {
    const ENV: &'static [(&'static str, &'static str)] = &[
        ("TPP_PASSWORD", "password"),
        ("TPP_TOKEN", "sandbox-tpp-token"),
    ];
    fn writes(r: &LoggedRequest) -> bool {
        let p = r.path.to_ascii_lowercase();
        p.ends_with("createapplication")
            || p.ends_with("updateapplication")
            || p.ends_with("deleteapplication")
    }
    fn deletes(r: &LoggedRequest) -> bool {
        r.path.to_ascii_lowercase().ends_with("deleteapplication")
    }
}

impl TestKind for WhmSim {
    const ENV: &'static [(&'static str, &'static str)] = &[("WHM_TOKEN", "sandbox-whm-token")];
    fn writes(r: &LoggedRequest) -> bool {
        r.path.contains("save_connected_application")
            || r.path.contains("remove_connected_application")
    }
    fn deletes(r: &LoggedRequest) -> bool {
        r.path.contains("remove_connected_application")
    }
}

pub struct World<S: TestKind> {
    /// The first (or only) simulator; clones share its state.
    pub sim: S,
    /// Every host's simulator, in URL order.
    pub sims: Vec<S>,
    servers: Vec<Option<BackgroundServer>>,
    urls: Vec<String>,
    pub dir: tempfile::TempDir,
}

pub type AwxWorld = World<AwxSim>;
pub type GatewayWorld = World<GatewaySim>;
pub type TppWorld = World<TppSim>;
pub type WhmWorld = World<WhmSim>;

impl<S: TestKind> World<S> {
    /// `hosts` simulators, host `i` started with `options(i)`, behind `faults`.
    pub fn of(hosts: usize, options: impl Fn(usize) -> S::Options, faults: Faults) -> Self {
        let sims: Vec<S> = (0..hosts).map(|i| S::start(options(i))).collect();
        let servers: Vec<Option<BackgroundServer>> = sims
            .iter()
            .map(|s| {
                Some(
                    serve_in_background("127.0.0.1:0".parse().unwrap(), s.routes(), faults)
                        .unwrap(),
                )
            })
            .collect();
        let urls = servers
            .iter()
            .flatten()
            .map(BackgroundServer::url)
            .collect();
        World {
            sim: sims[0].clone(),
            sims,
            servers,
            urls,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// The first host's URL.
    pub fn url(&self) -> String {
        self.urls[0].clone()
    }

    pub fn urls(&self) -> &[String] {
        &self.urls
    }

    /// Stops host `i`: from now on its port refuses connections.
    pub fn kill_host(&mut self, i: usize) {
        self.servers[i].take();
    }

    /// Stops the first host.
    pub fn kill_server(&mut self) {
        self.kill_host(0);
    }

    pub fn path(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }

    /// The binary with `-c <dir>` and the kind's credentials in the environment.
    pub fn cmd(&self, args: &[&str]) -> assert_cmd::Command {
        let mut cmd = appform();
        cmd.args(args).arg("-c").arg(self.dir.path());
        for (k, v) in S::ENV {
            cmd.env(k, v);
        }
        cmd
    }

    /// Every request that wrote, on every host, oldest first per host.
    pub fn write_requests(&self) -> Vec<LoggedRequest> {
        self.sims
            .iter()
            .flat_map(|s| s.requests())
            .filter(S::writes)
            .collect()
    }

    /// (writes, deletes) as the simulators saw them.
    pub fn write_counts(&self) -> (usize, usize) {
        let writes = self.write_requests();
        let deletes = writes.iter().filter(|r| S::deletes(r)).count();
        (writes.len(), deletes)
    }

    /// The most requests host `i` had in flight at once (since the last clear).
    pub fn peak_in_flight(&self, i: usize) -> usize {
        self.servers[i].as_ref().map_or(0, |s| s.in_flight.peak())
    }

    /// Forgets the requests so far (and the in-flight peaks).
    pub fn clear_requests(&self) {
        self.servers
            .iter()
            .flatten()
            .for_each(|s| s.in_flight.reset_peak());
        self.sims.iter().for_each(S::clear_requests);
    }

    /// Runs a plan with `--detailed-exitcode` and asserts it is empty (exit 0).
    pub fn assert_converged(&self) {
        let out = self.cmd(&["plan", "--detailed-exitcode"]).output().unwrap();
        let (stdout, stderr) = texts(&out);
        assert_eq!(
            out.status.code(),
            Some(0),
            "a second plan is not empty:\n{stdout}\n{stderr}"
        );
        assert!(stdout.contains("No changes."), "{stdout}");
    }

    fn write_file(&self, text: &str) {
        std::fs::write(self.dir.path().join("appform.yaml"), text).unwrap();
    }
}

impl World<AwxSim> {
    pub fn new() -> Self {
        Self::with_faults(Faults::default())
    }

    pub fn with_faults(faults: Faults) -> Self {
        World::of(1, |_| AwxOptions::default(), faults)
    }

    /// Writes `appform.yaml` with one AWX server `awx-test`; `options` and
    /// `applications` are YAML lines indented for the server body.
    pub fn write_config(&self, options: &str, applications: &str) {
        self.write_file(&format!(
            "servers:\n  awx-test:\n    awx:\n      url: {}\n      auth:\n        token: env:AWX_TOKEN\n{options}      applications:\n{applications}",
            self.url()
        ));
    }

    /// Methods and paths of the requests that write.
    pub fn writes(&self) -> Vec<(String, String)> {
        self.write_requests()
            .into_iter()
            .map(|r| (r.method, r.path))
            .collect()
    }
}

impl World<TppSim> {
    pub fn new() -> Self {
        Self::with_options(TppOptions::default())
    }

    pub fn with_options(options: TppOptions) -> Self {
        World::of(1, |_| options.clone(), Faults::default())
    }

    /// One TPP server `tpp-test` with password auth (`tppadmin`).
    pub fn write_config(&self, options: &str, applications: &str) {
        self.write_config_with_auth(
            "        client_id: appform\n        username: tppadmin\n        password: env:TPP_PASSWORD\n",
            options,
            applications,
        );
    }

    pub fn write_config_with_auth(&self, auth: &str, options: &str, applications: &str) {
        self.write_file(&format!(
            "servers:\n  tpp-test:\n    tpp:\n      url: {}\n      auth:\n{auth}{options}      applications:\n{applications}",
            self.url()
        ));
    }

    /// The bodies of the UpdateApplication calls received.
    pub fn updates(&self) -> Vec<serde_json::Value> {
        self.sim
            .requests()
            .into_iter()
            .filter(|r| {
                r.path
                    .eq_ignore_ascii_case("/vedsdk/oauth/UpdateApplication")
            })
            .filter_map(|r| r.body)
            .collect()
    }

    /// The paths of the requests that write.
    pub fn writes(&self) -> Vec<String> {
        self.write_requests().into_iter().map(|r| r.path).collect()
    }
}

impl World<WhmSim> {
    /// `n` hosts of one fleet; host `i` shuffles its lists with seed `i + 1`.
    pub fn fleet(n: usize, faults: Faults) -> Self {
        World::of(
            n,
            |i| WhmOptions {
                seed: i as u64 + 1,
                ..WhmOptions::default()
            },
            faults,
        )
    }

    /// The instance name of host `i`.
    pub fn instance(&self, i: usize) -> String {
        format!("whm-fleet@{}", self.urls[i].trim_start_matches("http://"))
    }

    /// One WHM server `whm-fleet` whose `urls` are every host.
    pub fn write_config(&self, options: &str, applications: &str) {
        let urls: String = self
            .urls
            .iter()
            .map(|u| format!("        - {u}\n"))
            .collect();
        self.write_file(&format!(
            "servers:\n  whm-fleet:\n    whm:\n      urls:\n{urls}      auth:\n        username: root\n        token: env:WHM_TOKEN\n{options}      applications:\n{applications}"
        ));
    }

    /// The bodies of host `i`'s save calls.
    pub fn saves(&self, i: usize) -> Vec<serde_json::Value> {
        self.sims[i]
            .requests()
            .into_iter()
            .filter(|r| r.path.starts_with("/json-api/save_connected_application?"))
            .filter_map(|r| r.body)
            .collect()
    }
}
