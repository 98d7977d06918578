//! Requests: authentication (Basic for users, Bearer for tokens), the
//! superuser-only permission, the routes, pagination and filters.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use base64::Engine;
use serde_json::{Map, Value, json};

use super::input::{self, Write};
use super::{App, GatewaySim, Inner, Token};
use crate::sandbox::http::LoggedRequest;
use crate::sandbox::random_token;

mod listing;
use listing::{list_apps, page};

const PREFIX: &str = "/api/gateway/v1";
const DEFAULT_PAGE_SIZE: usize = 50;
const NOT_PROVIDED: &str = "Authentication credentials were not provided.";
const FORBIDDEN: &str = "You do not have permission to perform this action.";
const APP_NOT_FOUND: &str = "No OAuth2Application matches the given query.";
const HTML_404: &str = "\n<!doctype html>\n<html lang=\"en\">\n<head>\n  <title>Not Found</title>\n</head>\n<body>\n  <h1>Not Found</h1><p>The requested resource was not found on this server.</p>\n</body>\n</html>\n";
/// Query keys the field-lookup filter leaves alone.
const RESERVED: &[&str] = &[
    "page",
    "page_size",
    "format",
    "order",
    "order_by",
    "search",
    "type",
    "count_disabled",
];
/// Model fields a list can be filtered on (and `id`).
const FILTERABLE: &[&str] = &[
    "id",
    "name",
    "organization",
    "client_id",
    "client_type",
    "authorization_grant_type",
    "redirect_uris",
    "post_logout_redirect_uris",
    "algorithm",
    "app_url",
    "skip_authorization",
    "description",
    "user",
    "created",
    "modified",
    "created_by",
    "modified_by",
];

fn respond(status: StatusCode, body: &Value) -> Response {
    let mut r = Response::new(Body::from(body.to_string()));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn detail(status: StatusCode, text: &str) -> Response {
    respond(status, &json!({ "detail": text }))
}

fn unauthorized(text: &str) -> Response {
    let mut r = detail(StatusCode::UNAUTHORIZED, text);
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"api\""),
    );
    r
}

fn html_404() -> Response {
    let mut r = Response::new(Body::from(HTML_404));
    *r.status_mut() = StatusCode::NOT_FOUND;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r
}

/// Who is asking: a user id and whether they may write.
struct Principal {
    user: u64,
    superuser: bool,
    write_scope: bool,
}

fn authenticate(inner: &Inner, headers: &HeaderMap) -> Result<Principal, Response> {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Err(unauthorized(NOT_PROVIDED));
    };
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if scheme.eq_ignore_ascii_case("bearer") {
        // An unknown token is no authentication at all (observed).
        let Some(token) = inner.state.tokens.get(rest.trim()) else {
            return Err(unauthorized(NOT_PROVIDED));
        };
        let superuser = inner
            .state
            .users
            .get(&token.user)
            .is_some_and(|u| u.superuser);
        return Ok(Principal {
            user: token.user,
            superuser,
            write_scope: token.scope.split_whitespace().any(|s| s == "write"),
        });
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest.trim())
            .ok()
            .and_then(|d| String::from_utf8(d).ok());
        let found = decoded
            .as_deref()
            .and_then(|d| d.split_once(':'))
            .and_then(|(u, p)| {
                inner
                    .state
                    .users
                    .iter()
                    .find(|(_, user)| user.username == u && user.password == p)
            });
        return match found {
            Some((id, user)) => Ok(Principal {
                user: *id,
                superuser: user.superuser,
                write_scope: true,
            }),
            None => Err(unauthorized("Invalid username/password.")),
        };
    }
    Err(unauthorized(NOT_PROVIDED))
}

