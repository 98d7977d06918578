//! Venafi TPP OAuth applications (docs/contracts/tpp.md): UpdateApplication
//! replaces the whole object (read-modify-write), the application ID is the
//! identity and the client id, and validities the server omits are its
//! system defaults.

use serde_json::json;

use super::{Compare, FieldRule, Replacement, Semantics, UpdateStyle};
use crate::model::Kind;

pub const TPP: Semantics = Semantics {
    kind: Kind::Tpp,
    update_style: UpdateStyle::FullReplace,
    fields: FIELDS,
    display_order: &[
        "name",
        "vendor",
        "description",
        "url",
        "scope",
        "maximum_scope",
        "access_validity",
        "grant_validity",
        "renewable",
    ],
    object_field: None,
    generated: &[],
    secret_when: None,
    replaceable: false,
    organizations: false,
    defaults_from_server: true,
};

const fn tpp_text(name: &'static str, api_name: &'static str) -> FieldRule {
    FieldRule {
        name,
        api_name,
        duration: false,
        sensitive: false,
        compare: Compare::Exact,
        replacement: Replacement::Never,
        required_to_create: true,
        default: None,
    }
}

const fn tpp_scope(name: &'static str, api_name: &'static str) -> FieldRule {
    FieldRule {
        name,
        api_name,
        duration: false,
        sensitive: false,
        compare: Compare::Scope,
        replacement: Replacement::Never,
        required_to_create: true,
        default: None,
    }
}

/// tpp.md §2. The validity defaults are the system defaults a Get omits.
const FIELDS: &[FieldRule] = &[
    FieldRule {
        name: "access_validity",
        api_name: "AccessValidity",
        duration: true,
        sensitive: false,
        compare: Compare::Exact,
        replacement: Replacement::Never,
        required_to_create: false,
        default: Some(|| json!(TPP_DEFAULT_ACCESS_VALIDITY)),
    },
    tpp_text("description", "Description"),
    FieldRule {
        name: "grant_validity",
        api_name: "GrantValidity",
        duration: true,
        sensitive: false,
        compare: Compare::Exact,
        replacement: Replacement::Never,
        required_to_create: false,
        default: Some(|| json!(TPP_DEFAULT_GRANT_VALIDITY)),
    },
    tpp_scope("maximum_scope", "MaximumScope"),
    tpp_text("name", "Name"),
    FieldRule {
        name: "renewable",
        api_name: "Renewable",
        duration: false,
        sensitive: false,
        compare: Compare::Exact,
        replacement: Replacement::Never,
        required_to_create: false,
        default: Some(|| json!(TPP_DEFAULT_RENEWABLE)),
    },
    tpp_scope("scope", "Scope"),
    tpp_text("url", "Url"),
    tpp_text("vendor", "Vendor"),
];

/// tpp.md §2: "Token expires after" (90 days) and "Grant validity" (1 year).
pub const TPP_DEFAULT_ACCESS_VALIDITY: u64 = 7_776_000;
pub const TPP_DEFAULT_GRANT_VALIDITY: u64 = 31_536_000;
/// tpp.md §2: tokens are renewable unless set otherwise.
pub const TPP_DEFAULT_RENEWABLE: bool = true;
