//! `-v` logging on stderr: request lines at 1, request bodies at 2, response
//! bodies at 3. Secrets never appear: bodies pass through [`redact`], and
//! credentials travel only in headers, which are never logged.

use std::sync::atomic::{AtomicU8, Ordering};

use serde_json::Value;

static LEVEL: AtomicU8 = AtomicU8::new(0);

pub fn set_level(level: u8) {
    LEVEL.store(level, Ordering::Relaxed);
}

pub fn enabled(level: u8) -> bool {
    LEVEL.load(Ordering::Relaxed) >= level
}

/// Writes `message` on stderr when the verbosity is at least `level`.
pub fn log(level: u8, message: impl FnOnce() -> String) {
    if enabled(level) {
        eprintln!("[appform] {}", message());
    }
}

/// Keys whose values are secrets in the three APIs and in appform's own files.
const SECRET_KEYS: &[&str] = &[
    "client_secret",
    "password",
    "token",
    "access_token",
    "refresh_token",
    "secret",
];

/// A copy of `value` with every secret-named key's value replaced by `(sensitive)`.
pub fn redact(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    if SECRET_KEYS.contains(&k.to_ascii_lowercase().as_str()) && !v.is_null() {
                        (k.clone(), Value::String("(sensitive)".into()))
                    } else {
                        (k.clone(), redact(v))
                    }
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact).collect()),
        other => other.clone(),
    }
}

/// Redacted text of a body for logs: JSON is redacted by key; anything else is
/// shown only as its size (it could hold anything).
pub fn redact_body(bytes: &[u8]) -> String {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(v) => redact(&v).to_string(),
        Err(_) if bytes.is_empty() => "(empty)".into(),
        Err(_) => format!("({} bytes, not JSON)", bytes.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_redacted_at_any_depth() {
        let v = json!({"client_secret": "abc", "nested": [{"token": "t", "name": "x"}], "refresh_token": null});
        assert_eq!(
            redact(&v),
            json!({"client_secret": "(sensitive)", "nested": [{"token": "(sensitive)", "name": "x"}], "refresh_token": null})
        );
        assert!(!redact_body(br#"{"password":"hunter2"}"#).contains("hunter2"));
        assert_eq!(redact_body(b"<html>"), "(6 bytes, not JSON)");
    }
}
