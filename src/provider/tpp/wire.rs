//! The TPP WebSDK on the wire (docs/contracts/tpp.md §2, §6): result codes,
//! the `Success`/`Result` envelope of every 200 answer, application objects
//! ↔ config fields by the rules' API names, and OAuth error bodies. Pure.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use super::super::http::server_message;
use crate::model::LiveApp;
use crate::semantics;

/// The TPP rules: field names, API names, system defaults (tpp.md §2).
const TPP: &semantics::Semantics = &semantics::TPP;

/// tpp.md §6: OAuth result codes.
pub fn result_name(code: i64) -> &'static str {
    match code {
        0 => "Success",
        1 => "Failure",
        2 => "ApplicationNotFound",
        3 => "GrantNotFound",
        4 => "RuleNotFound",
        5 => "DriverError",
        6 => "InvalidParameters",
        7 => "TokenHashError",
        8 => "ExceptionThrown",
        9 => "InsufficientPrivileges",
        10 => "ObjectInvalid",
        11 => "AccessTokenExpired",
        12 => "AuthenticationMissing",
        13 => "AuthenticationInvalid",
        14 => "UnsignedCodeForbidden",
        15 => "RemoteTransportFailure",
        16 => "RightsAssignmentError",
        17 => "InvalidScope",
        18 => "RemoteIdentityRequired",
        _ => "an undocumented result code",
    }
}

/// Why a 200 answer of `/vedsdk/oauth/*` is not a success.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// `Result` is not 0 (tpp.md §6).
    Result(i64),
    /// Not the API's shape.
    Malformed(String),
}

/// A 200 answer of `/vedsdk/oauth/*`: JSON whose `Success`/`Result` say
/// success (tpp.md §6: HTTP 200 alone is not success).
pub fn parse_answer(body: &[u8]) -> Result<Value, Refusal> {
    let Ok(body) = serde_json::from_slice::<Value>(body) else {
        return Err(Refusal::Malformed(format!(
            "{} (not JSON)",
            server_message(body)
        )));
    };
    let result = body.get("Result").and_then(Value::as_i64);
    let success = body.get("Success").and_then(Value::as_bool);
    match (result, success) {
        (Some(0), Some(true)) | (Some(0), None) | (None, Some(true)) => Ok(body),
        (Some(code), _) => Err(Refusal::Result(code)),
        (None, _) => Err(Refusal::Malformed("no `Result` or `Success`".into())),
    }
}

/// The applications of one EnumerateApplications answer.
pub fn applications_of(answer: &Value) -> Result<Vec<LiveApp>, String> {
    answer
        .get("Applications")
        .and_then(Value::as_array)
        .ok_or("unexpected response: EnumerateApplications has no `Applications`")?
        .iter()
        .map(live_app)
        .collect()
}

/// One whole EnumerateApplications answer → live apps (used by the fuzz
/// targets and property tests; the provider does the same in two steps).
pub fn parse_enumerate(body: &[u8]) -> Result<Vec<LiveApp>, String> {
    let answer = parse_answer(body).map_err(|r| match r {
        Refusal::Result(code) => format!("TPP result {code} ({})", result_name(code)),
        Refusal::Malformed(why) => format!("unexpected response: {why}"),
    })?;
    applications_of(&answer)
}

/// `error`/`error_description`, whatever their capitalisation (tpp.md §6).
pub(super) fn oauth_error(body: &[u8]) -> Option<(String, String)> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let obj = v.as_object()?;
    let get = |k: &str| {
        obj.iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(k))
            .and_then(|(_, v)| v.as_str())
            .map(str::to_string)
    };
    Some((get("error")?, get("error_description").unwrap_or_default()))
}

