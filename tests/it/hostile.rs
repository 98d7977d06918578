//! Servers that answer what their API does not document: HTML, invalid JSON,
//! wrong shapes, huge bodies, success codes without success. Each is a clear
//! error naming the request, never a panic, and nothing is written.

use axum::Router;
use axum::http::StatusCode;
use axum::response::IntoResponse;

use crate::support::{appform, serve, texts};

fn plan_against(kind_block: &str) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.yaml"), kind_block).unwrap();
    let out = appform()
        .args(["plan", "--max-retries", "0", "-c"])
        .arg(dir.path())
        .env("T", "token")
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&out);
    assert!(!stderr.contains("panicked"), "{stderr}");
    // A server that could not be planned is also on stderr, where CI logs look.
    if out.status.code() == Some(1) {
        assert!(stderr.contains("error: "), "{stderr}");
    }
    (out.status.code().unwrap_or(-1), stdout)
}

fn awx(url: &str) -> String {
    format!(
        "servers:\n  s:\n    awx:\n      url: {url}\n      auth: {{token: env:T}}\n      applications: {{}}\n"
    )
}

#[test]
fn html_instead_of_json() {
    let server = serve(
        Router::new()
            .fallback(|| async { (StatusCode::OK, "<html><body>Maintenance</body></html>") }),
    );
    let (code, out) = plan_against(&awx(&server.url()));
    assert_eq!(code, 1);
    assert!(
        out.contains("unexpected response: the organization list is not valid JSON"),
        "{out}"
    );
}

#[test]
fn an_html_error_page() {
    let server = serve(Router::new().fallback(|| async {
        (
            StatusCode::BAD_GATEWAY,
            [("content-type", "text/html")],
            "<html>bad gateway</html>",
        )
    }));
    let (code, out) = plan_against(&awx(&server.url()));
    assert_eq!(code, 1);
    assert!(
        out.contains("HTTP 502 Bad Gateway: an HTML page instead of the API's JSON"),
        "{out}"
    );
}

#[test]
fn json_of_the_wrong_shape() {
    let server = serve(Router::new().fallback(|| async {
        axum::Json(serde_json::json!({"count": 1, "results": [{"id": "seven", "name": 3}]}))
    }));
    let (code, out) = plan_against(&awx(&server.url()));
    assert_eq!(code, 1);
    assert!(
        out.contains("unexpected response: an organization has no numeric `id` or no `name`"),
        "{out}"
    );
}

#[test]
fn a_body_over_16_mib() {
    let server = serve(Router::new().fallback(|| async {
        let big = vec![b' '; 17 * 1024 * 1024];
        ([("content-type", "application/json")], big).into_response()
    }));
    let (code, out) = plan_against(&awx(&server.url()));
    assert_eq!(code, 1);
    assert!(
        out.contains("the response body is larger than 16777216 bytes"),
        "{out}"
    );
}

#[test]
fn tpp_200_without_success_and_whm_200_with_result_0() {
    let tpp = serve(
        Router::new()
            .fallback(|| async { axum::Json(serde_json::json!({"Result": 9, "Success": false})) }),
    );
    let (code, out) = plan_against(&format!(
        "servers:\n  t:\n    tpp:\n      url: {}\n      auth: {{token: env:T}}\n      applications: {{}}\n",
        tpp.url()
    ));
    assert_eq!(code, 1);
    assert!(
        out.contains("TPP result 9 (InsufficientPrivileges)"),
        "{out}"
    );

    let whm = serve(Router::new().fallback(|| async {
        axum::Json(serde_json::json!({"metadata": {"result": 0, "reason": "API failure: (XID x1) Access denied to connected-applications."}}))
    }));
    let (code, out) = plan_against(&format!(
        "servers:\n  w:\n    whm:\n      url: {}\n      auth: {{username: root, token: env:T}}\n      applications: {{}}\n",
        whm.url()
    ));
    assert_eq!(code, 1);
    assert!(
        out.contains(
            "WHM result 0: API failure: (XID x1) Access denied to connected-applications."
        ),
        "{out}"
    );

    let no_envelope = serve(
        Router::new().fallback(|| async { axum::Json(serde_json::json!({"data": {"list": []}})) }),
    );
    let (code, out) = plan_against(&format!(
        "servers:\n  w:\n    whm:\n      url: {}\n      auth: {{username: root, token: env:T}}\n      applications: {{}}\n",
        no_envelope.url()
    ));
    assert_eq!(code, 1, "HTTP 200 alone is never trusted");
    assert!(out.contains("no `metadata`"), "{out}");
}

