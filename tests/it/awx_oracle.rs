//! Replays `tests/fixtures/awx-24.6.1-oracle.json` (184 requests recorded
//! against a real AWX 24.6.1 from a clean state, on 2026-11-22, by the team
//! that wrote `docs/contracts/awx.md`) against the AWX simulator and compares
//! status codes, content types, Location headers and bodies.
//!
//! Bodies: error bodies and HTML pages must be equal; JSON bodies must have the
//! same shape (keys, types, array lengths) and equal scalar values, except
//! volatile placeholders (`<timestamp>`, `<client_id:40>`…). For a few
//! discovery endpoints the simulator serves only part of the real body (the
//! 60-entry `/api/v2/` index, `/config/`, OPTIONS metadata, users and
//! organizations): there every key the simulator sends must exist in the real
//! body with the same JSON type.

use std::path::PathBuf;

use crate::world::AwxWorld;
use appform::sandbox::Faults;
use appform::sandbox::awx::AwxOptions;
use serde_json::Value;

fn oracle() -> Value {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/awx-24.6.1-oracle.json");
    let text = std::fs::read_to_string(&path).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Endpoints whose simulated body is a subset of the real one.
fn partial_body(path: &str, method: &str) -> bool {
    method == "OPTIONS"
        || path == "/api/v2/"
        || path.starts_with("/api/v2/config/")
        || path.starts_with("/api/v2/users/")
        || path.starts_with("/api/v2/me/")
        || path.starts_with("/api/v2/organizations/") && !path.contains("/applications/")
        || path == "/api/v2/ping/"
}

fn is_placeholder(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| s.starts_with('<') && s.ends_with('>'))
}

/// Compares `ours` with the recorded `real` body; pushes differences to `diffs`.
fn compare(real: &Value, ours: &Value, at: &str, subset: bool, diffs: &mut Vec<String>) {
    match (real, ours) {
        (Value::Object(r), Value::Object(o)) => {
            for (k, ov) in o {
                match r.get(k) {
                    Some(rv) => compare(rv, ov, &format!("{at}.{k}"), subset, diffs),
                    None => diffs.push(format!("{at}.{k}: not in the real body")),
                }
            }
            if !subset {
                for k in r.keys() {
                    if !o.contains_key(k) {
                        diffs.push(format!("{at}.{k}: missing"));
                    }
                }
            }
        }
        (Value::Array(r), Value::Array(o)) => {
            if !subset && r.len() != o.len() {
                diffs.push(format!("{at}: {} items, real {}", o.len(), r.len()));
            }
            for (i, (rv, ov)) in r.iter().zip(o).enumerate() {
                compare(rv, ov, &format!("{at}[{i}]"), subset, diffs);
            }
        }
        // "<200 results: first X, last Y>": a summarized list.
        (Value::String(s), Value::Array(o)) if s.starts_with('<') && s.contains(" results") => {
            let n: usize = s
                .trim_start_matches('<')
                .split(' ')
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(usize::MAX);
            if o.len() != n {
                diffs.push(format!("{at}: {} items, real {n}", o.len()));
            }
            let name = |v: Option<&Value>| {
                v.and_then(|v| v.get("name"))
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string()
            };
            let first = s
                .split("first ")
                .nth(1)
                .and_then(|x| x.split(',').next())
                .unwrap_or("");
            let last = s
                .split("last ")
                .nth(1)
                .map(|x| x.trim_end_matches('>'))
                .unwrap_or("");
            if name(o.first()) != first || name(o.last()) != last {
                diffs.push(format!(
                    "{at}: first/last {:?}/{:?}, real {first:?}/{last:?}",
                    name(o.first()),
                    name(o.last())
                ));
            }
        }
        (r, o) if is_placeholder(r) => {
            if !o.is_string() && !o.is_number() {
                diffs.push(format!("{at}: {o} for placeholder {r}"));
            }
        }
        (r, o) if subset => {
            if std::mem::discriminant(r) != std::mem::discriminant(o)
                && !r.is_null()
                && !o.is_null()
            {
                diffs.push(format!("{at}: type of {o} differs from {r}"));
            }
        }
        (r, o) => {
            if r != o {
                diffs.push(format!("{at}: {o} != real {r}"));
            }
        }
    }
}

