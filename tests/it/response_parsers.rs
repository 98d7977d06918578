//! Property tests: random and mutated server answers never make a provider's
//! parser panic; each gives live apps or an error. Served by a fake server to
//! the real binary, such an answer fails that server's plan with an error
//! under the server's name, and nothing else.

use axum::Router;
use axum::routing::{self, post};
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::support::{appform, texts};

fn awx_page() -> Value {
    json!({"count": 2, "next": null, "previous": null, "results": [
        {"id": 1, "type": "o_auth2_application", "name": "grafana", "description": "SSO",
         "client_id": "abc", "client_secret": "************", "client_type": "confidential",
         "redirect_uris": "https://g.example.com/cb", "authorization_grant_type": "authorization-code",
         "skip_authorization": false, "organization": 1,
         "summary_fields": {"organization": {"id": 1, "name": "Default"}}},
        {"id": 2, "name": "cli", "description": "", "client_type": "public", "redirect_uris": "",
         "authorization_grant_type": "password", "skip_authorization": true, "organization": 2}
    ]})
}

fn tpp_enumerate() -> Value {
    json!({"Applications": [
        {"ID": "vault", "Name": "Vault", "Vendor": "HashiCorp", "Description": "d", "Url": "https://v",
         "Scope": "certificate:manage", "MaximumScope": "certificate:manage,revoke",
         "AccessValidity": 3600, "GrantValidity": 86400, "Renewable": false},
        {"ID": "other", "Name": "O", "Vendor": "V", "Description": "", "Url": "", "Scope": "a", "MaximumScope": "a"}
    ], "Result": 0, "Success": true})
}

fn whm_list() -> Value {
    json!({"data": {"list": [
        {"name": "billing", "token_name": "Billing", "jwt": {"iss": "https://b", "scope": ["a"]}},
        {"name": "monitoring", "public_key": "K"}
    ]}, "metadata": {"command": "list_connected_applications", "reason": "OK", "result": 1, "version": 1}})
}

/// Every parser on one body: Ok, or an error with words in it; never a panic.
fn parse_all(body: &[u8]) {
    let awx = appform::provider::awx::parse_application_page(body).map(|_| ());
    let tpp = appform::provider::tpp::parse_enumerate(body).map(|_| ());
    let whm = appform::provider::whm::parse_list(body).map(|_| ());
    for result in [awx, tpp, whm] {
        if let Err(e) = result {
            assert!(!e.trim().is_empty(), "an error without words");
        }
    }
}

/// Any JSON value, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        Just(json!(u64::MAX)),
        "[a-zA-Z0-9 :/._#-]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z_]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// The paths of every node of `v` (object keys and array indexes).
fn paths(v: &Value, here: Vec<String>, out: &mut Vec<Vec<String>>) {
    out.push(here.clone());
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let mut p = here.clone();
                p.push(k.clone());
                paths(child, p, out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                let mut p = here.clone();
                p.push(i.to_string());
                paths(child, p, out);
            }
        }
        _ => {}
    }
}

