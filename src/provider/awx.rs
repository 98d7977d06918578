//! The AWX application API, as AWX (`/api/v2/applications/`, docs/contracts/awx.md)
//! and the AAP platform gateway (`/api/gateway/v1/applications/`,
//! docs/contracts/gateway.md) both serve it: list in as few requests as
//! possible (and only from a consistent listing), the organizations the
//! credentials can see, create (capturing the secret shown once, never
//! repeating a create blindly), PATCH the changed fields, delete, and replace
//! create-before-destroy. 403 is never read as absent. What differs between
//! the two servers is a [`Dialect`] and the kind's semantics table.

use std::collections::{BTreeMap, BTreeSet};

use futures_util::stream::{self, StreamExt};
use reqwest::Method;
use serde_json::{Map, Value, json};

use super::http::{Http, Reply, Retry, server_message};
use super::{Applied, Created, Error, FailureKind, NewSecret};
use crate::model::{Capabilities, Kind, LiveApp, LiveState};
use crate::secret::Secret;
use crate::semantics::{self, Compare, Semantics};

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
const PAGE_SIZE: usize = 200;

/// How often a listing that changed while it was read is read again.
const LIST_ATTEMPTS: u32 = 3;

pub struct Awx {
    http: Http,
    max_in_flight: usize,
    dialect: &'static Dialect,
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
    let id = id.to_string();
    Ok((
        LiveApp {
            match_key: match organization {
                Some(org) => format!("{org}/{}", name.trim()),
                // Never the key of a desired app (those have an organization id).
                None => format!("-/{}", name.trim()),
            },
            aside: organization.and_then(|_| crate::aside::parse(name.trim(), &id)),
            unmanageable: match organization {
                None => Some("its organization is null (legacy data AWX allows): appform never changes or deletes an application without an organization (set one on the server to manage it)".to_string()),
                Some(_) => LiveApp::unmanageable_name(&name),
            },
            name,
            id,
            organization,
            fields,
            capabilities,
        },
        org_name,
    ))
}

