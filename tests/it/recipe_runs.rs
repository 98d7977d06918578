//! The shell steps of the drift recipes, run as they are written: the
//! Kubernetes CronJob's clone and plan scripts (with its `env:` values, a
//! `file://` repository for the clone URL and the AWX simulator as the
//! server), and the GitHub drift workflow's baseline and issue steps (with a
//! stand-in `gh` that records what it is asked). What cannot run here (a
//! cluster, GitHub) is the tools' own business; `recipes.rs` checks the
//! files with kubectl, kubernetes-validate and actionlint.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::baseline::{commit_all, git};
use crate::support::{AWX_TOKEN, root, texts};

fn yaml(path: &Path) -> Value {
    serde_saphyr::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The directory of the built `appform`, for PATH.
fn bin_dir() -> PathBuf {
    assert_cmd::cargo::cargo_bin("appform")
        .parent()
        .unwrap()
        .to_path_buf()
}

fn path_with(dir: &Path) -> std::ffi::OsString {
    let mut paths = vec![dir.to_path_buf(), bin_dir()];
    paths.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(paths).unwrap()
}

// ------------------------------------------------------------- Kubernetes

struct Container {
    script: String,
    env: Vec<(String, String)>,
}

fn containers() -> (Container, Container) {
    let manifest = yaml(&root().join("examples/ci/kubernetes/.manifests/appform-drift.yaml"));
    let pod = &manifest["spec"]["jobTemplate"]["spec"]["template"]["spec"];
    let container = |c: &Value| {
        assert_eq!(c["command"], serde_json::json!(["/bin/sh", "-c"]));
        Container {
            script: c["args"][0].as_str().unwrap().to_string(),
            env: c["env"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|e| Some((e["name"].as_str()?.into(), e["value"].as_str()?.into())))
                .collect(),
        }
    };
    (
        container(&pod["initContainers"][0]),
        container(&pod["containers"][0]),
    )
}

/// Runs a container's script with its `env:` values, paths under `/work`
/// moved into `work`, and `extra` on top.
fn run_container(c: &Container, work: &Path, extra: &[(&str, &str)]) -> Output {
    let mut command = Command::new("sh");
    command.arg("-c").arg(&c.script).env_clear();
    command.env("PATH", path_with(work));
    for (name, value) in &c.env {
        let value = match value.strip_prefix("/work") {
            Some(rest) => format!("{}{rest}", work.display()),
            None => value.clone(),
        };
        command.env(name, value);
    }
    command.env("GIT_CONFIG_NOSYSTEM", "1");
    for (name, value) in extra {
        command.env(name, value);
    }
    command.output().unwrap()
}

/// A pod's run: a fresh scratch volume, the clone, then the plan.
fn pod_run(origin: &Path, awx_token: &str) -> Output {
    let (checkout, plan) = containers();
    let work = tempfile::tempdir().unwrap();
    let url = format!("file://{}", origin.display());
    let out = run_container(&checkout, work.path(), &[("REPO_URL", &url)]);
    assert!(out.status.success(), "the clone: {:?}", texts(&out));
    assert!(
        work.path()
            .join("config/appform/servers/awx.yaml")
            .is_file(),
        "the configuration is there with its subdirectories"
    );
    let remote = Command::new("git")
        .args(["-C", &work.path().join("config").display().to_string()])
        .args(["remote", "get-url", "origin"])
        .output()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&remote.stdout).contains("file://"),
        "the clone URL (and its token) is not kept"
    );
    run_container(&plan, work.path(), &[("AWX_READ_TOKEN", awx_token)])
}

