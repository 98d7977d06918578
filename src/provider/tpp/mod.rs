//! Venafi TPP WebSDK OAuth applications (docs/contracts/tpp.md): the listing
//! (confirmed by TotalCount), creates that are never repeated blindly, and
//! full-replace updates: read again right before each write, skipped as stale
//! when the object moved since the plan. The session (`session.rs`), the call
//! envelope (`rpc.rs`) and the wire format (`wire.rs`) are beside it.

mod rpc;
mod session;
mod wire;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::http::{Http, Retry};
use super::{Created, Error, FailureKind};
use crate::model::{Kind, LiveApp, LiveState};
use crate::semantics;
use rpc::CallError;
pub use session::PasswordGrant;
use session::Session;
use wire::{Defaults, api_object};
pub use wire::{Refusal, applications_of, live_app, parse_answer, parse_enumerate, result_name};

/// The TPP rules: field names, API names, system defaults (tpp.md §2).
const TPP: &semantics::Semantics = &semantics::TPP;

/// Page size for EnumerateApplications when the large one is refused.
const PAGE: usize = 100;

/// The page size asked for first (servers may cap it; tpp.md §8).
const LARGE_PAGE: usize = 1000;

/// EnumerateApplications `OrderBy` 1: by name (0, the default, is no order,
/// so pages might not even be stable; tpp.md §2).
const ORDER_BY_NAME: u64 = 1;

/// How often a listing that changed while it was read is read again.
const LIST_ATTEMPTS: u32 = 3;

/// The most applications (and EnumerateApplications requests) of one
/// listing: a count beyond it is a broken or hostile server, refused rather
/// than paged for ever.
const MAX_APPS: usize = 200_000;
const MAX_PAGES: usize = 1_000;

/// A connected TPP instance.
pub struct Tpp {
    session: Session,
    /// The server's defaults once read (`Some(None)`: read, unknown).
    defaults: std::sync::Mutex<Option<Defaults>>,
    /// Bytes received when the listing being read began (its pages are
    /// bounded together by [`super::http::MAX_LISTING_BYTES`]).
    listing_start: std::sync::atomic::AtomicU64,
}

impl Tpp {
    /// The tokens this session obtained (to redact from server text).
    pub fn tokens_in_use(&self) -> Vec<String> {
        self.session.tokens_in_use()
    }

    /// Connects to `instance` of `server`: with `client_id`, `username` and
    /// `password` credentials, a token is obtained first (tpp.md §4).
    pub async fn connect_for(
        http: Http,
        server: &crate::model::Server,
        instance: &crate::model::Instance,
        secrets: &dyn crate::secret::SecretSource,
    ) -> Result<Tpp, Error> {
        let grant = match &server.auth {
            crate::model::Auth::TppPassword {
                client_id,
                username,
                password,
                scope,
            } => {
                let ctx = |e: crate::secret::ResolveError| {
                    Error::new(
                        super::FailureKind::Credentials,
                        format!("server `{}`: {e}", server.name),
                    )
                };
                Some(PasswordGrant {
                    client_id: secrets.credential(client_id, "client_id").map_err(ctx)?,
                    username: secrets.credential(username, "username").map_err(ctx)?,
                    password: secrets.secret(password, "password").map_err(ctx)?,
                    scope: scope
                        .clone()
                        .unwrap_or_else(|| crate::model::TPP_DEFAULT_SCOPE.into()),
                })
            }
            _ => None,
        };
        Tpp::connect(http, grant)
            .await
            .map_err(|e| Error::new(e.kind, format!("server `{}`: {e}", instance.name)))
    }

