//! The AWX application API, as AWX (`/api/v2/applications/`, docs/contracts/awx.md)
//! and the AAP platform gateway (`/api/gateway/v1/applications/`,
//! docs/contracts/gateway.md) both serve it: list in as few requests as
//! possible (and only from a consistent listing), the organizations the
//! credentials can see, create (capturing the secret shown once, never
//! repeating a create blindly), PATCH the changed fields, delete, and replace
//! create-before-destroy. 403 is never read as absent. What differs between
//! the two servers is a [`Dialect`] and the kind's semantics table.

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::{Value, json};

use super::http::{Http, Retry};
use super::{Applied, Created, Error, FailureKind, NewSecret};
use crate::model::{Kind, LiveApp, LiveState};
use crate::secret::Secret;
use crate::semantics::{self, Semantics};

mod listing;
mod wire;
use wire::{api_body, says_already_exists, unexpected};
pub use wire::{
    check_listing, live_app, live_app_of, named_queries, page_of, parse_application_page,
};

/// What differs between the servers that speak this API, besides the
/// fields (which come from the kind's semantics table).
#[derive(Debug)]
pub struct Dialect {
    pub kind: Kind,
    /// Where the API lives under the server's URL.
    pub prefix: &'static str,
    /// What a client secret reads as once it has been shown.
    pub masked_secret: &'static str,
    /// Texts of a 400 that say the (organization, name) pair is taken.
    pub duplicate_markers: &'static [&'static str],
}

/// AWX 24.6.1.
pub const AWX: Dialect = Dialect {
    kind: Kind::Awx,
    prefix: "/api/v2",
    masked_secret: "************",
    // awx.md, observed: `__all__` "already exists", or the database's
    // unique-constraint message under concurrency.
    duplicate_markers: &["already exists", "duplicate key value"],
};

/// The AAP platform gateway (django-ansible-base).
pub const GATEWAY: Dialect = Dialect {
    kind: Kind::Gateway,
    prefix: "/api/gateway/v1",
    masked_secret: "$encrypted$",
    // gateway.md, observed: `non_field_errors` "must make a unique set"; the
    // database's messages under concurrency (PostgreSQL, SQLite).
    duplicate_markers: &[
        "must make a unique set",
        "duplicate key value",
        "UNIQUE constraint failed",
    ],
};

/// The most pages of one listing (200,000 objects): more is a broken or
/// hostile server, refused rather than paged forever.
const MAX_PAGES: usize = 1_000;

/// awx.md §5: the largest page the server serves.
pub(crate) const PAGE_SIZE: usize = 200;

/// How often a listing that changed while it was read is read again.
const LIST_ATTEMPTS: u32 = 3;

pub struct Awx {
    http: Http,
    max_in_flight: usize,
    dialect: &'static Dialect,
}

impl Awx {
    pub fn new(http: Http, max_in_flight: u32, dialect: &'static Dialect) -> Self {
        Awx {
            http,
            max_in_flight: max_in_flight.max(1) as usize,
            dialect,
        }
    }

    fn semantics(&self) -> &'static Semantics {
        semantics::of(self.dialect.kind)
    }

    fn is_confidential(&self, fields: &BTreeMap<String, Value>) -> bool {
        self.semantics().yields_secret(fields)
    }

    /// The path of an API endpoint (`/applications/`) on this server.
    fn api(&self, endpoint: &str) -> String {
        format!("{}{endpoint}", self.dialect.prefix)
    }
}

