//! What the credentials may do, as AWX's listing says (`user_capabilities`):
//! a change to an application they cannot edit or delete is named in the
//! plan, the server plans nothing (exit 1 for it), and apply sends it no
//! write (issue 24, item 3). Plan-only credentials, which see every
//! capability false, are not held to it.

use appform::sandbox::Faults;
use appform::sandbox::awx::AwxOptions;

use crate::support::texts;
use crate::world::AwxWorld;

const APPS: &str = "        grafana:
          organization: Default
          client_type: public
          authorization_grant_type: password
          description: changed
        jenkins:
          organization: Default
          client_type: public
          authorization_grant_type: password
          description: changed too
";

fn world(read_only: &[&str]) -> AwxWorld {
    let world = AwxWorld::of(
        1,
        |_| AwxOptions {
            read_only_apps: read_only.iter().map(|s| s.to_string()).collect(),
            ..AwxOptions::default()
        },
        Faults::default(),
    );
    for name in ["grafana", "jenkins", "stray"] {
        world.sim.add_app(name, 1);
    }
    world
}

#[test]
fn an_app_the_credentials_cannot_edit_is_named_and_never_written() {
    let world = world(&["grafana"]);
    world.write_config("", APPS);
    let out = world
        .cmd(&["plan", "--detailed-exitcode"])
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    let text = format!("{stdout}{stderr}");
    assert!(
        text.contains(
            "cannot update `grafana`: the credentials lack permission (user_capabilities.edit is false)"
        ),
        "{text}"
    );
    world.clear_requests();
    let out = world.cmd(&["apply", "--auto-approve"]).output().unwrap();
    let (stdout, stderr) = texts(&out);
    assert_ne!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        world.write_requests().is_empty(),
        "apply wrote although the listing said it may not: {:?}",
        world.write_requests()
    );
}

#[test]
fn a_prune_the_credentials_cannot_delete_is_refused_before_any_write() {
    let world = world(&["stray"]);
    world.write_config("      prune: true\n", APPS);
    let out = world
        .cmd(&["plan", "--detailed-exitcode"])
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stdout.contains("cannot delete `stray`") || stderr.contains("cannot delete `stray`"),
        "{stdout}{stderr}"
    );
    world.clear_requests();
    let _ = world.cmd(&["apply", "--auto-approve"]).output().unwrap();
    assert!(world.write_requests().is_empty());
}

#[test]
fn apps_the_credentials_may_change_plan_and_apply_as_before() {
    let world = world(&[]);
    world.write_config("", APPS);
    let out = world.cmd(&["apply", "--auto-approve"]).output().unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    world.assert_converged();
}

#[test]
fn plan_only_credentials_are_not_held_to_what_they_may_do() {
    // A read-scope token sees every capability false; with `auth.plan` the
    // plan shows the changes apply's credentials will make.
    let world = world(&[]);
    let read = world.sim.issue_token("read");
    std::fs::write(
        world.path("appform.yaml"),
        format!(
            "servers:\n  awx-test:\n    awx:\n      url: {}\n      auth:\n        token: env:AWX_TOKEN\n        plan:\n          token: env:AWX_READ\n      applications:\n{APPS}",
            world.url()
        ),
    )
    .unwrap();
    let out = world
        .cmd(&["plan", "--detailed-exitcode"])
        .env("AWX_READ", &read)
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert!(stdout.contains("grafana (Default)"), "{stdout}");
}