pub fn live_app(value: &Value) -> Result<LiveApp, String> {
    let obj = value
        .as_object()
        .ok_or("unexpected response: an application is not a JSON object")?;
    let id = obj
        .get("ID")
        .and_then(Value::as_str)
        .ok_or("unexpected response: an application has no `ID`")?
        .to_string();
    let mut fields = BTreeMap::new();
    for rule in TPP.fields {
        let api = rule.api_name;
        // tpp.md §2: an omitted validity (or Renewable) means the system
        // default; the type of a field is the type of its default, else text.
        let default = rule.default.map(|d| d());
        let v = match (obj.get(api).cloned().unwrap_or(Value::Null), &default) {
            (Value::Null, Some(d)) => d.clone(),
            (Value::Null, None) => Value::String(String::new()),
            (v, Some(Value::Number(_))) if v.as_u64().is_none() => {
                return Err(format!(
                    "unexpected response: `{api}` of application `{id}` is not a number"
                ));
            }
            (v, Some(Value::Bool(_))) if !v.is_boolean() => {
                return Err(format!(
                    "unexpected response: `{api}` of application `{id}` is not a boolean"
                ));
            }
            (v, None) if !v.is_string() => {
                return Err(format!(
                    "unexpected response: `{api}` of application `{id}` is not a string"
                ));
            }
            (v, _) => v,
        };
        fields.insert(rule.name.to_string(), v);
    }
    fields.insert("id".into(), json!(id));
    Ok(LiveApp {
        match_key: id.clone(),
        name: id.clone(),
        id,
        organization: None,
        aside: None,
        fields,
    })
}

/// The API object for a write: every field, except a validity the server
/// leaves at its system default and that should stay so (tpp.md §7.2).
pub(super) fn api_object(
    id: &str,
    fields: &BTreeMap<String, Value>,
    omit_defaults: &BTreeSet<&str>,
) -> Map<String, Value> {
    let mut o = Map::new();
    o.insert("ID".into(), json!(id));
    for rule in TPP.fields {
        if let Some(v) = fields.get(rule.name) {
            let is_default = rule.default.is_some_and(|d| d() == *v);
            if is_default && omit_defaults.contains(rule.api_name) {
                continue;
            }
            o.insert(rule.api_name.into(), v.clone());
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn omitted_validity_reads_as_the_system_default() {
        let app = live_app(
            &json!({"ID": "x", "Name": "n", "Vendor": "v", "Description": "d", "Url": "u",
            "Scope": "a", "MaximumScope": "a"}),
        )
        .unwrap();
        assert_eq!(app.fields["access_validity"], json!(7_776_000));
        assert_eq!(app.fields["grant_validity"], json!(31_536_000));
        assert_eq!(app.fields["renewable"], json!(true));
        assert_eq!(app.fields["id"], json!("x"));
    }

    #[test]
    fn malformed_objects_are_errors() {
        assert!(live_app(&json!({"Name": "no id"})).is_err());
        assert!(live_app(&json!({"ID": "x", "AccessValidity": "90d"})).is_err());
        assert!(live_app(&json!({"ID": "x", "Name": 5})).is_err());
    }

    #[test]
    fn defaults_the_server_omits_stay_omitted() {
        let mut f = BTreeMap::new();
        f.insert("name".to_string(), json!("n"));
        f.insert("access_validity".to_string(), json!(7_776_000));
        f.insert("grant_validity".to_string(), json!(86_400));
        let omit: BTreeSet<&str> = ["AccessValidity", "GrantValidity"].into_iter().collect();
        let o = api_object("x", &f, &omit);
        assert!(!o.contains_key("AccessValidity"));
        assert_eq!(
            o["GrantValidity"],
            json!(86_400),
            "a non-default value is always sent"
        );
        assert_eq!(o["ID"], json!("x"));
    }

    #[test]
    fn result_codes_have_names() {
        assert_eq!(result_name(2), "ApplicationNotFound");
        assert_eq!(result_name(6), "InvalidParameters");
        assert_eq!(result_name(99), "an undocumented result code");
    }
}
