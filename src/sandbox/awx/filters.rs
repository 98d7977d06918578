//! The list filters of the DAB field-lookup backend, search and ordering.

use super::*;

// ------------------------------------------------------------------ applications

/// A value of an application for filtering and ordering.
#[derive(Debug, Clone, PartialEq, PartialOrd)]
pub(super) enum FieldValue {
    Int(u64),
    Text(String),
    Bool(bool),
}

pub(super) const APP_TEXT_FIELDS: &[&str] = &[
    "name",
    "description",
    "client_type",
    "redirect_uris",
    "authorization_grant_type",
    "created",
];

pub(super) fn app_field(
    state: &AwxState,
    app: &App,
    path: &[&str],
) -> Result<Option<FieldValue>, String> {
    Ok(match path {
        ["id"] => Some(FieldValue::Int(app.id)),
        ["name"] => Some(FieldValue::Text(app.name.clone())),
        ["description"] => Some(FieldValue::Text(app.description.clone())),
        ["client_type"] => Some(FieldValue::Text(app.client_type.clone())),
        ["redirect_uris"] => Some(FieldValue::Text(app.redirect_uris.clone())),
        ["authorization_grant_type"] => {
            Some(FieldValue::Text(app.authorization_grant_type.clone()))
        }
        ["skip_authorization"] => Some(FieldValue::Bool(app.skip_authorization)),
        ["created"] => Some(FieldValue::Text(app.created.clone())),
        ["organization"] | ["organization", "id"] => Some(FieldValue::Int(app.organization)),
        ["user"] => None,
        ["organization", f] => {
            let org = state.orgs.iter().find(|o| o.id == app.organization);
            match *f {
                "name" => org.map(|o| FieldValue::Text(o.name.clone())),
                "description" => org.map(|o| FieldValue::Text(o.description.clone())),
                other => return Err(format!("Organization has no field named '{other}'")),
            }
        }
        [other, ..] => return Err(format!("OAuth2Application has no field named '{other}'")),
        [] => None,
    })
}

pub(super) const LOOKUPS: &[&str] = &[
    "exact",
    "iexact",
    "contains",
    "icontains",
    "startswith",
    "istartswith",
    "endswith",
    "iendswith",
    "in",
    "gt",
    "gte",
    "lt",
    "lte",
    "isnull",
];

/// One `?key=value` filter of the DAB field-lookup backend, compiled.
pub(super) struct Filter {
    pub(super) negate: bool,
    pub(super) or: bool,
    pub(super) path: Vec<String>,
    pub(super) lookup: String,
    pub(super) value: String,
}

/// Filtering on a secret is refused with 403 (awx.md §5).
pub(super) struct FilterForbidden(String);

pub(super) fn parse_filter(key: &str, value: &str) -> Result<Filter, FilterForbidden> {
    let mut parts: Vec<&str> = key.split("__").collect();
    let mut negate = false;
    let mut or = false;
    loop {
        match parts.first() {
            Some(&"not") => {
                negate = true;
                parts.remove(0);
            }
            Some(&"or") => {
                or = true;
                parts.remove(0);
            }
            Some(&"chain") => {
                parts.remove(0);
            }
            _ => break,
        }
    }
    if let Some(first) = parts
        .first()
        .filter(|f| **f == "client_id" || **f == "client_secret")
    {
        return Err(FilterForbidden(format!(
            "Filtering on {first} is not allowed."
        )));
    }
    let lookup = match parts.last() {
        Some(l) if LOOKUPS.contains(l) && parts.len() > 1 => {
            let l = l.to_string();
            parts.pop();
            l
        }
        _ => "exact".to_string(),
    };
    Ok(Filter {
        negate,
        or,
        path: parts.into_iter().map(str::to_string).collect(),
        lookup,
        value: value.to_string(),
    })
}

pub(super) fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "true" | "True" | "TRUE" | "1" | "t" | "T" | "yes" | "on" => Some(true),
        "false" | "False" | "FALSE" | "0" | "f" | "F" | "no" | "off" => Some(false),
        _ => None,
    }
}

