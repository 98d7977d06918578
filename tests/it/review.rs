//! A review nobody can fool: what someone who can push branches and tags,
//! open pull requests and run a hostile server tries, one test per way in.
//! Each test fails without its fix.

use std::path::PathBuf;
use std::process::Command;

use crate::baseline::{apply_and_commit, git};
use crate::support::{AwxWorld, texts};

/// The Python of `target/lint-venv` (where `.ci/run` installs `cmarkgfm`,
/// GitHub's own markdown renderer), or `None` (after saying why) outside CI.
fn python_with_cmarkgfm() -> Option<PathBuf> {
    let python = std::env::var_os("APPFORM_LINT_BIN")
        .map(|d| PathBuf::from(d).join("python3"))
        .filter(|p| p.is_file());
    let usable = python.filter(|p| {
        Command::new(p)
            .args(["-c", "import cmarkgfm"])
            .status()
            .is_ok_and(|s| s.success())
    });
    if usable.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "cmarkgfm is not installed: .ci/run installs it into target/lint-venv and sets APPFORM_LINT_BIN"
        );
        eprintln!(
            "SKIPPED: cmarkgfm is not installed (pip install cmarkgfm, then set APPFORM_LINT_BIN)"
        );
    }
    usable
}

/// `markdown` rendered as GitHub renders a comment (cmark-gfm with its
/// extensions, raw HTML passed through as GitHub's sanitiser would see it).
fn github_html(python: &PathBuf, markdown: &str) -> String {
    let script = "import sys, cmarkgfm\n\
        text = sys.stdin.read()\n\
        print(cmarkgfm.github_flavored_markdown_to_html(text, options=cmarkgfm.Options.CMARK_OPT_UNSAFE))";
    let mut child = Command::new(python)
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(markdown.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

/// The HTML with the contents of every `<code>` element taken out: what
/// GitHub would still turn into links, mentions and references.
fn outside_code(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(start) = rest.find("<code>") {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find("</code>")
            .map_or(rest.len(), |e| start + e + 7);
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

const JENKINS: &str = "        jenkins:\n          organization: Default\n          client_type: public\n          authorization_grant_type: password\n";

#[test]
fn markdown_of_hostile_names_and_refs_renders_no_element_and_hides_nothing() {
    let Some(python) = python_with_cmarkgfm() else {
        return;
    };
    let world = AwxWorld::new();
    world.write_config("      prune: true\n", JENKINS);
    apply_and_commit(&world);
    // A branch name git accepts, made to break a code span and open a comment.
    let reference = "rel`<!--";
    git(world.dir.path(), &["branch", reference]);
    // Live names a server (or anyone who can create apps on it) chose.
    let hostile = [
        "evil\u{202e}txt.exe",
        "zero\u{200b}width",
        "see www.evil.example and https://evil.example/x",
        "cc @acme/security-team and #123",
        "tick`s ``and`` <b>html</b> *em* [a](https://x) ![i](https://y)",
    ];
    for name in hostile {
        world.sim.seed_apps("x", 1);
        assert!(world.sim.set_app_field("x000", "name", name.into()));
    }
    let out = world
        .cmd(&["plan", "--baseline", reference, "--format", "markdown"])
        .output()
        .unwrap();
    let markdown = texts(&out).0;
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    let html = github_html(&python, &markdown);
    let outside = outside_code(&html);
    for element in ["<a ", "<img", "<b>", "<em>", "<del>"] {
        assert!(
            !outside.contains(element),
            "{element} in:\n{html}\nfrom:\n{markdown}"
        );
    }
    // The one bold text is the summary appform wrote.
    assert_eq!(outside.matches("<strong>").count(), 1, "{html}");
    // Only the marker is a comment; the summary and sections are what we wrote.
    assert_eq!(html.matches("<!--").count(), 1, "{html}");
    for word in ["@acme", "#123", "www.evil", "https://evil"] {
        assert!(!outside.contains(word), "{word} outside code in:\n{html}");
    }
    // Invisible characters are shown, never passed on.
    assert!(
        !html.contains('\u{202e}') && !html.contains('\u{200b}'),
        "{html}"
    );
    assert!(
        html.contains("evil\\u{202e}txt.exe") && html.contains("zero\\u{200b}width"),
        "{html}"
    );
    // Each hostile name is shown exactly as it is (HTML-escaped by the renderer).
    assert!(
        html.contains("tick`s ``and`` &lt;b&gt;html&lt;/b&gt; *em* [a](https://x) ![i](https://y)"),
        "{html}"
    );
    assert!(html.contains("<code>rel`&lt;!--</code>"), "{html}");
    // The text plan shows invisible characters too.
    let out = world.cmd(&["plan"]).output().unwrap();
    let text = texts(&out).0;
    assert!(
        !text.contains('\u{202e}') && !text.contains('\u{200b}'),
        "{text}"
    );
    assert!(text.contains("zero\\u{200b}width"), "{text}");
}

#[test]
fn an_added_redirect_uri_is_shown_in_full_in_the_markdown_plan() {
    let long = |n: usize| {
        format!(
            "https://portal.example.com/oauth2/callback/{}",
            "segment/".repeat(6) + &n.to_string()
        )
    };
    let uris = |list: &[String]| {
        list.iter()
            .map(|u| format!("            - {u}\n"))
            .collect::<String>()
    };
    let world = AwxWorld::new();
    let four: Vec<String> = (1..=4).map(long).collect();
    let app = |list: &[String]| {
        format!(
            "        portal:\n          organization: Default\n          client_type: confidential\n          authorization_grant_type: authorization-code\n          redirect_uris:\n{}",
            uris(list)
        )
    };
    world.write_config("", &app(&four));
    let out = world
        .cmd(&["apply", "--auto-approve", "--discard-secrets"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    let mut five = four.clone();
    let stolen = "https://portal.example.com.attacker.io/oauth2/callback/segment/segment/segment/segment/segment/segment/4";
    five.push(stolen.into());
    world.write_config("", &app(&five));
    let out = world
        .cmd(&["plan", "--format", "markdown"])
        .output()
        .unwrap();
    let markdown = texts(&out).0;
    assert!(
        markdown.contains(&format!("| `redirect_uris` (added) |  | `\"{stolen}\"` |")),
        "{markdown}"
    );
    world
        .cmd(&["apply", "--auto-approve", "--discard-secrets"])
        .assert()
        .success();
    world.assert_converged();
}
