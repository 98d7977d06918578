//! A review nobody can fool: what someone who can push branches and tags,
//! open pull requests and run a hostile server tries, one test per way in.
//! Each test fails without its fix.

use std::path::PathBuf;
use std::process::Command;

use appform::sandbox::Simulator as _;

use crate::baseline::{apply_and_commit, commit_all, git};
use crate::support::{AwxWorld, serve, texts};

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
        crate::support::skipped(
            "cmarkgfm",
            "pip install cmarkgfm into target/lint-venv, set APPFORM_LINT_BIN",
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

const BILLING: &str = "        billing:\n          data:\n            token_name: Billing API Token\n            jwt:\n              iss: https://billing.example.com\n";

/// Live values no output may show: undeclared keys, and a secret nested in
/// a key the config does declare.
const LIVE_SECRETS: [&str; 4] = [
    "atk_LIVE_9f8e7d6c5b4a3928",
    "whsec_LIVE_Q2hhbmdlTWUxMjM0NTY3",
    "sgk_5Jb8xQ2mV7rT1nL4pZ9wK3",
    "billing-2024",
];

fn whm_with_live_secrets() -> crate::world::WhmWorld {
    let world = crate::world::WhmWorld::fleet(1, appform::sandbox::Faults::default());
    let live = serde_json::json!({
        "token_name": "Billing API Token",
        "jwt": {"iss": "https://old.example.com", "signing_key": LIVE_SECRETS[2]},
        "auth_token": LIVE_SECRETS[0],
        "webhook_secret": LIVE_SECRETS[1],
        "note": LIVE_SECRETS[3],
    });
    world.sims[0].put("root", "billing", live);
    world
}

#[test]
fn a_pull_request_that_turns_on_authoritative_reads_no_live_whm_secret() {
    let world = whm_with_live_secrets();
    world.write_config("      authoritative: true\n", BILLING);
    let plan_file = world.path("plan.json");
    let mut outputs = Vec::new();
    for format in ["text", "json", "markdown"] {
        let out = world
            .cmd(&[
                "plan",
                "--format",
                format,
                "--out",
                plan_file.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
        let (stdout, stderr) = texts(&out);
        outputs.push((format.to_string(), format!("{stdout}{stderr}")));
        outputs.push((
            format!("{format} --out"),
            std::fs::read_to_string(&plan_file).unwrap(),
        ));
    }
    for (what, text) in &outputs {
        for secret in LIVE_SECRETS {
            assert!(
                !text.contains(secret),
                "{secret} in the {what} plan:\n{text}"
            );
        }
    }
    // The removals are still reviewable: key names and sizes.
    let text = &outputs[0].1;
    assert!(
        text.contains(
            "~ data.auth_token     = (sensitive: not in the config, 25 characters, sha256:"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "~ data.note           = (sensitive: not in the config, 12 characters) -> null"
        ),
        "{text}"
    );
    // A declared key shows its change, with the secret inside it masked.
    assert!(text.contains("\"signing_key\": \"(sensitive)\""), "{text}");
    assert!(
        text.contains("+   \"iss\": \"https://billing.example.com\""),
        "{text}"
    );
    // What is applied is what was planned, and a second plan is empty.
    world.cmd(&["apply", "--auto-approve"]).assert().success();
    world.assert_converged();
}

#[test]
fn export_never_writes_a_secret_and_validate_warns_of_one_in_clear() {
    let world = whm_with_live_secrets();
    world.write_config("", BILLING);
    let elsewhere = tempfile::tempdir().unwrap();
    let exported = elsewhere.path().join("exported.yaml");
    let out = world
        .cmd(&[
            "export",
            "--server",
            &world.instance(0),
            "--output",
            exported.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let (_, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let text = std::fs::read_to_string(&exported).unwrap();
    for secret in &LIVE_SECRETS[..3] {
        assert!(!text.contains(secret), "{secret} exported:\n{text}");
    }
    for key in ["data.auth_token", "data.webhook_secret", "data.jwt"] {
        assert!(
            stderr.contains(&format!("`billing`: `{key}` looks like a secret")),
            "{stderr}"
        );
    }
    // The export still plans as "No changes" (what it leaves out is carried).
    let out = crate::support::appform()
        .args(["plan", "--detailed-exitcode", "-c"])
        .arg(elsewhere.path())
        .env("WHM_TOKEN", "sandbox-whm-token")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));

    // A private key written in clear: validate says so.
    world.write_config(
        "",
        "        billing:\n          data:\n            private_key: \"-----BEGIN PRIVATE KEY-----\\nMIIE\"\n",
    );
    let out = world.cmd(&["validate"]).output().unwrap();
    let (_, stderr) = texts(&out);
    assert!(
        stderr.contains("data.private_key` looks like a secret written in clear"),
        "{stderr}"
    );
}

/// An AWX server `prod` at `url` with jenkins, as a config file's text;
/// `extra`: more server options.
fn prod_at(url: &str, extra: &str) -> String {
    format!(
        "servers:\n  prod:\n    awx:\n      url: {url}\n{extra}      auth:\n        token: env:AWX_TOKEN\n      applications:\n{JENKINS}"
    )
}

/// `appform ARGS` run in `dir` with the AWX token, as CI runs it.
fn run_in(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    crate::support::appform()
        .current_dir(dir)
        .args(args)
        .env("AWX_TOKEN", crate::support::AWX_TOKEN)
        .output()
        .unwrap()
}

#[test]
fn a_tag_named_like_the_target_branch_is_refused_as_ambiguous() {
    let prod = AwxWorld::new();
    let attacker = AwxWorld::new();
    let repo = prod.dir.path();
    std::fs::write(repo.join("appform.yaml"), prod_at(&prod.url(), "")).unwrap();
    git(repo, &["init", "-q"]);
    commit_all(repo, "target branch");
    git(repo, &["update-ref", "refs/remotes/origin/main", "HEAD"]);
    // The pull request points prod at the attacker, and a pushed tag named
    // `origin/main` points at the pull request's own commit.
    std::fs::write(repo.join("appform.yaml"), prod_at(&attacker.url(), "")).unwrap();
    git(repo, &["checkout", "-q", "-b", "pr"]);
    commit_all(repo, "pull request");
    git(repo, &["tag", "origin/main"]);

    let out = run_in(repo, &["plan", "-c", ".", "--baseline", "origin/main"]);
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stderr.contains("--baseline `origin/main` is ambiguous: it names `refs/remotes/origin/main` and `refs/tags/origin/main`"),
        "{stderr}"
    );
    assert!(
        attacker.sim.requests().is_empty(),
        "the attacker got {:?}",
        attacker.sim.requests()
    );
    // The full name means one thing: the changed URL is withheld, not contacted.
    let out = run_in(
        repo,
        &["plan", "-c", ".", "--baseline", "refs/remotes/origin/main"],
    );
    assert_eq!(out.status.code(), Some(1), "{:?}", texts(&out));
    assert!(
        texts(&out)
            .0
            .contains("connection changed in this change (url"),
        "{:?}",
        texts(&out)
    );
    assert!(
        attacker.sim.requests().is_empty(),
        "the attacker got {:?}",
        attacker.sim.requests()
    );
    // A commit id is taken as given.
    let base = String::from_utf8(
        Command::new("git")
            .arg("-C")
            .arg(repo)
            .args(["rev-parse", "refs/remotes/origin/main"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let out = run_in(repo, &["plan", "-c", ".", "--baseline", base.trim()]);
    assert!(
        texts(&out)
            .0
            .contains("connection changed in this change (url"),
        "{:?}",
        texts(&out)
    );
    assert!(attacker.sim.requests().is_empty());
}

#[test]
fn a_symlinked_config_directory_cannot_move_both_sides() {
    let prod = AwxWorld::new();
    let attacker = AwxWorld::new();
    let repo = prod.dir.path();
    for (dir, url) in [("appform", prod.url()), ("staging", attacker.url())] {
        std::fs::create_dir(repo.join(dir)).unwrap();
        std::fs::write(repo.join(dir).join("appform.yaml"), prod_at(&url, "")).unwrap();
    }
    git(repo, &["init", "-q"]);
    commit_all(repo, "target branch");
    git(repo, &["checkout", "-q", "-b", "pr"]);
    std::fs::remove_dir_all(repo.join("appform")).unwrap();
    std::os::unix::fs::symlink("staging", repo.join("appform")).unwrap();
    commit_all(repo, "appform is staging now");

    let out = run_in(repo, &["plan", "-c", "appform", "--baseline", "main"]);
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stderr.contains("is a symbolic link in the work tree, on the way to the configuration"),
        "{stderr}"
    );
    assert!(!stdout.contains("No changes"), "{stdout}");
    assert!(
        attacker.sim.requests().is_empty(),
        "the attacker got {:?}",
        attacker.sim.requests()
    );

    // A link at the baseline is refused too (the work tree holds a directory).
    let linked = String::from_utf8(
        Command::new("git")
            .arg("-C")
            .arg(repo)
            .args(["rev-parse", "HEAD"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    std::fs::remove_file(repo.join("appform")).unwrap();
    std::fs::create_dir(repo.join("appform")).unwrap();
    std::fs::write(
        repo.join("appform").join("appform.yaml"),
        prod_at(&attacker.url(), ""),
    )
    .unwrap();
    commit_all(repo, "a directory again");
    let out = run_in(
        repo,
        &["plan", "-c", "appform", "--baseline", linked.trim()],
    );
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stderr.contains("`appform` is a symbolic link at that revision"),
        "{stderr}"
    );
    assert!(attacker.sim.requests().is_empty());
}

#[test]
fn a_drift_tag_moved_off_the_history_cannot_silence_the_alarm() {
    let world = AwxWorld::new();
    let repo = world.dir.path();
    world.write_config("", &format!("{JENKINS}          description: Jenkins CI\n"));
    apply_and_commit(&world);
    git(repo, &["tag", "appform-applied"]);
    // A hand edit on the server.
    assert!(
        world
            .sim
            .set_app_field("jenkins", "description", "edited by hand".into())
    );
    let drift = |world: &AwxWorld| {
        world
            .cmd(&[
                "plan",
                "--baseline",
                "appform-applied",
                "--fail-on",
                "drift",
            ])
            .output()
            .unwrap()
    };
    assert_eq!(
        drift(&world).status.code(),
        Some(2),
        "{:?}",
        texts(&drift(&world))
    );
    // Someone moves the tag to a commit off main whose config says the same
    // as the hand edit: drift would read as "pending".
    git(repo, &["checkout", "-q", "-b", "cover"]);
    world.write_config(
        "",
        &format!("{JENKINS}          description: edited by hand\n"),
    );
    commit_all(repo, "cover the edit");
    git(repo, &["tag", "-f", "appform-applied"]);
    git(repo, &["checkout", "-q", "main"]);
    let out = drift(&world);
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stderr.contains("is not an ancestor of the checked-out commit"),
        "{stderr}"
    );
}

#[test]
fn a_committed_ca_file_swapped_for_a_symlink_is_not_trusted() {
    let world = AwxWorld::new();
    let repo = world.dir.path();
    std::fs::write(repo.join("ca.pem"), "the target branch's CA\n").unwrap();
    std::fs::write(repo.join("bundle.pem"), "the system bundle, say\n").unwrap();
    std::fs::write(
        repo.join("appform.yaml"),
        prod_at(&world.url(), "      ca_file: ca.pem\n"),
    )
    .unwrap();
    git(repo, &["init", "-q"]);
    commit_all(repo, "target branch");
    git(repo, &["checkout", "-q", "-b", "pr"]);
    std::fs::remove_file(repo.join("ca.pem")).unwrap();
    std::os::unix::fs::symlink("bundle.pem", repo.join("ca.pem")).unwrap();
    commit_all(repo, "ca.pem is a link");
    let out = world.cmd(&["plan", "--baseline", "main"]).output().unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stdout.contains("connection changed in this change (ca_file is a symbolic link"),
        "{stdout}"
    );
    assert!(
        world.sim.requests().is_empty(),
        "contacted: {:?}",
        world.sim.requests()
    );
}

#[test]
fn a_tampered_plan_file_cannot_widen_what_is_read() {
    let world = AwxWorld::new();
    let repo = world.dir.path();
    std::fs::create_dir(repo.join("configs")).unwrap();
    std::fs::write(repo.join("configs/appform.yaml"), prod_at(&world.url(), "")).unwrap();
    let out = run_in(repo, &["plan", "-c", "configs", "--out", "plan.json"]);
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo.join("plan.json")).unwrap()).unwrap();
    // The file's own root and credential reference: the runner's environment.
    let tamper = |root: &str, path: &str| {
        let mut plan = saved.clone();
        plan["config"]["root"] = root.into();
        plan["config"]["root_absolute"] = root.into();
        plan["config"]["files"][0]["path"] = path.into();
        let text = plan["config"]["files"][0]["text"]
            .as_str()
            .unwrap()
            .replace("token: env:AWX_TOKEN", "token: file:proc/self/environ");
        plan["config"]["files"][0]["text"] = text.into();
        std::fs::write(repo.join("tampered.json"), plan.to_string()).unwrap();
    };
    for (root, path, says) in [
        (
            "/",
            "appform.yaml",
            "the plan file's configuration root `/` is not a relative path",
        ),
        (
            "../..",
            "appform.yaml",
            "the plan file's configuration root `../..` is not a relative path",
        ),
        (
            "configs",
            "../../../appform.yaml",
            "names a configuration file `../../../appform.yaml` outside its root",
        ),
    ] {
        tamper(root, path);
        world.clear_requests();
        let out = run_in(repo, &["apply", "tampered.json", "--auto-approve"]);
        let (stdout, stderr) = texts(&out);
        assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
        assert!(stderr.contains(says), "{stderr}");
        assert!(
            world.sim.requests().is_empty(),
            "{:?}",
            world.sim.requests()
        );
    }
}

#[test]
fn apply_and_report_of_an_endless_file_end_at_once() {
    for args in [["apply", "/dev/zero"], ["report", "/dev/zero"]] {
        let out = crate::support::appform()
            .args(args)
            .timeout(std::time::Duration::from_secs(20))
            .output()
            .unwrap();
        let (_, stderr) = texts(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains("not a regular file"), "{args:?}: {stderr}");
    }
}

/// A server whose error repeats the Basic credentials it got, as the header
/// carried them (base64) and decoded, with a 4-character password.
#[test]
fn a_server_echoing_basic_credentials_in_any_form_is_redacted() {
    use axum::Router;
    use base64::Engine as _;
    let server = serve(
        Router::new().fallback(|headers: axum::http::HeaderMap| async move {
            let auth = headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            let encoded = auth.trim_start_matches("Basic ").to_string();
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(&encoded)
                .map(|d| String::from_utf8_lossy(&d).to_string())
                .unwrap_or_default();
            let password = decoded
                .split_once(':')
                .map(|(_, p)| p.to_string())
                .unwrap_or_default();
            (
                axum::http::StatusCode::BAD_REQUEST,
                axum::Json(serde_json::json!({
                    "detail": format!("credentials {encoded} ({decoded}) refused; pw {password}.")
                })),
            )
        }),
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("c.yaml"),
        format!(
            "servers:\n  s:\n    awx:\n      url: {}\n      auth: {{username: admin, password: env:P}}\n      applications: {{}}\n",
            server.url()
        ),
    )
    .unwrap();
    let encoded = base64::engine::general_purpose::STANDARD.encode("admin:abcd");
    for format in ["text", "json", "markdown"] {
        let out = crate::support::appform()
            .args(["plan", "--max-retries", "0", "--format", format, "-c"])
            .arg(dir.path())
            .env("P", "abcd")
            .output()
            .unwrap();
        let (stdout, stderr) = texts(&out);
        assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
        let all = format!("{stdout}{stderr}");
        assert!(!all.contains(&encoded), "{format}: {all}");
        assert!(!all.contains("abcd"), "{format}: {all}");
        assert!(
            all.contains("credentials (sensitive) (admin:(sensitive)) refused; pw (sensitive)."),
            "{format}: {all}"
        );
    }
}

/// `appform plan` of one server block (`kind`, its url, extra options) with
/// token `T`; (exit code, stdout and stderr, seconds taken).
fn plan_one(kind: &str, url: &str, extra: &str, args: &[&str]) -> (Option<i32>, String, f64) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("c.yaml"),
        format!("servers:\n  s:\n    {kind}:\n      url: {url}\n{extra}      auth: {{token: env:T}}\n      applications: {{}}\n"),
    )
    .unwrap();
    let started = std::time::Instant::now();
    let out = crate::support::appform()
        .arg("plan")
        .args(args)
        .arg("-c")
        .arg(dir.path())
        .env("T", "token")
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&out);
    assert!(!stderr.contains("panicked"), "{stderr}");
    (
        out.status.code(),
        format!("{stdout}{stderr}"),
        started.elapsed().as_secs_f64(),
    )
}

