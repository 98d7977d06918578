//! `/api/v2/applications/`: create, read, update, delete, with the serializer's
//! validation and DOT's model checks.

use super::*;

pub(super) fn applications(
    inner: &mut Inner,
    req: &Req<'_>,
    principal: Principal,
    org: Option<u64>,
) -> Response {
    match *req.method {
        Method::GET | Method::HEAD => match list_apps(inner, req, principal, org) {
            Ok(items) => match paginate(req, items, inner.options.max_page_size) {
                Ok(v) => {
                    let first_page = req.query.iter().any(|(k, v)| k == "page" && v == "1");
                    if first_page && org.is_none() {
                        churn_after_first_page(inner);
                    }
                    json_response(StatusCode::OK, &v, Some(LIST_ALLOW), true)
                }
                Err(r) => r,
            },
            Err(r) => r,
        },
        Method::OPTIONS => json_response(
            StatusCode::OK,
            &options_body(false, principal.superuser),
            Some(LIST_ALLOW),
            true,
        ),
        Method::POST => create_app(inner, req, principal, org),
        _ => method_not_allowed(req.method, LIST_ALLOW),
    }
}

/// Test knob: another client deletes an application right after a listing's
/// first page was served, so the next pages shift and `count` drops.
fn churn_after_first_page(inner: &mut Inner) {
    let Some(name) = inner.delete_after_first_page.pop() else {
        return;
    };
    let id = inner
        .state
        .apps
        .values()
        .find(|a| a.name == name)
        .map(|a| a.id);
    if let Some(id) = id {
        inner.state.apps.remove(&id);
    }
}

pub(super) fn create_app(
    inner: &mut Inner,
    req: &Req<'_>,
    principal: Principal,
    org: Option<u64>,
) -> Response {
    let mut body = match req.json_object(true, LIST_ALLOW) {
        Ok(b) => b,
        Err(r) => return r,
    };
    if let Some(org) = org {
        body.insert("organization".into(), json!(org));
    }
    // Access is checked before validation (awx.md §6).
    if !principal.superuser {
        return match body.get("organization") {
            Some(Value::Number(n))
                if !inner.state.orgs.iter().any(|o| Some(o.id) == n.as_u64()) =>
            {
                detail(
                    StatusCode::BAD_REQUEST,
                    "Organization matching query does not exist.",
                    Some(LIST_ALLOW),
                    true,
                )
            }
            Some(Value::String(s)) if s.parse::<u64>().is_err() => detail(
                StatusCode::BAD_REQUEST,
                "Bad data found in related field organization.",
                Some(LIST_ALLOW),
                true,
            ),
            _ => detail(StatusCode::FORBIDDEN, FORBIDDEN, Some(LIST_ALLOW), true),
        };
    }
    let input = match parse_app_input(&inner.state, &body, WriteKind::Create, &BTreeSet::new()) {
        Ok(i) => i,
        Err(errors) => {
            return json_response(
                StatusCode::BAD_REQUEST,
                &Value::Object(errors),
                Some(LIST_ALLOW),
                true,
            );
        }
    };
    let t = now();
    if let Some(description) = inner.collide_next_create.take() {
        let id = inner.state.next_app;
        inner.state.next_app += 1;
        let twin = App {
            id,
            name: input.name.clone().unwrap_or_default(),
            description: description
                .unwrap_or_else(|| input.description.clone().unwrap_or_default()),
            client_id: random_token(40),
            client_secret: random_token(128),
            client_type: input.client_type.clone().unwrap_or_default(),
            redirect_uris: input.redirect_uris.clone().unwrap_or_default(),
            authorization_grant_type: input.grant.clone().unwrap_or_default(),
            skip_authorization: input.skip_authorization.unwrap_or(false),
            organization: input.organization.unwrap_or(1),
            created: t.clone(),
            modified: t.clone(),
        };
        inner.state.apps.insert(id, twin);
    }
    let app = App {
        id: inner.state.next_app,
        name: input.name.unwrap_or_default(),
        description: input.description.unwrap_or_default(),
        client_id: random_token(40),
        client_secret: random_token(128),
        client_type: input.client_type.unwrap_or_default(),
        redirect_uris: input.redirect_uris.unwrap_or_default(),
        authorization_grant_type: input.grant.unwrap_or_default(),
        skip_authorization: input.skip_authorization.unwrap_or(false),
        organization: input.organization.unwrap_or(1),
        created: t.clone(),
        modified: t,
    };
    let mut errors = model_clean(&inner.state, &app);
    if errors.is_empty() && inner.reject_creates.contains(&app.name) {
        // Test knob: the server refuses this create (as AWX refuses a URI it
        // cannot parse, awx.md §11.8).
        errors.push("Enter a valid URL.".into());
    }
    if !errors.is_empty() {
        return json_response(
            StatusCode::BAD_REQUEST,
            &json!({ "__all__": errors }),
            Some(LIST_ALLOW),
            true,
        );
    }
    inner.state.next_app += 1;
    let out = app_json(&inner.state, &app, true, Secret::Clear);
    let location = format!("/api/v2/applications/{}/", app.id);
    inner.state.apps.insert(app.id, app);
    if std::mem::take(&mut inner.lose_next_create_answer) {
        return html_response(StatusCode::SERVICE_UNAVAILABLE, HTML_500);
    }
    created(&out, &location)
}