#[test]
fn a_ca_file_that_is_not_a_certificate_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.pem"), "not a certificate\n").unwrap();
    std::fs::write(
        dir.path().join("c.yaml"),
        "servers:\n  s:\n    awx:\n      url: https://127.0.0.1:1\n      ca_file: ca.pem\n      auth: {token: env:T}\n      applications: {}\n",
    )
    .unwrap();
    let out = appform()
        .args(["plan", "-c"])
        .arg(dir.path())
        .env("T", "x")
        .output()
        .unwrap();
    let (stdout, _) = texts(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout.contains("ca_file")
            && stdout.contains("ca.pem")
            && stdout.contains("holds no certificate"),
        "{stdout}"
    );
}

/// An AWX `count` of 10^12 made plan page forever (a security finding): the
/// pages are bounded and the error says why.
#[test]
fn a_huge_count_is_a_bounded_error() {
    use axum::extract::Query;
    let server = serve(Router::new().fallback(
        |Query(q): Query<std::collections::BTreeMap<String, String>>| async move {
            let page: u64 = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
            axum::Json(serde_json::json!({
                "count": 1_000_000_000_000u64,
                "next": format!("/api/v2/applications/?page={}", page + 1),
                "previous": null,
                "results": [],
            }))
        },
    ));
    let started = std::time::Instant::now();
    let (code, out) = plan_against(&awx(&server.url()));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("appform reads at most 1000 pages"), "{out}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "bounded, not forever"
    );
}

const CANARY_TOKEN: &str = "canary-token-7f3a9c1e5b";

/// A server whose error echoes the credentials it received, with ANSI
/// colours, a forged line and HTML: no credential reaches any output, the
/// terminal gets visible escapes, the PR comment gets no markup.
#[test]
fn a_server_echoing_credentials_and_markup_is_neutralised() {
    let server = serve(Router::new().fallback(|headers: axum::http::HeaderMap| async move {
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let token = auth.trim_start_matches("Bearer ").to_string();
        (
            StatusCode::BAD_REQUEST,
            axum::Json(serde_json::json!({
                "detail": format!(
                    "rejected Authorization: {auth}; raw {token}; password=\"{token}\" \u{1b}[32mAPPROVED\u{1b}[0m\r\nerror: none </details><img src=x onerror=alert(1)> [Approve here](https://evil.example)"
                )
            })),
        )
    }));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.yaml"), awx(&server.url())).unwrap();
    for format in ["text", "json", "markdown"] {
        let out = appform()
            .args(["plan", "--max-retries", "0", "--format", format, "-c"])
            .arg(dir.path())
            .env("T", CANARY_TOKEN)
            .output()
            .unwrap();
        let (stdout, stderr) = texts(&out);
        assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
        let all = format!("{stdout}{stderr}");
        assert!(!all.contains(CANARY_TOKEN), "{format}: {all}");
        assert!(all.contains("(sensitive)"), "{format}: {all}");
        assert!(
            !all.contains('\u{1b}') && !all.contains('\r'),
            "{format}: {all:?}"
        );
        assert!(
            !stderr.contains("\nerror: none"),
            "no forged line: {stderr}"
        );
        if format == "markdown" {
            let outside: String = stdout
                .lines()
                .filter(|l| !l.starts_with("**Error:** `"))
                .collect();
            assert!(!outside.contains("<img"), "{stdout}");
            assert!(stdout.contains("**Error:** `"), "{stdout}");
        }
    }
}

/// JSON objects that repeat a key (`count` twice) are malformed answers,
/// not read one way here and another way elsewhere.
#[test]
fn duplicate_keys_in_server_json_are_malformed() {
    let server = serve(Router::new().fallback(|| async {
        (
            [("content-type", "application/json")],
            r#"{"count": 0, "count": 5, "next": null, "results": []}"#,
        )
    }));
    let (code, out) = plan_against(&awx(&server.url()));
    assert_eq!(code, 1);
    assert!(
        out.contains("not valid JSON (the key `count` appears twice in one object"),
        "{out}"
    );
}
