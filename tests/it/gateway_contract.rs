//! The gateway contract suite: the same scenarios against the gateway
//! simulator and against the real AAP gateway application code
//! (django-ansible-base from PyPI, `tests/gateway_server/`), so the simulator
//! is proven against the real server on every CI run. `.ci/run` installs the
//! real server's venv and names its Python in `APPFORM_GATEWAY_PYTHON`.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use appform::sandbox::gateway::{GatewayOptions, GatewaySim};
use appform::sandbox::{BackgroundServer, Simulator};
use serde_json::{Value, json};

use crate::support::{appform, root, serve, skipped, texts};

/// A real server process, killed when dropped.
struct RealServer {
    child: Child,
    state: tempfile::TempDir,
    python: PathBuf,
}

impl Drop for RealServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

enum Backend {
    Simulator {
        sim: GatewaySim,
        _server: BackgroundServer,
    },
    Real(RealServer),
}

/// A gateway under test, spoken to over HTTP the same way whichever it is.
struct Gateway {
    url: String,
    write_token: String,
    read_token: String,
    admin_password: String,
    backend: Backend,
    dir: tempfile::TempDir,
    rt: tokio::runtime::Runtime,
    client: reqwest::Client,
}

impl Gateway {
    fn simulator() -> Gateway {
        let options = GatewayOptions::default();
        let sim = GatewaySim::start(options.clone());
        sim.add_organization("Engineering");
        let server = serve(sim.routes());
        Gateway {
            url: server.url(),
            write_token: options.admin_tokens[0].clone(),
            read_token: options.read_tokens[0].clone(),
            admin_password: options.admin_password,
            backend: Backend::Simulator {
                sim,
                _server: server,
            },
            dir: tempfile::tempdir().unwrap(),
            rt: runtime(),
            client: reqwest::Client::new(),
        }
    }