    /// Connects; with a password grant, obtains a token first.
    pub async fn connect(http: Http, grant: Option<PasswordGrant>) -> Result<Tpp, Error> {
        Ok(Tpp {
            session: Session::connect(http, grant).await?,
            defaults: std::sync::Mutex::new(None),
            listing_start: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// Revokes a token appform obtained (the end of a run).
    pub async fn close(&self) -> Result<(), super::NotRevoked> {
        self.session.close().await
    }

    async fn call(&self, method: &str, body: &Value, retry: Retry) -> Result<Value, CallError> {
        self.session.call(method, body, retry).await
    }

    /// `TotalCount`'s `ApplicationCount`; a missing count is an error (a
    /// default of 0 would let a partial listing pass as complete).
    async fn total_count(&self) -> Result<usize, Error> {
        let body = self
            .call("TotalCount", &json!({}), Retry::Idempotent)
            .await
            .map_err(CallError::into_write)?;
        let url = self.session.http.url("/vedsdk/oauth/TotalCount");
        let count = body
            .get("ApplicationCount")
            .and_then(Value::as_u64)
            .ok_or_else(|| {
                Error::malformed(format!(
                    "POST {url}: unexpected response: TotalCount has no numeric `ApplicationCount`"
                ))
            })?;
        if count > MAX_APPS as u64 {
            return Err(Error::malformed(format!(
                "POST {url}: unexpected response: TotalCount reports {count} applications; appform reads at most {MAX_APPS}"
            )));
        }
        Ok(count as usize)
    }

    /// The server's defaults (`OAuth/GetConfiguration`), read once per run;
    /// `None` (unknown) when the call fails or does not exist (older TPP).
    async fn defaults(&self) -> Defaults {
        if let Some(d) = self.defaults.lock().ok().and_then(|d| d.clone()) {
            return d;
        }
        let read = match self
            .call("GetConfiguration", &json!({}), Retry::Idempotent)
            .await
        {
            Ok(answer) => {
                let d = wire::defaults_of(&answer);
                if d.is_none() {
                    crate::logging::log(1, || {
                        "TPP GetConfiguration has no DefaultAccessTokenValidity, DefaultGrantValidity and DefaultGrantRefreshable: the server's defaults are unknown".to_string()
                    });
                }
                d
            }
            Err(e) => {
                let why = e.message();
                crate::logging::log(1, || {
                    format!(
                        "TPP GetConfiguration failed ({why}): the server's defaults are unknown"
                    )
                });
                None
            }
        };
        if let Ok(mut d) = self.defaults.lock() {
            *d = Some(read.clone());
        }
        read
    }

    /// Every application, from a listing that `TotalCount` confirms before and
    /// after (read again, up to three times, when another client changed the
    /// list meanwhile; docs/reference.md §4.5).
    pub async fn fetch(&self) -> Result<LiveState, Error> {
        // The defaults and the first count go out together.
        let (defaults, first_count) = tokio::join!(self.defaults(), self.total_count());
        let mut first_count = Some(first_count);
        let mut why = String::new();
        for attempt in 1..=LIST_ATTEMPTS {
            self.listing_start.store(
                self.session.http.received_bytes(),
                std::sync::atomic::Ordering::Relaxed,
            );
            let before = match first_count.take() {
                Some(count) => count?,
                None => self.total_count().await?,
            };
            let (apps, one_answer) = self.enumerate(before, &defaults).await?;
            // One EnumerateApplications answer that holds every application
            // TotalCount reported is a snapshot by itself: nothing can have
            // moved between pages, so the count need not be read again.
            if one_answer && apps.len() == before {
                return Ok(LiveState {
                    apps: apps.into_values().collect(),
                    organizations: BTreeMap::new(),
                    defaults: defaults.unwrap_or_default(),
                    managed_only: false,
                });
            }
            let after = self.total_count().await?;
            if before == after && apps.len() == after {
                return Ok(LiveState {
                    apps: apps.into_values().collect(),
                    organizations: BTreeMap::new(),
                    defaults: defaults.unwrap_or_default(),
                    managed_only: false,
                });
            }
            why = if before == after {
                format!(
                    "EnumerateApplications listed {} of the {after} applications TotalCount reports",
                    apps.len()
                )
            } else {
                format!("TotalCount changed from {before} to {after} while the list was read")
            };
            crate::logging::log(1, || format!("{why}; reading the list again"));
            if attempt < LIST_ATTEMPTS {
                tokio::time::sleep(super::http::backoff(attempt, None)).await;
            }
        }
        // Planning from a partial list would plan creates of apps that exist.
        Err(Error::new(
            FailureKind::InconsistentListing,
            format!("{why}, {LIST_ATTEMPTS} times; refusing to plan from a partial or moving list"),
        ))
    }

    /// The listing of a server that refuses `Start` 0: 1-based pages of 100.
    async fn pages_from_one(
        &self,
        total: usize,
        defaults: &Defaults,
    ) -> Result<BTreeMap<String, LiveApp>, Error> {
        let mut apps = BTreeMap::new();
        let mut start = 1;
        while apps.len() < total && start <= (total.div_ceil(PAGE) + 1).min(MAX_PAGES) {
            let page = self
                .page(start, PAGE, defaults)
                .await
                .map_err(CallError::into_write)?;
            let before = apps.len();
            for a in &page {
                apps.insert(a.id.clone(), a.clone());
            }
            if page.len() < PAGE || apps.len() == before {
                break;
            }
            start += 1;
        }
        Ok(apps)
    }

    /// One EnumerateApplications page, in a stable order (by name).
    async fn page(
        &self,
        start: usize,
        count: usize,
        defaults: &Defaults,
    ) -> Result<Vec<LiveApp>, CallError> {
        let body = json!({"Start": start, "Count": count, "OrderBy": ORDER_BY_NAME});
        let answer = self
            .call("EnumerateApplications", &body, Retry::Idempotent)
            .await?;
        if let Some(e) = super::http::listing_too_large(
            &self.session.http,
            self.listing_start
                .load(std::sync::atomic::Ordering::Relaxed),
            "application",
        ) {
            return Err(CallError::Malformed(e));
        }
        applications_of(&answer, defaults).map_err(CallError::Malformed)
    }

    /// Pages through EnumerateApplications in about `ceil(total / page) + 2`
    /// requests. tpp.md §8 leaves open how `Start` is read (a 1-based page, a
    /// record offset, a 0-based page); `Start` 0 and 1 tell them apart: the
    /// same page twice (1-based), a page shifted by one (an offset), or the
    /// next page (0-based). The largest page is asked for first; a server that
    /// answers with fewer has capped it, or refuses it (then 100 are asked for).
    /// The applications, and whether they came in one answer (a snapshot).
    async fn enumerate(
        &self,
        total: usize,
        defaults: &Defaults,
    ) -> Result<(BTreeMap<String, LiveApp>, bool), Error> {
        let mut apps: BTreeMap<String, LiveApp> = BTreeMap::new();
        if total == 0 {
            return Ok((apps, false));
        }
        let refused =
            |e: &CallError| matches!(e, CallError::Status(400, _) | CallError::Result(..));
        let first = match self.page(0, LARGE_PAGE, defaults).await {
            Ok(p) => Some((p, LARGE_PAGE)),
            Err(e) if refused(&e) => match self.page(0, PAGE, defaults).await {
                Ok(p) => Some((p, PAGE)),
                // `Start` 0 itself refused: pages counted from 1.
                Err(e) if refused(&e) => None,
                Err(e) => return Err(e.into_write()),
            },
            Err(e) => return Err(e.into_write()),
        };
        let Some((first, asked)) = first else {
            return Ok((self.pages_from_one(total, defaults).await?, false));
        };
        // A short first page with more to come: the server caps the page size.
        let count = if first.len() < asked && first.len() < total && !first.is_empty() {
            first.len()
        } else {
            asked
        };
        let add = |apps: &mut BTreeMap<String, LiveApp>, page: &[LiveApp]| -> usize {
            page.iter()
                .filter(|a| apps.insert(a.id.clone(), (*a).clone()).is_none())
                .count()
        };
        add(&mut apps, &first);
        if apps.len() >= total {
            return Ok((apps, true));
        }
        let second = self
            .page(1, count, defaults)
            .await
            .map_err(CallError::into_write)?;
        let ids = |p: &[LiveApp]| p.iter().map(|a| a.id.clone()).collect::<Vec<_>>();
        let (a, b) = (ids(&first), ids(&second));
        // (next Start, its step): 1-based pages, offsets, 0-based pages.
        let (mut start, step) = if first.is_empty() || a == b {
            (2, 1)
        } else if a.get(1).is_some() && a.get(1) == b.first() {
            (count, count)
        } else {
            (2, 1)
        };
        add(&mut apps, &second);
        let budget = (total.div_ceil(count.max(1)) + 2).min(MAX_PAGES);
        let mut requests = 2;
        while apps.len() < total && requests < budget {
            let page = self
                .page(start, count, defaults)
                .await
                .map_err(CallError::into_write)?;
            requests += 1;
            let new = add(&mut apps, &page);
            if page.len() < count || new == 0 {
                break;
            }
            start += step;
        }
        Ok((apps, false))
    }

    async fn get(&self, id: &str) -> Result<Option<(LiveApp, Value)>, CallError> {
        match self
            .call(
                "GetApplication",
                &json!({"ApplicationId": id}),
                Retry::Idempotent,
            )
            .await
        {
            Ok(body) => {
                let raw = body.get("Application").cloned().unwrap_or(Value::Null);
                let defaults = self.defaults().await;
                let app = live_app(&raw, &defaults).map_err(CallError::Malformed)?;
                Ok(Some((app, raw)))
            }
            Err(CallError::Result(2, _)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Re-reads `id` and checks it still is what the plan saw.
    async fn fresh(&self, id: &str, expected: Option<&str>) -> Result<Value, Error> {
        let current = self.get(id).await.map_err(CallError::into_write)?;
        let app = current.as_ref().map(|(app, _)| app);
        match (
            super::still_as_planned(Kind::Tpp, id, app, expected)?,
            current,
        ) {
            (true, Some((_, raw))) => Ok(raw),
            _ => Err(Error::new(
                FailureKind::Gone,
                format!("skipped as stale: `{id}` was deleted since the plan was made"),
            )),
        }
    }

    pub async fn create(
        &self,
        id: &str,
        fields: &BTreeMap<String, Value>,
    ) -> Result<Created, Error> {
        let defaults = self.defaults().await;
        let mut body = api_object(id, fields, &BTreeSet::new(), &defaults);
        body.remove("ID");
        body.insert("ApplicationId".into(), json!(id));
        let body = Value::Object(body);
        let created = || Created::without_secret(Some(id.to_string()));
        let mut attempts = 0;
        loop {
            attempts += 1;
            match self.call("CreateApplication", &body, Retry::Never).await {
                Ok(_) => return Ok(created()),
                // No answer, or a 5xx/429 that may have come after the server
                // acted: docs/reference.md §4.5, look before sending a create again.
                Err(e @ (CallError::Transport(_) | CallError::Status(429 | 500..=599, _))) => {
                    if self
                        .adopt(id, fields, "the answer to the create was lost")
                        .await?
                    {
                        return Ok(created());
                    }
                    if attempts > self.session.http.max_retries() {
                        return Err(e.into_write());
                    }
                    tokio::time::sleep(super::http::backoff(attempts, None)).await;
                }
                // The Result code of a duplicate ID is not documented (tpp.md
                // §8): whatever the refusal, an app of that ID that is already
                // there is read back before the create is called failed.
                Err(e @ CallError::Result(..)) => {
                    let how = "created by an earlier run that was interrupted, or by someone else, after the plan was made";
                    if self.adopt(id, fields, how).await? {
                        return Ok(created());
                    }
                    return Err(e.into_write());
                }
                Err(e) => return Err(e.into_write()),
            }
        }
    }

    /// Whether an app `id` exists as the config wants it (`Ok(true)`: counted
    /// as created); one that differs is a conflict, reported.
    async fn adopt(
        &self,
        id: &str,
        fields: &BTreeMap<String, Value>,
        how: &str,
    ) -> Result<bool, Error> {
        let found = match self.get(id).await {
            Ok(Some((app, _))) => app,
            Ok(None) => return Ok(false),
            Err(CallError::Transport(_)) => return Ok(false),
            Err(e) => return Err(e.into_write()),
        };
        let differs: Vec<String> = crate::plan::diff::differing_fields(Kind::Tpp, &found, fields)
            .into_iter()
            .map(|f| format!("`{f}`"))
            .collect();
        if differs.is_empty() {
            Ok(true)
        } else {
            Err(Error::new(
                FailureKind::Conflict,
                format!(
                    "application `{id}` already exists ({how}) and differs from the config in {}; nothing was changed: plan again to see it",
                    differs.join(", ")
                ),
            ))
        }
    }

    /// Full replace (tpp.md §7.2): the whole object, wrapped in `Application`.
    pub async fn update(
        &self,
        id: &str,
        fields: &BTreeMap<String, Value>,
        expected: Option<&str>,
    ) -> Result<(), Error> {
        let raw = self.fresh(id, expected).await?;
        let omit: BTreeSet<&str> = TPP
            .fields
            .iter()
            .filter(|r| r.default.is_some())
            .map(|r| r.api_name)
            .filter(|k| raw.get(*k).is_none_or(Value::is_null))
            .collect();
        let defaults = self.defaults().await;
        let body = json!({ "Application": api_object(id, fields, &omit, &defaults) });
        self.call("UpdateApplication", &body, Retry::Idempotent)
            .await
            .map(|_| ())
            .map_err(CallError::into_write)
    }

    pub async fn delete(&self, id: &str, expected: Option<&str>) -> Result<(), Error> {
        match self.fresh(id, expected).await {
            Ok(_) => {}
            // Already gone is what a delete wants.
            Err(e) if e.kind == FailureKind::Gone => return Ok(()),
            Err(e) => return Err(e),
        }
        match self
            .call(
                "DeleteApplication",
                &json!({"ApplicationId": id}),
                Retry::Idempotent,
            )
            .await
        {
            Ok(_) => Ok(()),
            // A refusal may only mean it is gone already (Result 2, or another
            // code on another version): a read decides, never the code alone.
            Err(e @ CallError::Result(..)) => match self.get(id).await {
                Ok(None) => Ok(()),
                _ => Err(e.into_write()),
            },
            Err(e) => Err(e.into_write()),
        }
    }
}

impl super::Provider for Tpp {
    fn fetch(&self) -> super::BoxFuture<'_, Result<LiveState, Error>> {
        Box::pin(Tpp::fetch(self))
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
                    self.create(name, fields).await.map(Applied::created)
                }
                Operation::Update { id, fields } => self
                    .update(id, fields, expected)
                    .await
                    .map(|_| Applied::done()),
                Operation::Delete { id } => {
                    self.delete(id, expected).await.map(|_| Applied::done())
                }
                Operation::Replace { .. } => super::replacement_refused(),
            }
        })
    }

    fn close(&self) -> super::BoxFuture<'_, Result<(), super::NotRevoked>> {
        Box::pin(Tpp::close(self))
    }

    fn obtained_credentials(&self) -> Vec<String> {
        self.tokens_in_use()
    }
}
