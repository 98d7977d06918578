//! Request parsing and routing; users, organizations and tokens.

use super::*;

// ------------------------------------------------------------------ request

pub(super) struct Req<'a> {
    pub(super) method: &'a Method,
    pub(super) path: &'a str,
    pub(super) query: Vec<(String, String)>,
    pub(super) raw_query: Option<&'a str>,
    pub(super) content_type: Option<&'a str>,
    pub(super) body: &'a [u8],
}

impl Req<'_> {
    pub(super) fn param(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The JSON object body, or the error response AWX gives.
    pub(super) fn json_object(
        &self,
        authed: bool,
        allow: &str,
    ) -> Result<Map<String, Value>, Response> {
        let ct = self.content_type.unwrap_or("application/json");
        if !ct
            .trim()
            .to_ascii_lowercase()
            .starts_with("application/json")
        {
            // Parse failures are answered before AWX adds its version header (observed).
            let _ = authed;
            return Err(detail(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "You did not use correct Content-Type in your HTTP request. If you are using our REST API, the Content-Type must be application/json",
                Some(allow),
                false,
            ));
        }
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Map::new());
        }
        match serde_json::from_slice::<Value>(self.body) {
            Ok(Value::Object(m)) => Ok(m),
            Ok(_) => Err(detail(
                StatusCode::BAD_REQUEST,
                "JSON parse error - not a JSON object",
                Some(allow),
                false,
            )),
            Err(e) => Err(detail(
                StatusCode::BAD_REQUEST,
                &format!("JSON parse error - {e}"),
                Some(allow),
                false,
            )),
        }
    }
}

pub(super) async fn handle(
    State(sim): State<AwxSim>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let query: Vec<(String, String)> = uri
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let req = Req {
        method: &method,
        path: uri.path(),
        query,
        raw_query: uri.query(),
        content_type,
        body: &body,
    };
    let mut inner = sim.lock();
    inner
        .log
        .push(LoggedRequest::of(&method, &uri, &headers, &body));
    route(&mut inner, &req, &headers)
}

pub(super) fn route(inner: &mut Inner, req: &Req<'_>, headers: &HeaderMap) -> Response {
    let path = req.path;
    let valid_credentials = matches!(authenticate(inner, headers), Auth::User(_));
    if path == "/api/" {
        return json_response(
            StatusCode::OK,
            &json!({"description": "AWX REST API", "current_version": "/api/v2/", "available_versions": {"v2": "/api/v2/"}, "oauth2": "/api/o/", "custom_logo": "", "custom_login_info": "", "login_redirect_override": ""}),
            Some("GET, HEAD, OPTIONS"),
            valid_credentials,
        );
    }
    if path == "/api/v2/ping/" {
        return json_response(
            StatusCode::OK,
            &json!({"ha": false, "version": VERSION, "active_node": "sandbox", "install_uuid": "00000000-0000-0000-0000-000000000000", "instances": [{"node": "sandbox", "node_type": "hybrid", "uuid": "00000000-0000-0000-0000-000000000001", "heartbeat": null, "capacity": 0, "version": ""}], "instance_groups": [{"name": "default", "capacity": 0, "instances": ["sandbox"]}]}),
            Some("GET, HEAD, OPTIONS"),
            false,
        );
    }
    if path == "/api/o/token/" {
        if *req.method != Method::POST {
            return method_not_allowed(req.method, "POST, OPTIONS");
        }
        return password_grant(inner, req, headers);
    }
    let Some(rest) = path.strip_prefix("/api/v2/") else {
        return html_response(StatusCode::NOT_FOUND, HTML_404);
    };
    let segments: Vec<&str> = rest.split('/').collect();
    // A collection without its trailing slash is redirected (Django APPEND_SLASH);
    // a numeric detail without it is served (awx.md, observed).
    if !path.ends_with('/') {
        let numeric_detail = matches!(segments.as_slice(), [_, id] if id.parse::<u64>().is_ok());
        if !numeric_detail {
            let location = match req.raw_query {
                Some(q) => format!("{path}/?{q}"),
                None => format!("{path}/"),
            };
            return redirect(&location);
        }
    }
    let segments: Vec<&str> = segments.into_iter().filter(|s| !s.is_empty()).collect();
    if segments.is_empty() {
        return json_response(
            StatusCode::OK,
            &json!({"ping": "/api/v2/ping/", "config": "/api/v2/config/", "me": "/api/v2/me/", "organizations": "/api/v2/organizations/", "users": "/api/v2/users/", "applications": "/api/v2/applications/", "tokens": "/api/v2/tokens/"}),
            Some("GET, HEAD, OPTIONS"),
            true,
        );
    }
    let principal = match authenticate(inner, headers) {
        Auth::User(p) => p,
        Auth::None | Auth::Invalid => return unauthorized(),
    };
    if req.method != Method::GET
        && req.method != Method::HEAD
        && req.method != Method::OPTIONS
        && !principal.write
    {
        return detail(StatusCode::FORBIDDEN, FORBIDDEN, None, true);
    }
    match segments.as_slice() {
        ["config"] => json_response(
            StatusCode::OK,
            &json!({"time_zone": "UTC", "license_info": {"license_type": "open", "valid_key": true, "subscription_name": "OPEN", "product_name": "AWX"}, "version": VERSION, "eula": "", "analytics_status": "off"}),
            Some("GET, POST, DELETE, HEAD, OPTIONS"),
            true,
        ),
        ["me"] => {
            let users: Vec<Value> = inner
                .state
                .users
                .iter()
                .filter(|u| u.id == principal.user)
                .map(user_json)
                .collect();
            json_response(
                StatusCode::OK,
                &json!({"count": users.len(), "next": null, "previous": null, "results": users}),
                Some("GET, HEAD, OPTIONS"),
                true,
            )
        }
        ["users"] => users(inner, req, principal),
        ["organizations"] => organizations(inner, req, principal),
        ["organizations", org] => organization_detail(inner, req, principal, org),
        ["organizations", org, "applications"] => {
            match org
                .parse::<u64>()
                .ok()
                .filter(|id| inner.state.orgs.iter().any(|o| o.id == *id))
            {
                Some(org_id) => applications(inner, req, principal, Some(org_id)),
                None => detail(StatusCode::NOT_FOUND, "Not found.", Some(LIST_ALLOW), true),
            }
        }
        ["tokens"] => tokens(inner, req, principal, None),
        ["tokens", id] => token_detail(inner, req, principal, id),
        ["applications"] => applications(inner, req, principal, None),
        ["applications", key] => application_detail(inner, req, principal, key),
        ["applications", key, "tokens"] => match resolve_app(inner, key, principal) {
            Ok(app_id) => tokens(inner, req, principal, Some(app_id)),
            Err(r) => r,
        },
        _ => html_response(StatusCode::NOT_FOUND, HTML_404),
    }
}

