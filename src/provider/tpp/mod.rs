//! Venafi TPP WebSDK OAuth applications (docs/contracts/tpp.md): the listing
//! (confirmed by TotalCount), creates that are never repeated blindly, and
//! full-replace updates: read again right before each write, skipped as stale
//! when the object moved since the plan. The session (`session.rs`), the call
//! envelope (`rpc.rs`) and the wire format (`wire.rs`) are beside it.

mod listing;
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
