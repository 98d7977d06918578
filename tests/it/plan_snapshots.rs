//! Snapshots of whole plans for every kind and format: the examples/ config
//! against the demo state of the built-in sandbox (AWX partial updates, TPP and
//! a WHM fleet with full-replace bodies and carried fields), as text, JSON and
//! markdown. Run from a copy of examples/ so the sandbox state stays there.

use crate::support::{appform, root, texts};

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn the_examples_plan_as_text_json_and_markdown() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&root().join("examples"), &dir.path().join("examples"));
    // The embedded sandbox listens on the examples' fixed loopback ports:
    // this is the only test that starts it, and it runs the formats one by one.
    for (format, name) in [
        ("text", "examples_plan_text"),
        ("json", "examples_plan_json"),
        ("markdown", "examples_plan_markdown"),
    ] {
        let out = appform()
            .current_dir(dir.path())
            .args(["plan", "-c", "examples", "--sandbox", "--format", format])
            .output()
            .unwrap();
        let (stdout, stderr) = texts(&out);
        assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
        insta::assert_snapshot!(name, stdout);
    }
    // Then the README's main job: its output says that simulators were
    // started, that the result was verified, and where the secrets went.
    let out = appform()
        .current_dir(dir.path())
        .args(["apply", "-c", "examples", "--sandbox", "--auto-approve"])
        .args(["--secrets-out", ".appform/secrets.json"])
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stderr.contains("Started the built-in simulators (--sandbox): awx http://127.0.0.1:8043,")
            && stderr.contains("their state is kept in .appform/sandbox.json"),
        "{stderr}"
    );
    assert!(
        stdout.contains(
            "Verified: 5 servers read back after the writes; every written value is there."
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "The client secrets of 2 new applications are in .appform/secrets.json (mode 0600)"
        ),
        "{stdout}"
    );
    let out = appform()
        .current_dir(dir.path())
        .args(["plan", "-c", "examples", "--sandbox", "--detailed-exitcode"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "a second plan is empty: {:?}",
        texts(&out)
    );
}
