//! What the AWX application serializer and DOT's model accept: the input
//! of a create, PUT or PATCH, field by field, and the model's own checks
//! (redirect URIs as Django validates them, with its IDNA retry).

use super::*;

/// The serializer's field-level result for one write.
#[derive(Default)]
pub(super) struct AppInput {
    pub(super) name: Option<String>,
    pub(super) description: Option<String>,
    pub(super) client_type: Option<String>,
    pub(super) redirect_uris: Option<String>,
    pub(super) grant: Option<String>,
    pub(super) skip_authorization: Option<bool>,
    pub(super) organization: Option<u64>,
}

#[derive(Clone, Copy, PartialEq)]
pub(super) enum WriteKind {
    Create,
    Put,
    Patch,
}

pub(super) fn choice(value: &Value, choices: &[&str]) -> Result<String, String> {
    let s = match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if choices.contains(&s.as_str()) {
        Ok(s)
    } else {
        Err(format!("\"{s}\" is not a valid choice."))
    }
}

pub(super) fn char_field(value: &Value) -> Result<String, String> {
    match value {
        Value::Null => Ok(String::new()),
        Value::String(s) => Ok(s.trim().to_string()),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err("Not a valid string.".into()),
    }
}

/// DRF serializer validation (awx.md §3, observed messages), in field order.
pub(super) fn parse_app_input(
    state: &AwxState,
    body: &Map<String, Value>,
    kind: WriteKind,
    ignore: &BTreeSet<String>,
) -> Result<AppInput, Map<String, Value>> {
    let mut errors = Map::new();
    let mut input = AppInput::default();
    let required = |field: &str| -> bool {
        match kind {
            WriteKind::Create => true,
            WriteKind::Put => field != "authorization_grant_type",
            WriteKind::Patch => false,
        }
    };
    let skip = |field: &str| kind != WriteKind::Create && ignore.contains(field);
    let mut err = |field: &str, msg: String| {
        errors.insert(field.to_string(), json!([msg]));
    };
    match body.get("name") {
        _ if skip("name") => {}
        None if required("name") => err("name", "This field is required.".into()),
        None => {}
        Some(v) => match char_field(v) {
            Ok(s) if s.chars().count() > 255 => err(
                "name",
                "Ensure this field has no more than 255 characters.".into(),
            ),
            Ok(s) => input.name = Some(s),
            Err(m) => err("name", m),
        },
    }
    match body.get("description") {
        None => {}
        Some(_) if skip("description") => {}
        Some(v) => match char_field(v) {
            Ok(s) => input.description = Some(s),
            Err(m) => err("description", m),
        },
    }
    match body.get("client_type") {
        _ if skip("client_type") => {}
        None if required("client_type") => err("client_type", "This field is required.".into()),
        None => {}
        Some(v) => match choice(v, &["confidential", "public"]) {
            Ok(s) => input.client_type = Some(s),
            Err(m) => err("client_type", m),
        },
    }
    match body.get("redirect_uris") {
        None => {}
        Some(_) if skip("redirect_uris") => {}
        Some(Value::Null) => input.redirect_uris = Some(String::new()),
        Some(Value::String(s)) => input.redirect_uris = Some(s.trim().to_string()),
        Some(_) => err("redirect_uris", "Not a valid string.".into()),
    }
    // The grant type is read-only once the app exists: ignored, silently (awx.md §3).
    if kind == WriteKind::Create {
        match body.get("authorization_grant_type") {
            None => err("authorization_grant_type", "This field is required.".into()),
            Some(v) => match choice(v, &["authorization-code", "password"]) {
                Ok(s) => input.grant = Some(s),
                Err(m) => err("authorization_grant_type", m),
            },
        }
    }
    match body.get("skip_authorization") {
        None => {}
        Some(_) if skip("skip_authorization") => {}
        Some(Value::Null) => input.skip_authorization = Some(false),
        Some(Value::Bool(b)) => input.skip_authorization = Some(*b),
        Some(Value::String(s)) if s.is_empty() => input.skip_authorization = Some(false),
        Some(Value::String(s)) => match parse_bool(s) {
            Some(b) => input.skip_authorization = Some(b),
            None => err("skip_authorization", "Must be a valid boolean.".into()),
        },
        Some(Value::Number(n)) if n.as_u64() == Some(1) || n.as_u64() == Some(0) => {
            input.skip_authorization = Some(n.as_u64() == Some(1))
        }
        Some(_) => err("skip_authorization", "Must be a valid boolean.".into()),
    }
    match body.get("organization") {
        _ if skip("organization") => {}
        None if required("organization") => err("organization", "This field is required.".into()),
        None => {}
        Some(Value::Null) => err("organization", "This field may not be null.".into()),
        Some(v) => {
            let id = match v {
                Value::Number(n) => n
                    .as_u64()
                    .ok_or_else(|| format!("Invalid pk \"{n}\" - object does not exist.")),
                Value::String(s) => s
                    .trim()
                    .parse::<u64>()
                    .map_err(|_| "Incorrect type. Expected pk value, received str.".to_string()),
                Value::Bool(_) => Err("Incorrect type. Expected pk value, received bool.".into()),
                Value::Array(_) => Err("Incorrect type. Expected pk value, received list.".into()),
                _ => Err("Incorrect type. Expected pk value, received dict.".into()),
            };
            match id {
                Ok(id) if state.orgs.iter().any(|o| o.id == id) => input.organization = Some(id),
                Ok(id) => err(
                    "organization",
                    format!("Invalid pk \"{id}\" - object does not exist."),
                ),
                Err(m) => err("organization", m),
            }
        }
    }
    if errors.is_empty() {
        Ok(input)
    } else {
        Err(errors)
    }
}

