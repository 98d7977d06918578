//! AWX `/api/v2/applications/` (contracts/awx.md): list in as few requests as
//! possible, resolve organization names once, create (capturing the secret
//! shown once), PATCH the changed fields, delete. 403 is never read as absent.

use std::collections::{BTreeMap, BTreeSet};

use futures_util::stream::{self, StreamExt};
use reqwest::Method;
use serde_json::{Map, Value, json};

use super::http::{Http, Reply, Retry, server_message};
use super::{Created, WriteError};
use crate::model::{AppIdentity, LiveApp, LiveState, OrgRef, Server};
use crate::secret::Secret;

/// awx.md §5: the largest page the server serves.
const PAGE_SIZE: usize = 200;

pub struct Awx {
    http: Http,
    max_in_flight: usize,
}

fn unexpected(http: &Http, method: &Method, path: &str, reply: &Reply) -> String {
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

fn field<'a>(obj: &'a Map<String, Value>, key: &str, what: &str) -> Result<&'a Value, String> {
    obj.get(key)
        .ok_or_else(|| format!("unexpected response: {what} has no `{key}`"))
}

/// One application object → the config's terms.
fn live_app(value: &Value) -> Result<LiveApp, String> {
    let obj = value
        .as_object()
        .ok_or("unexpected response: an application is not a JSON object")?;
    let id = field(obj, "id", "an application")?
        .as_u64()
        .ok_or("unexpected response: an application id is not a number")?;
    let what = format!("application #{id}");
    let text = |key: &str| -> Result<String, String> {
        field(obj, key, &what)?
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("unexpected response: `{key}` of {what} is not a string"))
    };
    let name = text("name")?;
    let organization = field(obj, "organization", &what)?
        .as_u64()
        .ok_or_else(|| format!("unexpected response: `organization` of {what} is not a number"))?;
    let skip = field(obj, "skip_authorization", &what)?
        .as_bool()
        .ok_or_else(|| {
            format!("unexpected response: `skip_authorization` of {what} is not a boolean")
        })?;
    let redirect: Vec<Value> = text("redirect_uris")?
        .split_whitespace()
        .map(|s| Value::String(s.to_string()))
        .collect();
    let mut fields = BTreeMap::new();
    fields.insert("client_type".to_string(), json!(text("client_type")?));
    fields.insert(
        "authorization_grant_type".to_string(),
        json!(text("authorization_grant_type")?),
    );
    fields.insert("redirect_uris".to_string(), Value::Array(redirect));
    fields.insert("skip_authorization".to_string(), json!(skip));
    fields.insert("description".to_string(), json!(text("description")?));
    Ok(LiveApp {
        match_key: format!("{organization}/{}", name.trim()),
        name,
        id: id.to_string(),
        organization: Some(organization),
        fields,
    })
}

