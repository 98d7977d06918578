//! The errors of the tree deserializer, in words for YAML users.

use serde::de;
use std::fmt;

use super::PathSeg;
use crate::config::source::Span;

#[derive(Debug, Clone, PartialEq)]
pub enum DeErrorKind {
    UnknownField {
        field: String,
        expected: &'static [&'static str],
    },
    UnknownVariant {
        variant: String,
        expected: &'static [&'static str],
    },
    MissingField(&'static str),
    InvalidType {
        found: String,
        expected: String,
    },
    InvalidValue {
        found: String,
        expected: String,
    },
    Custom(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct DeError {
    pub kind: DeErrorKind,
    /// Path of the node the error is about (for an unknown key: the key itself).
    pub path: Vec<PathSeg>,
    pub span: Option<Span>,
}

impl DeError {
    pub(super) fn new(kind: DeErrorKind) -> Self {
        DeError {
            kind,
            path: Vec::new(),
            span: None,
        }
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            DeErrorKind::UnknownField { field, .. } => write!(f, "unknown key `{field}`"),
            DeErrorKind::UnknownVariant { variant, expected } => write!(
                f,
                "`{variant}` is not one of {}",
                expected
                    .iter()
                    .map(|e| format!("`{e}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            DeErrorKind::MissingField(field) => write!(f, "missing required key `{field}`"),
            DeErrorKind::InvalidType { found, expected } => {
                write!(f, "expected {expected}, found {found}")
            }
            DeErrorKind::InvalidValue { found, expected } => {
                write!(f, "{found} is not valid here, expected {expected}")
            }
            DeErrorKind::Custom(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for DeError {}

/// serde's "struct RawAwxApp" / "map" wording → words for YAML users.
fn expected_words(exp: &dyn de::Expected) -> String {
    let text = exp.to_string();
    if text.starts_with("struct ") || text == "map" || text.starts_with("a map") {
        "a mapping".into()
    } else if text == "a sequence" || text.starts_with("a sequence") {
        "a list".into()
    } else if text.starts_with("enum ") {
        "one of the listed values".into()
    } else if text == "u32" || text == "u64" || text == "u16" || text == "usize" {
        "a non-negative integer".into()
    } else if text == "f64" || text == "f32" {
        "a number".into()
    } else {
        text
    }
}

fn unexpected_words(unexp: de::Unexpected<'_>) -> String {
    match unexp {
        de::Unexpected::Unit => "null".into(),
        de::Unexpected::Map => "a mapping".into(),
        de::Unexpected::Seq => "a list".into(),
        de::Unexpected::Str(s) => format!("the string \"{s}\""),
        de::Unexpected::Signed(i) => format!("the integer {i}"),
        de::Unexpected::Unsigned(u) => format!("the integer {u}"),
        de::Unexpected::Float(x) => format!("the number {x}"),
        de::Unexpected::Bool(b) => format!("the boolean {b}"),
        other => other.to_string(),
    }
}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError::new(DeErrorKind::Custom(msg.to_string()))
    }
    fn invalid_type(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        DeError::new(DeErrorKind::InvalidType {
            found: unexpected_words(unexp),
            expected: expected_words(exp),
        })
    }
    fn invalid_value(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        DeError::new(DeErrorKind::InvalidValue {
            found: unexpected_words(unexp),
            expected: expected_words(exp),
        })
    }
    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        DeError::new(DeErrorKind::UnknownVariant {
            variant: variant.to_string(),
            expected,
        })
    }
    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        DeError::new(DeErrorKind::UnknownField {
            field: field.to_string(),
            expected,
        })
    }
    fn missing_field(field: &'static str) -> Self {
        DeError::new(DeErrorKind::MissingField(field))
    }
    fn duplicate_field(field: &'static str) -> Self {
        DeError::new(DeErrorKind::Custom(format!("key `{field}` appears twice")))
    }
}
