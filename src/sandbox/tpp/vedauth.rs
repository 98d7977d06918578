//! VEDAuth (tpp.md §4): tokens obtained with a password grant, refreshed with
//! rotation, verified and revoked, with a configurable lifetime, and the
//! bearer check of every `/vedsdk` call.

use super::*;

pub(super) fn issue(inner: &mut Inner, client_id: &str, identity: &str, scope: &str) -> Value {
    let t = now();
    let token = Token {
        access: random_token(24),
        refresh: random_token(24),
        client_id: client_id.into(),
        identity: identity.into(),
        scope: scope.into(),
        expires: t + inner.options.token_lifetime,
        uses: 0,
        revoked: false,
    };
    let body = json!({
        "access_token": token.access,
        "refresh_token": token.refresh,
        "expires": token.expires,
        "refresh_until": t + 30 * 86_400,
        "scope": token.scope,
        "identity": token.identity,
        "token_type": "Bearer",
    });
    inner.tokens.push(token);
    body
}

pub(super) fn authorize(inner: &mut Inner, body: Option<Map<String, Value>>) -> Response {
    let Some(b) = body else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The request body is not JSON",
        );
    };
    let s = |k: &str| b.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let (client_id, username, password, scope) =
        (s("client_id"), s("username"), s("password"), s("scope"));
    if client_id.is_empty() || username.is_empty() {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "client_id and username are required",
        );
    }
    if inner.options.users.get(&username) != Some(&password) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "Username/password combination not valid",
        );
    }
    let scope = if scope.is_empty() {
        "any".to_string()
    } else {
        scope
    };
    let identity = format!("local:{{{username}}}");
    respond(StatusCode::OK, &issue(inner, &client_id, &identity, &scope))
}

pub(super) fn refresh(inner: &mut Inner, body: Option<Map<String, Value>>) -> Response {
    let Some(b) = body else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The request body is not JSON",
        );
    };
    let refresh = b.get("refresh_token").and_then(Value::as_str).unwrap_or("");
    let client_id = b.get("client_id").and_then(Value::as_str).unwrap_or("");
    let Some(pos) = inner
        .tokens
        .iter()
        .position(|t| t.refresh == refresh && t.client_id == client_id && !t.revoked)
    else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "Grant has been revoked, has expired, or the refresh token is invalid",
        );
    };
    // The refresh token rotates: the old grant's tokens stop working.
    let (identity, scope) = match inner.tokens.get_mut(pos) {
        Some(old) => {
            old.revoked = true;
            (old.identity.clone(), old.scope.clone())
        }
        None => return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "Grant not found"),
    };
    let mut out = issue(inner, client_id, &identity, &scope);
    if let Some(o) = out.as_object_mut() {
        o.remove("scope");
    }
    respond(StatusCode::OK, &out)
}

pub(super) fn find_token<'a>(
    inner: &'a mut Inner,
    bearer: &Option<String>,
) -> Option<&'a mut Token> {
    let b = bearer.as_ref()?;
    inner.tokens.iter_mut().find(|t| &t.access == b)
}

pub(super) fn verify(inner: &mut Inner, bearer: Option<String>) -> Response {
    let t = now();
    if let Some(b) = &bearer
        && inner.options.static_tokens.contains(b)
    {
        return respond(
            StatusCode::OK,
            &json!({"application": "sandbox", "identity": "local:{sandbox}", "scope": "admin:delete", "valid_for": 0}),
        );
    }
    match find_token(inner, &bearer) {
        Some(tok) if !tok.revoked && tok.expires > t => respond(
            StatusCode::OK,
            &json!({
                "access_issued_on_ISO8601": "", "application": tok.client_id, "expires_ISO8601": "",
                "expires_unix_time": tok.expires, "grant_issued_on_ISO8601": "",
                "identity": tok.identity, "scope": tok.scope, "valid_for": tok.expires - t,
            }),
        ),
        _ => oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "The access token is not valid",
        ),
    }
}

pub(super) fn revoke(inner: &mut Inner, bearer: Option<String>) -> Response {
    if inner.fail_revocations {
        let mut r = Response::new(Body::from("Internal Server Error"));
        *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        return r;
    }
    if bearer.is_none() {
        let mut r = Response::new(Body::from("[token] not found"));
        *r.status_mut() = StatusCode::ACCEPTED;
        return r;
    }
    match find_token(inner, &bearer) {
        Some(tok) => {
            tok.revoked = true;
            let identity = tok.identity.clone();
            let mut r = Response::new(Body::from(format!(
                "Grant for identity {identity} has been revoked"
            )));
            *r.status_mut() = StatusCode::OK;
            r
        }
        None => oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "The access token is not valid",
        ),
    }
}

/// 401 for a missing, expired, revoked or unknown token; 403 without `admin`.
pub(super) fn check_token(inner: &mut Inner, bearer: Option<String>) -> Result<(), Response> {
    let Some(b) = bearer.clone() else {
        return Err(oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "No access token was provided",
        ));
    };
    if inner.options.static_tokens.contains(&b) {
        return Ok(());
    }
    let max_uses = inner.options.token_max_uses;
    let t = now();
    let Some(tok) = find_token(inner, &bearer) else {
        return Err(oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "The access token is not valid",
        ));
    };
    tok.uses += 1;
    let used_up = max_uses.is_some_and(|m| tok.uses > m);
    if tok.revoked {
        return Err(oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "The access token has been revoked",
        ));
    }
    if tok.expires <= t || used_up {
        return Err(oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "The access token has expired",
        ));
    }
    let has_admin = tok.scope.split(';').any(|s| {
        s.split(':')
            .next()
            .is_some_and(|n| n.trim().eq_ignore_ascii_case("admin"))
    });
    if !has_admin {
        return Err(oauth_error(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            "The access token does not have the admin scope required for this operation",
        ));
    }
    Ok(())
}