/// Config-form fields → the API's body: `redirect_uris` space-joined in config order.
fn api_body(fields: &BTreeMap<String, Value>) -> Map<String, Value> {
    fields
        .iter()
        .map(|(k, v)| {
            let v = match (k.as_str(), v) {
                ("redirect_uris", Value::Array(items)) => Value::String(
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

fn page_of(reply: &Reply) -> Result<(usize, Vec<Value>), String> {
    let body = reply
        .json()
        .ok_or("unexpected response: the application list is not JSON")?;
    let count =
        body.get("count")
            .and_then(Value::as_u64)
            .ok_or("unexpected response: the application list has no `count`")? as usize;
    let results = body
        .get("results")
        .and_then(Value::as_array)
        .ok_or("unexpected response: the application list has no `results`")?
        .clone();
    Ok((count, results))
}

impl Awx {
    pub fn new(http: Http, max_in_flight: u32) -> Self {
        Awx {
            http,
            max_in_flight: max_in_flight.max(1) as usize,
        }
    }

    async fn get(&self, path: &str) -> Result<Reply, String> {
        let reply = self
            .http
            .send(Method::GET, path, None, Retry::Idempotent)
            .await
            .map_err(|e| e.to_string())?;
        if reply.is_success() {
            Ok(reply)
        } else {
            Err(unexpected(&self.http, &Method::GET, path, &reply))
        }
    }

    /// Every application, and the ids of the organizations the config names.
    pub async fn fetch(&self, server: &Server) -> Result<LiveState, String> {
        let names: BTreeSet<&str> = server
            .apps
            .iter()
            .filter_map(|a| match &a.identity {
                AppIdentity::Awx {
                    organization: OrgRef::Name(n),
                    ..
                } => Some(n.as_str()),
                _ => None,
            })
            .collect();
        let lookups = stream::iter(names)
            .map(|name| async move {
                let path = format!(
                    "/api/v2/organizations/?{}",
                    url::form_urlencoded::Serializer::new(String::new())
                        .append_pair("name", name)
                        .finish()
                );
                let reply = self.get(&path).await?;
                let (_, results) = page_of(&reply)
                    .map_err(|e| e.replace("application list", "organization list"))?;
                let id = results
                    .iter()
                    .find(|o| o.get("name").and_then(Value::as_str) == Some(name))
                    .and_then(|o| o.get("id"))
                    .and_then(Value::as_u64);
                Ok::<_, String>((name.to_string(), id))
            })
            .buffer_unordered(self.max_in_flight)
            .collect::<Vec<_>>()
            .await;
        let mut organizations = BTreeMap::new();
        for lookup in lookups {
            if let (name, Some(id)) = lookup? {
                organizations.insert(name, id);
            }
        }

        // One page of 200, then the rest concurrently once the count is known.
        let first = self
            .get(&format!(
                "/api/v2/applications/?page_size={PAGE_SIZE}&page=1"
            ))
            .await?;
        let (count, mut results) = page_of(&first)?;
        let pages = count.div_ceil(PAGE_SIZE).max(1);
        let rest = stream::iter(2..=pages)
            .map(|page| async move {
                let reply = self
                    .get(&format!(
                        "/api/v2/applications/?page_size={PAGE_SIZE}&page={page}"
                    ))
                    .await?;
                page_of(&reply).map(|(_, r)| r)
            })
            .buffered(self.max_in_flight)
            .collect::<Vec<_>>()
            .await;
        for page in rest {
            results.extend(page?);
        }
        let mut apps = Vec::with_capacity(results.len());
        let mut seen = BTreeSet::new();
        for r in &results {
            let app = live_app(r)?;
            // An app created between two page reads can shift another one into
            // the next page twice; keep one copy.
            if seen.insert(app.id.clone()) {
                apps.push(app);
            }
        }
        Ok(LiveState {
            apps,
            organizations,
        })
    }

    /// Looks an app up by (organization, name): after an ambiguous create.
    async fn find(&self, name: &str, organization: u64) -> Result<Option<Value>, String> {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("organization", &organization.to_string())
            .append_pair("name", name)
            .finish();
        let reply = self.get(&format!("/api/v2/applications/?{query}")).await?;
        let (_, results) = page_of(&reply)?;
        Ok(results.into_iter().next())
    }

    pub async fn create(
        &self,
        name: &str,
        organization: u64,
        fields: &BTreeMap<String, Value>,
    ) -> Result<Created, WriteError> {
        let mut body = api_body(fields);
        body.insert("name".into(), json!(name));
        body.insert("organization".into(), json!(organization));
        let body = Value::Object(body);
        let path = "/api/v2/applications/";
        let mut attempts = 0;
        loop {
            attempts += 1;
            let outcome = self
                .http
                .send(Method::POST, path, Some(&body), Retry::Never)
                .await;
            let ambiguous = match &outcome {
                Ok(reply) if reply.is_success() => {
                    let created = reply.json().ok_or_else(|| {
                        WriteError::new(format!(
                            "POST {}: the 201 body is not JSON",
                            self.http.url(path)
                        ))
                    })?;
                    return Ok(Created {
                        client_id: created
                            .get("client_id")
                            .and_then(Value::as_str)
                            .map(str::to_string),
                        client_secret: created
                            .get("client_secret")
                            .and_then(Value::as_str)
                            .filter(|s| !s.is_empty() && *s != "************")
                            .map(Secret::new),
                        warning: None,
                    });
                }
                Ok(reply) if reply.status.is_server_error() => true,
                Ok(reply) => {
                    return Err(WriteError::status(
                        unexpected(&self.http, &Method::POST, path, reply),
                        reply.status.as_u16(),
                    ));
                }
                Err(e) => e.ambiguous,
            };
            // SPEC §4.5: a create is not repeated blindly. Look first.
            if ambiguous && let Ok(Some(existing)) = self.find(name, organization).await {
                return Ok(Created {
                    client_id: existing
                        .get("client_id")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    client_secret: None,
                    warning: Some(format!(
                        "the create of `{name}` got no clear answer, but the application exists: its client secret was shown only in the lost response; replace the application to get a new one"
                    )),
                });
            }
            if attempts > self.http.max_retries() {
                return Err(match outcome {
                    Ok(reply) => WriteError::status(
                        unexpected(&self.http, &Method::POST, path, &reply),
                        reply.status.as_u16(),
                    ),
                    Err(e) => WriteError::new(e.to_string()),
                });
            }
            tokio::time::sleep(super::http::backoff(attempts, None)).await;
        }
    }

    pub async fn update(
        &self,
        id: &str,
        fields: &BTreeMap<String, Value>,
    ) -> Result<(), WriteError> {
        let path = format!("/api/v2/applications/{id}/");
        let body = Value::Object(api_body(fields));
        let reply = self
            .http
            .send(Method::PATCH, &path, Some(&body), Retry::Idempotent)
            .await
            .map_err(|e| WriteError::new(e.to_string()))?;
        if reply.is_success() {
            Ok(())
        } else {
            Err(WriteError::status(
                unexpected(&self.http, &Method::PATCH, &path, &reply),
                reply.status.as_u16(),
            ))
        }
    }

    pub async fn delete(&self, id: &str) -> Result<(), WriteError> {
        let path = format!("/api/v2/applications/{id}/");
        let reply = self
            .http
            .send(Method::DELETE, &path, None, Retry::Idempotent)
            .await
            .map_err(|e| WriteError::new(e.to_string()))?;
        // A retried DELETE whose first attempt succeeded answers 404: already gone.
        if reply.is_success() || reply.status.as_u16() == 404 {
            Ok(())
        } else {
            Err(WriteError::status(
                unexpected(&self.http, &Method::DELETE, &path, &reply),
                reply.status.as_u16(),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_items_become_live_apps() {
        let v = json!({"id": 5, "name": " grafana", "organization": 1, "client_type": "public",
            "authorization_grant_type": "password", "redirect_uris": "https://a/cb\n https://b/cb",
            "skip_authorization": false, "description": "", "client_secret": "************"});
        let app = live_app(&v).unwrap();
        assert_eq!(app.match_key, "1/grafana");
        assert_eq!(app.id, "5");
        assert_eq!(
            app.fields["redirect_uris"],
            json!(["https://a/cb", "https://b/cb"])
        );
        assert!(!app.fields.contains_key("client_secret"));
    }

    #[test]
    fn malformed_items_are_errors_not_panics() {
        assert!(live_app(&json!("x")).is_err());
        assert!(live_app(&json!({"id": "5"})).is_err());
        let err = live_app(&json!({"id": 5, "name": 3})).unwrap_err();
        assert!(err.contains("`name`"), "{err}");
    }

    #[test]
    fn redirect_uris_are_sent_space_joined_in_config_order() {
        let mut f = BTreeMap::new();
        f.insert(
            "redirect_uris".to_string(),
            json!(["https://b/cb", "https://a/cb"]),
        );
        assert_eq!(
            api_body(&f)["redirect_uris"],
            json!("https://b/cb https://a/cb")
        );
    }
}
