//! The JSON bodies of applications, organizations, users, tokens and OPTIONS.

use super::*;

/// How `client_secret` appears in an application body.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Secret {
    /// Only in the 201 of a create.
    Clear,
    Masked,
}

pub(super) fn app_json(state: &AwxState, app: &App, detail: bool, secret: Secret) -> Value {
    app_json_for(state, app, detail, secret, true)
}

/// `can_write`: `user_capabilities` of a read-scope token are false.
pub(super) fn app_json_for(
    state: &AwxState,
    app: &App,
    detail: bool,
    secret: Secret,
    can_write: bool,
) -> Value {
    let org = state.orgs.iter().find(|o| o.id == app.organization);
    let mut related = Map::new();
    if detail {
        let org_name = org.map(|o| o.name.as_str()).unwrap_or("");
        related.insert(
            "named_url".into(),
            json!(format!(
                "/api/v2/applications/{}++{}/",
                named_url_part(&app.name),
                org_name
            )),
        );
    }
    related.insert(
        "tokens".into(),
        json!(format!("/api/v2/applications/{}/tokens/", app.id)),
    );
    related.insert(
        "activity_stream".into(),
        json!(format!("/api/v2/applications/{}/activity_stream/", app.id)),
    );
    related.insert(
        "organization".into(),
        json!(format!("/api/v2/organizations/{}/", app.organization)),
    );
    let tokens: Vec<&Token> = state
        .tokens
        .iter()
        .filter(|t| t.application == Some(app.id))
        .collect();
    let mut obj = Map::new();
    obj.insert("id".into(), json!(app.id));
    obj.insert("type".into(), json!("o_auth2_application"));
    obj.insert(
        "url".into(),
        json!(format!("/api/v2/applications/{}/", app.id)),
    );
    obj.insert("related".into(), Value::Object(related));
    obj.insert(
        "summary_fields".into(),
        json!({
            "organization": {
                "id": app.organization,
                "name": org.map(|o| o.name.clone()).unwrap_or_default(),
                "description": org.map(|o| o.description.clone()).unwrap_or_default(),
            },
            "user_capabilities": {"edit": can_write, "delete": can_write},
            "tokens": {
                "count": tokens.len(),
                "results": tokens.iter().take(10).map(|t| json!({"id": t.id, "token": "************", "scope": t.scope})).collect::<Vec<_>>(),
            },
        }),
    );
    obj.insert("created".into(), json!(app.created));
    obj.insert("modified".into(), json!(app.modified));
    obj.insert("name".into(), json!(app.name));
    obj.insert("description".into(), json!(app.description));
    obj.insert("client_id".into(), json!(app.client_id));
    // awx.md §3: clear text only in the POST 201, only for confidential apps;
    // the key is absent for public apps.
    if app.client_type == "confidential" {
        let shown = match secret {
            Secret::Clear => app.client_secret.clone(),
            Secret::Masked => "************".into(),
        };
        obj.insert("client_secret".into(), json!(shown));
    }
    obj.insert("client_type".into(), json!(app.client_type));
    obj.insert("redirect_uris".into(), json!(app.redirect_uris));
    obj.insert(
        "authorization_grant_type".into(),
        json!(app.authorization_grant_type),
    );
    obj.insert("skip_authorization".into(), json!(app.skip_authorization));
    obj.insert("organization".into(), json!(app.organization));
    Value::Object(obj)
}

/// Named-URL spelling of a name: `+` as `[+]`, and the characters that would
/// break the path percent-encoded (observed: `a/b?c` → `a%2Fb%3Fc`).
pub(super) fn named_url_part(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        match c {
            '+' => out.push_str("[+]"),
            '/' => out.push_str("%2F"),
            '?' => out.push_str("%3F"),
            '#' => out.push_str("%23"),
            '%' => out.push_str("%25"),
            c => out.push(c),
        }
    }
    out
}

pub(super) fn org_json(org: &Org, detail: bool) -> Value {
    let base = format!("/api/v2/organizations/{}/", org.id);
    let mut related = Map::new();
    if detail {
        related.insert(
            "named_url".into(),
            json!(format!("/api/v2/organizations/{}/", org.name)),
        );
    }
    for r in [
        "users",
        "admins",
        "teams",
        "applications",
        "activity_stream",
    ] {
        related.insert(r.into(), json!(format!("{base}{r}/")));
    }
    json!({
        "id": org.id,
        "type": "organization",
        "url": base,
        "related": related,
        "summary_fields": {"user_capabilities": {"edit": true, "delete": true}},
        "created": org.created,
        "modified": org.created,
        "name": org.name,
        "description": org.description,
        "max_hosts": 0,
        "custom_virtualenv": null,
        "default_environment": null,
    })
}

