//! cPanel WHM connected applications (docs/contracts/whm.md): save replaces
//! the whole `data` object, the name is the identity, and the keys of `data`
//! are the fields.

use super::{Compare, FieldRule, Replacement, Semantics, UpdateStyle};
use crate::model::Kind;

pub const WHM: Semantics = Semantics {
    kind: Kind::Whm,
    update_style: UpdateStyle::FullReplace,
    fields: FIELDS,
    display_order: &["data"],
    object_field: Some("data"),
    generated: &[],
    secret_when: None,
    replaceable: false,
    organizations: false,
    defaults_from_server: false,
};

/// One field, `data`, whose top-level keys are diffed one by one (see
/// [`Semantics::object_field`]).
const FIELDS: &[FieldRule] = &[FieldRule {
    name: "data",
    api_name: "data",
    duration: false,
    sensitive: false,
    compare: Compare::Json,
    replacement: Replacement::Never,
    required_to_create: true,
    default: None,
}];
