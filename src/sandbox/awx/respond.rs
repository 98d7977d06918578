//! HTTP answers as AWX gives them: JSON with its headers, Django's HTML
//! pages, 301s, 204s, 405s.

use super::*;

// ------------------------------------------------------------------ helpers

pub(super) fn now() -> String {
    humantime::format_rfc3339_micros(std::time::SystemTime::now()).to_string()
}

pub(super) fn json_response(
    status: StatusCode,
    body: &Value,
    allow: Option<&str>,
    authed: bool,
) -> Response {
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(allow) = allow.and_then(|a| HeaderValue::from_str(a).ok()) {
        h.insert(header::ALLOW, allow);
    }
    h.insert("X-API-Product-Name", HeaderValue::from_static("AWX"));
    if authed {
        h.insert("X-API-Product-Version", HeaderValue::from_static(VERSION));
    }
    response
}

pub(super) fn html_response(status: StatusCode, body: &'static str) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

pub(super) fn detail(
    status: StatusCode,
    message: &str,
    allow: Option<&str>,
    authed: bool,
) -> Response {
    json_response(status, &json!({ "detail": message }), allow, authed)
}

pub(super) fn unauthorized() -> Response {
    let mut r = detail(StatusCode::UNAUTHORIZED, UNAUTHENTICATED, None, false);
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=api authorization_url=/api/o/authorize/"),
    );
    r
}

pub(super) fn redirect(location: &str) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::MOVED_PERMANENTLY;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}

pub(super) fn created(body: &Value, location: &str) -> Response {
    let mut r = json_response(StatusCode::CREATED, body, Some(LIST_ALLOW), true);
    if let Ok(v) = HeaderValue::from_str(location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

pub(super) fn no_content() -> Response {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::NO_CONTENT;
    r.headers_mut()
        .insert("X-API-Product-Name", HeaderValue::from_static("AWX"));
    r.headers_mut()
        .insert("X-API-Product-Version", HeaderValue::from_static(VERSION));
    r
}

pub(super) fn method_not_allowed(method: &Method, allow: &str) -> Response {
    detail(
        StatusCode::METHOD_NOT_ALLOWED,
        &format!("Method \"{method}\" not allowed."),
        Some(allow),
        true,
    )
}

pub(super) fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("k={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}
