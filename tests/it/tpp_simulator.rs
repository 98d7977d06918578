//! The TPP simulator follows docs/contracts/tpp.md: 200 responses carrying `Result`
//! codes, flat create, wrapped full-replace update with defaults, 400/401/403
//! error shapes, token refresh with rotation, revocation.

use crate::world::TppWorld;
use serde_json::{Value, json};

struct Client {
    rt: tokio::runtime::Runtime,
    http: reqwest::Client,
    base: String,
}

impl Client {
    fn post(&self, path: &str, token: Option<&str>, body: Value) -> (u16, Value) {
        self.rt.block_on(async {
            let mut rb = self.http.post(format!("{}{path}", self.base)).json(&body);
            if let Some(t) = token {
                rb = rb.bearer_auth(t);
            }
            let r = rb.send().await.unwrap();
            let status = r.status().as_u16();
            let text = r.text().await.unwrap();
            (
                status,
                serde_json::from_str(&text).unwrap_or(Value::String(text)),
            )
        })
    }
    fn get(&self, path: &str, token: &str) -> u16 {
        self.rt.block_on(async {
            self.http
                .get(format!("{}{path}", self.base))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        })
    }
}

const APP: &str = r#"{"ApplicationId":"x1","Name":"X","Vendor":"V","Description":"D","Url":"https://x","Scope":"certificate:manage","MaximumScope":"certificate:manage,revoke","AccessValidity":3600}"#;

#[test]
fn application_calls_follow_the_contract() {
    let world = TppWorld::new();
    let c = Client {
        rt: tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap(),
        http: reqwest::Client::new(),
        base: world.url(),
    };
    let t = Some("sandbox-tpp-token");
    let (s, body) = c.post(
        "/vedsdk/oauth/CreateApplication",
        t,
        serde_json::from_str(APP).unwrap(),
    );
    assert_eq!(
        (s, body["Result"].clone(), body["Success"].clone()),
        (200, json!(0), json!(true))
    );
    assert_eq!(body["Application"]["ID"], "x1");
    // A duplicate is an HTTP 200 that is not a success.
    let (s, body) = c.post(
        "/vedsdk/oauth/CreateApplication",
        t,
        serde_json::from_str(APP).unwrap(),
    );
    assert_eq!((s, body["Success"].clone()), (200, json!(false)));
    // Unknown application: 200 with Result 2.
    let (s, body) = c.post(
        "/vedsdk/oauth/GetApplication",
        t,
        json!({"ApplicationId": "nope"}),
    );
    assert_eq!((s, body), (200, json!({"Result": 2, "Success": false})));
    // Full replace: omitted AccessValidity falls back to the default and is then omitted.
    let (s, body) = c.post(
        "/vedsdk/oauth/UpdateApplication",
        t,
        json!({"Application": {"ID": "x1", "Name": "X2", "Vendor": "V", "Description": "D", "Url": "https://x", "Scope": "certificate:manage", "MaximumScope": "certificate:manage"}}),
    );
    assert_eq!((s, body), (200, json!({"Result": 0, "Success": true})));
    let (_, body) = c.post(
        "/vedsdk/oauth/GetApplication",
        t,
        json!({"ApplicationId": "x1"}),
    );
    assert_eq!(body["Application"]["Name"], "X2");
    assert!(
        body["Application"].get("AccessValidity").is_none(),
        "{body}"
    );
    // Omitted required fields: 400 invalid_request.
    let (s, body) = c.post(
        "/vedsdk/oauth/UpdateApplication",
        t,
        json!({"Application": {"ID": "x1", "Name": "only"}}),
    );
    assert_eq!((s, body["error"].clone()), (400, json!("invalid_request")));
    // Enumerate pages (1-based Start), and the total.
    let (_, body) = c.post(
        "/vedsdk/oauth/EnumerateApplications",
        t,
        json!({"Start": 1, "Count": 2}),
    );
    assert_eq!(body["Applications"].as_array().unwrap().len(), 2);
    let (_, body) = c.post(
        "/vedsdk/oauth/EnumerateApplications",
        t,
        json!({"Start": 2, "Count": 2}),
    );
    assert_eq!(
        body["Applications"].as_array().unwrap().len(),
        2,
        "3 built-in + x1"
    );
    let (_, body) = c.post("/vedsdk/oauth/TotalCount", t, json!({}));
    assert_eq!(body["ApplicationCount"], 4);
    // Delete, twice.
    let (_, body) = c.post(
        "/vedsdk/oauth/DeleteApplication",
        t,
        json!({"ApplicationId": "x1"}),
    );
    assert_eq!(body["Result"], 0);
    let (_, body) = c.post(
        "/vedsdk/oauth/DeleteApplication",
        t,
        json!({"ApplicationId": "x1"}),
    );
    assert_eq!(body["Result"], 2);
    // No token: 401 invalid_token.
    let (s, body) = c.post("/vedsdk/oauth/TotalCount", None, json!({}));
    assert_eq!((s, body["error"].clone()), (401, json!("invalid_token")));
}

#[test]
fn tokens_are_obtained_refreshed_with_rotation_and_revoked() {
    let world = TppWorld::new();
    let c = Client {
        rt: tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap(),
        http: reqwest::Client::new(),
        base: world.url(),
    };
    let (s, body) = c.post(
        "/vedauth/authorize/oauth",
        None,
        json!({"client_id": "appform", "username": "tppadmin", "password": "wrong", "scope": "admin:delete"}),
    );
    assert_eq!((s, body["error"].clone()), (400, json!("invalid_grant")));
    let (s, grant) = c.post(
        "/vedauth/authorize/oauth",
        None,
        json!({"client_id": "appform", "username": "tppadmin", "password": "password", "scope": "admin:delete"}),
    );
    assert_eq!(s, 200);
    for k in [
        "access_token",
        "refresh_token",
        "expires",
        "refresh_until",
        "scope",
        "identity",
        "token_type",
    ] {
        assert!(grant.get(k).is_some(), "{k} missing: {grant}");
    }
    let access = grant["access_token"].as_str().unwrap().to_string();
    assert_eq!(c.get("/vedauth/authorize/verify", &access), 200);
    let (s, fresh) = c.post(
        "/vedauth/authorize/token",
        None,
        json!({"client_id": "appform", "refresh_token": grant["refresh_token"]}),
    );
    assert_eq!(s, 200);
    assert_ne!(
        fresh["refresh_token"], grant["refresh_token"],
        "the refresh token rotates"
    );
    let (s, _) = c.post(
        "/vedauth/authorize/token",
        None,
        json!({"client_id": "appform", "refresh_token": grant["refresh_token"]}),
    );
    assert_eq!(s, 400, "the old refresh token is spent");
    let new_access = fresh["access_token"].as_str().unwrap().to_string();
    assert_eq!(c.get("/vedauth/revoke/token", &new_access), 200);
    assert_eq!(c.get("/vedauth/authorize/verify", &new_access), 401);
    // A token without the admin scope gets 403 insufficient_scope.
    let (_, weak) = c.post(
        "/vedauth/authorize/oauth",
        None,
        json!({"client_id": "appform", "username": "tppadmin", "password": "password", "scope": "certificate:manage"}),
    );
    let (s, body) = c.post(
        "/vedsdk/oauth/TotalCount",
        weak["access_token"].as_str(),
        json!({}),
    );
    assert_eq!(
        (s, body["error"].clone()),
        (403, json!("insufficient_scope"))
    );
}
