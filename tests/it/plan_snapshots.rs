//! Snapshots of whole plans for every kind and format: the examples/ config
//! against the demo state of the built-in sandbox (AWX partial updates, TPP and
//! a WHM fleet with full-replace bodies and carried fields), as text, JSON and
//! markdown. Run from a copy of examples/ so the sandbox state stays there.

use crate::support::{appform, root, texts};

pub(crate) fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
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

/// Moves the loopback ports the copied examples name (8043…) to free ones,
/// keeping their order (fleet hosts sort by port), so two test runs on one
/// machine never collide on the examples' fixed ports.
pub(crate) fn move_to_free_ports(dir: &std::path::Path) {
    fn files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files(&path, out);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                out.push(path);
            }
        }
    }
    let mut yaml = Vec::new();
    files(dir, &mut yaml);
    let pattern = regex::Regex::new(r"127\.0\.0\.1:(\d+)").unwrap();
    let mut ports: Vec<u16> = yaml
        .iter()
        .flat_map(|p| {
            let text = std::fs::read_to_string(p).unwrap();
            pattern
                .captures_iter(&text)
                .map(|c| c[1].parse::<u16>().unwrap())
                .collect::<Vec<_>>()
        })
        .collect();
    ports.sort();
    ports.dedup();
    // Held together, so the OS hands out distinct ports.
    let listeners: Vec<std::net::TcpListener> = ports
        .iter()
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    let mut free: Vec<u16> = listeners
        .iter()
        .map(|l| l.local_addr().unwrap().port())
        .collect();
    drop(listeners);
    free.sort();
    for path in &yaml {
        let text = std::fs::read_to_string(path).unwrap();
        let moved = pattern.replace_all(&text, |c: &regex::Captures<'_>| {
            let old: u16 = c[1].parse().unwrap();
            let at = ports.binary_search(&old).unwrap();
            format!("127.0.0.1:{}", free[at])
        });
        std::fs::write(path, moved.as_ref()).unwrap();
    }
}

/// A snapshot with the loopback ports and the configuration's digest (it
/// holds the ports) filtered out by insta.
fn assert_plan_snapshot(name: &str, text: &str) {
    insta::with_settings!({filters => vec![
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]"),
        // The demo's app due for rotation ages a day a day.
        (r"\d+ days ago", "[N] days ago"),
        (r#""age_days": \d+"#, r#""age_days": [N]"#),
        // Its retiring copy ends five days after the run.
        (r"appform-retiring-\d{8}", "appform-retiring-[END]"),
        (r"working until \d{4}-\d\d-\d\d", "working until [END]"),
        (r#""until": "\d{4}-\d\d-\d\d""#, r#""until": "[END]""#),
        (r#""config_digest": "sha256:[0-9a-f]{64}""#, r#""config_digest": "[DIGEST]""#),
    ]}, {
        insta::assert_snapshot!(name, text);
    });
}

#[test]
fn the_examples_plan_as_text_json_and_markdown() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&root().join("examples"), &dir.path().join("examples"));
    move_to_free_ports(&dir.path().join("examples"));
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
        assert_plan_snapshot(name, &stdout);
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
        stderr.contains("Started the built-in simulators (--sandbox): awx http://127.0.0.1:")
            && stderr.contains("their state is kept in .appform/sandbox.json"),
        "{stderr}"
    );
    assert!(
        stdout.contains(
            "Verified: 6 servers read back after the writes; every written value is there."
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