pub(super) async fn handle(
    State(sim): State<GatewaySim>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut inner = sim.lock();
    inner
        .log
        .push(LoggedRequest::of(&method, &uri, &headers, &body));
    let path = uri.path().to_string();
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
    if path == "/o/token/" && method == Method::POST {
        return token(&mut inner, &headers, &body);
    }
    let Some(rest) = path.strip_prefix(PREFIX) else {
        return html_404();
    };
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    if !matches!(
        segments.first(),
        Some(&("applications" | "organizations" | "users"))
    ) {
        return html_404();
    }
    let principal = match authenticate(&inner, &headers) {
        Ok(p) => p,
        Err(r) => return r,
    };
    // Like `OAuth2AccessToken.is_valid`: a token that authenticates is used.
    if let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .and_then(|t| inner.state.tokens.get_mut(t.trim()))
    {
        token.last_used =
            Some(humantime::format_rfc3339_micros(std::time::SystemTime::now()).to_string());
    }
    // gateway.md: only superusers (and auditors); anyone else 403 on every
    // URL, existing or not; a read-scope token only reads.
    let reads = matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
    if !principal.superuser || (!reads && !principal.write_scope) {
        return detail(StatusCode::FORBIDDEN, FORBIDDEN);
    }
    match (segments.as_slice(), &method) {
        (["applications"], &Method::GET) => list_apps(&inner, &path, &query),
        (["applications"], &Method::POST) => create(&mut inner, &body, principal.user),
        (["applications", id, "tokens"], &Method::GET) => {
            match id
                .parse::<u64>()
                .ok()
                .filter(|id| inner.state.apps.contains_key(id))
            {
                Some(id) => respond(StatusCode::OK, &app_tokens(&inner, id)),
                None => detail(StatusCode::NOT_FOUND, APP_NOT_FOUND),
            }
        }
        (["applications", id], m) => {
            let Some(id) = id
                .parse::<u64>()
                .ok()
                .filter(|id| inner.state.apps.contains_key(id))
            else {
                return detail(StatusCode::NOT_FOUND, APP_NOT_FOUND);
            };
            match *m {
                Method::GET => respond(StatusCode::OK, &app_json(&inner, id, false)),
                Method::PATCH => update(&mut inner, id, &body, Write::Patch, principal.user),
                Method::PUT => update(&mut inner, id, &body, Write::Put, principal.user),
                Method::DELETE => {
                    inner.state.apps.remove(&id);
                    inner.state.tokens.retain(|_, t| t.application != Some(id));
                    let mut r = Response::new(Body::empty());
                    *r.status_mut() = StatusCode::NO_CONTENT;
                    r
                }
                _ => method_not_allowed(m),
            }
        }
        (["organizations"], &Method::GET) => {
            let items = inner
                .state
                .organizations
                .iter()
                .map(|(id, name)| json!({"id": id, "name": name, "description": ""}))
                .collect();
            page(&inner, &path, &query, items)
        }
        (["users"], &Method::GET) => {
            let items = inner
                .state
                .users
                .iter()
                .map(|(id, u)| json!({"id": id, "username": u.username, "is_superuser": u.superuser}))
                .collect();
            page(&inner, &path, &query, items)
        }
        ([_], m) | ([_, _], m) => method_not_allowed(m),
        _ => html_404(),
    }
}

fn method_not_allowed(method: &Method) -> Response {
    detail(
        StatusCode::METHOD_NOT_ALLOWED,
        &format!("Method \"{method}\" not allowed."),
    )
}

/// An application as the serializer shows it: the secret in clear on the
/// create answer only, `$encrypted$` afterwards, no key for public apps.
fn app_json(inner: &Inner, id: u64, created: bool) -> Value {
    let Some(a) = inner.state.apps.get(&id) else {
        return Value::Null;
    };
    let org_name = inner
        .state
        .organizations
        .get(&a.organization)
        .cloned()
        .unwrap_or_default();
    let token_count = inner
        .state
        .tokens
        .values()
        .filter(|t| t.application == Some(id))
        .count();
    let tokens: Vec<Value> = inner
        .state
        .tokens
        .iter()
        .filter(|(_, t)| t.application == Some(id))
        .take(10)
        .map(|(_, t)| json!({"token": "$encrypted$", "scope": t.scope}))
        .collect();
    let mut o = Map::new();
    o.insert("id".into(), json!(a.id));
    o.insert(
        "url".into(),
        json!(format!("{PREFIX}/applications/{}/", a.id)),
    );
    o.insert(
        "related".into(),
        json!({
            "access_tokens": format!("{PREFIX}/applications/{}/tokens/", a.id),
            "created_by": format!("{PREFIX}/users/{}/", a.created_by),
            "modified_by": format!("{PREFIX}/users/{}/", a.modified_by),
            "organization": format!("{PREFIX}/organizations/{}/", a.organization),
        }),
    );
    o.insert(
        "summary_fields".into(),
        json!({
            "organization": {"id": a.organization, "name": org_name},
            "tokens": {"count": token_count, "results": tokens},
        }),
    );
    for (k, v) in [
        ("created", json!(a.created)),
        ("created_by", json!(a.created_by)),
        ("modified", json!(a.modified)),
        ("modified_by", json!(a.modified_by)),
        ("name", json!(a.name)),
        ("client_id", json!(a.client_id)),
        ("redirect_uris", json!(a.redirect_uris)),
        (
            "post_logout_redirect_uris",
            json!(a.post_logout_redirect_uris),
        ),
        ("algorithm", json!(a.algorithm)),
        ("user", json!(a.user)),
        ("description", json!(a.description)),
        ("organization", json!(a.organization)),
        ("app_url", json!(a.app_url)),
        ("client_type", json!(a.client_type)),
        ("skip_authorization", json!(a.skip_authorization)),
        (
            "authorization_grant_type",
            json!(a.authorization_grant_type),
        ),
    ] {
        o.insert(k.into(), v);
    }
    if a.client_type == "confidential" {
        let secret = if created {
            a.client_secret.clone()
        } else {
            "$encrypted$".to_string()
        };
        o.insert("client_secret".into(), json!(secret));
    }
    Value::Object(o)
}