impl Awx {
    /// `/applications/<id>/tokens/`: the tokens that have not expired now.
    /// A token whose `expires` is missing or unreadable counts as live (a
    /// delete must never be waved through on a guess).
    async fn live_tokens(&self, id: &str) -> Result<super::TokenUse, Error> {
        let (_, tokens) = self
            .all_pages(&self.api(&format!("/applications/{id}/tokens/")), "token")
            .await?;
        let now = std::time::SystemTime::now();
        let mut use_ = super::TokenUse {
            live: 0,
            until: None,
            last_used: None,
        };
        let mut latest: Option<std::time::SystemTime> = None;
        let mut last_used: Option<std::time::SystemTime> = None;
        for token in &tokens {
            if let Some((text, when)) = token
                .get("last_used")
                .and_then(Value::as_str)
                .and_then(|t| crate::timestamp::parse(t).map(|w| (t, w)))
                && last_used.is_none_or(|l| when > l)
            {
                last_used = Some(when);
                use_.last_used = Some(text.to_string());
            }
            let expires = token.get("expires").and_then(Value::as_str);
            match expires.map(|e| (e, crate::timestamp::parse(e).ok_or(()))) {
                Some((_, Ok(when))) if when <= now => {}
                Some((text, Ok(when))) => {
                    use_.live += 1;
                    if latest.is_none_or(|l| when > l) {
                        latest = Some(when);
                        use_.until = Some(text.to_string());
                    }
                }
                _ => use_.live += 1,
            }
        }
        Ok(use_)
    }

    /// Looks an app up by (organization, name): the app and its client id.
    async fn find(
        &self,
        name: &str,
        organization: u64,
    ) -> Result<Option<(LiveApp, Option<String>)>, Error> {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("organization", &organization.to_string())
            .append_pair("name", name)
            .finish();
        let path = format!("{}?{query}", self.api("/applications/"));
        let reply = self.get(&path).await?;
        let (_, results) = page_of(&reply.body, "application")
            .map_err(|e| Error::new(FailureKind::Malformed, e))?;
        match results.first() {
            None => Ok(None),
            Some(v) => live_app_of(self.semantics(), v)
                .map(|(app, _)| {
                    let client_id = v
                        .get("client_id")
                        .and_then(Value::as_str)
                        .map(str::to_string);
                    Some((app, client_id))
                })
                .map_err(|e| Error::new(FailureKind::Malformed, e)),
        }
    }