#[test]
fn a_tpp_count_of_a_trillion_is_refused_at_once() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let requests = std::sync::Arc::new(AtomicUsize::new(0));
    let seen = requests.clone();
    let server = serve(axum::Router::new().fallback(move || {
        let n = seen.fetch_add(1, Ordering::SeqCst);
        async move {
            // A trillion applications, and a new one on every page.
            axum::Json(serde_json::json!({
                "Result": 0, "Success": true, "ApplicationCount": 1_000_000_000_000u64,
                "Applications": [{"ApplicationId": format!("id-{n}"), "Name": format!("app-{n}"), "Scope": "certificate"}],
            }))
        }
    }));
    let (code, out, _) = plan_one("tpp", &server.url(), "", &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("TotalCount reports 1000000000000 applications; appform reads at most 200000"),
        "{out}"
    );
    assert!(
        requests.load(Ordering::SeqCst) < 10,
        "{} requests",
        requests.load(Ordering::SeqCst)
    );
}

#[test]
fn an_awx_listing_is_bounded_in_total_bytes() {
    use axum::extract::Query;
    // 400 pages of one result each, every one under the per-body limit
    // (made once: the server side is not what is measured).
    let body = axum::body::Bytes::from(
        serde_json::json!({
            "count": 400,
            "next": "/api/v2/applications/?page=2",
            "previous": null,
            "results": [{"id": 1, "name": "x".repeat(15 * 1024 * 1024)}],
        })
        .to_string(),
    );
    let server = serve(axum::Router::new().fallback(
        move |Query(_q): Query<std::collections::BTreeMap<String, String>>| {
            let body = body.clone();
            async move { ([("content-type", "application/json")], body) }
        },
    ));
    let (code, out, _) = plan_one("awx", &server.url(), "", &["--max-retries", "0"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("listing passed")
            && out.contains("appform reads at most 256 MiB of one listing"),
        "{out}"
    );
}

#[test]
fn a_server_that_always_says_retry_after_60_ends_within_the_deadline() {
    let server = serve(axum::Router::new().fallback(|| async {
        (
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "60")],
            "slow down",
        )
    }));
    let (code, out, seconds) = plan_one("awx", &server.url(), "      timeout: 2s\n", &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(seconds < 25.0, "took {seconds} s: {out}");
    assert!(
        out.contains("would pass the server's deadline of 20 s"),
        "{out}"
    );
    // A deadline of its own.
    let (code, out, seconds) = plan_one(
        "awx",
        &server.url(),
        "      timeout: 2s\n      deadline: 5s\n",
        &[],
    );
    assert_eq!(code, Some(1), "{out}");
    assert!(seconds < 10.0, "took {seconds} s: {out}");
    assert!(out.contains("deadline of 5 s"), "{out}");
}

