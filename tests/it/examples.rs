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

/// A configuration that names no servers (a ConfigMap that lost its
/// subdirectories, a wrong `-c`) warns on validate and plan, and an exit
/// code asked for over it is an error unless `--allow-empty`: an empty check
/// must never pass for a clean one.
#[test]
fn a_configuration_without_servers_warns_and_fails_an_exit_code_check() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("policy.yaml"),
        "policy:\n  max_deletes: 3\n",
    )
    .unwrap();
    let run = |args: &[&str]| {
        let out = appform()
            .args(args)
            .arg("-c")
            .arg(dir.path())
            .output()
            .unwrap();
        let (_, stderr) = crate::support::texts(&out);
        (out.status.code(), stderr)
    };
    for args in [&["validate"][..], &["plan"]] {
        let (code, stderr) = run(args);
        assert_eq!(code, Some(0), "{args:?}: {stderr}");
        assert!(stderr.contains("names no servers"), "{args:?}: {stderr}");
    }
    for args in [
        &["plan", "--detailed-exitcode"][..],
        &["plan", "--fail-on", "changes"],
    ] {
        let (code, stderr) = run(args);
        assert_eq!(code, Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains("--allow-empty"), "{stderr}");
    }
    let (code, stderr) = run(&["plan", "--detailed-exitcode", "--allow-empty"]);
    assert_eq!(code, Some(0), "{stderr}");
}
