//! The bad-input corpus: every file or directory under `tests/corpus/` is a
//! broken configuration. Its `# expect: CODE at LINE:COL` comments (in the file
//! the problem is in) list exactly the problems `validate` must report.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use appform::config;

use crate::support::{appform, problem_locations, render_plain, scrub};

fn cases() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir("tests/corpus")
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    out.sort();
    out
}

fn yaml_files(case: &Path) -> Vec<PathBuf> {
    if case.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(case)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        files
    } else {
        vec![case.to_path_buf()]
    }
}

/// The `# expect:` lines of a case as (code, file, line, col).
fn expectations(case: &Path) -> BTreeSet<(String, String, usize, usize)> {
    let mut out = BTreeSet::new();
    for file in yaml_files(case) {
        let text = std::fs::read_to_string(&file).unwrap();
        for line in text.lines() {
            let Some(rest) = line.trim().strip_prefix("# expect: ") else {
                continue;
            };
            let (code, at) = rest.split_once(" at ").expect("`# expect: CODE at L:C`");
            let (l, c) = at.split_once(':').unwrap();
            out.insert((
                code.to_string(),
                file.display().to_string(),
                l.trim().parse().unwrap(),
                c.trim().parse().unwrap(),
            ));
        }
    }
    out
}

#[test]
fn corpus_has_enough_cases() {
    assert!(
        cases().len() >= 40,
        "the corpus must hold at least 40 broken configs"
    );
}