#[test]
fn the_kubernetes_drift_job_clones_the_whole_config_and_fails_on_drift_only() {
    let sim = appform::sandbox::awx::AwxSim::new(appform::sandbox::awx::AwxOptions::default());
    let server = crate::support::serve(sim.router());
    let origin = tempfile::tempdir().unwrap();
    let config = origin.path().join("appform/servers");
    std::fs::create_dir_all(&config).unwrap();
    let write = |description: &str| {
        std::fs::write(
            config.join("awx.yaml"),
            format!(
                "servers:\n  awx:\n    awx:\n      url: {}\n      auth:\n        token: env:AWX_TOKEN\n        plan:\n          token: env:AWX_READ_TOKEN\n      applications:\n        grafana:\n          organization: Default\n          client_type: public\n          authorization_grant_type: password\n          description: {description}\n",
                server.url()
            ),
        )
        .unwrap();
    };
    write("Grafana");
    git(origin.path(), &["init", "-q"]);
    commit_all(origin.path(), "config");
    let token = sim.issue_token("read");

    // No tag yet: a clear message, the plan for information, success.
    let out = pod_run(origin.path(), &token);
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("no tag appform-applied yet") && stdout.contains("git tag appform-applied"),
        "{stdout}"
    );
    assert!(stdout.contains("grafana"), "the plan is shown: {stdout}");

    // Applied and tagged: in sync.
    let apply = crate::support::appform()
        .args(["apply", "--auto-approve", "-c"])
        .arg(origin.path().join("appform"))
        .env("AWX_TOKEN", AWX_TOKEN)
        .output()
        .unwrap();
    assert_eq!(apply.status.code(), Some(0), "{:?}", texts(&apply));
    git(origin.path(), &["tag", "appform-applied"]);
    let out = pod_run(origin.path(), &token);
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));

    // A merged change not applied yet is pending: no alarm.
    write("Grafana dashboards");
    commit_all(origin.path(), "pending change");
    let out = pod_run(origin.path(), &token);
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("pending"), "{stdout}");

    // A change made on the server is drift: the Job fails.
    assert!(sim.set_app_field("grafana", "description", Value::from("edited by hand")));
    let out = pod_run(origin.path(), &token);
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert!(stdout.contains("drift"), "{stdout}");
}

// ------------------------------------------------------------------ GitHub

fn drift_step(name: &str) -> String {
    let workflow = yaml(&root().join("examples/ci/github/.github/workflows/appform-drift.yml"));
    workflow["jobs"]["drift"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no step `{name}`"))["run"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Runs a step's script with bash as GitHub does (`bash -e`), in `dir`.
fn run_step(script: &str, dir: &Path, tools: &Path, env: &[(&str, &str)]) -> Output {
    let mut command = Command::new("bash");
    command
        .args([
            "--noprofile",
            "--norc",
            "-e",
            "-o",
            "pipefail",
            "-c",
            script,
        ])
        .current_dir(dir)
        .env("PATH", path_with(tools))
        .env("GIT_CONFIG_NOSYSTEM", "1");
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().unwrap()
}

#[test]
fn the_github_drift_check_bootstraps_without_the_tag_and_creates_its_label() {
    let repo = tempfile::tempdir().unwrap();
    std::fs::write(repo.path().join("README"), "config\n").unwrap();
    git(repo.path(), &["init", "-q"]);
    commit_all(repo.path(), "first");
    let tools = tempfile::tempdir().unwrap();
    let outputs = tools.path().join("github_output");

    // Without the tag: not ready, and a warning that names the first step.
    std::fs::write(&outputs, "").unwrap();
    let out = run_step(
        &drift_step("Baseline"),
        repo.path(),
        tools.path(),
        &[("GITHUB_OUTPUT", outputs.to_str().unwrap())],
    );
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert_eq!(std::fs::read_to_string(&outputs).unwrap(), "ready=false\n");
    assert!(
        stdout.starts_with("::warning title=appform drift check not started::")
            && stdout.contains("git tag appform-applied"),
        "{stdout}"
    );
    // With it: ready.
    git(repo.path(), &["tag", "appform-applied"]);
    std::fs::write(&outputs, "").unwrap();
    let out = run_step(
        &drift_step("Baseline"),
        repo.path(),
        tools.path(),
        &[("GITHUB_OUTPUT", outputs.to_str().unwrap())],
    );
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    assert_eq!(std::fs::read_to_string(&outputs).unwrap(), "ready=true\n");

    // Drift and no open issue: the label is created before the issue that
    // carries it. A stand-in `gh` records its arguments.
    let log = tools.path().join("gh.log");
    let gh = tools.path().join("gh");
    std::fs::write(
        &gh,
        format!("#!/bin/sh\necho \"$*\" >> '{}'\n", log.display()),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&gh, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(repo.path().join("drift.md"), "drift\n").unwrap();
    let out = run_step(
        &drift_step("Open, update or close the drift issue"),
        repo.path(),
        tools.path(),
        &[("CODE", "2"), ("REPO", "owner/config"), ("GH_TOKEN", "x")],
    );
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    let calls: Vec<String> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| l.split(' ').take(2).collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(calls, ["issue list", "label create", "issue create"]);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("label create appform-drift --repo owner/config --force"),
        "{text}"
    );
}
