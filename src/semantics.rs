//! What differs between the kinds, as data: each kind's update style and, per
//! field, how it is compared, whether a change forces replacement, whether it is
//! required to create, and its server default (for `authoritative: true`).
//! Models: Terraform's plan modifiers and DNSControl's capability tables.

use serde_json::{Value, json};

use crate::model::Kind;

/// How a server stores an update (SPEC §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateStyle {
    /// AWX PATCH: send the changed fields only.
    Partial,
    /// TPP UpdateApplication, WHM save: send the whole object (read-modify-write).
    FullReplace,
}

impl UpdateStyle {
    /// The JSON plan's `update_style`.
    pub fn as_str(self) -> &'static str {
        match self {
            UpdateStyle::Partial => "partial",
            UpdateStyle::FullReplace => "full_replace",
        }
    }
    /// Words for the text plan's server header.
    pub fn describe(self) -> &'static str {
        match self {
            UpdateStyle::Partial => "partial updates",
            UpdateStyle::FullReplace => "full replace",
        }
    }
}

/// How two values of a field are compared (SPEC §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compare {
    /// Strings with outer whitespace trimmed (AWX trims).
    TrimmedText,
    /// A list compared as a set of trimmed strings (AWX redirect URIs).
    TextSet,
    /// Exact JSON equality (booleans, seconds).
    Exact,
    /// TPP scope strings, compared as scope → set of restrictions.
    Scope,
    /// JSON values: object key order ignored, array order kept.
    Json,
}

/// When a change of the field cannot be made in place (SPEC §2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replacement {
    Never,
    /// Any change: the server silently ignores it (AWX grant type).
    Always,
    /// Only a change from this value to that one.
    FromTo(&'static str, &'static str),
}

#[derive(Debug, Clone, Copy)]
pub struct FieldRule {
    /// The config name (and, for AWX, the API name).
    pub name: &'static str,
    pub compare: Compare,
    pub replacement: Replacement,
    pub required_to_create: bool,
    /// The value the server gives the field when it is not set; `authoritative`
    /// resets unmentioned fields to it. `None`: not resettable.
    pub default: Option<fn() -> Value>,
}

impl FieldRule {
    pub fn forces_replacement(&self, before: &Value, after: &Value) -> bool {
        match self.replacement {
            Replacement::Never => false,
            Replacement::Always => true,
            Replacement::FromTo(from, to) => before == from && after == to,
        }
    }
}

const AWX_FIELDS: &[FieldRule] = &[
    FieldRule {
        name: "authorization_grant_type",
        compare: Compare::TrimmedText,
        // awx.md §3: read-only on update; PATCH and PUT ignore it silently.
        replacement: Replacement::Always,
        required_to_create: true,
        default: None,
    },
    FieldRule {
        name: "client_type",
        compare: Compare::TrimmedText,
        // awx.md §11.3: public → confidential keeps a secret nobody ever saw.
        replacement: Replacement::FromTo("public", "confidential"),
        required_to_create: true,
        default: None,
    },
    FieldRule {
        name: "description",
        compare: Compare::TrimmedText,
        replacement: Replacement::Never,
        required_to_create: false,
        default: Some(|| json!("")),
    },
    FieldRule {
        name: "redirect_uris",
        compare: Compare::TextSet,
        replacement: Replacement::Never,
        required_to_create: false,
        default: Some(|| json!([])),
    },
    FieldRule {
        name: "skip_authorization",
        compare: Compare::Exact,
        replacement: Replacement::Never,
        required_to_create: false,
        default: Some(|| json!(false)),
    },
];

const fn tpp_text(name: &'static str) -> FieldRule {
    FieldRule {
        name,
        compare: Compare::Exact,
        replacement: Replacement::Never,
        required_to_create: true,
        default: None,
    }
}

const fn tpp_scope(name: &'static str) -> FieldRule {
    FieldRule {
        name,
        compare: Compare::Scope,
        replacement: Replacement::Never,
        required_to_create: true,
        default: None,
    }
}