pub(super) fn user_json(user: &User) -> Value {
    json!({
        "id": user.id,
        "type": "user",
        "url": format!("/api/v2/users/{}/", user.id),
        "related": {"tokens": format!("/api/v2/users/{}/tokens/", user.id)},
        "summary_fields": {"user_capabilities": {"edit": true, "delete": user.id != 1}},
        "created": user.created,
        "modified": null,
        "username": user.username,
        "first_name": "",
        "last_name": "",
        "email": user.email,
        "is_superuser": user.is_superuser,
        "is_system_auditor": false,
        "password": "$encrypted$",
        "ldap_dn": "",
        "last_login": null,
        "external_account": null,
        "auth": [],
    })
}

pub(super) fn token_json(state: &AwxState, token: &Token, clear: bool) -> Value {
    let user = state.users.iter().find(|u| u.id == token.user);
    let mut related = Map::new();
    related.insert(
        "user".into(),
        json!(format!("/api/v2/users/{}/", token.user)),
    );
    let mut summary = Map::new();
    summary.insert(
        "user".into(),
        json!({"id": token.user, "username": user.map(|u| u.username.clone()).unwrap_or_default(), "first_name": "", "last_name": ""}),
    );
    if let Some(app_id) = token.application {
        related.insert(
            "application".into(),
            json!(format!("/api/v2/applications/{app_id}/")),
        );
        let name = state
            .apps
            .get(&app_id)
            .map(|a| a.name.clone())
            .unwrap_or_default();
        summary.insert("application".into(), json!({"id": app_id, "name": name}));
    }
    related.insert(
        "activity_stream".into(),
        json!(format!("/api/v2/tokens/{}/activity_stream/", token.id)),
    );
    let mask = |s: &str| {
        if clear {
            s.to_string()
        } else {
            "************".into()
        }
    };
    json!({
        "id": token.id,
        "type": "o_auth2_access_token",
        "url": format!("/api/v2/tokens/{}/", token.id),
        "related": related,
        "summary_fields": summary,
        "created": token.created,
        "modified": token.created,
        "description": token.description,
        "user": token.user,
        "token": mask(&token.token),
        "refresh_token": token.refresh_token.as_deref().map(mask),
        "application": token.application,
        "expires": token.expires,
        "scope": token.scope,
    })
}

/// DRF metadata: `actions` lists the write verb only when the caller may use it;
/// the detail view's PUT has no grant type (read-only on update).
pub(super) fn options_body(detail_view: bool, can_write: bool) -> Value {
    let mut fields = json!({
        "name": {"type": "string", "required": true, "label": "Name", "max_length": 255},
        "description": {"type": "string", "required": false, "label": "Description", "default": ""},
        "client_type": {"type": "choice", "required": true, "label": "Client Type", "choices": [["confidential", "Confidential"], ["public", "Public"]]},
        "redirect_uris": {"type": "string", "required": false, "label": "Redirect URIs"},
        "authorization_grant_type": {"type": "choice", "required": true, "label": "Authorization Grant Type", "choices": [["authorization-code", "Authorization code"], ["password", "Resource owner password-based"]]},
        "skip_authorization": {"type": "boolean", "required": false, "label": "Skip Authorization", "default": false},
        "organization": {"type": "id", "required": true, "label": "Organization"},
    });
    let (name, verb) = if detail_view {
        if let Some(f) = fields.as_object_mut() {
            f.remove("authorization_grant_type");
        }
        ("OAuth 2 Application Detail", "PUT")
    } else {
        ("OAuth 2 Applications", "POST")
    };
    let mut actions = Map::new();
    actions.insert("GET".into(), json!({}));
    if can_write {
        actions.insert(verb.into(), fields);
    }
    let mut body = json!({
        "name": name,
        "description": "",
        "renders": ["application/json", "text/html"],
        "parses": ["application/json"],
        "actions": actions,
        "types": ["o_auth2_application"],
    });
    if let (false, Some(b)) = (detail_view, body.as_object_mut()) {
        b.insert("search_fields".into(), json!(["name", "description"]));
        b.insert(
            "related_search_fields".into(),
            json!(["organization__search", "user__search"]),
        );
        b.insert("max_page_size".into(), json!(MAX_PAGE_SIZE));
    }
    body
}
