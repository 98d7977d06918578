//! Every example configuration is valid, and the schema accepts every file.

use crate::support::appform;

#[test]
fn the_examples_validate() {
    let cfg = appform::config::load(std::path::Path::new("examples")).expect("examples are valid");
    let servers: Vec<_> = cfg
        .servers
        .iter()
        .map(|s| (s.name.as_str(), s.kind.as_str(), s.instances.len()))
        .collect();
    assert_eq!(
        servers,
        [
            ("awx-prod", "awx", 1),
            ("awx-staging", "awx", 1),
            ("tpp-main", "tpp", 1),
            ("whm-fleet", "whm", 2)
        ]
    );
    appform()
        .args(["validate", "-c", "examples"])
        .assert()
        .code(0)
        .stdout(predicates::str::contains("Configuration is valid"));
}

#[test]
fn usage_errors_exit_1_never_2() {
    // With `plan --detailed-exitcode`, 2 means "changes present".
    for args in [
        &["plan", "--bogus"][..],
        &["plan", "--parallelism", "0"],
        &["nonsense"],
        &[],
    ] {
        let out = appform().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
    }
    appform().arg("--help").assert().code(0);
    appform().arg("--version").assert().code(0);
}
