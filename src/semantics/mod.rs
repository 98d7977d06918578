//! What differs between the kinds, as data: one [`Semantics`] value per kind
//! (`awx.rs`, `gateway.rs`, `tpp.rs`, `whm.rs`) with its update style, its field rules (how a
//! field is compared, whether a change forces replacement, whether it is
//! required to create, its server default for `authoritative: true`, its API
//! name), what the server generates on create, whether a create yields a
//! secret shown once, and whether an app can be replaced. Every consumer
//! (diff, render, export, providers) reads these tables instead of branching
//! on the kind. Models: Terraform's plan modifiers and DNSControl's capability
//! tables. Adding a field to a kind is one line in its table (plus its mapping
//! in the provider when the API spells it differently).

mod awx;
mod gateway;
mod tpp;
mod whm;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::Kind;

pub use awx::AWX;
pub use gateway::GATEWAY;
pub use tpp::{
    TPP, TPP_DEFAULT_ACCESS_VALIDITY, TPP_DEFAULT_GRANT_VALIDITY, TPP_DEFAULT_RENEWABLE,
};
pub use whm::WHM;

/// How a server stores an update (docs/reference.md §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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

/// How two values of a field are compared (docs/reference.md §2.2).
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

/// When a change of the field cannot be made in place (docs/reference.md §2.4).
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
    /// The config name.
    pub name: &'static str,
    /// The name in the server's API (AWX: the same; TPP: `Name`, `MaximumScope`…).
    pub api_name: &'static str,
    /// A number of seconds, shown and exported as a duration (`90d`).
    pub duration: bool,
    /// Never shown: plans, PR comments and logs print `(sensitive)`.
    pub sensitive: bool,
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

/// Everything that differs between the kinds, as data.
#[derive(Debug)]
pub struct Semantics {
    pub kind: Kind,
    pub update_style: UpdateStyle,
    /// The managed fields, sorted by name.
    pub fields: &'static [FieldRule],
    /// The same fields in the order people write them (the examples of docs/reference.md;
    /// `appform export` writes them so).
    pub display_order: &'static [&'static str],
    /// WHM: the body of a write is this object, and its top-level keys are the
    /// fields: declared keys are managed, other live keys are carried over (or
    /// dropped under `authoritative`), each compared as JSON (docs/reference.md §2.2–§2.3).
    /// Live apps name those fields `<object>.<key>`.
    pub object_field: Option<&'static str>,
    /// What the server generates on create and never lets anyone compare, and
    /// whether each is a secret shown once.
    pub generated: &'static [Generated],
    /// A create yields a client secret shown once when this field has this value.
    pub secret_when: Option<(&'static str, &'static str)>,
    /// Whether an app can be replaced create-before-destroy (docs/reference.md §3.2): the
    /// old one must be able to step aside (AWX renames it); a TPP ID or a WHM
    /// name is the only key, so the old app would have to go first.
    pub replaceable: bool,
    /// The identity includes an organization (AWX).
    pub organizations: bool,
    /// The defaults of the fields that have one are the server's own (TPP
    /// "API Default Settings"), read from it; the rules' defaults are only
    /// the documented ones. The server leaves such a field out when it equals
    /// the default.
    pub defaults_from_server: bool,
}

/// A value the server generates on create (AWX `client_id`, `client_secret`).
#[derive(Debug, Clone, Copy)]
pub struct Generated {
    pub name: &'static str,
    /// Shown once, in the create answer only.
    pub secret: bool,
}

/// The rules of a kind.
pub fn of(kind: Kind) -> &'static Semantics {
    match kind {
        Kind::Awx => &awx::AWX,
        Kind::Gateway => &gateway::GATEWAY,
        Kind::Tpp => &tpp::TPP,
        Kind::Whm => &whm::WHM,
    }
}

impl Semantics {
    /// The rule of a managed field.
    pub fn rule(&self, name: &str) -> Option<&'static FieldRule> {
        self.fields.iter().find(|r| r.name == name)
    }

    /// Whether a field's values are never shown: a rule says so, or (WHM) a
    /// key of the object field is named like a secret (`data.client_secret`,
    /// `data.password`; whm.md §8: the server masks
    /// nothing, so appform must).
    pub fn is_sensitive(&self, field: &str) -> bool {
        if self.rule(field).is_some_and(|r| r.sensitive) {
            return true;
        }
        self.object_field
            .and_then(|object| field.strip_prefix(object)?.strip_prefix('.'))
            .is_some_and(crate::redact::is_secret_name)
    }

    /// Whether creating an app with these fields yields a secret shown once.
    pub fn yields_secret(&self, fields: &BTreeMap<String, Value>) -> bool {
        self.secret_when
            .is_some_and(|(field, value)| fields.get(field).and_then(Value::as_str) == Some(value))
    }

    /// The text plan's note under a create or replace: what the server
    /// generates (`client_id, client_secret: generated by the server (secret
    /// captured once)`), or `None`.
    pub fn generated_on_create(&self, with_secret: bool) -> Option<String> {
        let names: Vec<&str> = self
            .generated
            .iter()
            .filter(|g| with_secret || !g.secret)
            .map(|g| g.name)
            .collect();
        if names.is_empty() {
            return None;
        }
        let captured = if with_secret {
            " (secret captured once)"
        } else {
            ""
        };
        Some(format!(
            "{}: generated by the server{captured}",
            names.join(", ")
        ))
    }

    /// How the text plan names a replacement.
    pub fn replace_words(&self) -> &'static str {
        if self.replaceable {
            "must be replaced (new client id)"
        } else {
            "must be replaced (delete, then create)"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tpp_rules_are_sorted_and_need_six_fields_to_create() {
        let names: Vec<_> = tpp::TPP.fields.iter().map(|r| r.name).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        assert_eq!(
            tpp::TPP
                .fields
                .iter()
                .filter(|r| r.required_to_create)
                .count(),
            6
        );
    }

    #[test]
    fn awx_rules_are_sorted_and_the_grant_type_forces_replacement() {
        let names: Vec<_> = awx::AWX.fields.iter().map(|r| r.name).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        let grant = awx::AWX
            .fields
            .iter()
            .find(|r| r.name == "authorization_grant_type")
            .unwrap();
        assert!(grant.forces_replacement(&json!("password"), &json!("authorization-code")));
    }

    #[test]
    fn gateway_rules_are_sorted_and_the_grant_type_is_changed_in_place() {
        let names: Vec<_> = gateway::GATEWAY.fields.iter().map(|r| r.name).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        let grant = gateway::GATEWAY.rule("authorization_grant_type").unwrap();
        assert!(!grant.forces_replacement(&json!("password"), &json!("authorization-code")));
        let client_type = gateway::GATEWAY.rule("client_type").unwrap();
        assert!(client_type.forces_replacement(&json!("public"), &json!("confidential")));
        assert_eq!(
            gateway::GATEWAY.display_order.len(),
            gateway::GATEWAY.fields.len()
        );
    }

    #[test]
    fn client_type_forces_replacement_only_towards_confidential() {
        let rule = awx::AWX
            .fields
            .iter()
            .find(|r| r.name == "client_type")
            .unwrap();
        assert!(rule.forces_replacement(&json!("public"), &json!("confidential")));
        assert!(!rule.forces_replacement(&json!("confidential"), &json!("public")));
    }
}