/// One redirect URI as DOT 1.7.1's `clean()` checks it: `RedirectURIValidator`
/// (Django 4.2 `URLValidator.__call__` with DOT's own pattern, searched from
/// the start only, then the fragment rule), then the allowed schemes.
fn dot_redirect_uri(uri: &str) -> Result<(), String> {
    const INVALID: &str = "Enter a valid URL.";
    // URLValidator: max_length 2048.
    if uri.chars().count() > 2048 {
        return Err(INVALID.into());
    }
    // urlsplit: scheme, netloc (up to / ? #), fragment.
    let (scheme, after) = match uri.split_once("://") {
        Some(p) => p,
        None => return Err(INVALID.into()),
    };
    let netloc_end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let netloc = after.get(..netloc_end).unwrap_or("");
    if netloc.contains('[') != netloc.contains(']') {
        return Err(INVALID.into()); // urlsplit: "Invalid IPv6 URL"
    }
    // DOT's pattern: `^[a-z][a-z0-9.+-]*://` then one of the host forms; with
    // no end anchor, only the host's start decides.
    let mut chars = scheme.chars();
    let scheme_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '-'));
    let host_start_ok = match after.chars().next() {
        Some('[') => after
            .get(1..)
            .and_then(|r| r.split_once(']'))
            .is_some_and(|(inside, _)| {
                !inside.is_empty()
                    && inside
                        .chars()
                        .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
            }),
        // hostname / dotless domain / IPv4; non-ASCII letters through the IDN retry.
        Some(c) => c.is_ascii_alphanumeric() || u32::from(c) >= 0xa1,
        None => false,
    };
    if !scheme_ok || !host_start_ok {
        return Err(INVALID.into());
    }
    // A bracketed netloc must hold a real IPv6 address.
    let hostinfo = netloc.rsplit_once('@').map_or(netloc, |(_, h)| h);
    let hostname = if let Some(rest) = hostinfo.strip_prefix('[') {
        let inside = rest.split(']').next().unwrap_or("");
        if inside.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(INVALID.into());
        }
        inside
    } else {
        hostinfo.split(':').next().unwrap_or("")
    };
    // A host starting with a non-ASCII letter: the pattern needs its
    // `hostname(.domain)*.tld` form at the start (the dotless form is ASCII
    // only), else `punycode(netloc)` is retried and raises on an empty label
    // or one over 63 characters: "Enter a valid URL." (observed).
    if hostname.chars().next().is_some_and(|c| !c.is_ascii()) && !idn_retry_ok(hostname) {
        return Err(INVALID.into());
    }
    // `splitted_url.hostname is None or len(...) > 253`.
    if hostname.is_empty() || hostname.chars().count() > 253 {
        return Err(INVALID.into());
    }
    let fragment = after.split_once('#').map_or("", |(_, f)| f);
    if !fragment.is_empty() {
        return Err("Redirect URIs must not contain fragments".into());
    }
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err(format!("Unauthorized redirect scheme: {scheme}"));
    }
    Ok(())
}

/// Django's host pattern at the start of a non-ASCII host, or its IDN retry.
fn idn_retry_ok(hostname: &str) -> bool {
    let parts: Vec<&str> = hostname.split('.').collect();
    let ul = |c: char| c.is_ascii_alphabetic() || ('\u{a1}'..='\u{ffff}').contains(&c);
    let hostname_label = |p: &str| {
        !p.is_empty()
            && p.chars().count() <= 63
            && !p.starts_with('-')
            && !p.ends_with('-')
            && p.chars().all(|c| ul(c) || c.is_ascii_digit() || c == '-')
    };
    let tld_prefix = |p: &str| {
        let mut cs = p.chars();
        matches!((cs.next(), cs.next()), (Some(a), Some(b)) if ul(a) && ul(b))
    };
    for k in 1..parts.len() {
        let head_ok = parts.iter().take(k).all(|p| hostname_label(p));
        if head_ok && parts.get(k).is_some_and(|p| tld_prefix(p)) {
            return true;
        }
    }
    // Python's idna codec: every label but a final empty one must encode to
    // 1..=63 characters.
    let encoded: Vec<&str> = match parts.split_last() {
        Some((&"", rest)) => rest.to_vec(),
        _ => parts.clone(),
    };
    encoded.iter().all(|p| {
        !p.is_empty() && idna::domain_to_ascii(p).is_ok_and(|a| !a.is_empty() && a.len() <= 63)
    })
}

/// DOT `clean()` plus the unique-together check (awx.md §4, observed order).
pub(super) fn model_clean(state: &AwxState, app: &App) -> Vec<String> {
    let mut errors = Vec::new();
    let uris: Vec<&str> = app.redirect_uris.split_whitespace().collect();
    if uris.is_empty() && app.authorization_grant_type == "authorization-code" {
        errors.push("redirect_uris cannot be empty with grant_type authorization-code".to_string());
    } else {
        for uri in uris {
            if let Err(e) = dot_redirect_uri(uri) {
                errors.push(e);
                break;
            }
        }
    }
    if state
        .apps
        .values()
        .any(|a| a.id != app.id && a.name == app.name && a.organization == app.organization)
    {
        errors.push("Application with this Name and Organization already exists.".into());
    }
    errors
}