fn node_mut<'a>(v: &'a mut Value, path: &[String]) -> Option<&'a mut Value> {
    let mut at = v;
    for step in path {
        at = match at {
            Value::Object(m) => m.get_mut(step)?,
            Value::Array(items) => items.get_mut(step.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(at)
}

/// A valid answer of one kind with one node replaced by any JSON value, or removed.
fn mutated_answer() -> impl Strategy<Value = (usize, Vec<u8>)> {
    (
        0usize..3,
        any::<prop::sample::Index>(),
        any_json(),
        any::<bool>(),
    )
        .prop_map(|(kind, index, replacement, remove)| {
            let mut body = [awx_page(), tpp_enumerate(), whm_list()][kind].clone();
            let mut all = Vec::new();
            paths(&body, Vec::new(), &mut all);
            let path = all[index.index(all.len())].clone();
            match (remove, path.split_last()) {
                (true, Some((last, parent))) => {
                    if let Some(Value::Object(m)) = node_mut(&mut body, parent) {
                        m.remove(last);
                    } else if let Some(node) = node_mut(&mut body, &path) {
                        *node = replacement;
                    }
                }
                _ => {
                    if let Some(node) = node_mut(&mut body, &path) {
                        *node = replacement;
                    }
                }
            }
            (kind, serde_json::to_vec(&body).unwrap())
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        parse_all(&bytes);
    }

    #[test]
    fn any_json_never_panics(v in any_json()) {
        parse_all(&serde_json::to_vec(&v).unwrap());
    }

    #[test]
    fn mutated_answers_never_panic((_, body) in mutated_answer()) {
        parse_all(&body);
    }

    #[test]
    fn truncated_answers_never_panic(kind in 0usize..3, cut in any::<prop::sample::Index>()) {
        let body = serde_json::to_vec(&[awx_page(), tpp_enumerate(), whm_list()][kind]).unwrap();
        parse_all(&body[..cut.index(body.len())]);
    }
}

#[test]
fn the_seed_answers_parse() {
    let (count, apps) =
        appform::provider::awx::parse_application_page(&serde_json::to_vec(&awx_page()).unwrap())
            .unwrap();
    assert_eq!((count, apps.len()), (2, 2));
    assert_eq!(
        appform::provider::tpp::parse_enumerate(&serde_json::to_vec(&tpp_enumerate()).unwrap())
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        appform::provider::whm::parse_list(&serde_json::to_vec(&whm_list()).unwrap())
            .unwrap()
            .len(),
        2
    );
}

/// Serves `body` where the kind's application list is read, and valid
/// answers everywhere else; returns the config of one server `s`.
fn hostile_server(kind: usize, body: Vec<u8>) -> (appform::sandbox::BackgroundServer, String) {
    let json = |v: Value| ([("content-type", "application/json")], v.to_string());
    let list = move || {
        let body = body.clone();
        async move { ([("content-type", "application/json")], body) }
    };
    let router = match kind {
        0 => Router::new()
            .route(
                "/api/v2/organizations/",
                routing::any(move || async move {
                    json(json!({"count": 1, "results": [{"id": 1, "name": "Default"}]}))
                }),
            )
            .route("/api/v2/applications/", routing::any(list)),
        1 => Router::new()
            .route(
                "/vedsdk/oauth/TotalCount",
                post(move || async move { json(json!({"ApplicationCount": 2, "Result": 0})) }),
            )
            .route("/vedsdk/oauth/EnumerateApplications", post(list)),
        _ => Router::new().route("/json-api/list_connected_applications", post(list)),
    };
    let server = appform::sandbox::serve_in_background(
        "127.0.0.1:0".parse().unwrap(),
        router,
        appform::sandbox::Faults::default(),
    )
    .unwrap();
    let url = server.url();
    let config = match kind {
        0 => format!(
            "servers:\n  s:\n    awx:\n      url: {url}\n      auth: {{token: env:T}}\n      applications: {{}}\n"
        ),
        1 => format!(
            "servers:\n  s:\n    tpp:\n      url: {url}\n      auth: {{token: env:T}}\n      applications: {{}}\n"
        ),
        _ => format!(
            "servers:\n  s:\n    whm:\n      url: {url}\n      auth: {{username: root, token: env:T}}\n      applications: {{}}\n"
        ),
    };
    (server, config)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// The binary against a server whose list answer is mutated: the plan
    /// either reads it (exit 0) or fails that server with an error under its
    /// name (exit 1); never a panic.
    #[test]
    fn a_mutated_answer_fails_its_server_by_name((kind, body) in mutated_answer()) {
        let (_server, config) = hostile_server(kind, body);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("appform.yaml"), config).unwrap();
        let out = appform()
            .args(["plan", "--max-retries", "0", "-c"])
            .arg(dir.path())
            .env("T", "token")
            .output()
            .unwrap();
        let (stdout, stderr) = texts(&out);
        prop_assert!(!stderr.contains("panicked"), "{}", stderr);
        match out.status.code() {
            Some(0) => {}
            Some(1) => prop_assert!(
                stdout.starts_with("s (") && stdout.contains("\n  error: "),
                "the error is not under the server's name:\n{}", stdout
            ),
            other => prop_assert!(false, "exit {:?}:\n{}{}", other, stdout, stderr),
        }
    }
}
