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
            ("gateway-prod", "gateway", 1),
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

#[test]
fn anchors_aliases_and_merge_keys_work() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.yaml"),
        "servers:\n  awx-prod:\n    awx:\n      url: https://awx.example.com\n      auth: {token: env:T}\n      applications:\n        one: &app\n          organization: Default\n          client_type: public\n          authorization_grant_type: password\n        two:\n          <<: *app\n          description: second\n        three: *app\n",
    )
    .unwrap();
    let cfg = appform::config::load(dir.path()).unwrap();
    let apps = &cfg.servers[0].apps;
    assert_eq!(apps.len(), 3);
    let two = apps.iter().find(|a| a.key == "two").unwrap();
    assert_eq!(two.fields["description"], "second");
    assert_eq!(two.fields["client_type"], "public");
    let three = apps.iter().find(|a| a.key == "three").unwrap();
    assert_eq!(three.fields["authorization_grant_type"], "password");
}
