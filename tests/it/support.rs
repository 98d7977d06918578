//! Small helpers shared by the integration tests.

use appform::sandbox::Simulator as _;
use std::path::{Path, PathBuf};

use appform::config::ConfigErrors;

/// The package root (tests run with it as the working directory too).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `assert_cmd` command for the built binary, without colour or terminal width surprises.
pub fn appform() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("appform").unwrap();
    cmd.current_dir(root())
        .env("NO_COLOR", "1")
        .env("COLUMNS", "80")
        .env_remove("RUST_LOG");
    cmd
}

/// (code, file, line, column) of every problem, sorted.
pub fn problem_locations(errors: &ConfigErrors) -> Vec<(String, String, usize, usize)> {
    let mut out: Vec<_> = errors
        .problems
        .iter()
        .map(|p| match p.location() {
            Some((file, line, col)) => (p.code.to_string(), file, line, col),
            None => (p.code.to_string(), String::new(), 0, 0),
        })
        .collect();
    out.sort();
    out
}

/// Renders like the CLI does with NO_COLOR at width 80.
pub fn render_plain(errors: &ConfigErrors) -> String {
    appform::render::diagnostic::render(errors, false, 80)
}

/// Replaces a temporary directory in text with `[TMP]`.
pub fn scrub(text: &str, dir: &Path) -> String {
    text.replace(&dir.display().to_string(), "[TMP]")
}

/// An AWX simulator on a free loopback port, a temporary config directory, and
/// the binary wired to both.
pub struct AwxWorld {
    pub sim: appform::sandbox::awx::AwxSim,
    server: Option<appform::sandbox::BackgroundServer>,
    url: String,
    pub dir: tempfile::TempDir,
}

pub const AWX_TOKEN: &str = "sandbox-awx-token";

impl AwxWorld {
    pub fn new() -> Self {
        Self::with_faults(appform::sandbox::Faults::default())
    }

    pub fn with_faults(faults: appform::sandbox::Faults) -> Self {
        let sim = appform::sandbox::awx::AwxSim::new(appform::sandbox::awx::AwxOptions::default());
        let server = appform::sandbox::serve_in_background(
            "127.0.0.1:0".parse().unwrap(),
            sim.router(),
            faults,
        )
        .unwrap();
        AwxWorld {
            sim,
            url: server.url(),
            server: Some(server),
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// Stops the simulator: from now on its port refuses connections.
    pub fn kill_server(&mut self) {
        self.server.take();
    }

    /// Writes `appform.yaml` with one AWX server `awx-test`; `options` and
    /// `applications` are YAML lines indented for the server body.
    pub fn write_config(&self, options: &str, applications: &str) {
        let text = format!(
            "servers:\n  awx-test:\n    awx:\n      url: {}\n      auth:\n        token: env:AWX_TOKEN\n{options}      applications:\n{applications}",
            self.url()
        );
        std::fs::write(self.dir.path().join("appform.yaml"), text).unwrap();
    }

    /// The binary with `-c <dir>` and the token in the environment.
    pub fn cmd(&self, args: &[&str]) -> assert_cmd::Command {
        let mut cmd = appform();
        cmd.args(args)
            .arg("-c")
            .arg(self.dir.path())
            .env("AWX_TOKEN", AWX_TOKEN);
        cmd
    }

    pub fn path(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }

    /// Methods and paths of the requests that write.
    pub fn writes(&self) -> Vec<(String, String)> {
        self.sim
            .requests()
            .into_iter()
            .filter(|r| r.method != "GET" && r.method != "HEAD" && r.method != "OPTIONS")
            .map(|r| (r.method, r.path))
            .collect()
    }

    /// Runs a plan with `--detailed-exitcode` and asserts it is empty (exit 0).
    pub fn assert_converged(&self) {
        let out = self.cmd(&["plan", "--detailed-exitcode"]).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "a second plan is not empty:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("No changes."), "{stdout}");
    }
}

/// stdout and stderr of a finished command, as text.
pub fn texts(out: &std::process::Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A loopback port with nothing listening on it.
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// A TPP simulator on a free loopback port and a temporary config directory.
pub struct TppWorld {
    pub sim: appform::sandbox::tpp::TppSim,
    server: appform::sandbox::BackgroundServer,
    pub dir: tempfile::TempDir,
}

impl TppWorld {
    pub fn new() -> Self {
        Self::with_options(appform::sandbox::tpp::TppOptions::default())
    }

    pub fn with_options(options: appform::sandbox::tpp::TppOptions) -> Self {
        let sim = appform::sandbox::tpp::TppSim::new(options);
        let server = appform::sandbox::serve_in_background(
            "127.0.0.1:0".parse().unwrap(),
            sim.router(),
            appform::sandbox::Faults::default(),
        )
        .unwrap();
        TppWorld {
            sim,
            server,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    /// One TPP server `tpp-test` with password auth (`tppadmin`), unless
    /// `auth` replaces the auth block.
    pub fn write_config(&self, options: &str, applications: &str) {
        self.write_config_with_auth(
            "        client_id: appform\n        username: tppadmin\n        password: env:TPP_PASSWORD\n",
            options,
            applications,
        );
    }

    pub fn write_config_with_auth(&self, auth: &str, options: &str, applications: &str) {
        let text = format!(
            "servers:\n  tpp-test:\n    tpp:\n      url: {}\n      auth:\n{auth}{options}      applications:\n{applications}",
            self.url()
        );
        std::fs::write(self.dir.path().join("appform.yaml"), text).unwrap();
    }

    pub fn cmd(&self, args: &[&str]) -> assert_cmd::Command {
        let mut cmd = appform();
        cmd.args(args)
            .arg("-c")
            .arg(self.dir.path())
            .env("TPP_PASSWORD", "password")
            .env("TPP_TOKEN", "sandbox-tpp-token");
        cmd
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

    pub fn writes(&self) -> Vec<String> {
        self.sim
            .requests()
            .into_iter()
            .map(|r| r.path)
            .filter(|p| {
                let p = p.to_ascii_lowercase();
                p.ends_with("createapplication")
                    || p.ends_with("updateapplication")
                    || p.ends_with("deleteapplication")
            })
            .collect()
    }

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
}
