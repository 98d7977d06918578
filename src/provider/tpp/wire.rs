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
    let Ok(body) = crate::provider::strict_json::parse(body) else {
        return Err(Refusal::Malformed(
            match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
                Ok(_) => "not valid JSON: an object repeats a key".to_string(),
                Err(_) => format!("{} (not JSON)", server_message(body)),
            },
        ));
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
pub fn applications_of(answer: &Value, defaults: &Defaults) -> Result<Vec<LiveApp>, String> {
    answer
        .get("Applications")
        .and_then(Value::as_array)
        .ok_or("unexpected response: EnumerateApplications has no `Applications`")?
        .iter()
        .map(|v| live_app(v, defaults))
        .collect()
}

/// One whole EnumerateApplications answer → live apps (used by the fuzz
/// targets and property tests; the provider does the same in two steps).
pub fn parse_enumerate(body: &[u8]) -> Result<Vec<LiveApp>, String> {
    let answer = parse_answer(body).map_err(|r| match r {
        Refusal::Result(code) => format!("TPP result {code} ({})", result_name(code)),
        Refusal::Malformed(why) => format!("unexpected response: {why}"),
    })?;
    applications_of(&answer, &documented_defaults())
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

/// The server's system defaults of the fields a Get leaves out when they
/// equal them (config name → value), from `OAuth/GetConfiguration`; `None`
/// when they could not be read (an older TPP, or no permission).
pub type Defaults = Option<BTreeMap<String, Value>>;

/// Keys the API documents as read-only counters: never carried into a write.
const READ_ONLY: [&str; 2] = ["GrantCount", "UserCount"];

/// The documented system defaults (tpp.md §2), for callers without a server.
pub fn documented_defaults() -> Defaults {
    Some(
        TPP.fields
            .iter()
            .filter_map(|r| r.default.map(|d| (r.name.to_string(), d())))
            .collect(),
    )
}

/// `OAuth/GetConfiguration`'s answer → the defaults, if it has all three.
pub fn defaults_of(answer: &Value) -> Defaults {
    let access = answer.get("DefaultAccessTokenValidity")?.as_u64()?;
    let grant = answer.get("DefaultGrantValidity")?.as_u64()?;
    let renewable = answer.get("DefaultGrantRefreshable")?.as_bool()?;
    Some(
        [
            ("access_validity", json!(access)),
            ("grant_validity", json!(grant)),
            ("renewable", json!(renewable)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect(),
    )
}

/// One application object → the config's terms. A field the server left out
/// is at its system default (tpp.md §2): that default when `defaults` knows
/// it, `null` (unknown) when not. Keys appform does not model (newer TPP
/// versions' `UnusedExpiration`, say) are kept under their API name, so a
/// full replace carries them; read-only counters are dropped.
pub fn live_app(value: &Value, defaults: &Defaults) -> Result<LiveApp, String> {
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
        // The type of a field is the type of its documented default, else text.
        let kind_of = rule.default.map(|d| d());
        let v = match (obj.get(api).cloned().unwrap_or(Value::Null), &kind_of) {
            (Value::Null, Some(_)) => defaults
                .as_ref()
                .and_then(|d| d.get(rule.name).cloned())
                .unwrap_or(Value::Null),
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
    for (key, v) in obj {
        let modelled = key == "ID" || TPP.fields.iter().any(|r| r.api_name == key);
        if !modelled && !READ_ONLY.contains(&key.as_str()) {
            fields.insert(key.clone(), v.clone());
        }
    }
    fields.insert("id".into(), json!(id));
    Ok(LiveApp {
        match_key: id.clone(),
        name: id.clone(),
        unmanageable: LiveApp::unmanageable_name(&id),
        capabilities: None,
        tokens: None,
        created: None,
        id,
        organization: None,
        aside: None,
        retiring: None,
        live_tokens: None,
        last_used: None,
        fields,
    })
}

/// The API object for a write: every modelled field by its API name, then
/// every unmodelled key as it was read (full replace carries them), except a
/// value the server leaves at its default and that should stay so (left out,
/// tpp.md §7.2) and an unknown (`null`) one.
pub(super) fn api_object(
    id: &str,
    fields: &BTreeMap<String, Value>,
    omit_defaults: &BTreeSet<&str>,
    defaults: &Defaults,
) -> Map<String, Value> {
    let mut o = Map::new();
    o.insert("ID".into(), json!(id));
    for rule in TPP.fields {
        let Some(v) = fields.get(rule.name).filter(|v| !v.is_null()) else {
            continue;
        };
        let is_default = defaults
            .as_ref()
            .and_then(|d| d.get(rule.name))
            .is_some_and(|d| d == v);
        if is_default && omit_defaults.contains(rule.api_name) {
            continue;
        }
        o.insert(rule.api_name.into(), v.clone());
    }
    for (key, v) in fields {
        let modelled = key == "id" || TPP.rule(key).is_some();
        if !modelled && !v.is_null() {
            o.insert(key.clone(), v.clone());
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
            &documented_defaults(),
        )
        .unwrap();
        assert_eq!(app.fields["access_validity"], json!(7_776_000));
        assert_eq!(app.fields["grant_validity"], json!(31_536_000));
        assert_eq!(app.fields["renewable"], json!(true));
        assert_eq!(app.fields["id"], json!("x"));
    }

    #[test]
    fn malformed_objects_are_errors() {
        let d = documented_defaults();
        assert!(live_app(&json!({"Name": "no id"}), &d).is_err());
        assert!(live_app(&json!({"ID": "x", "AccessValidity": "90d"}), &d).is_err());
        assert!(live_app(&json!({"ID": "x", "Name": 5}), &d).is_err());
    }

    #[test]
    fn defaults_the_server_omits_stay_omitted() {
        let mut f = BTreeMap::new();
        f.insert("name".to_string(), json!("n"));
        f.insert("access_validity".to_string(), json!(7_776_000));
        f.insert("grant_validity".to_string(), json!(86_400));
        let omit: BTreeSet<&str> = ["AccessValidity", "GrantValidity"].into_iter().collect();
        let o = api_object("x", &f, &omit, &documented_defaults());
        assert!(!o.contains_key("AccessValidity"));
        assert_eq!(
            o["GrantValidity"],
            json!(86_400),
            "a non-default value is always sent"
        );
        assert_eq!(o["ID"], json!("x"));
    }

    #[test]
    fn unmodelled_keys_are_carried_and_counters_dropped() {
        let app = live_app(
            &json!({"ID": "x", "Name": "n", "UnusedExpiration": 30, "GrantCount": 4, "UserCount": 2}),
            &None,
        )
        .unwrap();
        assert_eq!(app.fields["UnusedExpiration"], json!(30));
        assert!(!app.fields.contains_key("GrantCount"));
        assert_eq!(
            app.fields["access_validity"],
            Value::Null,
            "unknown default"
        );
        let o = api_object("x", &app.fields, &BTreeSet::new(), &None);
        assert_eq!(o["UnusedExpiration"], json!(30));
        assert!(
            !o.contains_key("AccessValidity"),
            "an unknown value is not sent"
        );
        assert!(!o.contains_key("GrantCount") && !o.contains_key("id"));
    }

    #[test]
    fn the_servers_own_defaults_fill_omitted_fields() {
        let d = defaults_of(&json!({"DefaultAccessTokenValidity": 3600,
            "DefaultGrantValidity": 86400, "DefaultGrantRefreshable": false, "Result": 0}));
        let app = live_app(&json!({"ID": "x"}), &d).unwrap();
        assert_eq!(app.fields["access_validity"], json!(3600));
        assert_eq!(app.fields["renewable"], json!(false));
        assert_eq!(defaults_of(&json!({"Result": 0})), None);
    }

    #[test]
    fn result_codes_have_names() {
        assert_eq!(result_name(2), "ApplicationNotFound");
        assert_eq!(result_name(6), "InvalidParameters");
        assert_eq!(result_name(99), "an undocumented result code");
    }
}