#[test]
fn the_simulator_answers_like_the_recorded_awx() {
    let oracle = oracle();
    let world = AwxWorld::of(
        1,
        |_| AwxOptions {
            admin_password: "adminpw".into(),
            admin_tokens: Vec::new(),
            ..AwxOptions::default()
        },
        Faults::default(),
    );
    let base = world.url();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    let mut tokens: std::collections::BTreeMap<&str, String> = Default::default();
    let mut last_token_list: Option<Value> = None;
    let mut failures = Vec::new();
    let steps = oracle["steps"].as_array().unwrap();
    for (index, step) in steps.iter().enumerate() {
        let method = step["method"].as_str().unwrap();
        let auth = step["auth"].as_str().unwrap();
        let mut path = step["path"].as_str().unwrap().to_string();
        if path.contains("{tok_id}") {
            let id = last_token_list.as_ref().unwrap()["results"][0]["id"]
                .as_u64()
                .unwrap();
            path = path.replace("{tok_id}", &id.to_string());
        }
        let repeat = step["repeat"].as_u64().unwrap_or(1);
        for n in 0..repeat {
            let http_method =
                reqwest::Method::from_bytes(method.split(' ').next().unwrap().as_bytes()).unwrap();
            let mut rb = client.request(http_method, format!("{base}{path}"));
            rb = match auth {
                "admin" => rb.basic_auth("admin", Some("adminpw")),
                "plain" => rb.basic_auth("plain", Some("password2")),
                "wrong" => rb.basic_auth("admin", Some("not-the-password")),
                "bearer" => rb.bearer_auth(tokens.get("bearer").cloned().unwrap_or_default()),
                "rbearer" => rb.bearer_auth(tokens.get("rbearer").cloned().unwrap_or_default()),
                "badbearer" => rb.bearer_auth("invalid-token-value"),
                _ => rb,
            };
            if let Some(raw) = step.get("request_raw").and_then(Value::as_str) {
                let ct = step
                    .get("content_type")
                    .and_then(Value::as_str)
                    .unwrap_or("application/json");
                rb = rb.header("Content-Type", ct).body(raw.to_string());
            } else if let Some(body) = step.get("request_body") {
                let text = body.to_string().replace("NNN", &format!("{n:03}"));
                let ct = step
                    .get("content_type")
                    .and_then(Value::as_str)
                    .unwrap_or("application/json");
                rb = rb.header("Content-Type", ct).body(text);
            } else if method == "POST" || method == "PATCH" || method == "PUT" {
                rb = rb.header("Content-Type", "application/json");
            }
            let response = rt.block_on(rb.send()).unwrap();
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let text = rt.block_on(response.text()).unwrap();
            let label = format!(
                "#{index} {method} {path} ({})",
                step["label"].as_str().unwrap_or("")
            );

            if let Some(expected) = step["status"].as_object() {
                // A repeated step records a histogram of statuses.
                if !expected.contains_key(&status.to_string()) {
                    failures.push(format!("{label}: status {status}, real {expected:?}"));
                }
                continue;
            }
            let want = step["status"].as_u64().unwrap() as u16;
            if status != want {
                failures.push(format!("{label}: status {status}, real {want}: {text}"));
                continue;
            }
            let real_headers = &step["headers"];
            let ct = headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if let Some(real_ct) = real_headers["Content-Type"].as_str()
                && ct != real_ct
            {
                failures.push(format!("{label}: content type {ct:?}, real {real_ct:?}"));
            }
            if let Some(loc) = real_headers["Location"].as_str() {
                let ours = headers
                    .get("location")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                if ours != loc {
                    failures.push(format!("{label}: Location {ours:?}, real {loc:?}"));
                }
            }
            for h in [
                "WWW-Authenticate",
                "X-API-Product-Version",
                "X-API-Product-Name",
            ] {
                let real = real_headers[h].as_str();
                let ours = headers.get(h).and_then(|v| v.to_str().ok());
                if real != ours {
                    failures.push(format!("{label}: header {h} {ours:?}, real {real:?}"));
                }
            }
            let real_body = &step["body"];
            let ours: Value = if text.is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&text).unwrap_or(Value::String(text.clone()))
            };
            if let (Some(r), Some(o)) = (real_body["detail"].as_str(), ours["detail"].as_str())
                && r.starts_with("JSON parse error - ")
            {
                if !o.starts_with("JSON parse error - ") {
                    failures.push(format!("{label}: detail {o:?}, real {r:?}"));
                }
                continue;
            }
            let mut diffs = Vec::new();
            compare(
                real_body,
                &ours,
                "body",
                partial_body(&path, method),
                &mut diffs,
            );
            if !diffs.is_empty() {
                failures.push(format!("{label}:\n    {}", diffs.join("\n    ")));
            }
            // Remember tokens and lists later steps refer to.
            if path == "/api/v2/tokens/" && method == "POST" && status == 201 {
                let scope = ours["scope"].as_str().unwrap_or("");
                let key = if scope == "write" {
                    "bearer"
                } else {
                    "rbearer"
                };
                tokens.insert(key, ours["token"].as_str().unwrap().to_string());
            }
            if path == "/api/v2/tokens/" && method == "GET" {
                last_token_list = Some(ours.clone());
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} steps differ from the real AWX:\n{}",
        failures.len(),
        steps.len(),
        failures.join("\n")
    );
}
