//! The command line as people meet it: completion scripts the real shells
//! accept, man pages groff renders without a warning, help that says which
//! options are global and shows examples.

use crate::support::{appform, skipped, texts};

fn stdout_of(args: &[&str]) -> String {
    let out = appform().args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{args:?}: {:?}", texts(&out));
    texts(&out).0
}

fn tool(name: &str) -> bool {
    std::process::Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Each script names every subcommand; bash, zsh and fish parse theirs
/// (`bash -n`, `zsh -n`, `fish --no-execute`).
#[test]
fn completion_scripts_cover_every_command_and_parse_in_their_shell() {
    let commands = [
        "validate",
        "plan",
        "apply",
        "report",
        "export",
        "schema",
        "sandbox",
        "completions",
        "man",
    ];
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let script = stdout_of(&["completions", shell]);
        for command in commands {
            assert!(script.contains(command), "{shell}: no `{command}`");
        }
        assert!(script.contains("--baseline"), "{shell}: plan's options");
    }
    let dir = tempfile::tempdir().unwrap();
    for (shell, check) in [
        ("bash", &["-n"][..]),
        ("zsh", &["-n"][..]),
        ("fish", &["--no-execute"][..]),
    ] {
        if !tool(shell) {
            skipped(shell, "Debian package bash/zsh/fish");
            continue;
        }
        let file = dir.path().join(format!("appform.{shell}"));
        std::fs::write(&file, stdout_of(&["completions", shell])).unwrap();
        let out = std::process::Command::new(shell)
            .args(check)
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "{shell} rejects its script: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // bash: the completion function really completes a subcommand.
    if tool("bash") {
        let file = dir.path().join("appform.bash");
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(format!(
                "source {}; COMP_WORDS=(appform pla); COMP_CWORD=1; _appform appform pla appform; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
                file.display()
            ))
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "plan");
    }
    let out = appform().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "an unknown shell is a usage error"
    );
}

/// `appform man` prints appform.1; `--dir` writes one page per command;
/// groff renders them without a warning (`-k`: through preconv, as
/// man-db does, for the `…` of the help).
#[test]
fn man_pages_render_without_warnings() {
    let page = stdout_of(&["man"]);
    assert!(page.contains(".TH appform 1"), "{page}");
    let dir = tempfile::tempdir().unwrap();
    let out = appform()
        .args(["man", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    for name in [
        "appform.1",
        "appform-plan.1",
        "appform-apply.1",
        "appform-export.1",
    ] {
        let file = dir.path().join(name);
        assert!(file.is_file(), "{name} missing");
        if !tool("groff") {
            skipped("groff", "Debian package groff-base");
            continue;
        }
        let out = std::process::Command::new("groff")
            .args(["-k", "-man", "-Tutf8", "-ww", "-z"])
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "groff warns on {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let missing = dir.path().join("nowhere");
    let out = appform()
        .args(["man", "--dir"])
        .arg(&missing)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        texts(&out).1.contains("not a directory"),
        "{:?}",
        texts(&out)
    );
}

/// Global options under their own heading, every option described, and
/// examples where people start.
#[test]
fn help_separates_global_options_and_shows_examples() {
    for command in ["validate", "plan", "apply", "report", "export", "sandbox"] {
        let help = stdout_of(&[command, "--help"]);
        let (own, global) = help
            .split_once("Global options:")
            .unwrap_or_else(|| panic!("{command}: no global heading\n{help}"));
        assert!(
            !own.contains("--no-color") && !own.contains("--verbose"),
            "{command}\n{help}"
        );
        assert!(
            global.contains("--verbose") && global.contains("--quiet"),
            "{command}"
        );
        // Every option has words after it (clap prints a bare flag otherwise).
        // An option's line starts at column 2 or 6 (continuations are
        // indented further).
        let lines: Vec<&str> = own.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let indent = line.len() - line.trim_start().len();
            if !(line.trim_start().starts_with('-') && (indent == 2 || indent == 6)) {
                continue;
            }
            // Words, not only clap's `[default: …]` or `Possible values:`.
            let words = |text: &str| {
                let text = text.trim();
                !text.is_empty() && !text.starts_with('[') && !text.starts_with("Possible values")
            };
            let inline = line.trim().split_once("  ").is_some_and(|(_, d)| words(d));
            let below = lines
                .get(i + 1)
                .is_some_and(|next| next.len() - next.trim_start().len() > 6 && words(next));
            assert!(
                inline || below,
                "{command}: `{}` has no description\n{help}",
                line.trim()
            );
        }
    }
    for command in ["plan", "apply", "export", "sandbox"] {
        let help = stdout_of(&[command, "--help"]);
        assert!(
            help.contains("Examples:") && help.contains(&format!("appform {command}")),
            "{command}: no examples\n{help}"
        );
    }
    let help = stdout_of(&["report", "--help"]);
    assert!(!help.contains("plan only"), "{help}");
}
