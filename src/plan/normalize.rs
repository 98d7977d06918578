//! Canonical forms for comparison (docs/reference.md §2.2), so that a second plan after an
//! apply is empty: trimmed strings, redirect URIs as sets, TPP scopes as maps,
//! JSON by value.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::scope::ScopeSet;
use crate::semantics::Compare;

/// The value compared for equality. Values of the wrong shape are kept as they
/// are, so they differ from any well-formed value and show up in the plan.
pub fn canonical(compare: Compare, value: &Value) -> Value {
    match (compare, value) {
        (Compare::TrimmedText, Value::String(s)) => Value::String(s.trim().to_string()),
        (Compare::TrimmedText, Value::Null) => Value::String(String::new()),
        (Compare::TextSet, Value::Array(items)) => {
            let set: BTreeSet<String> = items
                .iter()
                .filter_map(Value::as_str)
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect();
            Value::Array(set.into_iter().map(Value::String).collect())
        }
        (Compare::TextSet, Value::String(s)) => {
            let set: BTreeSet<&str> = s.split_whitespace().collect();
            Value::Array(set.into_iter().map(|s| Value::String(s.into())).collect())
        }
        (Compare::TextSet, Value::Null) => Value::Array(Vec::new()),
        (Compare::Scope, Value::String(s)) => match ScopeSet::parse(s) {
            Ok(set) => Value::String(set.canonical()),
            Err(_) => value.clone(),
        },
        _ => value.clone(),
    }
}

pub fn equal(compare: Compare, a: &Value, b: &Value) -> bool {
    canonical(compare, a) == canonical(compare, b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn redirect_uris_are_a_set() {
        assert!(equal(
            Compare::TextSet,
            &json!(["https://b/cb", "https://a/cb"]),
            &json!(["https://a/cb", " https://b/cb"])
        ));
        assert!(equal(
            Compare::TextSet,
            &json!("https://a/cb\n  https://b/cb"),
            &json!(["https://b/cb", "https://a/cb"])
        ));
        assert!(!equal(
            Compare::TextSet,
            &json!(["https://a/cb"]),
            &json!(["https://a/cb", "https://c/cb"])
        ));
        assert!(equal(Compare::TextSet, &json!([]), &json!("")));
    }

    #[test]
    fn text_is_trimmed() {
        assert!(equal(
            Compare::TrimmedText,
            &json!("  Grafana "),
            &json!("Grafana")
        ));
        assert!(!equal(
            Compare::TrimmedText,
            &json!("Grafana"),
            &json!("grafana")
        ));
        assert!(equal(Compare::TrimmedText, &json!(null), &json!("")));
    }

    #[test]
    fn scopes_compare_semantically() {
        assert!(equal(
            Compare::Scope,
            &json!("certificate:manage,revoke;configuration"),
            &json!("Configuration;certificate:revoke, manage")
        ));
        assert!(!equal(
            Compare::Scope,
            &json!("certificate:manage"),
            &json!("certificate")
        ));
    }

    #[test]
    fn json_ignores_key_order_but_not_array_order() {
        let a: Value = serde_json::from_str(r#"{"a":1,"b":{"x":[1,2]}}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"b":{"x":[1,2]},"a":1}"#).unwrap();
        let c: Value = serde_json::from_str(r#"{"b":{"x":[2,1]},"a":1}"#).unwrap();
        assert!(equal(Compare::Json, &a, &b));
        assert!(!equal(Compare::Json, &a, &c));
    }
}