// ------------------------------------------------------------------ users, orgs, tokens

pub(super) fn users(inner: &mut Inner, req: &Req<'_>, principal: Principal) -> Response {
    if *req.method != Method::POST {
        let users: Vec<Value> = inner
            .state
            .users
            .iter()
            .filter(|u| principal.superuser || u.id == principal.user)
            .map(user_json)
            .collect();
        return json_response(
            StatusCode::OK,
            &json!({"count": users.len(), "next": null, "previous": null, "results": users}),
            Some(LIST_ALLOW),
            true,
        );
    }
    if !principal.superuser {
        return detail(StatusCode::FORBIDDEN, FORBIDDEN, Some(LIST_ALLOW), true);
    }
    let body = match req.json_object(true, LIST_ALLOW) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let username = body.get("username").and_then(Value::as_str).unwrap_or("");
    if username.is_empty() {
        return json_response(
            StatusCode::BAD_REQUEST,
            &json!({"username": ["This field is required."]}),
            Some(LIST_ALLOW),
            true,
        );
    }
    if inner.state.users.iter().any(|u| u.username == username) {
        return json_response(
            StatusCode::BAD_REQUEST,
            &json!({"username": ["A user with that username already exists."]}),
            Some(LIST_ALLOW),
            true,
        );
    }
    let user = User {
        id: inner.state.next_user,
        username: username.into(),
        password: body
            .get("password")
            .and_then(Value::as_str)
            .unwrap_or("")
            .into(),
        email: body
            .get("email")
            .and_then(Value::as_str)
            .unwrap_or("")
            .into(),
        is_superuser: body
            .get("is_superuser")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        created: now(),
    };
    inner.state.next_user += 1;
    let out = user_json(&user);
    let location = format!("/api/v2/users/{}/", user.id);
    inner.state.users.push(user);
    created(&out, &location)
}

pub(super) type OrgPredicate = Box<dyn Fn(&Org) -> bool>;

