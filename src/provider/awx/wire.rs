//! The AWX application API's answers and bodies, as pure functions: an
//! application from a listing (fields from the kind's semantics table), a
//! page and its consistency, the organizations, the `name__in` queries of
//! `listing: managed`, the body of a write, and the duplicate error.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::Method;
use serde_json::{Map, Value};

use super::{Dialect, PAGE_SIZE};
use crate::model::{Capabilities, LiveApp};
use crate::provider::Error;
use crate::provider::http::{Http, Reply, server_message};
use crate::semantics::{self, Compare, Semantics};

pub(super) fn unexpected(http: &Http, method: &Method, path: &str, reply: &Reply) -> String {
    let status = reply.status;
    let hint = match status.as_u16() {
        401 => " (check the credentials)",
        403 => " (the credentials lack permission)",
        _ => "",
    };
    format!(
        "{method} {}: HTTP {}{hint}: {}",
        http.url(path),
        status,
        server_message(&reply.body)
    )
}

pub(super) fn field<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    what: &str,
) -> Result<&'a Value, String> {
    obj.get(key)
        .ok_or_else(|| format!("unexpected response: {what} has no `{key}`"))
}

/// One AWX application object → the config's terms, and the name of its
/// organization when the object carries it (`summary_fields`).
pub fn live_app(value: &Value) -> Result<(LiveApp, Option<String>), String> {
    live_app_of(&semantics::AWX, value)
}

/// One application object of a server of this kind → the config's terms:
/// each field of the kind's semantics table, read by its API name (a list
/// of URIs from its space-separated string; a field whose default is null,
/// such as the gateway's `app_url`, may be null or missing, as older servers
/// lack it).
pub fn live_app_of(sem: &Semantics, value: &Value) -> Result<(LiveApp, Option<String>), String> {
    let obj = value
        .as_object()
        .ok_or("unexpected response: an application is not a JSON object")?;
    let id = field(obj, "id", "an application")?
        .as_u64()
        .ok_or("unexpected response: an application id is not a number")?;
    let what = format!("application #{id}");
    let name = field(obj, "name", &what)?
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("unexpected response: `name` of {what} is not a string"))?;
    // `null` is legacy data the model allows: the app is listed, never managed.
    let organization = match field(obj, "organization", &what)? {
        Value::Null => None,
        v => Some(v.as_u64().ok_or_else(|| {
            format!("unexpected response: `organization` of {what} is not a number")
        })?),
    };
    let mut fields = BTreeMap::new();
    for rule in sem.fields {
        let nullable = rule.default.is_some_and(|d| d().is_null());
        let v = match obj.get(rule.api_name) {
            None if nullable => continue,
            None => {
                return Err(format!(
                    "unexpected response: {what} has no `{}`",
                    rule.api_name
                ));
            }
            Some(v) => v,
        };
        let value = match (rule.compare, v) {
            (_, Value::Null) if nullable => Value::Null,
            (Compare::TextSet, Value::String(s)) => Value::Array(
                s.split_whitespace()
                    .map(|s| Value::String(s.to_string()))
                    .collect(),
            ),
            (Compare::Exact, Value::Bool(b)) => Value::Bool(*b),
            (Compare::TrimmedText, Value::String(s)) => Value::String(s.clone()),
            (Compare::Exact, _) => {
                return Err(format!(
                    "unexpected response: `{}` of {what} is not a boolean",
                    rule.api_name
                ));
            }
            _ => {
                return Err(format!(
                    "unexpected response: `{}` of {what} is not a string",
                    rule.api_name
                ));
            }
        };
        fields.insert(rule.name.to_string(), value);
    }
    let summary = obj.get("summary_fields");
    let org_name = summary
        .and_then(|s| s.get("organization"))
        .and_then(|o| o.get("name"))
        .and_then(Value::as_str)
        .map(str::to_string);
    // awx.md, observed: a write the listing marks false gets 403.
    let capabilities = summary
        .and_then(|s| s.get("user_capabilities"))
        .map(|c| Capabilities {
            edit: c.get("edit").and_then(Value::as_bool).unwrap_or(true),
            delete: c.get("delete").and_then(Value::as_bool).unwrap_or(true),
        });
    let tokens = summary
        .and_then(|s| s.get("tokens"))
        .and_then(|t| t.get("count"))
        .and_then(Value::as_u64);
    let id = id.to_string();
    Ok((
        LiveApp {
            match_key: match organization {
                Some(org) => format!("{org}/{}", name.trim()),
                // Never the key of a desired app (those have an organization id).
                None => format!("-/{}", name.trim()),
            },
            aside: organization.and_then(|_| crate::aside::parse(name.trim(), &id)),
            retiring: organization.and_then(|_| crate::retiring::parse(name.trim(), &id)),
            live_tokens: None,
            last_used: None,
            unmanageable: match organization {
                None => Some("its organization is null (legacy data AWX allows): appform never changes or deletes an application without an organization (set one on the server to manage it)".to_string()),
                Some(_) => LiveApp::unmanageable_name(&name),
            },
            name,
            id,
            organization,
            fields,
            capabilities,
            tokens,
            created: obj.get("created").and_then(Value::as_str).map(str::to_string),
        },
        org_name,
    ))
}

