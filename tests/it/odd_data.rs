//! Odd data on a real server never blocks it and is never silently deleted:
//! an AWX application with `organization: null` (legacy data the model
//! allows) and one with an empty name are listed with the reason, never
//! changed, pruned or exported, and the rest of the server plans.

use axum::Router;
use axum::routing::get;
use serde_json::json;

use crate::support::{appform, serve, texts};

fn app(id: u64, name: &str, organization: serde_json::Value) -> serde_json::Value {
    json!({
        "id": id, "type": "o_auth2_application", "name": name, "description": "",
        "client_id": format!("cid{id}"), "client_secret": "$encrypted$",
        "client_type": "public", "redirect_uris": "",
        "authorization_grant_type": "password", "skip_authorization": false,
        "organization": organization,
        "summary_fields": {},
    })
}

#[test]
fn a_null_organization_and_an_empty_name_neither_block_nor_get_pruned() {
    let apps = json!({"count": 3, "next": null, "previous": null, "results": [
        app(1, "jenkins", json!(1)),
        app(2, "legacy", serde_json::Value::Null),
        app(3, "", json!(1)),
    ]});
    let orgs = json!({"count": 1, "next": null, "previous": null, "results": [{"id": 1, "name": "Default"}]});
    let server = serve(
        Router::new()
            .route(
                "/api/v2/applications/",
                get(move || async move { axum::Json(apps) }),
            )
            .route(
                "/api/v2/organizations/",
                get(move || async move { axum::Json(orgs) }),
            ),
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("c.yaml"),
        format!(
            "servers:\n  s:\n    awx:\n      url: {}\n      auth: {{token: env:T}}\n      prune: true\n      applications:\n        jenkins:\n          organization: Default\n          client_type: public\n          authorization_grant_type: password\n",
            server.url()
        ),
    )
    .unwrap();
    let run = |format: &str| {
        appform()
            .args(["plan", "--detailed-exitcode", "--format", format, "-c"])
            .arg(dir.path())
            .env("T", "token")
            .output()
            .unwrap()
    };
    let out = run("text");
    let (stdout, stderr) = texts(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "the server plans, nothing to do:\n{stdout}{stderr}"
    );
    assert!(
        stdout.contains("\"legacy\" (no organization): not managed: its organization is null"),
        "{stdout}"
    );
    assert!(
        stdout.contains("\"\" (Default): not managed: its name is empty"),
        "{stdout}"
    );
    let out = run("json");
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["summary"]["delete"], 0, "{plan}");
    assert_eq!(plan["summary"]["unmanaged"], 2, "{plan}");
}
