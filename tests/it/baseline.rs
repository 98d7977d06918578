//! `plan --baseline REF`: drift (made on the server) told from pending changes
//! (made in the config) against the configuration at a git revision, and
//! connection pinning: a server whose connection settings are not those of
//! REF is not contacted.

use serde_json::Value;

use crate::support::{AwxWorld, texts};
use crate::world::World;
use appform::sandbox::Faults;
use appform::sandbox::Simulator as _;

/// `git ARGS` in `dir`, with an identity and no user or system config.
pub(crate) fn git(dir: &std::path::Path, args: &[&str]) {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=appform test",
            "-c",
            "user.email=test@example.invalid",
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {:?}", texts(&out));
}

pub(crate) fn commit_all(dir: &std::path::Path, message: &str) {
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", message]);
}

/// Applies the config written so far, then makes the config directory a git
/// repository whose first commit is that applied config.
pub(crate) fn apply_and_commit<S: crate::world::TestKind>(world: &World<S>) {
    let out = world.cmd(&["apply", "--auto-approve"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    git(world.dir.path(), &["init", "-q"]);
    commit_all(world.dir.path(), "applied");
}

const JENKINS: &str = "        jenkins:\n          organization: Default\n          client_type: public\n          authorization_grant_type: password\n          description: Jenkins CI\n";
const GRAFANA: &str = "        grafana:\n          organization: Default\n          client_type: public\n          authorization_grant_type: password\n          description: Grafana\n";
const VAULT: &str = "        vault:\n          organization: Default\n          client_type: public\n          authorization_grant_type: password\n          description: Vault\n";

/// `(app, origin, [(field, origin)])` of each change, fields not carried.
type Origins = Vec<(String, String, Vec<(String, String)>)>;

fn origins(plan: &Value) -> Origins {
    plan["servers"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["changes"].as_array().unwrap().iter())
        .map(|c| {
            let fields = c["fields"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| !f["carried"].as_bool().unwrap_or(false))
                .map(|f| {
                    (
                        f["field"].as_str().unwrap().to_string(),
                        f["origin"].as_str().unwrap_or("none").to_string(),
                    )
                })
                .collect();
            (
                c["app"].as_str().unwrap().to_string(),
                c["origin"].as_str().unwrap_or("none").to_string(),
                fields,
            )
        })
        .collect()
}

#[test]
fn drift_and_pending_changes_are_told_apart_against_the_applied_tag() {
    let world = AwxWorld::new();
    world.write_config("", &format!("{JENKINS}{GRAFANA}"));
    apply_and_commit(&world);
    git(world.dir.path(), &["tag", "appform-applied"]);

    // A merged change not applied yet: grafana's description, and a new app.
    world.write_config(
        "",
        &format!(
            "{JENKINS}{}{VAULT}",
            GRAFANA.replace("description: Grafana", "description: Grafana dashboards")
        ),
    );
    commit_all(world.dir.path(), "merged, not applied");
    // An edit by hand on the server: jenkins's description.
    assert!(
        world
            .sim
            .set_app_field("jenkins", "description", "edited by hand".into())
    );

    let metrics = world.path("metrics.prom");
    let out = world
        .cmd(&[
            "plan",
            "--baseline",
            "appform-applied",
            "--format",
            "json",
            "--metrics-out",
            metrics.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    let plan: Value = serde_json::from_str(&stdout).unwrap();
    let mut got = origins(&plan);
    got.sort();
    assert_eq!(
        got,
        vec![
            (
                "grafana".into(),
                "pending".into(),
                vec![("description".into(), "pending".into())]
            ),
            (
                "jenkins".into(),
                "drift".into(),
                vec![("description".into(), "drift".into())]
            ),
            (
                "vault".into(),
                "pending".into(),
                vec![
                    ("authorization_grant_type".into(), "pending".into()),
                    ("client_type".into(), "pending".into()),
                    ("description".into(), "pending".into())
                ]
            ),
        ]
    );
    assert_eq!(plan["summary"]["pending"], 2);
    assert_eq!(plan["summary"]["drift"], 1);
    assert_eq!(plan["baseline"]["reference"], "appform-applied");
    assert_eq!(plan["baseline"]["commit"].as_str().unwrap().len(), 40);
    let prom = std::fs::read_to_string(&metrics).unwrap();
    assert!(
        prom.contains(
            "appform_changes_by_origin{command=\"plan\",instance=\"awx-test\",origin=\"drift\"} 1"
        ) && prom.contains(
            "appform_changes_by_origin{command=\"plan\",instance=\"awx-test\",origin=\"pending\"} 2"
        ),
        "{prom}"
    );

    // Text and markdown say it too.
    let out = world
        .cmd(&["plan", "--baseline", "appform-applied"])
        .output()
        .unwrap();
    let stdout = texts(&out).0;
    assert!(
        stdout.contains("[drift: changed on the server]")
            && stdout.contains("[pending: changed in the config]")
            && stdout.contains("Compared with the baseline `appform-applied` (")
            && stdout
                .contains("2 pending (changed in the config), 1 drift (changed on the servers)"),
        "{stdout}"
    );
    let out = world
        .cmd(&[
            "plan",
            "--baseline",
            "appform-applied",
            "--format",
            "markdown",
        ])
        .output()
        .unwrap();
    let stdout = texts(&out).0;
    assert!(
        stdout.contains("| update (drift) | `description` |")
            && stdout.contains("| update (pending) | `description` |"),
        "{stdout}"
    );

    // The cron alarms on drift only: exit 2 now.
    let fail_on_drift = [
        "plan",
        "--baseline",
        "appform-applied",
        "--fail-on",
        "drift",
    ];
    let detailed = [
        "plan",
        "--baseline",
        "appform-applied",
        "--detailed-exitcode",
    ];
    let out = world.cmd(&fail_on_drift).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{:?}", texts(&out));

    // The drift is put back by hand: only pending changes remain, exit 0.
    assert!(
        world
            .sim
            .set_app_field("jenkins", "description", "Jenkins CI".into())
    );
    let out = world.cmd(&fail_on_drift).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    let out = world.cmd(&detailed).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "any change: {:?}", texts(&out));

    // The apply job applies and moves the tag: nothing left, either way.
    let out = world.cmd(&["apply", "--auto-approve"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    git(world.dir.path(), &["tag", "-f", "appform-applied"]);
    let out = world.cmd(&detailed).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    world.assert_converged();
}

#[test]
fn one_app_with_drifted_and_pending_fields_marks_each_field() {
    let world = AwxWorld::new();
    world.write_config("", JENKINS);
    apply_and_commit(&world);
    // The config now skips authorization; someone edited the description.
    world.write_config(
        "",
        &format!("{JENKINS}          skip_authorization: true\n"),
    );
    assert!(
        world
            .sim
            .set_app_field("jenkins", "description", "edited".into())
    );
    let out = world
        .cmd(&["plan", "--baseline", "HEAD", "--format", "json"])
        .output()
        .unwrap();
    let plan: Value = serde_json::from_str(&texts(&out).0).unwrap();
    assert_eq!(
        origins(&plan),
        vec![(
            "jenkins".into(),
            "drift".into(),
            vec![
                ("description".into(), "drift".into()),
                ("skip_authorization".into(), "pending".into())
            ]
        )]
    );
    let out = world.cmd(&["plan", "--baseline", "HEAD"]).output().unwrap();
    let stdout = texts(&out).0;
    let drift_line = stdout
        .lines()
        .find(|l| l.contains("description"))
        .unwrap_or_default();
    assert!(drift_line.ends_with("# drift"), "{stdout}");
    let out = world.cmd(&["apply", "--auto-approve"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    world.assert_converged();
}

#[test]
fn an_app_removed_since_the_baseline_is_pending_an_unknown_one_is_drift() {
    let world = AwxWorld::new();
    // Live: jenkins, grafana, and `hand-made`, which no config below names
    // (created outside appform, as far as the baseline can tell).
    let hand_made = GRAFANA.replace("grafana:", "hand-made:");
    world.write_config("", &format!("{JENKINS}{GRAFANA}{hand_made}"));
    let out = world.cmd(&["apply", "--auto-approve"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    world.write_config("      prune: true\n", &format!("{JENKINS}{GRAFANA}"));
    git(world.dir.path(), &["init", "-q"]);
    commit_all(world.dir.path(), "the baseline");
    world.write_config("      prune: true\n", JENKINS);
    let out = world
        .cmd(&["plan", "--baseline", "HEAD", "--format", "json"])
        .output()
        .unwrap();
    let plan: Value = serde_json::from_str(&texts(&out).0).unwrap();
    let mut got: Vec<(String, String)> = origins(&plan)
        .into_iter()
        .map(|(app, origin, _)| (app, origin))
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            ("grafana".into(), "pending".into()),
            ("hand-made".into(), "drift".into())
        ]
    );
    let out = world.cmd(&["apply", "--auto-approve"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    world.assert_converged();
}

#[test]
fn a_bad_baseline_is_a_clear_error_never_a_plan() {
    let world = AwxWorld::new();
    world.write_config("", JENKINS);
    // Not a git repository.
    let out = world
        .cmd(&["plan", "--baseline", "main"])
        .env(
            "GIT_CEILING_DIRECTORIES",
            world.dir.path().parent().unwrap(),
        )
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("is not inside a git repository"),
        "{stderr}"
    );
    assert!(stdout.is_empty(), "{stdout}");

    git(world.dir.path(), &["init", "-q"]);
    commit_all(world.dir.path(), "one");
    // No such revision; an option is not a revision.
    for bad in ["appform-applied", "--output=/tmp/x"] {
        let out = world
            .cmd(&["plan", &format!("--baseline={bad}")])
            .output()
            .unwrap();
        let (stdout, stderr) = texts(&out);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(&format!("--baseline `{bad}`")), "{stderr}");
        assert!(stdout.is_empty(), "{stdout}");
    }

    // The config at the revision is invalid.
    std::fs::write(world.path("broken.yaml"), "servers: [\n").unwrap();
    commit_all(world.dir.path(), "broken");
    std::fs::remove_file(world.path("broken.yaml")).unwrap();
    let out = world.cmd(&["plan", "--baseline", "HEAD"]).output().unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("the configuration at `HEAD` is invalid")
            && stderr.contains("broken.yaml")
            && stderr.contains("YAML syntax error"),
        "{stderr}"
    );
    assert!(stdout.is_empty(), "{stdout}");
    assert!(world.sim.requests().is_empty(), "no server was contacted");

    // --fail-on drift means nothing without a baseline.
    let out = world.cmd(&["plan", "--fail-on", "drift"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(texts(&out).1.contains("--fail-on drift needs --baseline"));
}

#[test]
fn a_pull_request_cannot_send_credentials_to_a_new_place() {
    // Three AWX hosts: `kept` and `moved` are in the target branch; the pull
    // request points `moved` at the third host (an attacker's), changes the
    // token reference of `rekeyed`, and adds `added`.
    let world: World<appform::sandbox::awx::AwxSim> =
        World::of(5, |_| Default::default(), Faults::default());
    let server = |name: &str, url: &str, token: &str| {
        format!(
            "  {name}:\n    awx:\n      url: {url}\n      auth:\n        token: env:{token}\n      applications:\n{JENKINS}"
        )
    };
    let urls = world.urls().to_vec();
    // `recert` trusts a CA file committed beside the config; the pull request
    // rewrites that file under the same path.
    let recert = format!(
        "  recert:\n    awx:\n      url: {}\n      ca_file: ca.pem\n      auth:\n        token: env:AWX_TOKEN\n      applications:\n{JENKINS}",
        urls[4]
    );
    // The config with `moved` at `moved_url` and `rekeyed`'s token in `token`.
    let write = |moved_url: &str, token: &str| {
        let servers = [
            server("kept", &urls[0], "AWX_TOKEN"),
            server("moved", moved_url, "AWX_TOKEN"),
            server("rekeyed", &urls[3], token),
            recert.clone(),
        ];
        std::fs::write(
            world.path("appform.yaml"),
            format!("servers:\n{}", servers.concat()),
        )
        .unwrap();
    };
    std::fs::write(world.path("ca.pem"), "the target branch's CA\n").unwrap();
    write(&urls[1], "AWX_TOKEN");
    git(world.dir.path(), &["init", "-q"]);
    commit_all(world.dir.path(), "target branch");
    git(world.dir.path(), &["checkout", "-q", "-b", "pr"]);
    write(&urls[2], "OTHER_TOKEN");
    std::fs::write(world.path("ca.pem"), "an attacker's CA\n").unwrap();
    std::fs::write(
        world.path("added.yaml"),
        format!(
            "servers:\n{}",
            server("added", "https://attacker.invalid", "AWX_TOKEN")
        ),
    )
    .unwrap();
    commit_all(world.dir.path(), "pull request");

    let out = world
        .cmd(&["plan", "--baseline", "main", "--format", "json"])
        .env("OTHER_TOKEN", "another production secret")
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        world.sims[2].requests().is_empty(),
        "the new host got {:?}",
        world.sims[2].requests()
    );
    assert!(world.sims[3].requests().is_empty(), "rekeyed was contacted");
    assert!(world.sims[4].requests().is_empty(), "recert was contacted");
    assert!(!world.sims[0].requests().is_empty(), "kept was planned");
    let plan: Value = serde_json::from_str(&stdout).unwrap();
    let by_name = |n: &str| {
        plan["servers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["server"] == n)
            .cloned()
            .unwrap()
    };
    assert!(by_name("kept")["error"].is_null());
    assert_eq!(by_name("kept")["changes"][0]["app"], "jenkins");
    for (name, what) in [
        ("moved", "url"),
        ("rekeyed", "auth"),
        ("added", "the server is new"),
        ("recert", "ca_file content"),
    ] {
        let error = by_name(name)["error"].as_str().unwrap().to_string();
        assert!(
            error.starts_with(&format!("connection changed in this change ({what}"))
                && error
                    .contains("not planned (review it, then it is planned from the target branch)"),
            "{name}: {error}"
        );
    }
    assert!(stderr.contains("moved: connection changed"), "{stderr}");
    assert!(
        !stdout.contains("another production secret")
            && !stderr.contains("another production secret")
    );

    // The reviewed plan of that pull request, applied after the merge:
    // `kept` is applied; the withheld servers were never reviewed, so they
    // are not contacted now either (exit 4), and are planned from then on.
    let saved = world.path("plan.json");
    let out = world
        .cmd(&[
            "plan",
            "--baseline",
            "main",
            "--out",
            saved.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{:?}", texts(&out));
    git(world.dir.path(), &["checkout", "-q", "main"]);
    git(world.dir.path(), &["merge", "-q", "--ff-only", "pr"]);
    let out = world
        .cmd(&["apply", saved.to_str().unwrap()])
        .env("OTHER_TOKEN", "another production secret")
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(4), "{stdout}{stderr}");
    assert!(
        stdout.contains("the reviewed plan could not plan this server"),
        "{stdout}"
    );
    assert!(world.sims[2].requests().is_empty() && world.sims[3].requests().is_empty());
    assert!(
        world.sims[0].app_by_name("jenkins").is_some(),
        "kept applied"
    );
    let out = world
        .cmd(&["plan", "--baseline", "main", "--server", "moved"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    assert!(!world.sims[2].requests().is_empty(), "moved is planned now");
}

/// Shards planned against one baseline merge (`appform report`) with the
/// baseline and their origin counts.
#[test]
fn report_merges_shards_with_their_origins() {
    let world: World<appform::sandbox::awx::AwxSim> =
        World::of(2, |_| Default::default(), Faults::default());
    let urls = world.urls().to_vec();
    let write = |description_b: &str| {
        std::fs::write(
            world.path("appform.yaml"),
            format!(
                "servers:\n  a:\n    awx:\n      url: {}\n      auth:\n        token: env:AWX_TOKEN\n      applications:\n{JENKINS}  b:\n    awx:\n      url: {}\n      auth:\n        token: env:AWX_TOKEN\n      applications:\n{}",
                urls[0],
                urls[1],
                JENKINS.replace("Jenkins CI", description_b)
            ),
        )
        .unwrap();
    };
    write("Jenkins CI");
    apply_and_commit(&world);
    write("Jenkins CI, second edition");
    assert!(world.sims[0].set_app_field("jenkins", "description", "by hand".into()));
    let mut shards = Vec::new();
    for shard in ["1/2", "2/2"] {
        let out = world
            .cmd(&[
                "plan",
                "--baseline",
                "HEAD",
                "--shard",
                shard,
                "--format",
                "json",
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
        let file = world.path(&format!("shard-{}.json", &shard[..1]));
        std::fs::write(&file, &out.stdout).unwrap();
        shards.push(file);
    }
    let out = crate::support::appform()
        .args(["report", "--format", "json"])
        .args(&shards)
        .output()
        .unwrap();
    let merged: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(merged["baseline"]["reference"], "HEAD", "{merged}");
    assert_eq!(merged["summary"]["drift"], 1, "{merged}");
    assert_eq!(merged["summary"]["pending"], 1, "{merged}");
    assert_eq!(out.status.code(), Some(0));
    // `--fail-on drift`: the merged shards hold drift (exit 2); without
    // the drifted shard, only a pending change is left (exit 0).
    let fail_on_drift = |files: &[std::path::PathBuf]| {
        crate::support::appform()
            .args(["report", "--fail-on", "drift"])
            .args(files)
            .output()
            .unwrap()
            .status
            .code()
    };
    assert_eq!(fail_on_drift(&shards), Some(2));
    let pending_only: Vec<std::path::PathBuf> = shards
        .iter()
        .filter(|f| {
            let v: Value = serde_json::from_slice(&std::fs::read(f).unwrap()).unwrap();
            v["summary"]["drift"] == 0
        })
        .cloned()
        .collect();
    assert!(!pending_only.is_empty() && pending_only.len() < shards.len());
    assert_eq!(fail_on_drift(&pending_only), Some(0));
}