#[test]
fn every_corpus_case_reports_exactly_its_expected_problems() {
    let mut failures = Vec::new();
    for case in cases() {
        let expected = expectations(&case);
        assert!(
            !expected.is_empty(),
            "{} has no `# expect:` line",
            case.display()
        );
        let errors = match config::load(&case) {
            Ok(_) => {
                failures.push(format!("{}: loaded without problems", case.display()));
                continue;
            }
            Err(e) => e,
        };
        let actual: BTreeSet<_> = problem_locations(&errors).into_iter().collect();
        if actual != expected {
            failures.push(format!(
                "{}:\n  expected {:?}\n  actual   {:?}",
                case.display(),
                expected,
                actual
            ));
        }
        let name = case.file_stem().unwrap().to_string_lossy().to_string();
        insta::assert_snapshot!(format!("corpus__{name}"), render_plain(&errors));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn validate_exits_1_on_every_corpus_case() {
    for case in cases() {
        appform()
            .args(["validate", "-c"])
            .arg(&case)
            .assert()
            .code(1)
            .stdout("");
    }
}

#[test]
fn validate_format_json_lists_every_corpus_problem_where_text_shows_it() {
    for case in cases() {
        let out = appform()
            .args(["validate", "--format", "json", "-c"])
            .arg(&case)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", case.display());
        let report: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{}: stdout is one JSON object: {e}", case.display()));
        assert_eq!(report["valid"], false);
        let actual: BTreeSet<_> = report["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                assert!(p["message"].as_str().is_some_and(|m| !m.is_empty()), "{p}");
                (
                    p["code"].as_str().unwrap().to_string(),
                    p["file"].as_str().unwrap_or_default().to_string(),
                    p["line"].as_u64().unwrap_or(0) as usize,
                    p["column"].as_u64().unwrap_or(0) as usize,
                )
            })
            .collect();
        assert_eq!(actual, expectations(&case), "{}", case.display());
    }
}

#[test]
fn validate_format_json_of_the_examples_counts_what_text_counts() {
    let out = appform()
        .args(["validate", "--format", "json", "-c", "examples"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let text = appform()
        .args(["validate", "-c", "examples"])
        .output()
        .unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    let expected = format!(
        "Configuration is valid: {} files, {} servers ({} instances), {} applications.",
        report["files"], report["servers"], report["instances"], report["applications"]
    );
    assert_eq!(text.trim(), expected);
    assert_eq!(report["valid"], true);
    assert_eq!(report["problems"], serde_json::json!([]));
}

fn single_problem(dir: &Path, file: &str, bytes: &[u8]) -> (String, String, usize, usize, String) {
    let path = dir.join(file);
    std::fs::write(&path, bytes).unwrap();
    let errors = config::load(&path).expect_err("must be rejected");
    let locations = problem_locations(&errors);
    assert_eq!(locations.len(), 1, "{locations:?}");
    let (code, f, l, c) = locations.into_iter().next().unwrap();
    (
        code,
        scrub(&f, dir),
        l,
        c,
        scrub(&render_plain(&errors), dir),
    )
}

#[test]
fn non_utf8_bytes_are_located() {
    let dir = tempfile::tempdir().unwrap();
    let (code, file, line, col, text) =
        single_problem(dir.path(), "latin1.yaml", b"servers:\n  caf\xe9: {}\n");
    assert_eq!(code, "appform::config::not_utf8");
    assert_eq!((file.as_str(), line, col), ("[TMP]/latin1.yaml", 2, 6));
    insta::assert_snapshot!("generated__non_utf8", text);
}

#[test]
fn a_ten_megabyte_file_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let mut big = b"servers:\n".to_vec();
    while big.len() < 10 * 1024 * 1024 {
        big.extend_from_slice(b"# padding padding padding padding padding padding padding\n");
    }
    let path = dir.path().join("big.yaml");
    std::fs::write(&path, &big).unwrap();
    let errors = config::load(&path).expect_err("must be rejected");
    assert_eq!(errors.problems.len(), 1);
    assert_eq!(errors.problems[0].code, "appform::config::too_large");
    appform()
        .args(["validate", "-c"])
        .arg(&path)
        .assert()
        .code(1)
        .stderr(predicates::str::contains("appform::config::too_large"));
}

#[test]
fn deeply_nested_yaml_is_an_error_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [
        (
            "flow.yaml",
            format!("policy: {}{}\n", "[".repeat(100_000), "]".repeat(100_000)),
        ),
        (
            "block.yaml",
            (0..200)
                .map(|i| format!("{}k{i}:\n", "  ".repeat(i)))
                .collect::<String>(),
        ),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let errors = config::load(&path).expect_err("must be rejected");
        assert_eq!(errors.problems.len(), 1, "{name}");
        assert_eq!(errors.problems[0].code, "appform::yaml::syntax", "{name}");
        appform()
            .args(["validate", "-c"])
            .arg(&path)
            .assert()
            .code(1);
    }
}

#[test]
fn all_problems_of_all_files_in_one_run() {
    // Two broken files in one directory: both files' problems are reported.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.yaml"), "policy:\n  max_delete: 1\n").unwrap();
    std::fs::write(
        dir.path().join("b.yaml"),
        "servers:\n  x:\n    awx:\n      url: https://a\n      auth: {token: secret}\n",
    )
    .unwrap();
    let errors = config::load(dir.path()).expect_err("must be rejected");
    let codes: Vec<_> = errors.problems.iter().map(|p| p.code).collect();
    assert_eq!(
        codes,
        [
            "appform::config::unknown_key",
            "appform::config::literal_secret"
        ]
    );
}

#[cfg(unix)]
#[test]
fn a_symlink_loop_in_the_config_directory_is_walked_once() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("policy.yaml"),
        "policy:\n  max_deletes: 1\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(dir.path(), dir.path().join("loop")).unwrap();
    let cfg = config::load(dir.path()).expect("valid");
    assert_eq!(cfg.sources.len(), 1, "the file is read once");
    assert_eq!(cfg.policy.max_deletes, 1);
}

/// A large configuration spread over files loads: 10,000 applications in 100
/// files of one server each (one file holds at most 250,000 YAML nodes, the
/// YAML library's budget, which also stops alias bombs).
#[test]
fn ten_thousand_applications_over_one_file_per_server_load() {
    let dir = tempfile::tempdir().unwrap();
    for h in 0..100 {
        let mut text = format!(
            "servers:\n  whm-{h}:\n    whm:\n      url: http://127.0.0.1:{}\n      auth: {{username: root, token: env:T}}\n      applications:\n",
            9000 + h
        );
        for a in 0..100 {
            text.push_str(&format!(
                "        app-{a:03}: {{data: {{token_name: T{a}, jwt: {{iss: https://x.example.com, scope: [a, b]}}}}}}\n"
            ));
        }
        std::fs::write(dir.path().join(format!("whm-{h:03}.yaml")), text).unwrap();
    }
    let config =
        config::load(dir.path()).unwrap_or_else(|e| panic!("{}", crate::support::render_plain(&e)));
    let apps: usize = config.servers.iter().map(|s| s.apps.len()).sum();
    assert_eq!(apps, 10_000);
}