    /// The real server, or `None` (reported as skipped) without its venv.
    fn real() -> Option<Gateway> {
        let Some(python) = std::env::var_os("APPFORM_GATEWAY_PYTHON").map(PathBuf::from) else {
            skipped(
                "the AAP gateway's application code (django-ansible-base)",
                "python3 -m venv V && V/bin/pip install -r tests/gateway_server/requirements.txt, then APPFORM_GATEWAY_PYTHON=V/bin/python",
            );
            return None;
        };
        let state = tempfile::tempdir().unwrap();
        // Django's log (DAB names every optional plugin it cannot load) goes
        // to a file, shown only when the server does not start.
        let log = state.path().join("server.log");
        let mut child = Command::new(&python)
            .arg(root().join("tests/gateway_server/serve.py"))
            .env("GATEWAY_STATE_DIR", state.path())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start the real gateway");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let facts: Value = serde_json::from_str(&line).unwrap_or_else(|e| {
            panic!(
                "the real gateway did not start ({e}): {line:?}\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            )
        });
        let text = |k: &str| facts[k].as_str().unwrap().to_string();
        Some(Gateway {
            url: format!("http://127.0.0.1:{}", facts["port"]),
            write_token: text("write_token"),
            read_token: text("read_token"),
            admin_password: text("admin_password"),
            backend: Backend::Real(RealServer {
                child,
                state,
                python,
            }),
            dir: tempfile::tempdir().unwrap(),
            rt: runtime(),
            client: reqwest::Client::new(),
        })
    }

    fn name(&self) -> &'static str {
        match self.backend {
            Backend::Simulator { .. } => "simulator",
            Backend::Real(_) => "real gateway",
        }
    }

    /// One API call as the admin (write token): status and JSON body.
    fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = format!("{}/api/gateway/v1{path}", self.url);
        self.rt.block_on(async {
            let mut rb = self
                .client
                .request(method, url)
                .bearer_auth(&self.write_token);
            if let Some(b) = body {
                rb = rb.json(&b);
            }
            let response = rb.send().await.unwrap();
            let status = response.status().as_u16();
            let text = response.text().await.unwrap();
            (status, serde_json::from_str(&text).unwrap_or(Value::Null))
        })
    }

    fn create(&self, body: Value) -> Value {
        let (status, created) = self.call(reqwest::Method::POST, "/applications/", Some(body));
        assert_eq!(status, 201, "{}: {created}", self.name());
        created
    }

    /// Every application, all pages.
    fn apps(&self) -> Vec<Value> {
        let mut out = Vec::new();
        let mut page = 1;
        loop {
            let (status, body) = self.call(
                reqwest::Method::GET,
                &format!("/applications/?page_size=200&page={page}"),
                None,
            );
            assert_eq!(status, 200, "{body}");
            out.extend(body["results"].as_array().unwrap().iter().cloned());
            if body["next"].is_null() {
                return out;
            }
            page += 1;
        }
    }

    fn app(&self, name: &str) -> Option<Value> {
        self.apps().into_iter().find(|a| a["name"] == name)
    }

    /// Deletes every application (each scenario starts from none).
    fn clear(&self) {
        for app in self.apps() {
            let (status, _) = self.call(
                reqwest::Method::DELETE,
                &format!("/applications/{}/", app["id"]),
                None,
            );
            assert_eq!(status, 204);
        }
    }

    /// The id of an organization by name.
    fn org(&self, name: &str) -> u64 {
        let (_, body) = self.call(reqwest::Method::GET, "/organizations/", None);
        body["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["name"] == name)
            .and_then(|o| o["id"].as_u64())
            .unwrap()
    }

    /// `count` public apps `<prefix>NNNN` in organization `org` (created if
    /// missing), written straight into the server's store.
    fn bulk(&self, count: usize, prefix: &str, org: &str) {
        match &self.backend {
            Backend::Simulator { sim, .. } => {
                let id = sim.add_organization(org);
                for i in 0..count {
                    sim.put_app(&format!("{prefix}{i:04}"), id, &Value::Null);
                }
            }
            Backend::Real(real) => {
                let status = Command::new(&real.python)
                    .arg(root().join("tests/gateway_server/bulk.py"))
                    .args([&count.to_string(), prefix, org])
                    .env("GATEWAY_STATE_DIR", real.state.path())
                    .stdout(Stdio::null())
                    .status()
                    .unwrap();
                assert!(status.success());
            }
        }
    }

    /// The password grant at `/o/token/` with this client: the answer.
    async fn grant(&self, client_id: &str, secret: &str) -> reqwest::Response {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "password")
            .append_pair("username", "admin")
            .append_pair("password", &self.admin_password)
            .append_pair("client_id", client_id)
            .append_pair("client_secret", secret)
            .finish();
        self.client
            .post(format!("{}/o/token/", self.url))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    /// A token by the password grant with this client, then used once to
    /// read the applications (which records its `last_used`).
    fn obtain_and_use_token(&self, client_id: &str, secret: &str) {
        self.rt.block_on(async {
            let reply: Value = self.grant(client_id, secret).await.json().await.unwrap();
            let token = reply["access_token"].as_str().unwrap().to_string();
            let status = self
                .client
                .get(format!("{}/api/gateway/v1/applications/", self.url))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status();
            assert_eq!(status.as_u16(), 200);
        });
    }

    /// A token from `/o/token/` by the password grant with this client:
    /// the status.
    fn password_grant(&self, client_id: &str, secret: &str) -> u16 {
        self.rt
            .block_on(async { self.grant(client_id, secret).await.status().as_u16() })
    }

    /// `appform.yaml` with one gateway server `gw` authenticated by the
    /// token in `token_env`.
    fn write_config(&self, token_env: &str, options: &str, applications: &str) {
        self.write_config_at(&self.url, token_env, options, applications);
    }

    /// The same, with the server reached at `url` (a proxy in front of it).
    fn write_config_at(&self, url: &str, token_env: &str, options: &str, applications: &str) {
        std::fs::write(
            self.dir.path().join("appform.yaml"),
            format!(
                "servers:\n  gw:\n    gateway:\n      url: {url}\n      auth:\n        token: env:{token_env}\n{options}      applications:\n{applications}"
            ),
        )
        .unwrap();
    }

    fn cmd(&self, args: &[&str]) -> assert_cmd::Command {
        let mut cmd = appform();
        cmd.args(args)
            .arg("-c")
            .arg(self.dir.path())
            .env("GATEWAY_TOKEN", &self.write_token)
            .env("GATEWAY_READ_TOKEN", &self.read_token);
        cmd
    }

    fn run(&self, args: &[&str]) -> (Option<i32>, String) {
        let out = self.cmd(args).output().unwrap();
        let (stdout, stderr) = texts(&out);
        (out.status.code(), format!("{stdout}{stderr}"))
    }

    fn assert_converged(&self) {
        let (code, text) = self.run(&["plan", "--detailed-exitcode"]);
        assert_eq!(
            code,
            Some(0),
            "{}: a second plan is not empty:\n{text}",
            self.name()
        );
        assert!(text.contains("No changes."), "{text}");
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Apps a reviewer finds on a real gateway, odd redirect URIs included (the
/// gateway checks none): exported, they validate and plan as "No changes".
fn an_export_round_trips(gw: &Gateway) {
    gw.clear();
    let engineering = gw.org("Engineering");
    gw.create(
        json!({"name": "portal", "organization": engineering, "client_type": "confidential",
        "authorization_grant_type": "authorization-code",
        "redirect_uris": "https://portal.example.com/cb  myapp:/cb\nftp://files.example.com/#frag",
        "post_logout_redirect_uris": "https://portal.example.com/bye",
        "algorithm": "RS256", "app_url": "https://portal.example.com/", "description": "Portal"}),
    );
    gw.create(
        json!({"name": "cli", "organization": 1, "client_type": "public",
        "authorization_grant_type": "password", "skip_authorization": true}),
    );
    gw.create(
        json!({"name": "cli", "organization": engineering, "client_type": "public",
        "authorization_grant_type": "authorization-code", "app_url": ""}),
    );
    gw.write_config("GATEWAY_TOKEN", "", "");
    let out = gw.cmd(&["export", "--server", "gw"]).output().unwrap();
    let (exported, stderr) = texts(&out);
    assert!(out.status.success(), "{}: {stderr}", gw.name());
    assert!(exported.contains("myapp:/cb"), "{exported}");
    std::fs::write(gw.dir.path().join("appform.yaml"), &exported).unwrap();
    let (code, text) = gw.run(&["validate"]);
    assert_eq!(code, Some(0), "{}: {text}", gw.name());
    gw.assert_converged();
}

/// Creates with secrets captured once (and usable at `/o/token/`), updates
/// with a grant-type change made by PATCH (same client id), a public app
/// made confidential by replacement, prune with protect; then "No changes".
fn a_mixed_apply_converges(gw: &Gateway) {
    gw.clear();
    let kept = gw.create(
        json!({"name": "automation", "organization": 1, "client_type": "public",
        "authorization_grant_type": "password", "redirect_uris": ""}),
    );
    let public = gw.create(
        json!({"name": "reports", "organization": 1, "client_type": "public",
        "authorization_grant_type": "password"}),
    );
    gw.create(
        json!({"name": "stray", "organization": 1, "client_type": "public",
        "authorization_grant_type": "password"}),
    );
    gw.create(
        json!({"name": "system-audit", "organization": 1, "client_type": "public",
        "authorization_grant_type": "password"}),
    );
    gw.write_config(
        "GATEWAY_TOKEN",
        "      prune: true\n      protect: [\"system-*\"]\n",
        "        vault:
          organization: Engineering
          client_type: confidential
          authorization_grant_type: password
          description: Vault login
        automation:
          organization: Default
          client_type: public
          authorization_grant_type: authorization-code
          redirect_uris: [https://automation.example.com/cb]
          post_logout_redirect_uris: https://automation.example.com/ https://automation.example.com/bye
          app_url: https://automation.example.com/
        reports:
          organization: Default
          client_type: confidential
          authorization_grant_type: password
",
    );
    let (code, plan) = gw.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(code, Some(2), "{plan}");
    assert!(
        plan.contains("authorization_grant_type  = \"password\" -> \"authorization-code\"")
            && plan.contains("reports (Default)")
            && plan.contains("must be replaced"),
        "{}: {plan}",
        gw.name()
    );
    let secrets = gw.dir.path().join("secrets.json");
    let secrets_arg = secrets.display().to_string();
    let (code, text) = gw.run(&[
        "apply",
        "--auto-approve",
        "--allow-replace",
        "--secrets-out",
        &secrets_arg,
    ]);
    assert_eq!(code, Some(0), "{}: {text}", gw.name());
    let automation = gw.app("automation").unwrap();
    assert_eq!(automation["id"], kept["id"], "updated in place");
    assert_eq!(automation["client_id"], kept["client_id"]);
    assert_eq!(automation["authorization_grant_type"], "authorization-code");
    let reports = gw.app("reports").unwrap();
    assert_ne!(reports["client_id"], public["client_id"], "replaced");
    assert!(gw.app("stray").is_none(), "pruned");
    assert!(gw.app("system-audit").is_some(), "protected");
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&secrets).unwrap()).unwrap();
    let text = saved.to_string();
    for name in ["vault", "reports"] {
        let app = gw.app(name).unwrap();
        let client_id = app["client_id"].as_str().unwrap();
        assert!(text.contains(client_id), "{name} secret saved: {text}");
        let secret = find_secret(&saved, client_id).expect("the secret next to its client id");
        assert_eq!(secret.len(), 128, "{name}");
        assert_eq!(
            gw.password_grant(client_id, &secret),
            201,
            "{}: {name}",
            gw.name()
        );
        assert_eq!(gw.password_grant(client_id, "wrong"), 401);
    }
    gw.assert_converged();
}

/// The secret saved for `client_id` in a secrets file, wherever it sits.
fn find_secret(v: &Value, client_id: &str) -> Option<String> {
    match v {
        Value::Object(o) if o.get("client_id").and_then(Value::as_str) == Some(client_id) => o
            .get("client_secret")
            .and_then(Value::as_str)
            .map(str::to_string),
        Value::Object(o) => o.values().find_map(|v| find_secret(v, client_id)),
        Value::Array(a) => a.iter().find_map(|v| find_secret(v, client_id)),
        _ => None,
    }
}

/// A proxy in front of `upstream` that sends the first application create
/// twice, the copy first: someone else's identical create lands between
/// appform's read and its own create.
fn racing_proxy(upstream: String) -> BackgroundServer {
    use axum::body::{Body, Bytes};
    use axum::http::{HeaderMap, Method, Uri};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let armed = Arc::new(AtomicBool::new(true));
    let client = reqwest::Client::new();
    let router = axum::Router::new().fallback(
        move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let (armed, client, upstream) = (armed.clone(), client.clone(), upstream.clone());
            async move {
                let send = |body: Bytes| {
                    let mut rb = client.request(
                        reqwest::Method::from_bytes(method.as_str().as_bytes()).unwrap(),
                        format!("{upstream}{uri}"),
                    );
                    for name in ["authorization", "content-type"] {
                        if let Some(v) = headers.get(name).and_then(|v| v.to_str().ok()) {
                            rb = rb.header(name, v);
                        }
                    }
                    rb.body(body).send()
                };
                let create = method == Method::POST && uri.path().ends_with("/applications/");
                if create && armed.swap(false, Ordering::SeqCst) {
                    send(body.clone()).await.unwrap();
                }
                let answer = send(body).await.unwrap();
                let status = answer.status().as_u16();
                let content_type = answer
                    .headers()
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("application/json")
                    .to_string();
                let bytes = answer.bytes().await.unwrap();
                axum::http::Response::builder()
                    .status(status)
                    .header("content-type", content_type)
                    .body(Body::from(bytes))
                    .unwrap()
            }
        },
    );
    serve(router)
}

/// Someone creates the same app between appform's read and its create:
/// the create's duplicate error (`non_field_errors`) is read back and the
/// app adopted, never duplicated; a confidential one reports its secret lost.
fn a_duplicate_create_race_is_adopted(gw: &Gateway) {
    gw.clear();
    for (app, client_type, code, words) in [
        ("raced", "public", 0, "raced (Default) created"),
        (
            "raced-secret",
            "confidential",
            4,
            "raced-secret (Default) created, secret lost",
        ),
    ] {
        let proxy = racing_proxy(gw.url.clone());
        gw.write_config_at(
            &proxy.url(),
            "GATEWAY_TOKEN",
            "",
            &format!("        {app}:\n          organization: Default\n          client_type: {client_type}\n          authorization_grant_type: password\n"),
        );
        let secrets = gw.dir.path().join("race-secrets.json");
        let secrets = secrets.display().to_string();
        let (status, text) = gw.run(&["apply", "--auto-approve", "--secrets-out", &secrets]);
        assert_eq!(status, Some(code), "{}: {text}", gw.name());
        assert!(text.contains(words), "{}: {text}", gw.name());
        let count = gw.apps().iter().filter(|a| a["name"] == app).count();
        assert_eq!(count, 1, "no duplicate");
        gw.assert_converged();
    }
}

/// A read-scope token plans; apply with it is refused by the server before
/// anything changes, and says why.
fn a_read_only_token_plans_but_cannot_apply(gw: &Gateway) {
    gw.clear();
    gw.write_config(
        "GATEWAY_READ_TOKEN",
        "",
        "        reader:\n          organization: Default\n          client_type: public\n          authorization_grant_type: password\n",
    );
    let (code, text) = gw.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(code, Some(2), "{}: {text}", gw.name());
    let (code, text) = gw.run(&["apply", "--auto-approve"]);
    assert_eq!(code, Some(1), "{}: {text}", gw.name());
    assert!(
        text.contains("HTTP 403") && text.contains("lack permission"),
        "{}: {text}",
        gw.name()
    );
    assert!(gw.app("reader").is_none());
}

/// 1,000 apps are read in pages of 200 and plan as "No changes".
fn a_thousand_apps_are_paged(gw: &Gateway) {
    gw.clear();
    gw.bulk(1000, "bulk-", "Bulk");
    let apps: String = (0..1000)
        .map(|i| format!("        bulk-{i:04}:\n          organization: Bulk\n          client_type: public\n          authorization_grant_type: password\n"))
        .collect();
    gw.write_config("GATEWAY_TOKEN", "", &apps);
    gw.assert_converged();
    assert_eq!(gw.apps().len(), 1000);
    // `listing: managed`: 60 of them read by name (`name__in`, and
    // `name__contains` for set-aside apps), one drifted.
    let few: String = (0..60)
        .map(|i| format!("        bulk-{i:04}:\n          organization: Bulk\n          client_type: public\n          authorization_grant_type: password\n"))
        .collect();
    gw.write_config(
        "GATEWAY_TOKEN",
        "      listing: managed\n",
        &format!("{few}          description: managed by name\n"),
    );
    let (code, text) = gw.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(code, Some(2), "{}: {text}", gw.name());
    assert!(
        text.contains("Plan: 0 to create, 1 to update, 0 to replace, 0 to delete. 59 unchanged, 0 unmanaged (more not counted"),
        "{}: {text}",
        gw.name()
    );
}

/// `apply --rotate` with `rotation_overlap`: a new client id and secret,
/// the old ones still accepted at `/o/token/` under the retiring name; a
/// second plan is empty; once the end date has passed the next apply
/// deletes the old app and its client id stops working.
fn a_rotation_keeps_the_old_client_for_its_overlap(gw: &Gateway) {
    gw.clear();
    gw.write_config(
        "GATEWAY_TOKEN",
        "      rotation_overlap: 7d
",
        "        grafana:
          organization: Default
          client_type: confidential
          authorization_grant_type: password
",
    );
    let secrets = gw.dir.path().join("rotation-secrets.json");
    let secrets_arg = format!("--secrets-out={}", secrets.display());
    let (code, text) = gw.run(&["apply", "--auto-approve", &secrets_arg]);
    assert_eq!(code, Some(0), "{}: {text}", gw.name());
    let old = gw.app("grafana").unwrap();
    let old_id = old["client_id"].as_str().unwrap().to_string();
    let read =
        || -> Value { serde_json::from_str(&std::fs::read_to_string(&secrets).unwrap()).unwrap() };
    let old_secret = find_secret(&read(), &old_id).unwrap();
    assert_eq!(
        gw.password_grant(&old_id, &old_secret),
        201,
        "{}",
        gw.name()
    );

    let (code, text) = gw.run(&[
        "apply",
        "--auto-approve",
        "--rotate",
        "grafana",
        &secrets_arg,
    ]);
    assert_eq!(code, Some(0), "{}: {text}", gw.name());
    let until = humantime::format_rfc3339_seconds(
        std::time::SystemTime::now() + std::time::Duration::from_secs(7 * 86_400),
    )
    .to_string()[..10]
        .replace('-', "");
    let retiring = format!("grafana~appform-retiring-{until}");
    let new = gw.app("grafana").unwrap();
    let new_id = new["client_id"].as_str().unwrap().to_string();
    assert_ne!(new_id, old_id, "{}", gw.name());
    let kept = gw
        .app(&retiring)
        .unwrap_or_else(|| panic!("{}: no {retiring}", gw.name()));
    assert_eq!(kept["client_id"], old_id.as_str());
    let new_secret = find_secret(&read(), &new_id).unwrap();
    assert_eq!(
        gw.password_grant(&old_id, &old_secret),
        201,
        "{}: old",
        gw.name()
    );
    assert_eq!(
        gw.password_grant(&new_id, &new_secret),
        201,
        "{}: new",
        gw.name()
    );
    gw.assert_converged();
    // The gateway records when a token was last used: the plan shows it on
    // the retiring copy (are clients still on the old credentials?).
    gw.obtain_and_use_token(&old_id, &old_secret);
    let (code, json_text) = gw.run(&["plan", "--format", "json"]);
    assert_eq!(code, Some(0), "{json_text}");
    let start = json_text.find('{').unwrap();
    let plan: Value = serde_json::from_str(&json_text[start..]).unwrap();
    let copy = &plan["servers"][0]["retiring"][0];
    assert_eq!(copy["name"], retiring.as_str(), "{}: {copy}", gw.name());
    assert!(
        copy["last_used"]
            .as_str()
            .is_some_and(|t| t.starts_with("20")),
        "{}: {copy}",
        gw.name()
    );

    let (status, body) = gw.call(
        reqwest::Method::PATCH,
        &format!("/applications/{}/", kept["id"]),
        Some(json!({"name": "grafana~appform-retiring-20200101"})),
    );
    assert_eq!(status, 200, "{body}");
    let (code, text) = gw.run(&["apply", "--auto-approve"]);
    assert_eq!(code, Some(0), "{}: {text}", gw.name());
    assert!(
        gw.app("grafana~appform-retiring-20200101").is_none(),
        "{}",
        gw.name()
    );
    assert_eq!(
        gw.password_grant(&old_id, &old_secret),
        401,
        "{}",
        gw.name()
    );
    assert_eq!(
        gw.password_grant(&new_id, &new_secret),
        201,
        "{}",
        gw.name()
    );
    gw.assert_converged();
}

fn the_contract(gw: &Gateway) {
    an_export_round_trips(gw);
    a_mixed_apply_converges(gw);
    a_rotation_keeps_the_old_client_for_its_overlap(gw);
    a_duplicate_create_race_is_adopted(gw);
    a_read_only_token_plans_but_cannot_apply(gw);
    a_thousand_apps_are_paged(gw);
}

#[test]
fn the_gateway_simulator_meets_the_contract() {
    the_contract(&Gateway::simulator());
}

#[test]
fn the_real_gateway_meets_the_contract() {
    if let Some(gw) = Gateway::real() {
        the_contract(&gw);
    }
}
