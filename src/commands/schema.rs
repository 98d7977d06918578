//! `appform schema`: print the JSON Schema generated from the raw config types.

use super::EXIT_OK;

/// The schema as checked in at `schema.json` (pretty, trailing newline).
pub fn schema_text() -> String {
    let value = crate::config::raw::schema();
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text
}

pub fn run() -> u8 {
    print!("{}", schema_text());
    EXIT_OK
}