/// Resolves `{id}` or `{name}++{org}` to an id the caller may see, or the error response.
pub(super) fn resolve_app(inner: &Inner, key: &str, principal: Principal) -> Result<u64, Response> {
    let not_found = || {
        detail(
            StatusCode::NOT_FOUND,
            APP_NOT_FOUND,
            Some(DETAIL_ALLOW),
            true,
        )
    };
    let id = if let Ok(id) = key.parse::<u64>() {
        if !inner.state.apps.contains_key(&id) {
            return Err(not_found());
        }
        id
    } else if let Some((name, org)) = key.rsplit_once("++") {
        let name = percent_decode(name).replace("[+]", "+");
        let org = percent_decode(org);
        if name.contains('/') {
            return Err(html_response(StatusCode::NOT_FOUND, HTML_404));
        }
        let Some(org) = inner.state.orgs.iter().find(|o| o.name == org) else {
            // A named URL whose organization does not resolve is answered by the
            // URL rewriting layer: JSON, but without AWX's product headers (observed).
            let mut r = Response::new(Body::from(json!({ "detail": APP_NOT_FOUND }).to_string()));
            *r.status_mut() = StatusCode::NOT_FOUND;
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            return Err(r);
        };
        match inner
            .state
            .apps
            .values()
            .find(|a| a.name == name && a.organization == org.id)
        {
            Some(a) => a.id,
            None => return Err(html_response(StatusCode::NOT_FOUND, HTML_404)),
        }
    } else {
        return Err(html_response(StatusCode::NOT_FOUND, HTML_404));
    };
    // Detail views use the unfiltered queryset: hidden objects are 403, not 404.
    if !principal.superuser {
        return Err(detail(
            StatusCode::FORBIDDEN,
            FORBIDDEN,
            Some(DETAIL_ALLOW),
            true,
        ));
    }
    Ok(id)
}

pub(super) fn application_detail(
    inner: &mut Inner,
    req: &Req<'_>,
    principal: Principal,
    key: &str,
) -> Response {
    if *req.method == Method::OPTIONS {
        let exists = key
            .parse::<u64>()
            .is_ok_and(|id| inner.state.apps.contains_key(&id));
        return json_response(
            StatusCode::OK,
            &options_body(true, exists && principal.superuser),
            Some(DETAIL_ALLOW),
            true,
        );
    }
    if *req.method == Method::POST {
        return method_not_allowed(req.method, DETAIL_ALLOW);
    }
    let id = match resolve_app(inner, key, principal) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let Some(current) = inner.state.apps.get(&id).cloned() else {
        return detail(
            StatusCode::NOT_FOUND,
            APP_NOT_FOUND,
            Some(DETAIL_ALLOW),
            true,
        );
    };
    let writes = !matches!(*req.method, Method::GET | Method::HEAD);
    if writes && inner.options.read_only_apps.contains(&current.name) {
        return detail(StatusCode::FORBIDDEN, FORBIDDEN, Some(DETAIL_ALLOW), true);
    }
    match *req.method {
        Method::GET | Method::HEAD => json_response(
            StatusCode::OK,
            &app_json(&inner.state, &current, true, Secret::Masked),
            Some(DETAIL_ALLOW),
            true,
        ),
        Method::DELETE => {
            inner.state.apps.remove(&id);
            // Deleting an app deletes its tokens (awx.md §6).
            inner.state.tokens.retain(|t| t.application != Some(id));
            no_content()
        }
        Method::PATCH | Method::PUT => {
            let kind = if *req.method == Method::PUT {
                WriteKind::Put
            } else {
                WriteKind::Patch
            };
            let body = match req.json_object(true, DETAIL_ALLOW) {
                Ok(b) => b,
                Err(r) => return r,
            };
            let input =
                match parse_app_input(&inner.state, &body, kind, &inner.options.ignore_on_update) {
                    Ok(i) => i,
                    Err(errors) => {
                        return json_response(
                            StatusCode::BAD_REQUEST,
                            &Value::Object(errors),
                            Some(DETAIL_ALLOW),
                            true,
                        );
                    }
                };
            let mut app = current;
            if let Some(v) = input.name {
                app.name = v;
            }
            match (input.description, kind) {
                (Some(v), _) => app.description = v,
                // PUT re-applies defaults for omitted fields (awx.md §6).
                (None, WriteKind::Put)
                    if !inner.options.ignore_on_update.contains("description") =>
                {
                    app.description = String::new()
                }
                _ => {}
            }
            if let Some(v) = input.client_type {
                app.client_type = v;
            }
            if let Some(v) = input.redirect_uris {
                app.redirect_uris = v;
            }
            match (input.skip_authorization, kind) {
                (Some(v), _) => app.skip_authorization = v,
                (None, WriteKind::Put)
                    if !inner
                        .options
                        .ignore_on_update
                        .contains("skip_authorization") =>
                {
                    app.skip_authorization = false
                }
                _ => {}
            }
            if let Some(v) = input.organization {
                app.organization = v;
            }
            let errors = model_clean(&inner.state, &app);
            if !errors.is_empty() {
                return json_response(
                    StatusCode::BAD_REQUEST,
                    &json!({ "__all__": errors }),
                    Some(DETAIL_ALLOW),
                    true,
                );
            }
            app.modified = now();
            let out = app_json(&inner.state, &app, true, Secret::Masked);
            inner.state.apps.insert(id, app);
            json_response(StatusCode::OK, &out, Some(DETAIL_ALLOW), true)
        }
        _ => method_not_allowed(req.method, DETAIL_ALLOW),
    }
}