/// tpp.md §2. The validity defaults are the system defaults a Get omits.
const TPP_FIELDS: &[FieldRule] = &[
    FieldRule {
        name: "access_validity",
        compare: Compare::Exact,
        replacement: Replacement::Never,
        required_to_create: false,
        default: Some(|| json!(TPP_DEFAULT_ACCESS_VALIDITY)),
    },
    tpp_text("description"),
    FieldRule {
        name: "grant_validity",
        compare: Compare::Exact,
        replacement: Replacement::Never,
        required_to_create: false,
        default: Some(|| json!(TPP_DEFAULT_GRANT_VALIDITY)),
    },
    tpp_scope("maximum_scope"),
    tpp_text("name"),
    FieldRule {
        name: "renewable",
        compare: Compare::Exact,
        replacement: Replacement::Never,
        required_to_create: false,
        default: Some(|| json!(true)),
    },
    tpp_scope("scope"),
    tpp_text("url"),
    tpp_text("vendor"),
];

/// tpp.md §2: "Token expires after" (90 days) and "Grant validity" (1 year).
pub const TPP_DEFAULT_ACCESS_VALIDITY: u64 = 7_776_000;
pub const TPP_DEFAULT_GRANT_VALIDITY: u64 = 31_536_000;
/// WHM: one field, `data`, whose top-level keys are diffed one by one
/// (see [`object_keys_field`]).
const WHM_FIELDS: &[FieldRule] = &[FieldRule {
    name: "data",
    compare: Compare::Json,
    replacement: Replacement::Never,
    required_to_create: true,
    default: None,
}];

/// For WHM the body of a write is the `data` object, and its top-level keys are
/// the fields: declared keys are managed, other live keys are carried over (or
/// dropped under `authoritative`), each compared as JSON (SPEC §2.2–§2.3).
/// Live apps name those fields `data.<key>`.
pub fn object_keys_field(kind: Kind) -> Option<&'static str> {
    match kind {
        Kind::Whm => Some("data"),
        Kind::Awx | Kind::Tpp => None,
    }
}

/// The managed fields of a kind, sorted by name.
pub fn field_rules(kind: Kind) -> &'static [FieldRule] {
    match kind {
        Kind::Awx => AWX_FIELDS,
        Kind::Tpp => TPP_FIELDS,
        Kind::Whm => WHM_FIELDS,
    }
}

/// Whether an application of this kind can be replaced create-before-destroy
/// (SPEC §3.2): AWX can move the old app aside by renaming it; a TPP ID or a
/// WHM name is the only key, so the old app would have to go first.
pub fn replaceable(kind: Kind) -> bool {
    match kind {
        Kind::Awx => true,
        Kind::Tpp | Kind::Whm => false,
    }
}

pub fn update_style(kind: Kind) -> UpdateStyle {
    match kind {
        Kind::Awx => UpdateStyle::Partial,
        Kind::Tpp | Kind::Whm => UpdateStyle::FullReplace,
    }
}

/// What the server generates on create and never lets anyone compare
/// (shown in the text plan under a create).
pub fn generated_on_create(kind: Kind, with_secret: bool) -> Option<&'static str> {
    match (kind, with_secret) {
        (Kind::Awx, true) => {
            Some("client_id, client_secret: generated by the server (secret captured once)")
        }
        (Kind::Awx, false) => Some("client_id: generated by the server"),
        (Kind::Tpp | Kind::Whm, _) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tpp_rules_are_sorted_and_need_six_fields_to_create() {
        let names: Vec<_> = TPP_FIELDS.iter().map(|r| r.name).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        assert_eq!(
            TPP_FIELDS.iter().filter(|r| r.required_to_create).count(),
            6
        );
    }

    #[test]
    fn awx_rules_are_sorted_and_the_grant_type_forces_replacement() {
        let names: Vec<_> = AWX_FIELDS.iter().map(|r| r.name).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        let grant = AWX_FIELDS
            .iter()
            .find(|r| r.name == "authorization_grant_type")
            .unwrap();
        assert!(grant.forces_replacement(&json!("password"), &json!("authorization-code")));
    }

    #[test]
    fn client_type_forces_replacement_only_towards_confidential() {
        let rule = AWX_FIELDS.iter().find(|r| r.name == "client_type").unwrap();
        assert!(rule.forces_replacement(&json!("public"), &json!("confidential")));
        assert!(!rule.forces_replacement(&json!("confidential"), &json!("public")));
    }
}
