//! Small helpers shared by the integration tests.

use std::path::{Path, PathBuf};

use appform::config::ConfigErrors;

pub use crate::world::{AWX_TOKEN, AwxWorld, TppWorld};

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

/// A check that cannot run here because `tool` is not installed: a failure
/// under CI (`CI` set: `.ci/run` installs every tool), else one line on the
/// real stderr that `cargo test` shows (the test harness captures only the
/// print macros), so a skipped check never passes for a run one.
pub fn skipped(tool: &str, install: &str) {
    assert!(
        std::env::var_os("CI").is_none(),
        "{tool} is not installed; .ci/run installs it ({install})"
    );
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED ({}): {tool} is not installed ({install})",
        std::thread::current().name().unwrap_or("a test")
    );
}

/// `router` served on a free loopback port until the value is dropped.
pub fn serve(router: axum::Router) -> appform::sandbox::BackgroundServer {
    appform::sandbox::serve_in_background(
        "127.0.0.1:0".parse().unwrap(),
        router,
        appform::sandbox::Faults::default(),
    )
    .unwrap()
}