/// Config-form fields → the API's body: lists of URIs space-joined in
/// config order.
pub(super) fn api_body(sem: &Semantics, fields: &BTreeMap<String, Value>) -> Map<String, Value> {
    fields
        .iter()
        .map(|(k, v)| {
            let list = sem.rule(k).is_some_and(|r| r.compare == Compare::TextSet);
            let v = match v {
                Value::Array(items) if list => Value::String(
                    items
                        .iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(" "),
                ),
                _ => v.clone(),
            };
            (k.clone(), v)
        })
        .collect()
}

/// One page of a list: `count` and `results`.
pub fn page_of(body: &[u8], what: &str) -> Result<(usize, Vec<Value>), String> {
    let mut body: Value = crate::provider::strict_json::parse(body)
        .map_err(|e| format!("unexpected response: the {what} list is not valid JSON ({e})"))?;
    let count = body
        .get("count")
        .and_then(Value::as_u64)
        .ok_or_else(|| format!("unexpected response: the {what} list has no `count`"))?
        as usize;
    match body.get_mut("results").map(Value::take) {
        Some(Value::Array(results)) => Ok((count, results)),
        _ => Err(format!(
            "unexpected response: the {what} list has no `results`"
        )),
    }
}

/// One page of `/api/v2/applications/` → its `count` and live apps (fuzz
/// targets and property tests; the provider does the same in two steps).
pub fn parse_application_page(body: &[u8]) -> Result<(usize, Vec<LiveApp>), String> {
    let (count, results) = page_of(body, "application")?;
    let apps = results
        .iter()
        .map(|r| live_app(r).map(|(app, _)| app))
        .collect::<Result<_, _>>()?;
    Ok((count, apps))
}

/// Whether the pages of one listing agree with each other (docs/reference.md §4.5): the same
/// `count` on every page, no id twice, and as many ids as `count`. `Err` says
/// what moved.
pub fn check_listing(counts: &[usize], apps: &[LiveApp]) -> Result<(), String> {
    let ids: Vec<u64> = apps.iter().filter_map(|a| a.id.parse().ok()).collect();
    if ids.len() != apps.len() {
        return Err("an application id is not a number".into());
    }
    check_pages(counts, ids.into_iter(), "application")
}

/// [`check_listing`] for any listing: its pages' counts and its ids.
pub(super) fn check_pages(
    counts: &[usize],
    ids: impl Iterator<Item = u64>,
    what: &str,
) -> Result<(), String> {
    let first = counts.first().copied().unwrap_or(0);
    if let Some(other) = counts.iter().find(|c| **c != first) {
        return Err(format!(
            "the {what} count changed from {first} to {other} between pages"
        ));
    }
    let mut seen = BTreeSet::new();
    for id in ids {
        if !seen.insert(id) {
            return Err(format!("{what} #{id} was listed twice"));
        }
    }
    if seen.len() != first {
        return Err(format!(
            "the pages held {} {what}s, but the count is {first}",
            seen.len()
        ));
    }
    Ok(())
}

/// What the reserved names of [`crate::aside`] and [`crate::retiring`]
/// share: one filtered listing finds both.
pub(super) const RESERVED_MARKS: &str = "~appform-";

/// The filtered listings of `listing: managed` under `base`: `name__in`
/// with at most about 2,000 encoded characters each (a name holding a comma,
/// which `__in` would split, gets a `name=` query of its own), and one for
/// the applications set aside by an interrupted replacement or kept by a
/// rotation (its other answers are dropped by the caller).
pub fn named_queries(base: &str, names: &[String]) -> Vec<String> {
    const MAX: usize = 2000;
    let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let mut out = Vec::new();
    let mut chunk: Vec<&str> = Vec::new();
    let mut len = 0;
    for name in names {
        if name.contains(',') {
            out.push(format!("{base}?name={}", encode(name)));
            continue;
        }
        let cost = encode(name).len() + 3;
        if !chunk.is_empty() && len + cost > MAX {
            out.push(format!("{base}?name__in={}", encode(&chunk.join(","))));
            chunk.clear();
            len = 0;
        }
        chunk.push(name);
        len += cost;
    }
    if !chunk.is_empty() {
        out.push(format!("{base}?name__in={}", encode(&chunk.join(","))));
    }
    out.push(format!("{base}?name__contains={}", encode(RESERVED_MARKS)));
    out
}

/// The page size the server serves: the first page's length when it is
/// shorter than asked and more are to come (a lowered `MAX_PAGE_SIZE`),
/// else the size asked for.
pub(super) fn served_page_size(count: usize, first_page: usize) -> usize {
    if first_page > 0 && first_page < PAGE_SIZE && first_page < count {
        first_page
    } else {
        PAGE_SIZE
    }
}

/// Whether a 400 says the (organization, name) pair is taken.
pub(super) fn says_already_exists(dialect: &Dialect, reply: &Reply) -> bool {
    if reply.status.as_u16() != 400 {
        return false;
    }
    let text = String::from_utf8_lossy(&reply.body);
    dialect.duplicate_markers.iter().any(|m| text.contains(m))
}

pub(super) fn organizations_of(results: &[Value]) -> Result<BTreeMap<u64, String>, Error> {
    let mut out = BTreeMap::new();
    for o in results {
        let id = o.get("id").and_then(Value::as_u64);
        let name = o.get("name").and_then(Value::as_str);
        match (id, name) {
            (Some(id), Some(name)) => {
                out.insert(id, name.to_string());
            }
            _ => {
                return Err(Error::malformed(
                    "unexpected response: an organization has no numeric `id` or no `name`",
                ));
            }
        }
    }
    Ok(out)
}
