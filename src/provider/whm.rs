//! cPanel WHM API 1 connected applications (docs/contracts/whm.md): JSON mode with
//! exactly `application/json` and `api.version` in the body, `metadata.result`
//! checked on every answer (HTTP 200 is never trusted alone), list → live apps,
//! save = upsert of the whole `data`, remove. Before each save or remove of an
//! existing app the app is read again; a moved app is skipped as stale.

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::{Map, Value, json};

use super::http::{Http, Retry, server_message};
use super::{Created, Error, FailureKind};
use crate::model::{Kind, LiveApp, LiveState};

pub struct Whm {
    http: Http,
}

/// The object whose keys are the fields (`data`), from the WHM rules; live
/// apps name its keys `data.<key>` (see `Semantics::object_field`).
const OBJECT: &str = match crate::semantics::WHM.object_field {
    Some(object) => object,
    None => "data",
};

fn field_name(key: &str) -> String {
    format!("{OBJECT}.{key}")
}

/// One list item `{name, ...data}` → a live app.
pub fn live_app(item: &Value) -> Result<LiveApp, String> {
    let obj = item
        .as_object()
        .ok_or("unexpected response: a connected application is not a JSON object")?;
    let name = obj
        .get("name")
        .and_then(Value::as_str)
        .ok_or("unexpected response: a connected application has no `name`")?
        .to_string();
    let fields: BTreeMap<String, Value> = obj
        .iter()
        .filter(|(k, _)| k.as_str() != "name")
        .map(|(k, v)| (field_name(k), v.clone()))
        .collect();
    Ok(LiveApp {
        match_key: name.clone(),
        unmanageable: LiveApp::unmanageable_name(&name),
        capabilities: None,
        tokens: None,
        created: None,
        name: name.clone(),
        id: name,
        organization: None,
        aside: None,
        retiring: None,
        live_tokens: None,
        last_used: None,
        fields,
    })
}

/// Live-form fields → the `data` object.
fn data_object(fields: &BTreeMap<String, Value>) -> Map<String, Value> {
    fields
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix(OBJECT)
                .and_then(|rest| rest.strip_prefix('.'))
                .map(|key| (key.to_string(), v.clone()))
        })
        .collect()
}

/// A 200 answer of WHM API 1 in JSON mode: the envelope's `data` when
/// `metadata.result` is 1 (whm.md §3.7: HTTP 200 alone is not success).
pub fn parse_answer(body: &[u8]) -> Result<Value, (FailureKind, String)> {
    let malformed = |why: String| {
        (
            FailureKind::Malformed,
            format!("unexpected response: {why}"),
        )
    };
    let body: Value = super::strict_json::parse(body).map_err(|e| {
        if serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok() {
            malformed(format!("not valid JSON: {e}"))
        } else {
            malformed(format!("{} (not JSON)", server_message(body)))
        }
    })?;
    let metadata = body
        .get("metadata")
        .ok_or_else(|| malformed("no `metadata`".into()))?;
    match metadata.get("result").and_then(Value::as_u64) {
        Some(1) => Ok(body.get("data").cloned().unwrap_or(Value::Null)),
        Some(_) => {
            let reason = metadata
                .get("reason")
                .and_then(Value::as_str)
                .unwrap_or("(no reason given)");
            Err((FailureKind::Rejected, format!("WHM result 0: {reason}")))
        }
        None => Err(malformed("`metadata.result` is missing".into())),
    }
}

/// The apps of a `list_connected_applications` envelope's `data`, sorted by name.
pub fn apps_of_list(data: &Value) -> Result<Vec<LiveApp>, String> {
    let list = data
        .get("list")
        .and_then(Value::as_array)
        .ok_or("unexpected response: list_connected_applications has no `data.list`")?;
    let mut apps: Vec<LiveApp> = list.iter().map(live_app).collect::<Result<_, _>>()?;
    // whm.md §3.3: the order is unspecified; sort by name.
    apps.sort_by(|a, b| a.name.cmp(&b.name));
    apps.dedup_by(|a, b| a.name == b.name);
    Ok(apps)
}

/// One whole `list_connected_applications` answer → live apps (fuzz targets
/// and property tests; the provider does the same in two steps).
pub fn parse_list(body: &[u8]) -> Result<Vec<LiveApp>, String> {
    let data = parse_answer(body).map_err(|(_, why)| why)?;
    apps_of_list(&data)
}

impl Whm {
    pub fn new(http: Http) -> Self {
        Whm { http }
    }