pub(super) fn organizations(inner: &mut Inner, req: &Req<'_>, principal: Principal) -> Response {
    if *req.method == Method::POST {
        if !principal.superuser {
            return detail(StatusCode::FORBIDDEN, FORBIDDEN, Some(LIST_ALLOW), true);
        }
        let body = match req.json_object(true, LIST_ALLOW) {
            Ok(b) => b,
            Err(r) => return r,
        };
        let name = body
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim()
            .to_string();
        if name.is_empty() {
            return json_response(
                StatusCode::BAD_REQUEST,
                &json!({"name": ["This field is required."]}),
                Some(LIST_ALLOW),
                true,
            );
        }
        if inner.state.orgs.iter().any(|o| o.name == name) {
            return json_response(
                StatusCode::BAD_REQUEST,
                &json!({"name": ["Organization with this Name already exists."]}),
                Some(LIST_ALLOW),
                true,
            );
        }
        let org = Org {
            id: inner.state.next_org,
            name,
            description: body
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or("")
                .into(),
            created: now(),
        };
        inner.state.next_org += 1;
        let out = org_json(&org, true);
        let location = format!("/api/v2/organizations/{}/", org.id);
        inner.state.orgs.push(org);
        return created(&out, &location);
    }
    if *req.method != Method::GET {
        return method_not_allowed(req.method, LIST_ALLOW);
    }
    let mut orgs: Vec<&Org> = if principal.superuser {
        inner.state.orgs.iter().collect()
    } else {
        Vec::new()
    };
    let mut any_of: Vec<OrgPredicate> = Vec::new();
    for (key, value) in &req.query {
        if RESERVED_QUERY.contains(&key.as_str()) {
            continue;
        }
        let (or, field) = match key.strip_prefix("or__") {
            Some(f) => (true, f),
            None => (false, key.as_str()),
        };
        let v = value.clone();
        let pred: OrgPredicate = match field {
            "name" => Box::new(move |o: &Org| o.name == v),
            "id" => {
                let id = v.parse::<u64>().ok();
                Box::new(move |o: &Org| Some(o.id) == id)
            }
            other => {
                return detail(
                    StatusCode::BAD_REQUEST,
                    &format!("Organization has no field named '{other}'"),
                    Some(LIST_ALLOW),
                    true,
                );
            }
        };
        if or {
            any_of.push(pred);
        } else {
            orgs.retain(|o| pred(o));
        }
    }
    if !any_of.is_empty() {
        orgs.retain(|o| any_of.iter().any(|p| p(o)));
    }
    orgs.sort_by(|a, b| a.name.cmp(&b.name));
    let items: Vec<Value> = orgs.iter().map(|o| org_json(o, false)).collect();
    match paginate(req, items, inner.options.max_page_size) {
        Ok(v) => json_response(StatusCode::OK, &v, Some(LIST_ALLOW), true),
        Err(r) => r,
    }
}

pub(super) fn organization_detail(
    inner: &mut Inner,
    req: &Req<'_>,
    principal: Principal,
    key: &str,
) -> Response {
    let decoded = percent_decode(key);
    let org = match key.parse::<u64>() {
        Ok(id) => inner.state.orgs.iter().find(|o| o.id == id),
        Err(_) => inner.state.orgs.iter().find(|o| o.name == decoded),
    };
    match org {
        Some(o) if principal.superuser && *req.method == Method::GET => json_response(
            StatusCode::OK,
            &org_json(o, true),
            Some("GET, PUT, PATCH, DELETE, HEAD, OPTIONS"),
            true,
        ),
        Some(_) if !principal.superuser => detail(StatusCode::FORBIDDEN, FORBIDDEN, None, true),
        Some(_) => method_not_allowed(req.method, "GET, HEAD, OPTIONS"),
        None => detail(StatusCode::NOT_FOUND, "Not found.", None, true),
    }
}

/// When a token issued now expires: AWX's `ACCESS_TOKEN_EXPIRE_SECONDS`
/// is 31536000000 (1000 years; awx-transcripts.md §9, §11).
fn token_expiry() -> String {
    let life = std::time::Duration::from_secs(31_536_000_000);
    humantime::format_rfc3339_micros(std::time::SystemTime::now() + life).to_string()
}

