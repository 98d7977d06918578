//! Where the configuration is read from without `-c`: `appform/` when it
//! exists, else `.` with the YAML files that are not appform's skipped (with
//! a warning), so a mixed repository (docker-compose, CI files) survives.

use crate::support::{appform, texts};

const SERVER: &str = "servers:\n  awx-a:\n    awx:\n      url: http://127.0.0.1:9\n      auth:\n        token: env:AWX_TOKEN\n      applications: {}\n";

fn validate_in(dir: &std::path::Path) -> (Option<i32>, String, String) {
    let out = appform().current_dir(dir).arg("validate").output().unwrap();
    let (stdout, stderr) = texts(&out);
    (out.status.code(), stdout, stderr)
}

#[test]
fn unrelated_yaml_is_skipped_with_a_warning_by_default_only() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("docker-compose.yml"),
        "services:\n  web: {image: nginx}\n",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("servers")).unwrap();
    std::fs::write(dir.path().join("servers/awx.yaml"), SERVER).unwrap();
    let (code, stdout, stderr) = validate_in(dir.path());
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("1 file, 1 server"), "{stdout}");
    assert!(
        stderr.contains("skipped `./docker-compose.yml`: not an appform file"),
        "{stderr}"
    );
    // Named with -c, the directory is read whole, as docs/reference.md §1.1 says.
    let out = appform()
        .current_dir(dir.path())
        .args(["validate", "-c", "."])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{:?}", texts(&out));
}

#[test]
fn an_appform_directory_is_the_default_when_it_exists() {
    let dir = tempfile::tempdir().unwrap();
    // Broken appform-looking YAML elsewhere in the repository is not read.
    std::fs::create_dir_all(dir.path().join("tests/corpus")).unwrap();
    std::fs::write(
        dir.path().join("tests/corpus/broken.yaml"),
        "servers: [oops\n",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("appform")).unwrap();
    std::fs::write(dir.path().join("appform/awx.yaml"), SERVER).unwrap();
    let (code, stdout, stderr) = validate_in(dir.path());
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("1 file, 1 server"), "{stdout}");
}

#[test]
fn a_directory_without_appform_files_is_an_error_not_an_empty_config() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("docker-compose.yml"), "services: {}\n").unwrap();
    let (code, stdout, stderr) = validate_in(dir.path());
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("no appform configuration under `.`"),
        "{stderr}"
    );
    assert!(stderr.contains("1 YAML file(s) skipped"), "{stderr}");
}
