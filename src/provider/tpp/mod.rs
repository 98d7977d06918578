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
use super::{Created, FailureKind, WriteError};
use crate::model::{Kind, LiveApp, LiveState};
use crate::semantics;
use rpc::CallError;
pub use session::PasswordGrant;
use session::Session;
use wire::api_object;
pub use wire::{Refusal, applications_of, live_app, parse_answer, parse_enumerate, result_name};

/// The TPP rules: field names, API names, system defaults (tpp.md §2).
const TPP: &semantics::Semantics = &semantics::TPP;

/// Page size for EnumerateApplications.
const PAGE: usize = 100;

/// How often a listing that changed while it was read is read again.
const LIST_ATTEMPTS: u32 = 3;

/// A connected TPP instance.
pub struct Tpp {
    session: Session,
}

impl Tpp {
    /// Connects; with a password grant, obtains a token first.
    pub async fn connect(http: Http, grant: Option<PasswordGrant>) -> Result<Tpp, String> {
        Ok(Tpp {
            session: Session::connect(http, grant).await?,
        })
    }

    /// Revokes a token appform obtained (the end of a run).
    pub async fn close(&self) {
        self.session.close().await;
    }

    async fn call(&self, method: &str, body: &Value, retry: Retry) -> Result<Value, CallError> {
        self.session.call(method, body, retry).await
    }

    /// `TotalCount`'s `ApplicationCount`; a missing count is an error (a
    /// default of 0 would let a partial listing pass as complete).
    async fn total_count(&self) -> Result<usize, String> {
        let body = self
            .call("TotalCount", &json!({}), Retry::Idempotent)
            .await
            .map_err(CallError::message)?;
        body.get("ApplicationCount")
            .and_then(Value::as_u64)
            .map(|n| n as usize)
            .ok_or_else(|| {
                format!(
                    "POST {}: unexpected response: TotalCount has no numeric `ApplicationCount`",
                    self.session.http.url("/vedsdk/oauth/TotalCount")
                )
            })
    }

    /// Every application, from a listing that `TotalCount` confirms before and
    /// after (read again, up to three times, when another client changed the
    /// list meanwhile; SPEC §4.5).
    pub async fn fetch(&self) -> Result<LiveState, String> {
        let mut why = String::new();
        for attempt in 1..=LIST_ATTEMPTS {
            let before = self.total_count().await?;
            let apps = self.enumerate(before).await?;
            let after = self.total_count().await?;
            if before == after && apps.len() == after {
                return Ok(LiveState {
                    apps: apps.into_values().collect(),
                    organizations: BTreeMap::new(),
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
        Err(format!(
            "{why}, {LIST_ATTEMPTS} times; refusing to plan from a partial or moving list"
        ))
    }

    /// Pages through EnumerateApplications, de-duplicating by ID.
    async fn enumerate(&self, total: usize) -> Result<BTreeMap<String, LiveApp>, String> {
        let mut apps: BTreeMap<String, LiveApp> = BTreeMap::new();
        // tpp.md §7.4: `Start` is "the page of results to display"; whether it is
        // a 1-based page, a record offset or a 0-based page is an open question,
        // so try each until the applications found reach `TotalCount`.
        for (first, by_offset) in [(1, false), (0, true), (0, false)] {
            let mut start = first;
            loop {
                let page = self
                    .call(
                        "EnumerateApplications",
                        &json!({"Start": start, "Count": PAGE}),
                        Retry::Idempotent,
                    )
                    .await
                    .map_err(CallError::message)?;
                let items = applications_of(&page)?;
                let mut new = 0;
                for app in items.iter() {
                    if !apps.contains_key(&app.id) {
                        new += 1;
                        apps.insert(app.id.clone(), app.clone());
                    }
                }
                if items.len() < PAGE || new == 0 || apps.len() >= total {
                    break;
                }
                start += if by_offset { items.len() } else { 1 };
            }
            if apps.len() >= total {
                break;
            }
        }
        Ok(apps)
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
                let app = live_app(&raw).map_err(CallError::Malformed)?;
                Ok(Some((app, raw)))
            }
            Err(CallError::Result(2, _)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Re-reads `id` and checks it still is what the plan saw.
    async fn fresh(&self, id: &str, expected: Option<&str>) -> Result<Value, WriteError> {
        let current = self.get(id).await.map_err(CallError::into_write)?;
        let app = current.as_ref().map(|(app, _)| app);
        match (
            super::still_as_planned(Kind::Tpp, id, app, expected)?,
            current,
        ) {
            (true, Some((_, raw))) => Ok(raw),
            _ => Err(WriteError::new(
                FailureKind::Gone,
                format!("skipped as stale: `{id}` was deleted since the plan was made"),
            )),
        }
    }

    pub async fn create(
        &self,
        id: &str,
        fields: &BTreeMap<String, Value>,
    ) -> Result<Created, WriteError> {
        let mut body = api_object(id, fields, &BTreeSet::new());
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
                // acted: SPEC §4.5, look before sending a create again.
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
    ) -> Result<bool, WriteError> {
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
            Err(WriteError::new(
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
    ) -> Result<(), WriteError> {
        let raw = self.fresh(id, expected).await?;
        let omit: BTreeSet<&str> = TPP
            .fields
            .iter()
            .filter(|r| r.default.is_some())
            .map(|r| r.api_name)
            .filter(|k| raw.get(*k).is_none_or(Value::is_null))
            .collect();
        let body = json!({ "Application": api_object(id, fields, &omit) });
        self.call("UpdateApplication", &body, Retry::Idempotent)
            .await
            .map(|_| ())
            .map_err(CallError::into_write)
    }

    pub async fn delete(&self, id: &str, expected: Option<&str>) -> Result<(), WriteError> {
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
            Ok(_) | Err(CallError::Result(2, _)) => Ok(()),
            Err(e) => Err(e.into_write()),
        }
    }
}
