//! AWX OAuth2 applications (docs/contracts/awx.md): partial updates by PATCH,
//! a client secret shown once for confidential apps, a grant type the server
//! silently refuses to change, and (organization, name) as the identity.

use serde_json::json;

use super::{Compare, FieldRule, Generated, Replacement, Semantics, UpdateStyle};
use crate::model::Kind;

pub const AWX: Semantics = Semantics {
    kind: Kind::Awx,
    update_style: UpdateStyle::Partial,
    fields: FIELDS,
    display_order: &[
        "client_type",
        "authorization_grant_type",
        "redirect_uris",
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
    // awx.md §3: the secret is in the create answer of confidential apps only.
    secret_when: Some(("client_type", "confidential")),
    // awx.md §11.5: a PATCH of `name` moves the old app aside.
    replaceable: true,
    organizations: true,
    defaults_from_server: false,
};

const FIELDS: &[FieldRule] = &[
    FieldRule {
        name: "authorization_grant_type",
        api_name: "authorization_grant_type",
        duration: false,
        sensitive: false,
        compare: Compare::TrimmedText,
        // awx.md §3: read-only on update; PATCH and PUT ignore it silently.
        replacement: Replacement::Always,
        required_to_create: true,
        default: None,
    },
    FieldRule {
        name: "client_type",
        api_name: "client_type",
        duration: false,
        sensitive: false,
        compare: Compare::TrimmedText,
        // awx.md §11.3: public → confidential keeps a secret nobody ever saw.
        replacement: Replacement::FromTo("public", "confidential"),
        required_to_create: true,
        default: None,
    },
    FieldRule {
        name: "description",
        api_name: "description",
        duration: false,
        sensitive: false,
        compare: Compare::TrimmedText,
        replacement: Replacement::Never,
        required_to_create: false,
        default: Some(|| json!("")),
    },
    FieldRule {
        name: "redirect_uris",
        api_name: "redirect_uris",
        duration: false,
        sensitive: false,
        compare: Compare::TextSet,
        replacement: Replacement::Never,
        required_to_create: false,
        default: Some(|| json!([])),
    },
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
