//! Listing applications: the filters DRF's filter backend accepts, and
//! pages as django-ansible-base serves them.

use super::*;

/// One filter of the field-lookup backend: `field`, `field__in`,
/// `field__iexact`, `field__icontains`, `field__startswith`.
fn matches_filter(app: &App, field: &str, lookup: &str, value: &str) -> bool {
    let text = match field {
        "id" => app.id.to_string(),
        "name" => app.name.clone(),
        "organization" => app.organization.to_string(),
        "client_id" => app.client_id.clone(),
        "client_type" => app.client_type.clone(),
        "authorization_grant_type" => app.authorization_grant_type.clone(),
        "redirect_uris" => app.redirect_uris.clone(),
        "post_logout_redirect_uris" => app.post_logout_redirect_uris.clone(),
        "algorithm" => app.algorithm.clone(),
        "app_url" => app.app_url.clone().unwrap_or_default(),
        "skip_authorization" => if app.skip_authorization {
            "true"
        } else {
            "false"
        }
        .into(),
        "description" => app.description.clone(),
        "user" => app.user.map(|u| u.to_string()).unwrap_or_default(),
        _ => return true,
    };
    match lookup {
        "in" => value.split(',').any(|v| v == text),
        "iexact" => text.to_lowercase() == value.to_lowercase(),
        "icontains" => text.to_lowercase().contains(&value.to_lowercase()),
        "contains" => text.contains(value),
        "startswith" => text.starts_with(value),
        _ => text == value,
    }
}

pub(super) fn list_apps(inner: &Inner, path: &str, query: &[(String, String)]) -> Response {
    let mut filters = Vec::new();
    for (key, value) in query {
        if RESERVED.contains(&key.as_str()) {
            continue;
        }
        let (field, lookup) = key.split_once("__").unwrap_or((key.as_str(), "exact"));
        if field == "client_secret" {
            return detail(
                StatusCode::FORBIDDEN,
                "Filtering on client_secret is not allowed.",
            );
        }
        if !FILTERABLE.contains(&field) {
            return detail(
                StatusCode::BAD_REQUEST,
                &format!("OAuth2Application has no field named '{field}'"),
            );
        }
        if matches!(
            field,
            "id" | "organization" | "user" | "created_by" | "modified_by"
        ) && lookup == "exact"
            && value.parse::<u64>().is_err()
        {
            return detail(
                StatusCode::BAD_REQUEST,
                &format!("Field '{field}' expected a number but got '{value}'."),
            );
        }
        filters.push((field.to_string(), lookup.to_string(), value.clone()));
    }
    // The model's ordering: (organization, name).
    let mut apps: Vec<&App> = inner
        .state
        .apps
        .values()
        .filter(|a| filters.iter().all(|(f, l, v)| matches_filter(a, f, l, v)))
        .collect();
    apps.sort_by(|a, b| (a.organization, &a.name, a.id).cmp(&(b.organization, &b.name, b.id)));
    let items = apps.iter().map(|a| app_json(inner, a.id, false)).collect();
    page(inner, path, query, items)
}

/// DAB's page-number pagination: 50 by default, at most `max_page_size`,
/// a bad size falls back to 50, a page past the end (or not a number) is
/// 404; links keep the query (sorted) with the page replaced.
pub(super) fn page(
    inner: &Inner,
    path: &str,
    query: &[(String, String)],
    items: Vec<Value>,
) -> Response {
    let param = |k: &str| query.iter().find(|(q, _)| q == k).map(|(_, v)| v.as_str());
    let size = match param("page_size").and_then(|s| s.parse::<i64>().ok()) {
        Some(n) if n > 0 => (n as usize).min(inner.options.max_page_size),
        _ => DEFAULT_PAGE_SIZE,
    };
    let count = items.len();
    let pages = count.div_ceil(size).max(1);
    let page = match param("page") {
        None => 1,
        Some("last") => pages,
        Some(p) => match p.parse::<usize>() {
            Ok(n) if (1..=pages).contains(&n) => n,
            _ => return detail(StatusCode::NOT_FOUND, "Invalid page."),
        },
    };
    let link = |target: usize| -> String {
        let mut params: Vec<(String, String)> =
            query.iter().filter(|(k, _)| k != "page").cloned().collect();
        if target > 1 {
            params.push(("page".into(), target.to_string()));
        }
        params.sort();
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &params {
            ser.append_pair(k, v);
        }
        let q = ser.finish();
        if q.is_empty() {
            path.to_string()
        } else {
            format!("{path}?{q}")
        }
    };
    let results: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * size)
        .take(size)
        .collect();
    if param("count_disabled").is_some() {
        return respond(StatusCode::OK, &json!({ "results": results }));
    }
    let next = (page < pages).then(|| link(page + 1));
    let previous = (page > 1).then(|| link(page - 1));
    respond(
        StatusCode::OK,
        &json!({"count": count, "next": next, "previous": previous, "results": results}),
    )
}