fn object(body: &[u8]) -> Result<Map<String, Value>, Response> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(respond(
            StatusCode::BAD_REQUEST,
            &json!({"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}),
        )),
        Err(e) => Err(detail(
            StatusCode::BAD_REQUEST,
            &format!("JSON parse error - {e}"),
        )),
    }
}

fn create(inner: &mut Inner, body: &[u8], user: u64) -> Response {
    let body = match object(body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    if std::mem::take(&mut inner.collide_next_create) {
        // Someone else's identical create lands first.
        let mut other = input::new_app(&mut inner.state, "", 0, user);
        if input::apply(&inner.state, &mut other, &body, Write::Create).is_ok() {
            inner.state.apps.insert(other.id, other);
        }
    }
    let mut app = input::new_app(&mut inner.state, "", 0, user);
    if let Err(errors) = input::apply(&inner.state, &mut app, &body, Write::Create) {
        return respond(StatusCode::BAD_REQUEST, &errors);
    }
    let id = app.id;
    inner.state.apps.insert(id, app);
    let mut r = respond(StatusCode::CREATED, &app_json(inner, id, true));
    if let Ok(v) = HeaderValue::from_str(&format!("{PREFIX}/applications/{id}/")) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

fn update(inner: &mut Inner, id: u64, body: &[u8], write: Write, user: u64) -> Response {
    let body = match object(body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(mut app) = inner.state.apps.get(&id).cloned() else {
        return detail(StatusCode::NOT_FOUND, APP_NOT_FOUND);
    };
    if let Err(errors) = input::apply(&inner.state, &mut app, &body, write) {
        return respond(StatusCode::BAD_REQUEST, &errors);
    }
    app.modified_by = user;
    inner.state.apps.insert(id, app);
    respond(StatusCode::OK, &app_json(inner, id, false))
}

/// `/o/token/`, the password grant (gateway.md): the client by Basic auth or
/// form fields, a confidential app's secret checked; a client-credentials
/// request is `unauthorized_client`.
fn token(inner: &mut Inner, headers: &HeaderMap, body: &[u8]) -> Response {
    let form: Map<String, Value> = url::form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
        .collect();
    let get = |k: &str| {
        form.get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let basic = crate::sandbox::http::basic_credentials(headers);
    let (client_id, client_secret) =
        basic.unwrap_or_else(|| (get("client_id"), get("client_secret")));
    let error = |status: StatusCode, e: &str| respond(status, &json!({ "error": e }));
    let Some(app) = inner
        .state
        .apps
        .values()
        .find(|a| a.client_id == client_id)
        .cloned()
    else {
        return error(StatusCode::UNAUTHORIZED, "invalid_client");
    };
    if app.client_type == "confidential" && app.client_secret != client_secret {
        return error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    let grant = get("grant_type");
    if grant != "password" || app.authorization_grant_type != "password" {
        return error(StatusCode::BAD_REQUEST, "unauthorized_client");
    }
    let user = inner
        .state
        .users
        .iter()
        .find(|(_, u)| u.username == get("username") && u.password == get("password"))
        .map(|(id, _)| *id);
    let Some(user) = user else {
        return respond(
            StatusCode::BAD_REQUEST,
            &json!({"error": "invalid_grant", "error_description": "Invalid credentials given."}),
        );
    };
    let scope = match get("scope").as_str() {
        "" => "read write".to_string(),
        s => s.to_string(),
    };
    let access = random_token(30);
    inner.state.tokens.insert(
        access.clone(),
        Token {
            user,
            scope: scope.clone(),
            application: Some(app.id),
            expires: Some(
                humantime::format_rfc3339_micros(
                    std::time::SystemTime::now() + std::time::Duration::from_secs(31_536_000),
                )
                .to_string(),
            ),
            last_used: None,
        },
    );
    respond(
        StatusCode::CREATED,
        &json!({"access_token": access, "expires_in": 31_536_000, "token_type": "Bearer",
                "scope": scope, "refresh_token": random_token(30)}),
    )
}

/// `/applications/<id>/tokens/`: the application's access tokens, masked,
/// with their `expires` and `last_used` (one page: the simulator holds few).
fn app_tokens(inner: &Inner, id: u64) -> Value {
    let results: Vec<Value> = inner
        .state
        .tokens
        .values()
        .filter(|t| t.application == Some(id))
        .map(|t| {
            json!({"token": "$encrypted$", "scope": t.scope, "application": id,
                   "user": t.user, "expires": t.expires, "last_used": t.last_used})
        })
        .collect();
    json!({"count": results.len(), "next": null, "previous": null, "results": results})
}
