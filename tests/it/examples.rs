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

/// The shell block of README.md between `<!-- NAME:start -->` and
/// `<!-- NAME:end -->`.
fn readme_block(name: &str) -> String {
    let readme = std::fs::read_to_string(crate::support::root().join("README.md")).unwrap();
    let start = format!("<!-- {name}:start -->");
    let end = format!("<!-- {name}:end -->");
    let from = readme.find(&start).unwrap_or_else(|| panic!("no {start}")) + start.len();
    let to = readme[from..].find(&end).unwrap() + from;
    let block = readme[from..to].trim();
    block
        .strip_prefix("```sh\n")
        .and_then(|b| b.strip_suffix("```"))
        .unwrap_or_else(|| panic!("{name}: one ```sh block: {block}"))
        .to_string()
}

/// README's "Your own servers in five minutes", as written, against the AWX
/// simulator: export, validate, an empty plan; then, with an app added as
/// the README shows, plan, apply (answering `yes` on a terminal: `script`
/// gives it one) and an empty second plan.
#[test]
fn the_readme_five_minute_path_runs_as_written() {
    let sim = appform::sandbox::awx::AwxSim::new(appform::sandbox::awx::AwxOptions::default());
    sim.seed_demo();
    let server = crate::support::serve(sim.router());
    let home = tempfile::tempdir().unwrap();
    let bin = assert_cmd::cargo::cargo_bin("appform");
    let path = std::env::join_paths(
        std::iter::once(bin.parent().unwrap().to_path_buf())
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let run = |script: &str, dir: &std::path::Path| {
        std::process::Command::new("bash")
            .args(["--noprofile", "--norc", "-e", "-c", script])
            .current_dir(dir)
            .env("PATH", &path)
            .env("HOME", home.path())
            .env("AWX_URL", server.url())
            .env("AWX_TOKEN", crate::support::AWX_TOKEN)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .unwrap()
    };
    let out = run(&readme_block("five-minutes"), home.path());
    let (stdout, stderr) = crate::support::texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    let repo = home.path().join("my-apps");
    assert_eq!(
        std::fs::read_to_string(repo.join(".gitignore")).unwrap(),
        ".appform/\nsecrets*.json\n"
    );
    let exported = std::fs::read_to_string(repo.join("appform/awx-prod.yaml")).unwrap();
    assert!(exported.contains("token: env:AWX_TOKEN"), "{exported}");

    // The edit the README shows, at the end of `applications:`.
    let readme = std::fs::read_to_string(crate::support::root().join("README.md")).unwrap();
    let app = readme
        .split("```yaml\n        my-first-app:")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the README's my-first-app block");
    std::fs::write(
        repo.join("appform/awx-prod.yaml"),
        format!(
            "{}        my-first-app:{app}",
            exported.trim_end().to_string() + "\n"
        ),
    )
    .unwrap();
    // A terminal for apply's question, `yes` typed on it.
    let script = readme_block("five-minutes-apply");
    std::fs::write(home.path().join("apply.sh"), &script).unwrap();
    let out = std::process::Command::new("script")
        .args([
            "-qec",
            "bash --noprofile --norc -e ../apply.sh",
            "/dev/null",
        ])
        .current_dir(&repo)
        .env("PATH", &path)
        .env("HOME", home.path())
        .env("AWX_TOKEN", crate::support::AWX_TOKEN)
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write as _;
            child.stdin.take().unwrap().write_all(b"yes\n")?;
            child.wait_with_output()
        })
        .unwrap();
    let (stdout, stderr) = crate::support::texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("+ my-first-app"), "{stdout}");
    assert!(sim.app_by_name("my-first-app").is_some(), "{stdout}");
    let secrets = std::fs::read_to_string(home.path().join("appform-secrets.json")).unwrap();
    assert!(secrets.contains("client_secret"), "{secrets}");
}