#[test]
fn a_problem_on_a_very_long_line_is_a_clear_error_not_a_panic() {
    for width in [70_000usize, 1024 * 1024] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("c.yaml"),
            format!(
                "servers:\n  s:\n    awx:\n      url: http://127.0.0.1:1\n      auth: {{token: env:T}}\n      applications: {{a: {{organization: Default, client_type: public, authorization_grant_type: password, description: \"{}\", bogus: 1}}}}\n",
                "x".repeat(width)
            ),
        )
        .unwrap();
        for args in [
            vec!["validate"],
            vec!["plan"],
            vec!["plan", "--format", "json"],
            vec!["plan", "--format", "markdown"],
        ] {
            let out = crate::support::appform()
                .args(&args)
                .arg("-c")
                .arg(dir.path())
                .env("T", "token")
                .output()
                .unwrap();
            let (stdout, stderr) = texts(&out);
            assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
            assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
            assert!(
                format!("{stdout}{stderr}").contains("unknown key `bogus`"),
                "{args:?}: {stdout}{stderr}"
            );
            assert!(stderr.len() < 20_000, "{args:?}: the line was quoted");
        }
    }
}

/// `auth.plan`: `plan` reads with the read-only token and never needs the
/// write one; `apply` writes with the write token and never uses the other.
#[test]
fn plan_only_credentials_are_used_by_plan_and_never_by_apply() {
    let world = AwxWorld::new();
    let read = world.sim.issue_token("read");
    std::fs::write(
        world.path("appform.yaml"),
        format!(
            "servers:\n  prod:\n    awx:\n      url: {}\n      auth:\n        token: env:AWX_TOKEN\n        plan:\n          token: env:AWX_READ_TOKEN\n      applications:\n{JENKINS}",
            world.url()
        ),
    )
    .unwrap();
    let run = |args: &[&str], write: Option<&str>, read: &str| {
        let mut cmd = crate::support::appform();
        cmd.args(args).arg("-c").arg(world.dir.path());
        cmd.env("AWX_READ_TOKEN", read);
        match write {
            Some(w) => cmd.env("AWX_TOKEN", w),
            None => cmd.env_remove("AWX_TOKEN"),
        };
        cmd.output().unwrap()
    };
    // A pull-request plan: only the read token is there.
    let out = run(&["plan", "--detailed-exitcode"], None, &read);
    assert_eq!(out.status.code(), Some(2), "{:?}", texts(&out));
    assert!(texts(&out).0.contains("+ jenkins"), "{:?}", texts(&out));
    // apply never uses it: with the read token broken, apply still works...
    let out = run(
        &["apply", "--auto-approve"],
        Some(crate::support::AWX_TOKEN),
        "broken",
    );
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    // ... and without the write token, apply cannot run at all.
    let out = run(&["apply", "--auto-approve"], None, &read);
    assert_eq!(out.status.code(), Some(1), "{:?}", texts(&out));
    assert!(texts(&out).1.contains("AWX_TOKEN"), "{:?}", texts(&out));
    // The read token cannot write had it been used.
    let out = run(&["plan", "--detailed-exitcode"], Some("broken"), &read);
    assert_eq!(
        out.status.code(),
        Some(0),
        "a second plan is empty: {:?}",
        texts(&out)
    );
    std::fs::write(
        world.path("appform.yaml"),
        format!(
            "servers:\n  prod:\n    awx:\n      url: {}\n      auth:\n        token: env:AWX_READ_TOKEN\n      applications:\n{JENKINS}          description: x\n",
            world.url()
        ),
    )
    .unwrap();
    // The listing already says it may not edit (`user_capabilities`), so
    // apply refuses before sending the write the server would answer 403.
    world.clear_requests();
    let out = run(&["apply", "--auto-approve"], None, &read);
    assert_ne!(out.status.code(), Some(0), "{:?}", texts(&out));
    let (stdout, stderr) = texts(&out);
    assert!(
        format!("{stdout}{stderr}").contains("lack permission (user_capabilities.edit is false)"),
        "{stdout}{stderr}"
    );
    assert!(world.write_requests().is_empty());
}

