//! AAP platform gateway OAuth2 applications (django-ansible-base
//! `oauth2_provider`, docs/contracts/gateway.md): partial updates by PATCH like
//! AWX, but the grant type is changed in place, the server checks no redirect
//! URI, and there are three more fields (`post_logout_redirect_uris`,
//! `algorithm`, `app_url`).

use serde_json::{Value, json};

use super::{Compare, FieldRule, Generated, Replacement, Semantics, UpdateStyle};
use crate::model::Kind;

pub const GATEWAY: Semantics = Semantics {
    kind: Kind::Gateway,
    update_style: UpdateStyle::Partial,
    fields: FIELDS,
    display_order: &[
        "client_type",
        "authorization_grant_type",
        "redirect_uris",
        "post_logout_redirect_uris",
        "algorithm",
        "app_url",
        "skip_authorization",
        "description",
    ],
    object_field: None,
    generated: &[
        Generated {
            name: "client_id",
            secret: false,
        },
        Generated {
            name: "client_secret",
            secret: true,
        },
    ],
    // gateway.md: the 128-character secret is in the create answer of
    // confidential apps only; it reads `$encrypted$` afterwards.
    secret_when: Some(("client_type", "confidential")),
    // A PATCH of `name` moves the old app aside, as on AWX.
    replaceable: true,
    organizations: true,
    defaults_from_server: false,
};

/// A text field the server stores trimmed, reset to `default` by `authoritative`.
const fn text(name: &'static str, default: fn() -> Value) -> FieldRule {
    FieldRule {
        name,
        api_name: name,
        duration: false,
        sensitive: false,
        compare: Compare::TrimmedText,
        replacement: Replacement::Never,
        required_to_create: false,
        default: Some(default),
    }
}

/// A space-separated list of URIs, compared as a set.
const fn uri_set(name: &'static str) -> FieldRule {
    FieldRule {
        name,
        api_name: name,
        duration: false,
        sensitive: false,
        compare: Compare::TextSet,
        replacement: Replacement::Never,
        required_to_create: false,
        default: Some(|| json!([])),
    }
}

const FIELDS: &[FieldRule] = &[
    text("algorithm", || json!("")),
    // A URL or null; `authoritative` resets it to null.
    text("app_url", || Value::Null),
    FieldRule {
        name: "authorization_grant_type",
        api_name: "authorization_grant_type",
        duration: false,
        sensitive: false,
        compare: Compare::TrimmedText,
        // gateway.md: PATCH changes it (the token endpoint follows), unlike AWX.
        replacement: Replacement::Never,
        required_to_create: true,
        default: None,
    },
    FieldRule {
        name: "client_type",
        api_name: "client_type",
        duration: false,
        sensitive: false,
        compare: Compare::TrimmedText,
        // As on AWX: public → confidential keeps a secret nobody ever saw.
        replacement: Replacement::FromTo("public", "confidential"),
        required_to_create: true,
        default: None,
    },
    text("description", || json!("")),
    uri_set("post_logout_redirect_uris"),
    uri_set("redirect_uris"),
    FieldRule {
        name: "skip_authorization",
        api_name: "skip_authorization",
        duration: false,
        sensitive: false,
        compare: Compare::Exact,
        replacement: Replacement::Never,
        required_to_create: false,
        default: Some(|| json!(false)),
    },
];
