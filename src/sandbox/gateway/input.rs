//! An application body as the serializer takes it (gateway.md): required
//! fields on create and PUT, choices, lengths, the organization as a pk, no
//! redirect URI checks, read-only `client_id`/`client_secret` ignored, and the
//! (name, organization) pair unique. Errors are DRF's, field by field.

use serde_json::{Map, Value, json};

use super::{App, GatewayState, client_id};
use crate::sandbox::random_token;

const REQUIRED: &str = "This field is required.";
const NOT_NULL: &str = "This field may not be null.";
const NOT_BLANK: &str = "This field may not be blank.";
const DUPLICATE: &str = "The fields name, organization must make a unique set.";

/// How a body is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {
    Create,
    Put,
    Patch,
}

fn now() -> String {
    humantime::format_rfc3339_micros(std::time::SystemTime::now()).to_string()
}

/// A fresh public password-grant app with its ids taken from the state.
pub fn new_app(state: &mut GatewayState, name: &str, organization: u64, by: u64) -> App {
    let id = state.next_app_id.max(1);
    state.next_app_id = id + 1;
    let at = now();
    App {
        id,
        name: name.into(),
        organization,
        client_id: client_id(),
        client_secret: random_token(128),
        client_type: "public".into(),
        authorization_grant_type: "password".into(),
        redirect_uris: String::new(),
        post_logout_redirect_uris: String::new(),
        algorithm: String::new(),
        app_url: None,
        skip_authorization: false,
        description: String::new(),
        user: None,
        created: at.clone(),
        modified: at,
        created_by: by,
        modified_by: by,
    }
}

fn choice(value: &Value, choices: &[&str]) -> Result<String, String> {
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => if *b { "True" } else { "False" }.to_string(),
        _ => return Err(format!("\"{value}\" is not a valid choice.")),
    };
    if choices.contains(&text.as_str()) {
        Ok(text)
    } else {
        Err(format!("\"{text}\" is not a valid choice."))
    }
}

/// A DRF `CharField`: strings and numbers, trimmed.
fn text(value: &Value, allow_blank: bool, max: Option<usize>) -> Result<String, String> {
    let s = match value {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        Value::Null => return Err(NOT_NULL.into()),
        _ => return Err("Not a valid string.".into()),
    };
    if s.is_empty() && !allow_blank {
        return Err(NOT_BLANK.into());
    }
    if let Some(max) = max.filter(|m| s.chars().count() > *m) {
        return Err(format!(
            "Ensure this field has no more than {max} characters."
        ));
    }
    Ok(s)
}

fn boolean(value: &Value) -> Result<bool, String> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::Number(n) if n.as_u64() == Some(1) => Ok(true),
        Value::Number(n) if n.as_u64() == Some(0) => Ok(false),
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "true" | "t" | "yes" | "y" | "on" | "1" => Ok(true),
            "false" | "f" | "no" | "n" | "off" | "0" => Ok(false),
            _ => Err("Must be a valid boolean.".into()),
        },
        _ => Err("Must be a valid boolean.".into()),
    }
}

fn pk(value: &Value, exists: impl Fn(u64) -> bool) -> Result<u64, String> {
    let id = match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => match s.trim().parse::<u64>() {
            Ok(id) => Some(id),
            Err(_) => return Err("Incorrect type. Expected pk value, received str.".into()),
        },
        Value::Null => return Err(NOT_NULL.into()),
        Value::Bool(_) => return Err("Incorrect type. Expected pk value, received bool.".into()),
        _ => None,
    };
    match id {
        Some(id) if exists(id) => Ok(id),
        Some(id) => Err(format!("Invalid pk \"{id}\" - object does not exist.")),
        None => Err(format!("Invalid pk \"{value}\" - object does not exist.")),
    }
}

/// A Django `URLField`: http(s), ftp(s) with a host, at most 200 characters.
fn url_field(value: &Value) -> Result<Option<String>, String> {
    match value {
        Value::Null => Ok(None),
        v => {
            let s = text(v, true, Some(200))?;
            if s.is_empty() {
                return Ok(Some(s));
            }
            let ok = url::Url::parse(&s).is_ok_and(|u| {
                matches!(u.scheme(), "http" | "https" | "ftp" | "ftps")
                    && u.host_str().is_some_and(|h| !h.is_empty())
            });
            if ok {
                Ok(Some(s))
            } else {
                Err("Enter a valid URL.".into())
            }
        }
    }
}

/// Applies `body` to `app` (a fresh one for a create), or the field errors.
pub fn apply(
    state: &GatewayState,
    app: &mut App,
    body: &Map<String, Value>,
    write: Write,
) -> Result<(), Value> {
    let mut errors = Map::new();
    let full = write != Write::Patch;
    for required in [
        "name",
        "organization",
        "client_type",
        "authorization_grant_type",
    ] {
        if full && !body.contains_key(required) {
            errors.insert(required.into(), json!([REQUIRED]));
        }
    }
    let mut set = |field: &str, result: Result<(), String>| {
        if let Err(e) = result {
            errors.insert(field.into(), json!([e]));
        }
    };
    for (field, value) in body {
        let result = match field.as_str() {
            "name" => text(value, false, Some(512)).map(|v| app.name = v),
            "organization" => {
                pk(value, |id| state.organizations.contains_key(&id)).map(|v| app.organization = v)
            }
            "client_type" => {
                choice(value, &["confidential", "public"]).map(|v| app.client_type = v)
            }
            "authorization_grant_type" => choice(value, &["authorization-code", "password"])
                .map(|v| app.authorization_grant_type = v),
            "redirect_uris" => text(value, true, None).map(|v| app.redirect_uris = v),
            "post_logout_redirect_uris" => {
                text(value, true, None).map(|v| app.post_logout_redirect_uris = v)
            }
            "algorithm" => choice(value, &["", "RS256", "HS256"]).map(|v| app.algorithm = v),
            "app_url" => url_field(value).map(|v| app.app_url = v),
            "skip_authorization" => boolean(value).map(|v| app.skip_authorization = v),
            "description" => text(value, true, None).map(|v| app.description = v),
            "user" => match value {
                Value::Null => {
                    app.user = None;
                    Ok(())
                }
                v => pk(v, |id| state.users.contains_key(&id)).map(|v| app.user = Some(v)),
            },
            // Read-only or unknown: ignored.
            _ => Ok(()),
        };
        set(field, result);
    }
    if !errors.is_empty() {
        return Err(Value::Object(errors));
    }
    let taken = state
        .apps
        .values()
        .any(|a| a.id != app.id && a.name == app.name && a.organization == app.organization);
    if taken {
        return Err(json!({ "non_field_errors": [DUPLICATE] }));
    }
    app.modified = now();
    Ok(())
}
