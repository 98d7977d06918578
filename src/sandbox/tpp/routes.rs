//! The HTTP side of the TPP simulator: answers, error bodies, `Result`-only
//! answers, and the request dispatch to VEDAuth and the OAuth calls.

use super::*;

pub(super) fn respond(status: StatusCode, body: &Value) -> Response {
    let mut r = Response::new(Body::from(body.to_string()));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    r
}

pub(super) fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    respond(
        status,
        &json!({"error": error, "error_description": description}),
    )
}

pub(super) fn result(code: u32) -> Response {
    respond(
        StatusCode::OK,
        &json!({"Result": code, "Success": code == 0}),
    )
}

pub(super) async fn handle(
    State(sim): State<TppSim>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut inner = sim.lock();
    inner
        .log
        .push(LoggedRequest::of(&method, &uri, &headers, &body));
    let path = uri.path().to_ascii_lowercase();
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(|t| t.trim().to_string());
    let json_body: Option<Map<String, Value>> = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.as_object().cloned());
    match (method.clone(), path.as_str()) {
        (Method::POST, "/vedauth/authorize/oauth") => authorize(&mut inner, json_body),
        (Method::POST, "/vedauth/authorize/token") => refresh(&mut inner, json_body),
        (Method::GET, "/vedauth/authorize/verify") => verify(&mut inner, bearer),
        (Method::GET, "/vedauth/revoke/token") => revoke(&mut inner, bearer),
        (Method::POST, p) if p.starts_with("/vedsdk/oauth/") => {
            let call = p.trim_start_matches("/vedsdk/oauth/").to_string();
            match check_token(&mut inner, bearer) {
                Ok(()) => match json_body {
                    Some(b) => oauth_call(&mut inner, &call, &b),
                    None => oauth_error(
                        StatusCode::BAD_REQUEST,
                        "invalid_request",
                        "The request body is not a JSON object",
                    ),
                },
                Err(r) => r,
            }
        }
        _ => {
            let mut r = Response::new(Body::from("Not Found"));
            *r.status_mut() = StatusCode::NOT_FOUND;
            r
        }
    }
}
