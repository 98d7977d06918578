//! Day-2 operations: `plan --authoritative` for a drift check that sees
//! hand-set fields, and `--metrics-out` for the drift cron (checked with the
//! real Prometheus parser, `prometheus_client`, when installed).

use serde_json::Value;

use crate::support::{AwxWorld, texts};

const APP: &str = "        ops-cli:\n          organization: Default\n          client_type: public\n          authorization_grant_type: password\n";

#[test]
fn plan_authoritative_shows_hand_set_fields_for_this_plan_only() {
    let world = AwxWorld::new();
    world.write_config("", APP);
    let out = world.cmd(&["apply", "--auto-approve"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    // Someone sets a field the config leaves out, by hand.
    assert!(
        world
            .sim
            .set_app_field("ops-cli", "skip_authorization", Value::Bool(true))
    );
    world.assert_converged();
    let out = world
        .cmd(&["plan", "--authoritative", "--detailed-exitcode"])
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert!(
        stdout.contains("skip_authorization = true -> false"),
        "{stdout}"
    );
    // Not saved for apply, and apply does not do it.
    let out = world
        .cmd(&[
            "plan",
            "--authoritative",
            "--out",
            world.path("p.json").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "refused with --out");
    assert!(
        texts(&out).1.contains("cannot be used with"),
        "{:?}",
        texts(&out)
    );
    assert!(!world.path("p.json").exists());
    let out = world.cmd(&["apply", "--auto-approve"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    assert!(
        world.writes().iter().all(|(m, _)| m != "PATCH"),
        "{:?}",
        world.writes()
    );
    assert_eq!(
        world.sim.app_by_name("ops-cli").unwrap()["skip_authorization"],
        true
    );
    world.assert_converged();
}

/// `python3` of the linters' venv (where `.ci/run` installs
/// `prometheus-client`), or `None` outside CI when it is not there.
fn prometheus_python() -> Option<std::path::PathBuf> {
    let python =
        std::env::var_os("APPFORM_LINT_BIN").map(|d| std::path::PathBuf::from(d).join("python3"));
    let ok = python.as_ref().is_some_and(|p| {
        std::process::Command::new(p)
            .args(["-c", "import prometheus_client"])
            .status()
            .is_ok_and(|s| s.success())
    });
    if ok {
        return python;
    }
    crate::support::skipped(
        "prometheus-client",
        "pip install prometheus-client into target/lint-venv, set APPFORM_LINT_BIN",
    );
    None
}

#[test]
fn metrics_are_prometheus_text_with_the_plans_counts_and_no_secret() {
    let world = AwxWorld::new();
    world.sim.seed_demo();
    world.write_config("", APP);
    let metrics = world.path("appform.prom");
    let out = world
        .cmd(&["plan", "--metrics-out", metrics.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    let text = std::fs::read_to_string(&metrics).unwrap();
    assert!(
        text.contains(
            "appform_changes{command=\"plan\",instance=\"awx-test\",action=\"create\"} 1"
        ),
        "{text}"
    );
    assert!(
        text.contains("appform_instance_planned{command=\"plan\",instance=\"awx-test\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("appform_run_success{command=\"plan\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("appform_last_success_timestamp_seconds{command=\"plan\"}"),
        "{text}"
    );
    assert!(
        !text.contains(crate::support::AWX_TOKEN) && !text.contains("password"),
        "{text}"
    );
    // A failed run keeps the time of the last success.
    let last = |t: &str| {
        t.lines()
            .find(|l| l.starts_with("appform_last_success_timestamp_seconds"))
            .map(str::to_string)
    };
    let before = last(&text);
    let out = world
        .cmd(&["plan", "--metrics-out", metrics.to_str().unwrap()])
        .env("AWX_TOKEN", "wrong")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let failed = std::fs::read_to_string(&metrics).unwrap();
    assert!(
        failed.contains("appform_run_success{command=\"plan\"} 0"),
        "{failed}"
    );
    assert!(
        failed.contains("appform_instance_planned{command=\"plan\",instance=\"awx-test\"} 0"),
        "{failed}"
    );
    assert_eq!(last(&failed), before);
    // The real parser reads it.
    let Some(python) = prometheus_python() else {
        return;
    };
    let parsed = std::process::Command::new(&python)
        .args([
            "-c",
            "import sys\nfrom prometheus_client.parser import text_string_to_metric_families as p\nfams = list(p(open(sys.argv[1]).read()))\nprint(sum(len(f.samples) for f in fams))",
        ])
        .arg(&metrics)
        .output()
        .unwrap();
    assert!(
        parsed.status.success(),
        "{}",
        String::from_utf8_lossy(&parsed.stderr)
    );
    let samples: usize = String::from_utf8_lossy(&parsed.stdout)
        .trim()
        .parse()
        .unwrap();
    assert!(samples >= 7, "{samples}");
    // And refuses a broken one (the check can fail).
    std::fs::write(&metrics, "appform_changes{instance=\"x\" 1\n").unwrap();
    let parsed = std::process::Command::new(&python)
        .args(["-c", "import sys\nfrom prometheus_client.parser import text_string_to_metric_families as p\nlist(p(open(sys.argv[1]).read()))"])
        .arg(&metrics)
        .output()
        .unwrap();
    assert!(!parsed.status.success());
}

/// `--app GLOB`: a partial run, like Terraform's -target. Only the matching
/// applications are changed; the others (even one `prune` would delete) are
/// neither shown nor touched; the summary says the plan is partial; a saved
/// partial plan applies exactly that part.
#[test]
fn app_globs_make_a_partial_run() {
    let world = AwxWorld::new();
    let apps = |description: &str| {
        ["grafana", "grafana-dev", "jenkins"]
            .iter()
            .map(|n| format!("        {n}:\n          organization: Default\n          client_type: public\n          authorization_grant_type: password\n          description: {description}\n"))
            .collect::<String>()
    };
    world.write_config("", &apps("one"));
    let out = world.cmd(&["apply", "--auto-approve"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    // An app nobody manages, which prune would delete.
    world.sim.seed_apps("legacy-", 1);
    world.write_config("      prune: true\n", &apps("two"));
    world.clear_requests();

    let out = world.cmd(&["plan", "--app", "grafana*"]).output().unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("~ grafana ") && stdout.contains("~ grafana-dev "),
        "{stdout}"
    );
    assert!(
        !stdout.contains("jenkins") && !stdout.contains("legacy-000"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Plan: 0 to create, 2 to update, 0 to replace, 0 to delete."),
        "{stdout}"
    );
    assert!(
        stdout.contains("Partial plan: only the applications matching `grafana*` (--app)"),
        "{stdout}"
    );
    let json = world
        .cmd(&["plan", "--app", "grafana*", "--format", "json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["only_apps"], serde_json::json!(["grafana*"]));

    // Saved and applied: exactly the part; --app beside a saved plan is refused.
    let saved = world.path("partial.json");
    let out = world
        .cmd(&["plan", "--app", "grafana", "--out", saved.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    let out = world
        .cmd(&["apply", "--app", "jenkins"])
        .arg(&saved)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        texts(&out)
            .1
            .contains("--app cannot be combined with a saved plan")
    );
    let out = world.cmd(&["apply"]).arg(&saved).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    assert_eq!(world.writes().len(), 1, "{:?}", world.writes());
    assert_eq!(
        world.sim.app_by_name("grafana").unwrap()["description"],
        "two"
    );
    assert_eq!(
        world.sim.app_by_name("grafana-dev").unwrap()["description"],
        "one"
    );

    // apply --app: only the selection; the rest is still to do.
    let out = world
        .cmd(&["apply", "--auto-approve", "--app", "grafana-*"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    assert!(
        world.sim.app_by_name("legacy-000").is_some(),
        "outside the selection: not pruned"
    );
    assert_eq!(
        world.sim.app_by_name("jenkins").unwrap()["description"],
        "one"
    );
    let out = world
        .cmd(&["plan", "--detailed-exitcode", "--app", "grafana*"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "the selection converged: {:?}",
        texts(&out)
    );
    let out = world.cmd(&["apply", "--auto-approve"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    world.assert_converged();
    assert!(
        world.sim.app_by_name("legacy-000").is_none(),
        "a full run prunes it"
    );
    let out = world.cmd(&["plan", "--app", "[oops"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(texts(&out).1.contains("--app `[oops` is not a valid glob"));
}

const CONFIDENTIAL: &str = "        portal:\n          organization: Default\n          client_type: confidential\n          authorization_grant_type: authorization-code\n          redirect_uris: [https://portal.example.com/cb]\n";

/// `--secrets-command CMD`: the secret reaches a secret store through the
/// command's stdin; a failing command falls back to `--secrets-out`, or says
/// the secret is lost; the secret never shows in what the command printed.
#[test]
fn secrets_go_to_a_command_on_stdin_with_the_file_as_fallback() {
    let world = AwxWorld::new();
    world.write_config("", CONFIDENTIAL);
    let handed = world.path("handed.json");
    let out = world
        .cmd(&[
            "apply",
            "--auto-approve",
            "--secrets-command",
            "cat > \"$HANDED\"",
        ])
        .env("HANDED", &handed)
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&handed).unwrap()).unwrap();
    assert_eq!(doc["server"], "awx-test");
    assert_eq!(doc["app"], "portal");
    let secret = doc["client_secret"].as_str().unwrap().to_string();
    assert!(secret.len() > 20, "{doc}");
    assert_eq!(
        world.sim.app_by_name("portal").unwrap()["client_id"],
        doc["client_id"]
    );
    assert!(!stdout.contains(&secret) && !stderr.contains(&secret));
    world.assert_converged();

    // A failing command: the secret goes to the fallback file, exit 4, and
    // what the command printed (here, its stdin) is shown masked.
    let fallback = world.path("secrets.json");
    world.write_config("", &CONFIDENTIAL.replace("portal", "portal-two"));
    let out = world
        .cmd(&[
            "apply",
            "--auto-approve",
            "--secrets-command",
            "cat >&2; exit 3",
            "--secrets-out",
            fallback.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(4), "{stdout}{stderr}");
    let kept: Value = serde_json::from_str(&std::fs::read_to_string(&fallback).unwrap()).unwrap();
    let secret = kept["awx-test/portal-two"]["client_secret"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        stderr.contains("--secrets-command failed") && stderr.contains("written to"),
        "{stderr}"
    );
    assert!(
        stderr.contains("\"client_secret\":\"(sensitive)\""),
        "{stderr}"
    );
    assert!(!stdout.contains(&secret) && !stderr.contains(&secret));
    world.assert_converged();

    // No fallback: said to be lost, with the remedy.
    world.write_config("", &CONFIDENTIAL.replace("portal", "portal-three"));
    let out = world
        .cmd(&["apply", "--auto-approve", "--secrets-command", "exit 1"])
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(4), "{stdout}{stderr}");
    assert!(
        stderr.contains("the client secret is lost") && stderr.contains("--replace"),
        "{stderr}"
    );
    world.assert_converged();

    // A command that exits 0 without reading its stdin has stored nothing:
    // the secret goes to the fallback file, or is said to be lost.
    world.write_config("", &CONFIDENTIAL.replace("portal", "portal-four"));
    let out = world
        .cmd(&[
            "apply",
            "--auto-approve",
            "--secrets-command",
            "true",
            "--secrets-out",
            fallback.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(4), "{stdout}{stderr}");
    assert!(
        stderr.contains("without reading the secret from its standard input")
            && stderr.contains("written to"),
        "{stderr}"
    );
    let kept: Value = serde_json::from_str(&std::fs::read_to_string(&fallback).unwrap()).unwrap();
    assert!(
        kept["awx-test/portal-four"]["client_secret"].is_string(),
        "{kept}"
    );
    world.write_config("", &CONFIDENTIAL.replace("portal", "portal-five"));
    let out = world
        .cmd(&["apply", "--auto-approve", "--secrets-command", "exit 0"])
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(4), "{stdout}{stderr}");
    assert!(stderr.contains("the client secret is lost"), "{stderr}");
    world.assert_converged();
}

/// The `age` and `age-keygen` commands (Debian's `age`, installed by
/// `.ci/run`), or `None` outside CI when they are not there.
#[cfg(feature = "age")]
fn age_tool() -> Option<()> {
    let ok = ["age", "age-keygen"].iter().all(|tool| {
        std::process::Command::new(tool)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if ok {
        return Some(());
    }
    crate::support::skipped("the age tool", "apt-get install age");
    None
}

/// `--secrets-recipient`: the secrets file is age-encrypted; the real `age`
/// tool decrypts it with the matching identity and finds the secret.
#[cfg(feature = "age")]
#[test]
fn secrets_encrypted_with_age_are_decrypted_by_the_age_tool() {
    let Some(()) = age_tool() else { return };
    let world = AwxWorld::new();
    let keys = world.path("key.txt");
    let out = std::process::Command::new("age-keygen")
        .arg("-o")
        .arg(&keys)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let public = std::process::Command::new("age-keygen")
        .arg("-y")
        .arg(&keys)
        .output()
        .unwrap();
    let public = String::from_utf8(public.stdout).unwrap().trim().to_string();
    // A second recipient, from a recipients file.
    let other = world.path("other.txt");
    std::process::Command::new("age-keygen")
        .arg("-o")
        .arg(&other)
        .output()
        .unwrap();
    let other_public = std::process::Command::new("age-keygen")
        .arg("-y")
        .arg(&other)
        .output()
        .unwrap();
    let recipients = world.path("recipients.txt");
    std::fs::write(
        &recipients,
        format!(
            "# the security team\n{}\n",
            String::from_utf8(other_public.stdout).unwrap().trim()
        ),
    )
    .unwrap();

    world.write_config("", CONFIDENTIAL);
    let secrets = world.path("out/secrets.json.age");
    let args = |file: &std::path::Path| {
        vec![
            "apply".to_string(),
            "--auto-approve".into(),
            "--secrets-out".into(),
            file.to_str().unwrap().into(),
            "--secrets-recipient".into(),
            public.clone(),
            "--secrets-recipients-file".into(),
            recipients.to_str().unwrap().into(),
        ]
    };
    let argv = args(&secrets);
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let out = world.cmd(&argv).output().unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    let stored = world.sim.app_by_name("portal").unwrap();
    let secret = stored["stored_client_secret"].as_str().unwrap().to_string();
    let sealed = std::fs::read_to_string(&secrets).unwrap();
    assert!(
        sealed.starts_with("-----BEGIN AGE ENCRYPTED FILE-----"),
        "{sealed}"
    );
    assert!(!sealed.contains(&secret) && !stdout.contains(&secret) && !stderr.contains(&secret));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&secrets).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    for identity in [&keys, &other] {
        let out = std::process::Command::new("age")
            .arg("-d")
            .arg("-i")
            .arg(identity)
            .arg(&secrets)
            .output()
            .unwrap();
        assert!(out.status.success(), "{:?}", texts(&out));
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(doc["awx-test/portal"]["client_secret"], secret.as_str());
        assert_eq!(doc["awx-test/portal"]["client_id"], stored["client_id"]);
    }
    world.assert_converged();

    // An existing encrypted file is never replaced; a bad key is named.
    world.write_config("", &CONFIDENTIAL.replace("portal", "portal-two"));
    let out = world.cmd(&argv).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{:?}", texts(&out));
    assert!(
        texts(&out)
            .1
            .contains("exists; an encrypted secrets file is never merged")
    );
    assert_eq!(std::fs::read_to_string(&secrets).unwrap(), sealed);
    assert!(
        world.sim.app_by_name("portal-two").is_none(),
        "nothing written"
    );
    let out = world
        .cmd(&[
            "apply",
            "--auto-approve",
            "--secrets-out",
            world.path("new.age").to_str().unwrap(),
            "--secrets-recipient",
            "age1notakey",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        texts(&out)
            .1
            .contains("`age1notakey` is not an age public key"),
        "{:?}",
        texts(&out)
    );
    assert!(
        world.sim.app_by_name("portal-two").is_none(),
        "nothing written"
    );
}

/// `--app` that matches nothing is an error, as `--server` is: a typo must
/// not read as "No changes" while a change waits (issue 25). A live name
/// the config does not give (an app prune would delete) is a match.
#[test]
fn an_app_glob_that_matches_nothing_is_refused() {
    let world = AwxWorld::new();
    world.write_config(
        "      prune: true\n",
        "        grafana:\n          organization: Default\n          client_type: public\n          authorization_grant_type: password\n",
    );
    world.sim.seed_apps("legacy-", 1);
    for args in [&["plan"][..], &["apply", "--auto-approve"][..]] {
        let command = args[0];
        world.clear_requests();
        let out = world
            .cmd(args)
            .args(["--app", "nomatch*"])
            .output()
            .unwrap();
        let (stdout, stderr) = texts(&out);
        assert_eq!(out.status.code(), Some(1), "{command}: {stdout}{stderr}");
        assert!(
            stderr.contains("--app `nomatch*` matches no application"),
            "{command}: {stderr}"
        );
        assert!(world.write_requests().is_empty());
    }
    // A live name only the server has is a match.
    let out = world
        .cmd(&["plan", "--app", "legacy-*", "--detailed-exitcode"])
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert!(stdout.contains("legacy-000"), "{stdout}");
}