pub(super) fn filter_matches(state: &AwxState, app: &App, f: &Filter) -> Result<bool, String> {
    let path: Vec<&str> = f.path.iter().map(String::as_str).collect();
    let field = app_field(state, app, &path)?;
    let is_text = matches!(path.as_slice(), [p] if APP_TEXT_FIELDS.contains(p))
        || matches!(path.as_slice(), ["organization", "name" | "description"]);
    if f.lookup.starts_with('i') && f.lookup != "in" && f.lookup != "isnull" && !is_text {
        return Err(format!(
            "{} is not a text field and cannot be filtered by case-insensitive search",
            f.path.join("__")
        ));
    }
    if f.lookup == "isnull" {
        let want = parse_bool(&f.value).unwrap_or(true);
        return Ok(field.is_none() == want);
    }
    let Some(field) = field else {
        return Ok(false);
    };
    let parse_as = |raw: &str| -> Result<FieldValue, String> {
        match &field {
            FieldValue::Int(_) => raw.parse::<u64>().map(FieldValue::Int).map_err(|_| {
                if path.first() == Some(&"organization") && path.len() == 1 {
                    format!("Invalid organization id: {raw}")
                } else {
                    format!("[\"\u{201c}{raw}\u{201d} value must be an integer.\"]")
                }
            }),
            FieldValue::Bool(_) => parse_bool(raw)
                .map(FieldValue::Bool)
                .ok_or_else(|| format!("Unable to convert \"{raw}\" to boolean")),
            FieldValue::Text(_) => Ok(FieldValue::Text(raw.to_string())),
        }
    };
    let text = |v: &FieldValue| match v {
        FieldValue::Text(s) => s.clone(),
        FieldValue::Int(i) => i.to_string(),
        FieldValue::Bool(b) => b.to_string(),
    };
    Ok(match f.lookup.as_str() {
        "in" => {
            if f.value.is_empty() {
                return Err("cannot provide empty value for __in".into());
            }
            let mut any = false;
            for item in f.value.split(',') {
                if parse_as(item)? == field {
                    any = true;
                }
            }
            any
        }
        "exact" => parse_as(&f.value)? == field,
        "iexact" => text(&field).to_lowercase() == f.value.to_lowercase(),
        "contains" => text(&field).contains(&f.value),
        "icontains" => text(&field)
            .to_lowercase()
            .contains(&f.value.to_lowercase()),
        "startswith" => text(&field).starts_with(&f.value),
        "istartswith" => text(&field)
            .to_lowercase()
            .starts_with(&f.value.to_lowercase()),
        "endswith" => text(&field).ends_with(&f.value),
        "iendswith" => text(&field)
            .to_lowercase()
            .ends_with(&f.value.to_lowercase()),
        "gt" => field > parse_as(&f.value)?,
        "gte" => field >= parse_as(&f.value)?,
        "lt" => field < parse_as(&f.value)?,
        "lte" => field <= parse_as(&f.value)?,
        _ => false,
    })
}

pub(super) fn list_apps(
    inner: &Inner,
    req: &Req<'_>,
    principal: Principal,
    org: Option<u64>,
) -> Result<Vec<Value>, Response> {
    let state = &inner.state;
    let bad = |msg: String| detail(StatusCode::BAD_REQUEST, &msg, Some(LIST_ALLOW), true);
    let mut filters = Vec::new();
    for (key, value) in &req.query {
        if RESERVED_QUERY.contains(&key.as_str()) {
            continue;
        }
        match parse_filter(key, value) {
            Ok(f) => filters.push(f),
            Err(FilterForbidden(m)) => {
                return Err(detail(StatusCode::FORBIDDEN, &m, Some(LIST_ALLOW), true));
            }
        }
    }
    // Visibility (awx.md §5): superusers see everything; this simulator gives
    // other users no organization roles, so they see nothing.
    let mut apps: Vec<&App> = if principal.superuser {
        state.apps.values().collect()
    } else {
        Vec::new()
    };
    if let Some(org) = org {
        apps.retain(|a| a.organization == org);
    }
    if req
        .param("type")
        .is_some_and(|t| t.split(',').all(|t| t != "o_auth2_application"))
    {
        apps.clear();
    }
    let mut kept = Vec::new();
    for app in apps {
        let mut ok = true;
        let mut any_or: Option<bool> = None;
        for f in &filters {
            let m = filter_matches(state, app, f).map_err(bad)? != f.negate;
            if f.or {
                any_or = Some(any_or.unwrap_or(false) || m);
            } else {
                ok &= m;
            }
        }
        if ok && any_or.unwrap_or(true) {
            kept.push(app);
        }
    }
    if let Some(search) = req.param("search") {
        let terms: Vec<String> = search
            .split([',', ' '])
            .filter(|t| !t.is_empty())
            .map(str::to_lowercase)
            .collect();
        kept.retain(|a| {
            terms.iter().all(|t| {
                a.name.to_lowercase().contains(t) || a.description.to_lowercase().contains(t)
            })
        });
    }
    // Default order: organization, then name (model Meta.ordering); byte order.
    let mut keys: Vec<(String, bool)> =
        vec![("organization".into(), false), ("name".into(), false)];
    if let Some(order) = req.param("order_by").or_else(|| req.param("order")) {
        keys = order
            .split(',')
            .filter(|k| !k.is_empty())
            .map(|k| match k.strip_prefix('-') {
                Some(f) => (f.to_string(), true),
                None => (k.to_string(), false),
            })
            .collect();
        for (k, _) in &keys {
            let path: Vec<&str> = k.split("__").collect();
            if let Some(first) = kept.first() {
                app_field(state, first, &path).map_err(bad)?;
            } else if !matches!(path.as_slice(), [p] if APP_TEXT_FIELDS.contains(p) || ["id", "organization", "skip_authorization"].contains(p))
            {
                return Err(bad(format!("OAuth2Application has no field named '{k}'")));
            }
        }
    }
    kept.sort_by(|a, b| {
        for (k, desc) in &keys {
            let path: Vec<&str> = k.split("__").collect();
            let va = app_field(state, a, &path).ok().flatten();
            let vb = app_field(state, b, &path).ok().flatten();
            let ord = va.partial_cmp(&vb).unwrap_or(std::cmp::Ordering::Equal);
            let ord = if *desc { ord.reverse() } else { ord };
            if ord != std::cmp::Ordering::Equal {
                return ord;
            }
        }
        a.id.cmp(&b.id)
    });
    Ok(kept
        .into_iter()
        .map(|a| {
            // A write the listing marks false gets 403 (awx.md, observed).
            let can_write = principal.superuser
                && principal.write
                && !inner.options.read_only_apps.contains(&a.name);
            app_json_for(state, a, false, Secret::Masked, can_write)
        })
        .collect())
}
