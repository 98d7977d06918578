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

pub use crate::redact::redact;

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