/// Config-form fields → the API's body: lists of URIs space-joined in
/// config order.
fn api_body(sem: &Semantics, fields: &BTreeMap<String, Value>) -> Map<String, Value> {
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
    let mut body: Value = super::strict_json::parse(body)
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
fn check_pages(counts: &[usize], ids: impl Iterator<Item = u64>, what: &str) -> Result<(), String> {
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

/// The filtered listings of `listing: managed` under `base`: `name__in`
/// with at most about 2,000 encoded characters each (a name holding a comma,
/// which `__in` would split, gets a `name=` query of its own), and one for
/// the applications set aside by an interrupted replacement.
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
    out.push(format!(
        "{base}?name__contains={}",
        encode(crate::aside::MARK)
    ));
    out
}

/// The page size the server serves: the first page's length when it is
/// shorter than asked and more are to come (a lowered `MAX_PAGE_SIZE`),
/// else the size asked for.
fn served_page_size(count: usize, first_page: usize) -> usize {
    if first_page > 0 && first_page < PAGE_SIZE && first_page < count {
        first_page
    } else {
        PAGE_SIZE
    }
}

/// Whether a 400 says the (organization, name) pair is taken.
fn says_already_exists(dialect: &Dialect, reply: &Reply) -> bool {
    if reply.status.as_u16() != 400 {
        return false;
    }
    let text = String::from_utf8_lossy(&reply.body);
    dialect.duplicate_markers.iter().any(|m| text.contains(m))
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

    async fn get(&self, path: &str) -> Result<Reply, Error> {
        let reply = self
            .http
            .send(Method::GET, path, None, Retry::Idempotent)
            .await
            .map_err(|e| Error::unreachable(&e))?;
        if reply.is_success() {
            Ok(reply)
        } else {
            Err(Error::status(
                unexpected(&self.http, &Method::GET, path, &reply),
                reply.status.as_u16(),
            ))
        }
    }

    /// Every page of a list endpoint: the first, then the rest concurrently
    /// once `count` is known. The page size is the server's: a site that
    /// lowered `MAX_PAGE_SIZE` answers a first page shorter than asked, with
    /// more to come, and the other pages are asked for in that size (the
    /// minimal number of round trips). Returns each page's `count` and all
    /// results.
    async fn all_pages(&self, base: &str, what: &str) -> Result<(Vec<usize>, Vec<Value>), Error> {
        let since = self.http.received_bytes();
        // A filtered listing's base has a query already.
        let sep = if base.contains('?') { '&' } else { '?' };
        let first = self
            .get(&format!("{base}{sep}page_size={PAGE_SIZE}&page=1"))
            .await?;
        let (count, mut results) = page_of(&first.body, what).map_err(Error::malformed)?;
        let size = served_page_size(count, results.len());
        let pages = count.div_ceil(size).max(1);
        // A hostile or broken server must not make a plan page forever.
        if pages > MAX_PAGES {
            return Err(Error::malformed(format!(
                "unexpected response: the server reports {count} {what}s, {pages} pages of {size}; appform reads at most {MAX_PAGES} pages"
            )));
        }
        let mut rest = stream::iter(2..=pages)
            .map(|page| async move {
                let reply = self
                    .get(&format!("{base}{sep}page_size={size}&page={page}"))
                    .await?;
                if let Some(e) = super::http::listing_too_large(&self.http, since, what) {
                    return Err(Error::malformed(e));
                }
                page_of(&reply.body, what).map_err(Error::malformed)
            })
            .buffered(self.max_in_flight);
        let mut counts = vec![count];
        // Pages in order; the first error (too many bytes) stops the rest.
        while let Some(page) = rest.next().await {
            let (c, r) = page?;
            counts.push(c);
            results.extend(r);
        }
        Ok((counts, results))
    }

    /// Every organization the credentials can see, by id, from a listing
    /// whose pages agree (read again, like the applications, when it moved).
    async fn organizations(&self) -> Result<BTreeMap<u64, String>, Error> {
        let mut why = String::new();
        for attempt in 1..=LIST_ATTEMPTS {
            let (counts, results) = self
                .all_pages(&self.api("/organizations/"), "organization")
                .await?;
            // Their shape first (a malformed answer is that, not a moving list).
            let organizations = organizations_of(&results)?;
            let ids = results
                .iter()
                .filter_map(|o| o.get("id").and_then(Value::as_u64));
            match check_pages(&counts, ids, "organization") {
                Ok(()) => return Ok(organizations),
                Err(e) => why = e,
            }
            if attempt < LIST_ATTEMPTS {
                tokio::time::sleep(super::http::backoff(attempt, None)).await;
            }
        }
        Err(Error::new(
            FailureKind::InconsistentListing,
            format!(
                "the organization list kept changing while it was read ({why}), {LIST_ATTEMPTS} times; refusing to plan from an inconsistent list"
            ),
        ))
    }
}

/// Organizations by id from their listing's results.
fn organizations_of(results: &[Value]) -> Result<BTreeMap<u64, String>, Error> {
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

impl Awx {
    /// Every application, from a listing whose pages agree (read again, up to
    /// three times, when another client changed the list between pages), and
    /// the organizations.
    pub async fn fetch(&self) -> Result<LiveState, Error> {
        self.fetch_listings(vec![self.api("/applications/")], false)
            .await
    }

    /// `listing: managed`: only the applications with these names (in any
    /// organization) and those set aside by an interrupted replacement, in
    /// a few filtered listings, and the organizations.
    pub async fn fetch_named(&self, names: &[String]) -> Result<LiveState, Error> {
        self.fetch_listings(named_queries(&self.api("/applications/"), names), true)
            .await
    }

    /// The listings `bases` (each paged and checked), merged, with the
    /// organizations. The organizations and the first pages go out
    /// together: two round trips in all.
    async fn fetch_listings(
        &self,
        bases: Vec<String>,
        managed_only: bool,
    ) -> Result<LiveState, Error> {
        let read = || {
            stream::iter(bases.clone())
                .map(|base| async move { self.all_pages(&base, "application").await })
                .buffered(self.max_in_flight)
                .collect::<Vec<_>>()
        };
        let (organizations, first) = tokio::join!(self.organizations(), read());
        let mut organizations = organizations?;
        let mut first = Some(first);
        let mut why = String::new();
        for attempt in 1..=LIST_ATTEMPTS {
            let listings = match first.take() {
                Some(listings) => listings,
                None => read().await,
            };
            let mut apps: Vec<LiveApp> = Vec::new();
            let mut seen = BTreeSet::new();
            let mut moved = None;
            for listing in listings {
                let (counts, results) = listing?;
                let mut these = Vec::with_capacity(results.len());
                for r in &results {
                    let (app, org_name) =
                        live_app_of(self.semantics(), r).map_err(Error::malformed)?;
                    if let (Some(org), Some(name)) = (app.organization, org_name) {
                        organizations.entry(org).or_insert(name);
                    }
                    these.push(app);
                }
                if let Err(e) = check_listing(&counts, &these) {
                    moved = Some(e);
                    break;
                }
                // A name can answer two queries (a set-aside app's name).
                apps.extend(these.into_iter().filter(|a| seen.insert(a.id.clone())));
            }
            let Some(e) = moved else {
                return Ok(LiveState {
                    apps,
                    organizations,
                    defaults: BTreeMap::new(),
                    managed_only,
                });
            };
            crate::logging::log(1, || {
                format!("the application list moved while it was read ({e}); reading it again")
            });
            why = e;
            if attempt < LIST_ATTEMPTS {
                tokio::time::sleep(super::http::backoff(attempt, None)).await;
            }
        }
        Err(Error::new(
            FailureKind::InconsistentListing,
            format!(
                "the application list kept changing while it was read ({why}), {LIST_ATTEMPTS} times; refusing to plan from an inconsistent list: try again when other changes have settled"
            ),
        ))
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
        let reply = self
            .http
            .send(Method::GET, &path, None, Retry::Idempotent)
            .await
            .map_err(|e| Error::unreachable(&e))?;
        if !reply.is_success() {
            return Err(Error::status(
                unexpected(&self.http, &Method::GET, &path, &reply),
                reply.status.as_u16(),
            ));
        }
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
    /// plan recognises (see [`crate::aside`]).
    pub async fn replace(
        &self,
        id: &str,
        live_name: &str,
        name: &str,
        organization: u64,
        fields: &BTreeMap<String, Value>,
    ) -> Result<Applied, Error> {
        let trimmed = live_name.trim();
        let (original, aside) = match crate::aside::parse(trimmed, id) {
            // Resuming a replacement an earlier run left half done.
            Some(a) if !a.shortened => (a.original, trimmed.to_string()),
            Some(_) => (name.to_string(), trimmed.to_string()),
            None => (trimmed.to_string(), crate::aside::aside_name(trimmed, id)),
        };
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
                            "replace failed: the new application was refused ({}), and the old one could not get its name back ({}); it is kept, named `{aside}`: the next apply resumes the replacement",
                            e.message, r.message
                        ),
                    ),
                });
            }
        };
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
                } => {
                    self.replace(
                        id,
                        live_name,
                        name,
                        organization.ok_or_else(no_org)?,
                        fields,
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