    /// After a create without a clear answer, or one answered "already
    /// exists": the app that is there, if it is the one the config wants
    /// (`Ok(Some)`: counted as created; its secret, if any, is lost), or
    /// `Ok(None)` when there is none.
    async fn adopt(
        &self,
        name: &str,
        organization: u64,
        fields: &BTreeMap<String, Value>,
        how: &str,
    ) -> Result<Option<Created>, Error> {
        let Some((found, client_id)) = self.find(name, organization).await? else {
            return Ok(None);
        };
        let differs = crate::plan::diff::differing_fields(self.dialect.kind, &found, fields);
        if !differs.is_empty() {
            return Err(Error::new(
                FailureKind::Conflict,
                format!(
                    "an application `{name}` already exists in organization {organization} ({how}) and differs from the config in {}; nothing was changed: plan again to see it",
                    differs
                        .iter()
                        .map(|d| format!("`{d}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        Ok(Some(Created {
            client_id,
            secret: if self.is_confidential(fields) {
                NewSecret::Lost(how.to_string())
            } else {
                NewSecret::None
            },
        }))
    }

    pub async fn create(
        &self,
        name: &str,
        organization: u64,
        fields: &BTreeMap<String, Value>,
    ) -> Result<Created, Error> {
        let mut body = api_body(self.semantics(), fields);
        body.insert("name".into(), json!(name));
        body.insert("organization".into(), json!(organization));
        let body = Value::Object(body);
        let path = &self.api("/applications/");
        let mut attempts = 0;
        loop {
            attempts += 1;
            let outcome = self
                .http
                .send(Method::POST, path, Some(&body), Retry::Never)
                .await;
            let failure = match outcome {
                Ok(reply) if reply.is_success() => {
                    let created = reply.json().ok_or_else(|| {
                        Error::new(
                            FailureKind::Malformed,
                            format!("POST {}: the 201 body is not JSON", self.http.url(path)),
                        )
                    })?;
                    let secret = created
                        .get("client_secret")
                        .and_then(Value::as_str)
                        .filter(|s| !s.is_empty() && *s != self.dialect.masked_secret)
                        .map(Secret::new);
                    return Ok(Created {
                        client_id: created
                            .get("client_id")
                            .and_then(Value::as_str)
                            .map(str::to_string),
                        secret: match (secret, self.is_confidential(fields)) {
                            (Some(s), _) => NewSecret::Captured(s),
                            (None, true) => {
                                NewSecret::Lost("the create answer carried no client secret".into())
                            }
                            (None, false) => NewSecret::None,
                        },
                    });
                }
                Ok(reply) if says_already_exists(self.dialect, &reply) => {
                    // docs/reference.md §4.5: "already exists" is read back, never a blind failure
                    // (an interrupted run's create can land after this run listed).
                    let how = "created by an earlier run that was interrupted, or by someone else, after the plan was made";
                    return match self.adopt(name, organization, fields, how).await? {
                        Some(created) => Ok(created),
                        None => Err(Error::status(
                            unexpected(&self.http, &Method::POST, path, &reply),
                            400,
                        )),
                    };
                }
                Ok(reply) if reply.status.is_server_error() => Error::status(
                    unexpected(&self.http, &Method::POST, path, &reply),
                    reply.status.as_u16(),
                ),
                Ok(reply) => {
                    return Err(Error::status(
                        unexpected(&self.http, &Method::POST, path, &reply),
                        reply.status.as_u16(),
                    ));
                }
                Err(e) if !e.ambiguous => {
                    // Never sent (connection refused): safe to send again.
                    if attempts > self.http.max_retries() {
                        return Err(Error::unreachable(&e));
                    }
                    tokio::time::sleep(super::http::backoff(attempts, None)).await;
                    continue;
                }
                Err(e) => Error::unreachable(&e),
            };
            // docs/reference.md §4.5: a create is not repeated blindly. Look first.
            let how = "the answer to the create was lost";
            match self.adopt(name, organization, fields, how).await {
                Ok(Some(created)) => return Ok(created),
                Ok(None) => {}
                Err(e) if e.kind == FailureKind::Conflict => return Err(e),
                Err(_) => {}
            }
            if attempts > self.http.max_retries() {
                return Err(failure);
            }
            tokio::time::sleep(super::http::backoff(attempts, None)).await;
        }
    }

    async fn patch(&self, id: &str, body: Value) -> Result<(), Error> {
        let path = self.api(&format!("/applications/{id}/"));
        let reply = self
            .http
            .send(Method::PATCH, &path, Some(&body), Retry::Idempotent)
            .await
            .map_err(|e| Error::unreachable(&e))?;
        if reply.is_success() {
            Ok(())
        } else {
            Err(Error::status(
                unexpected(&self.http, &Method::PATCH, &path, &reply),
                reply.status.as_u16(),
            ))
        }
    }

    /// PATCH of the changed fields (and `name`/`organization` for a rename or a move).
    pub async fn update(&self, id: &str, fields: &BTreeMap<String, Value>) -> Result<(), Error> {
        self.patch(id, Value::Object(api_body(self.semantics(), fields)))
            .await
    }

    pub async fn delete(&self, id: &str) -> Result<(), Error> {
        let path = self.api(&format!("/applications/{id}/"));
        let reply = self
            .http
            .send(Method::DELETE, &path, None, Retry::Idempotent)
            .await
            .map_err(|e| Error::unreachable(&e))?;
        // A retried DELETE whose first attempt succeeded answers 404: already gone.
        if reply.is_success() || reply.status.as_u16() == 404 {
            Ok(())
        } else {
            Err(Error::status(
                unexpected(&self.http, &Method::DELETE, &path, &reply),
                reply.status.as_u16(),
            ))
        }
    }

    /// Create-before-destroy (docs/reference.md §3.2): the old app `id` (now named
    /// `live_name`) is renamed aside, the new one is created as `name` in
    /// `organization`, then the old one is deleted. If the create fails, the old
    /// app gets its name back. Every step that can fail leaves a state the next
    /// plan recognises (see [`crate::aside`]). A rotation with an overlap
    /// (`retire`) renames the old app to its retiring name instead and keeps
    /// it (see [`crate::retiring`]): its client id and secret keep working.
    pub async fn replace(
        &self,
        id: &str,
        live_name: &str,
        name: &str,
        organization: u64,
        fields: &BTreeMap<String, Value>,
        retire: Option<&str>,
    ) -> Result<Applied, Error> {
        let trimmed = live_name.trim();
        let (original, computed) = match crate::aside::parse(trimmed, id) {
            // Resuming a replacement an earlier run left half done.
            Some(a) if !a.shortened => (a.original, trimmed.to_string()),
            Some(_) => (name.to_string(), trimmed.to_string()),
            None => (trimmed.to_string(), crate::aside::aside_name(trimmed, id)),
        };
        let aside = retire.map_or(computed, str::to_string);
        if trimmed != aside {
            self.patch(id, json!({ "name": aside })).await.map_err(|e| {
                Error::new(
                    e.kind,
                    format!(
                        "replace failed, old application kept unchanged: moving it aside failed: {}",
                        e.message
                    ),
                )
            })?;
        }
        let created = match self.create(name, organization, fields).await {
            Ok(c) => c,
            Err(e) => {
                return Err(match self.patch(id, json!({ "name": original })).await {
                    Ok(()) => Error::new(
                        e.kind,
                        format!(
                            "replace failed, old application kept (its client id unchanged): the new application was refused: {}",
                            e.message
                        ),
                    ),
                    Err(r) => Error::new(
                        e.kind,
                        format!(
                            "replace failed: the new application was refused ({}), and the old one could not get its name back ({}); it is kept, named `{aside}`: the next apply {}",
                            e.message,
                            r.message,
                            if retire.is_some() {
                                "creates the new one (the old one keeps working until its overlap ends)"
                            } else {
                                "resumes the replacement"
                            }
                        ),
                    ),
                });
            }
        };
        if retire.is_some() {
            return Ok(Applied::created(created));
        }
        let leftover = self.delete(id).await.err().map(|e| {
            Error::new(
                e.kind,
                format!(
                    "the new application was created, but the old one (now named `{aside}`) could not be deleted: {}; the next apply deletes it",
                    e.message
                ),
            )
        });
        Ok(Applied {
            created: Some(created),
            leftover,
        })
    }
}

impl super::Provider for Awx {
    fn fetch(&self) -> super::BoxFuture<'_, Result<LiveState, Error>> {
        Box::pin(Awx::fetch(self))
    }

    fn fetch_named<'a>(
        &'a self,
        names: &'a [String],
    ) -> Option<super::BoxFuture<'a, Result<LiveState, Error>>> {
        Some(Box::pin(Awx::fetch_named(self, names)))
    }