    /// Calls `function` with `args`; returns the envelope's `data`.
    async fn call(
        &self,
        function: &str,
        mut args: Map<String, Value>,
        retry: Retry,
    ) -> Result<Value, Error> {
        // whm.md §2: `api.version` inside the JSON body; `.json()` sends exactly
        // `Content-Type: application/json`.
        args.insert("api.version".into(), json!(1));
        // Also in the query string: harmless in JSON mode (whm.md §2), and read
        // by any front end that routes on it.
        let path = format!("/json-api/{function}?api.version=1");
        let url = self.http.url(&path);
        let reply = self
            .http
            .send(Method::POST, &path, Some(&Value::Object(args)), retry)
            .await
            .map_err(|e| Error::unreachable(&e))?;
        if !reply.is_success() {
            let hint = match reply.status.as_u16() {
                401 => " (check the username and token or password)",
                403 => " (the user lacks the `connected-applications` privilege)",
                _ => "",
            };
            return Err(Error::status(
                format!(
                    "POST {url}: HTTP {}{hint}: {}",
                    reply.status,
                    server_message(&reply.body)
                ),
                reply.status.as_u16(),
            ));
        }
        parse_answer(&reply.body)
            .map_err(|(kind, why)| Error::new(kind, format!("POST {url}: {why}")))
    }

    pub async fn fetch(&self) -> Result<LiveState, Error> {
        let data = self
            .call("list_connected_applications", Map::new(), Retry::Idempotent)
            .await?;
        let apps = apps_of_list(&data).map_err(Error::malformed)?;
        Ok(LiveState {
            apps,
            organizations: BTreeMap::new(),
            defaults: BTreeMap::new(),
            managed_only: false,
            read_at: None,
        })
    }

    /// The app as it is now (both documented fetch shapes, whm.md §1).
    async fn get(&self, name: &str) -> Result<Option<LiveApp>, Error> {
        let mut args = Map::new();
        args.insert("name".into(), json!(name));
        let data = self
            .call("fetch_connected_application", args, Retry::Idempotent)
            .await?;
        let item = match (data.get("app"), data.get("data")) {
            // 11.120 source: {"app": {name, ...data}} or {"app": null}
            (Some(Value::Null), _) => return Ok(None),
            (Some(app), _) => app.clone(),
            // 11.13x docs: {"data": {...}, "name": "..."}
            (None, Some(Value::Object(d))) => {
                let mut item = d.clone();
                item.insert("name".into(), json!(name));
                Value::Object(item)
            }
            _ => return Ok(None),
        };
        live_app(&item)
            .map(Some)
            .map_err(|e| Error::new(FailureKind::Malformed, e))
    }

    async fn fresh(&self, name: &str, expected: Option<&str>) -> Result<bool, Error> {
        let current = self.get(name).await?;
        super::still_as_planned(Kind::Whm, name, current.as_ref(), expected)
    }

    pub async fn save(
        &self,
        name: &str,
        fields: &BTreeMap<String, Value>,
        expected: Option<&str>,
    ) -> Result<Created, Error> {
        if expected.is_some() && !self.fresh(name, expected).await? {
            return Err(Error::stale(format!(
                "skipped as stale: `{name}` was deleted since the plan was made"
            )));
        }
        let mut args = Map::new();
        args.insert("name".into(), json!(name));
        args.insert("data".into(), Value::Object(data_object(fields)));
        // An upsert: repeating it is safe (whm.md §3.2).
        self.call("save_connected_application", args, Retry::Idempotent)
            .await
            .map(|_| Created::without_secret(None))
    }

    pub async fn remove(&self, name: &str, expected: Option<&str>) -> Result<(), Error> {
        if !self.fresh(name, expected).await? {
            return Ok(());
        }
        let mut args = Map::new();
        args.insert("name".into(), json!(name));
        self.call("remove_connected_application", args, Retry::Idempotent)
            .await
            .map(|_| ())
    }
}

impl super::Provider for Whm {
    fn fetch(&self) -> super::BoxFuture<'_, Result<LiveState, Error>> {
        Box::pin(Whm::fetch(self))
    }

    fn execute<'a>(
        &'a self,
        operation: &'a crate::plan::Operation,
        expected: Option<&'a str>,
    ) -> super::BoxFuture<'a, Result<super::Applied, Error>> {
        use super::Applied;
        use crate::plan::Operation;
        Box::pin(async move {
            match operation {
                Operation::Create { name, fields, .. } => {
                    self.save(name, fields, None).await.map(|_| Applied::done())
                }
                Operation::Update { id, fields } => self
                    .save(id, fields, expected)
                    .await
                    .map(|_| Applied::done()),
                Operation::Delete { id } => {
                    self.remove(id, expected).await.map(|_| Applied::done())
                }
                Operation::Replace { .. } => super::replacement_refused(),
            }
        })
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_items_become_data_key_fields() {
        let app =
            live_app(&json!({"name": "billing", "jwt": {"iss": "x"}, "token_name": "t"})).unwrap();
        assert_eq!(app.match_key, "billing");
        assert_eq!(
            app.fields.keys().collect::<Vec<_>>(),
            ["data.jwt", "data.token_name"]
        );
        assert_eq!(
            data_object(&app.fields),
            json!({"jwt": {"iss": "x"}, "token_name": "t"})
                .as_object()
                .unwrap()
                .clone()
        );
    }

    #[test]
    fn malformed_items_are_errors() {
        assert!(live_app(&json!(["x"])).is_err());
        assert!(live_app(&json!({"token_name": "no name"})).is_err());
    }
}
