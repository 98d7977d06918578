//! Saved plans that travel (the apply-on-merge path): `plan -c DIR --out
//! plan.json` carries its configuration, so `apply plan.json` works from any
//! working directory without `-c`; one unreachable server fails alone (exit
//! 4, "could not be reached", never "stale"); a real stale object still
//! refuses the whole plan.

use appform::sandbox::Faults;
use appform::sandbox::awx::AwxOptions;
use serde_json::Value;

use crate::support::{AwxWorld, appform, texts};

/// Three AWX servers `awx-1..3`, each wanting one app, with the config in
/// `repo/configs/`.
struct Three {
    world: AwxWorld,
}

impl Three {
    fn new() -> Self {
        let three = Three {
            world: AwxWorld::of(3, |_| AwxOptions::default(), Faults::default()),
        };
        three.write_config("");
        three
    }

    fn configs(&self) -> std::path::PathBuf {
        self.world.dir.path().join("repo").join("configs")
    }

    fn write_config(&self, description: &str) {
        std::fs::create_dir_all(self.configs()).unwrap();
        for (i, url) in self.world.urls().iter().enumerate() {
            std::fs::write(
                self.configs().join(format!("awx-{}.yaml", i + 1)),
                format!(
                    "servers:\n  awx-{n}:\n    awx:\n      url: {url}\n      auth:\n        token: env:AWX_TOKEN\n      applications:\n        app-{n}:\n          organization: Default\n          client_type: public\n          authorization_grant_type: password\n          description: \"{description}\"\n",
                    n = i + 1
                ),
            )
            .unwrap();
        }
    }

    fn appform_in(&self, cwd: &std::path::Path) -> assert_cmd::Command {
        let mut cmd = appform();
        cmd.current_dir(cwd).env("AWX_TOKEN", "sandbox-awx-token");
        cmd
    }

    fn plan_file(&self) -> std::path::PathBuf {
        self.world.dir.path().join("plan.json")
    }

    /// `plan -c repo/configs --out plan.json`, run from `repo`.
    fn save_plan(&self) -> String {
        let out = self
            .appform_in(&self.world.dir.path().join("repo"))
            .args(["plan", "-c", "configs", "--out"])
            .arg(self.plan_file())
            .output()
            .unwrap();
        let (stdout, stderr) = texts(&out);
        assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
        stderr
    }

    /// `apply plan.json` from the world's directory, without `-c`.
    fn apply_saved(&self) -> std::process::Output {
        self.appform_in(self.world.dir.path())
            .arg("apply")
            .arg(self.plan_file())
            .output()
            .unwrap()
    }

    fn app_names(&self, i: usize) -> Vec<String> {
        self.world.sims[i]
            .app_names()
            .into_iter()
            .map(|(_, n)| n)
            .collect()
    }
}

#[test]
fn a_saved_plan_applies_from_another_directory_without_the_config() {
    let three = Three::new();
    let stderr = three.save_plan();
    assert!(
        stderr.contains(&format!(
            "apply exactly it with `appform apply {}`",
            three.plan_file().display()
        )),
        "the hint prints the exact command: {stderr}"
    );
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(three.plan_file()).unwrap()).unwrap();
    assert_eq!(saved["config"]["root"], "configs");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(three.plan_file())
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(
            mode, 0o600,
            "a plan file carries the configuration: private"
        );
    }
    assert_eq!(saved["config"]["files"].as_array().unwrap().len(), 3);
    assert!(
        !saved.to_string().contains("sandbox-awx-token"),
        "a plan file holds credential references, never secrets"
    );
    // Another working directory, where `configs` does not exist and `.` holds
    // unrelated YAML: the plan's own configuration is used.
    let elsewhere = tempfile::tempdir().unwrap();
    std::fs::write(
        elsewhere.path().join("docker-compose.yml"),
        "services: {}\n",
    )
    .unwrap();
    let out = three
        .appform_in(elsewhere.path())
        .arg("apply")
        .arg(three.plan_file())
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    for i in 0..3 {
        assert_eq!(three.app_names(i), vec![format!("app-{}", i + 1)]);
    }
    // `-c` with the same files: the digest matches; the second plan is empty.
    let out = three
        .appform_in(three.world.dir.path())
        .args(["plan", "--detailed-exitcode", "-c"])
        .arg(three.configs())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
}

#[test]
fn with_c_the_config_digest_must_still_match() {
    let three = Three::new();
    three.save_plan();
    three.write_config("changed after review");
    let out = three
        .appform_in(three.world.dir.path())
        .arg("apply")
        .arg(three.plan_file())
        .arg("-c")
        .arg(three.configs())
        .output()
        .unwrap();
    let (_, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("the configuration changed"), "{stderr}");
    assert!(
        (0..3).all(|i| three.app_names(i).is_empty()),
        "nothing was written"
    );
}

#[test]
fn an_unreachable_server_fails_alone_and_is_never_called_stale() {
    let mut three = Three::new();
    three.save_plan();
    three.world.kill_host(1);
    let out = three.apply_saved();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(4), "{stdout}\n{stderr}");
    assert!(
        !stdout.contains("stale") && !stderr.contains("stale"),
        "{stdout}\n{stderr}"
    );
    assert!(
        stderr.contains("awx-2") && stderr.contains("could not be reached"),
        "{stderr}"
    );
    assert_eq!(three.app_names(0), vec!["app-1".to_string()]);
    assert_eq!(three.app_names(2), vec!["app-3".to_string()]);
    assert!(three.app_names(1).is_empty());
}

#[test]
fn a_stale_object_still_refuses_the_whole_plan() {
    let three = Three::new();
    three.save_plan();
    let out = three.apply_saved();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    three.write_config("reviewed change");
    three.save_plan();
    // Someone edits app-2 by hand between review and merge.
    assert!(three.world.sims[1].set_app_field("app-2", "skip_authorization", Value::Bool(true)));
    three.world.clear_requests();
    let out = three.apply_saved();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("stale plan") && stderr.contains("awx-2/app-2"),
        "{stderr}"
    );
    assert!(three.world.writes().is_empty(), "nothing was written");
    // Planned again and applied, the servers converge.
    three.save_plan();
    let out = three.apply_saved();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    let out = three
        .appform_in(three.world.dir.path())
        .args(["plan", "--detailed-exitcode", "-c"])
        .arg(three.configs())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "a second plan is empty: {:?}",
        texts(&out)
    );
}