#[test]
fn a_file_credential_behind_a_new_symlink_is_not_sent() {
    let world = AwxWorld::new();
    let repo = world.dir.path();
    let config = |world: &AwxWorld| {
        format!(
            "servers:\n  prod:\n    awx:\n      url: {}\n      auth:\n        token: file:secrets/token\n      applications:\n{JENKINS}",
            world.url()
        )
    };
    std::fs::create_dir(repo.join("secrets")).unwrap();
    std::fs::create_dir(repo.join("other")).unwrap();
    std::fs::write(repo.join("secrets/token"), crate::support::AWX_TOKEN).unwrap();
    std::fs::write(repo.join("other/token"), "another server's token").unwrap();
    std::fs::write(repo.join("appform.yaml"), config(&world)).unwrap();
    git(repo, &["init", "-q"]);
    commit_all(repo, "target branch");
    git(repo, &["checkout", "-q", "-b", "pr"]);
    std::fs::remove_dir_all(repo.join("secrets")).unwrap();
    std::os::unix::fs::symlink("other", repo.join("secrets")).unwrap();
    commit_all(repo, "secrets is other now");
    let out = world.cmd(&["plan", "--baseline", "main"]).output().unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stdout.contains("a `file:` credential is read through the symbolic link"),
        "{stdout}"
    );
    assert!(
        world.sim.requests().is_empty(),
        "contacted: {:?}",
        world.sim.requests()
    );
}