    fn live_tokens<'a>(
        &'a self,
        app_id: &'a str,
    ) -> Option<super::BoxFuture<'a, Result<super::TokenUse, Error>>> {
        Some(Box::pin(Awx::live_tokens(self, app_id)))
    }

    fn execute<'a>(
        &'a self,
        operation: &'a crate::plan::Operation,
        _expected: Option<&'a str>,
    ) -> super::BoxFuture<'a, Result<Applied, Error>> {
        use crate::plan::Operation;
        let no_org = || {
            Error::new(
                FailureKind::Local,
                "the plan has no organization id for this application",
            )
        };
        Box::pin(async move {
            match operation {
                Operation::Create {
                    name,
                    organization,
                    fields,
                } => self
                    .create(name, organization.ok_or_else(no_org)?, fields)
                    .await
                    .map(Applied::created),
                Operation::Update { id, fields } => {
                    self.update(id, fields).await.map(|_| Applied::done())
                }
                Operation::Replace {
                    id,
                    live_name,
                    name,
                    organization,
                    fields,
                    retire,
                } => {
                    self.replace(
                        id,
                        live_name,
                        name,
                        organization.ok_or_else(no_org)?,
                        fields,
                        retire.as_deref(),
                    )
                    .await
                }
                Operation::Delete { id } => self.delete(id).await.map(|_| Applied::done()),
            }
        })
    }
}
#[cfg(test)]
mod tests;