/// `/api/o/token/`, the password grant (awx-transcripts.md §11): the
/// client by Basic auth (or `client_id`/`client_secret` form fields), a
/// confidential app's secret checked (`401 invalid_client`); the token is
/// the user's, issued for the application.
fn password_grant(inner: &mut Inner, req: &Req<'_>, headers: &HeaderMap) -> Response {
    let form: Vec<(String, String)> = url::form_urlencoded::parse(req.body).into_owned().collect();
    let field = |k: &str| {
        form.iter()
            .find(|(key, _)| key == k)
            .map_or("", |(_, v)| v.as_str())
            .to_string()
    };
    let basic = crate::sandbox::http::basic_credentials(headers);
    let (client_id, client_secret) =
        basic.unwrap_or_else(|| (field("client_id"), field("client_secret")));
    let oauth_error = |status: StatusCode, error: &str| {
        let mut r = json_response(status, &json!({ "error": error }), None, false);
        if status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer error=\"invalid_client\""),
            );
        }
        r
    };
    let Some(app) = inner
        .state
        .apps
        .values()
        .find(|a| a.client_id == client_id)
        .cloned()
    else {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    };
    if app.client_type == "confidential" && app.client_secret != client_secret {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    if field("grant_type") != "password" || app.authorization_grant_type != "password" {
        return oauth_error(StatusCode::BAD_REQUEST, "unauthorized_client");
    }
    let Some(user) = inner
        .state
        .users
        .iter()
        .find(|u| u.username == field("username") && u.password == field("password"))
        .map(|u| u.id)
    else {
        return json_response(
            StatusCode::BAD_REQUEST,
            &json!({"error": "invalid_grant", "error_description": "Invalid credentials given."}),
            None,
            false,
        );
    };
    let scope = match field("scope").as_str() {
        "" => "write".to_string(),
        s => s.to_string(),
    };
    let token = Token {
        id: inner.state.next_token,
        token: random_token(30),
        refresh_token: Some(random_token(30)),
        user,
        application: Some(app.id),
        scope: scope.clone(),
        description: String::new(),
        created: now(),
        expires: token_expiry(),
    };
    inner.state.next_token += 1;
    let body = json!({
        "access_token": token.token,
        "expires_in": 31_536_000_000u64,
        "token_type": "Bearer",
        "scope": scope,
        "refresh_token": token.refresh_token,
    });
    inner.state.tokens.push(token);
    json_response(StatusCode::OK, &body, None, false)
}

pub(super) fn tokens(
    inner: &mut Inner,
    req: &Req<'_>,
    principal: Principal,
    app: Option<u64>,
) -> Response {
    if *req.method == Method::POST {
        let body = match req.json_object(true, LIST_ALLOW) {
            Ok(b) => b,
            Err(r) => return r,
        };
        let scope = body
            .get("scope")
            .and_then(Value::as_str)
            .unwrap_or("write")
            .to_string();
        if scope.split_whitespace().count() == 0
            || !scope
                .split_whitespace()
                .all(|s| s == "read" || s == "write")
        {
            return json_response(
                StatusCode::BAD_REQUEST,
                &json!({"scope": ["Must be a simple space-separated string with allowed scopes ['read', 'write']."]}),
                Some(LIST_ALLOW),
                true,
            );
        }
        let application = app.or_else(|| body.get("application").and_then(Value::as_u64));
        let t = now();
        let token = Token {
            id: inner.state.next_token,
            token: random_token(30),
            refresh_token: application.map(|_| random_token(30)),
            user: principal.user,
            application,
            scope,
            description: body
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or("")
                .into(),
            created: t,
            expires: token_expiry(),
        };
        inner.state.next_token += 1;
        let out = token_json(&inner.state, &token, true);
        let location = format!("/api/v2/tokens/{}/", token.id);
        inner.state.tokens.push(token);
        return created(&out, &location);
    }
    if *req.method != Method::GET {
        return method_not_allowed(req.method, LIST_ALLOW);
    }
    let items: Vec<Value> = inner
        .state
        .tokens
        .iter()
        .filter(|t| match app {
            Some(a) => t.application == Some(a),
            None => principal.superuser || t.user == principal.user,
        })
        .map(|t| token_json(&inner.state, t, false))
        .collect();
    match paginate(req, items, inner.options.max_page_size) {
        Ok(v) => json_response(StatusCode::OK, &v, Some(LIST_ALLOW), true),
        Err(r) => r,
    }
}

pub(super) fn token_detail(
    inner: &mut Inner,
    req: &Req<'_>,
    principal: Principal,
    key: &str,
) -> Response {
    let Ok(id) = key.parse::<u64>() else {
        return html_response(StatusCode::NOT_FOUND, HTML_404);
    };
    let pos = inner
        .state
        .tokens
        .iter()
        .position(|t| t.id == id && (principal.superuser || t.user == principal.user));
    let Some(pos) = pos else {
        return detail(
            StatusCode::NOT_FOUND,
            "No OAuth2AccessToken matches the given query.",
            Some("GET, PUT, PATCH, DELETE, HEAD, OPTIONS"),
            true,
        );
    };
    match *req.method {
        Method::DELETE => {
            inner.state.tokens.remove(pos);
            no_content()
        }
        Method::GET => match inner.state.tokens.get(pos) {
            Some(t) => json_response(
                StatusCode::OK,
                &token_json(&inner.state, t, false),
                Some("GET, PUT, PATCH, DELETE, HEAD, OPTIONS"),
                true,
            ),
            None => html_response(StatusCode::NOT_FOUND, HTML_404),
        },
        _ => method_not_allowed(req.method, "GET, PUT, PATCH, DELETE, HEAD, OPTIONS"),
    }
}
