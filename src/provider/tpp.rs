//! Venafi TPP WebSDK OAuth applications (docs/contracts/tpp.md). Tokens: a static
//! one, or one obtained from VEDAuth with client_id + username + password,
//! refreshed once when it expires mid-run and revoked at the end. Every
//! `/vedsdk/oauth/*` answer is checked for `Success`/`Result`, never trusted on
//! HTTP 200 alone. Updates are full replace: read again right before each write,
//! skip it as stale when the object moved since the plan.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use reqwest::Method;
use serde_json::{Map, Value, json};

use super::http::{AuthHeader, Http, Reply, Retry, server_message};
use super::{Created, FailureKind, WriteError};
use crate::model::{Kind, LiveApp, LiveState};
use crate::plan::diff::fingerprint;
use crate::secret::Secret;
use crate::semantics;

/// The TPP rules: field names, API names, system defaults (tpp.md §2).
const TPP: &semantics::Semantics = &semantics::TPP;

/// Page size for EnumerateApplications.
const PAGE: usize = 100;

/// How often a listing that changed while it was read is read again.
const LIST_ATTEMPTS: u32 = 3;

/// tpp.md §6: OAuth result codes.
pub fn result_name(code: i64) -> &'static str {
    match code {
        0 => "Success",
        1 => "Failure",
        2 => "ApplicationNotFound",
        3 => "GrantNotFound",
        4 => "RuleNotFound",
        5 => "DriverError",
        6 => "InvalidParameters",
        7 => "TokenHashError",
        8 => "ExceptionThrown",
        9 => "InsufficientPrivileges",
        10 => "ObjectInvalid",
        11 => "AccessTokenExpired",
        12 => "AuthenticationMissing",
        13 => "AuthenticationInvalid",
        14 => "UnsignedCodeForbidden",
        15 => "RemoteTransportFailure",
        16 => "RightsAssignmentError",
        17 => "InvalidScope",
        18 => "RemoteIdentityRequired",
        _ => "an undocumented result code",
    }
}

/// Why a 200 answer of `/vedsdk/oauth/*` is not a success.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// `Result` is not 0 (tpp.md §6).
    Result(i64),
    /// Not the API's shape.
    Malformed(String),
}

/// A 200 answer of `/vedsdk/oauth/*`: JSON whose `Success`/`Result` say
/// success (tpp.md §6: HTTP 200 alone is not success).
pub fn parse_answer(body: &[u8]) -> Result<Value, Refusal> {
    let Ok(body) = serde_json::from_slice::<Value>(body) else {
        return Err(Refusal::Malformed(format!(
            "{} (not JSON)",
            server_message(body)
        )));
    };
    let result = body.get("Result").and_then(Value::as_i64);
    let success = body.get("Success").and_then(Value::as_bool);
    match (result, success) {
        (Some(0), Some(true)) | (Some(0), None) | (None, Some(true)) => Ok(body),
        (Some(code), _) => Err(Refusal::Result(code)),
        (None, _) => Err(Refusal::Malformed("no `Result` or `Success`".into())),
    }
}

/// The applications of one EnumerateApplications answer.
pub fn applications_of(answer: &Value) -> Result<Vec<LiveApp>, String> {
    answer
        .get("Applications")
        .and_then(Value::as_array)
        .ok_or("unexpected response: EnumerateApplications has no `Applications`")?
        .iter()
        .map(live_app)
        .collect()
}

/// One whole EnumerateApplications answer → live apps (used by the fuzz
/// targets and property tests; the provider does the same in two steps).
pub fn parse_enumerate(body: &[u8]) -> Result<Vec<LiveApp>, String> {
    let answer = parse_answer(body).map_err(|r| match r {
        Refusal::Result(code) => format!("TPP result {code} ({})", result_name(code)),
        Refusal::Malformed(why) => format!("unexpected response: {why}"),
    })?;
    applications_of(&answer)
}

/// Credentials to obtain a token with.
pub struct PasswordGrant {
    pub client_id: String,
    pub username: String,
    pub password: Secret,
    pub scope: String,
}

struct Obtained {
    grant: PasswordGrant,
    refresh_token: Mutex<Option<Secret>>,
    access_token: Mutex<Option<Secret>>,
}

pub struct Tpp {
    http: Http,
    obtained: Option<Obtained>,
}

/// A failed call: no answer, an HTTP status, an answer that is not the API's,
/// or a `Result` code.
#[derive(Debug)]
enum CallError {
    Transport(String),
    Status(u16, String),
    Malformed(String),
    Result(i64, String),
}

impl CallError {
    fn message(self) -> String {
        match self {
            CallError::Transport(m)
            | CallError::Status(_, m)
            | CallError::Malformed(m)
            | CallError::Result(_, m) => m,
        }
    }
    fn into_write(self) -> WriteError {
        match self {
            CallError::Status(s, m) => WriteError::status(m, s),
            CallError::Transport(m) => WriteError::new(FailureKind::Unreachable, m),
            CallError::Malformed(m) => WriteError::new(FailureKind::Malformed, m),
            CallError::Result(_, m) => WriteError::new(FailureKind::Rejected, m),
        }
    }
}

/// `error`/`error_description`, whatever their capitalisation (tpp.md §6).
fn oauth_error(body: &[u8]) -> Option<(String, String)> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let obj = v.as_object()?;
    let get = |k: &str| {
        obj.iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(k))
            .and_then(|(_, v)| v.as_str())
            .map(str::to_string)
    };
    Some((get("error")?, get("error_description").unwrap_or_default()))
}

pub fn live_app(value: &Value) -> Result<LiveApp, String> {
    let obj = value
        .as_object()
        .ok_or("unexpected response: an application is not a JSON object")?;
    let id = obj
        .get("ID")
        .and_then(Value::as_str)
        .ok_or("unexpected response: an application has no `ID`")?
        .to_string();
    let mut fields = BTreeMap::new();
    for rule in TPP.fields {
        let api = rule.api_name;
        // tpp.md §2: an omitted validity (or Renewable) means the system
        // default; the type of a field is the type of its default, else text.
        let default = rule.default.map(|d| d());
        let v = match (obj.get(api).cloned().unwrap_or(Value::Null), &default) {
            (Value::Null, Some(d)) => d.clone(),
            (Value::Null, None) => Value::String(String::new()),
            (v, Some(Value::Number(_))) if v.as_u64().is_none() => {
                return Err(format!(
                    "unexpected response: `{api}` of application `{id}` is not a number"
                ));
            }
            (v, Some(Value::Bool(_))) if !v.is_boolean() => {
                return Err(format!(
                    "unexpected response: `{api}` of application `{id}` is not a boolean"
                ));
            }
            (v, None) if !v.is_string() => {
                return Err(format!(
                    "unexpected response: `{api}` of application `{id}` is not a string"
                ));
            }
            (v, _) => v,
        };
        fields.insert(rule.name.to_string(), v);
    }
    fields.insert("id".into(), json!(id));
    Ok(LiveApp {
        match_key: id.clone(),
        name: id.clone(),
        id,
        organization: None,
        aside: None,
        fields,
    })
}

/// The API object for a write: every field, except a validity the server
/// leaves at its system default and that should stay so (tpp.md §7.2).
fn api_object(
    id: &str,
    fields: &BTreeMap<String, Value>,
    omit_defaults: &BTreeSet<&str>,
) -> Map<String, Value> {
    let mut o = Map::new();
    o.insert("ID".into(), json!(id));
    for rule in TPP.fields {
        if let Some(v) = fields.get(rule.name) {
            let is_default = rule.default.is_some_and(|d| d() == *v);
            if is_default && omit_defaults.contains(rule.api_name) {
                continue;
            }
            o.insert(rule.api_name.into(), v.clone());
        }
    }
    o
}

impl Tpp {
    /// Connects; with a password grant, obtains a token first.
    pub async fn connect(http: Http, grant: Option<PasswordGrant>) -> Result<Tpp, String> {
        let tpp = Tpp {
            http,
            obtained: grant.map(|grant| Obtained {
                grant,
                refresh_token: Mutex::new(None),
                access_token: Mutex::new(None),
            }),
        };
        if tpp.obtained.is_some() {
            tpp.authorize().await?;
        }
        Ok(tpp)
    }

    fn store_tokens(&self, body: &Value) -> Result<(), String> {
        let access = body
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or("unexpected response: VEDAuth returned no access_token")?;
        if let Some(o) = &self.obtained {
            if let Ok(mut a) = o.access_token.lock() {
                *a = Some(Secret::new(access));
            }
            if let (Ok(mut r), Some(refresh)) = (
                o.refresh_token.lock(),
                body.get("refresh_token").and_then(Value::as_str),
            ) {
                *r = Some(Secret::new(refresh));
            }
        }
        self.http.set_auth(AuthHeader::Bearer(Secret::new(access)));
        Ok(())
    }

    async fn post_auth(&self, path: &str, body: Value) -> Result<Value, String> {
        // Token requests carry credentials in the body; no Authorization header.
        let reply = self
            .http
            .send_as(
                Method::POST,
                path,
                Some(&body),
                Retry::Idempotent,
                Some(&AuthHeader::None),
            )
            .await
            .map_err(|e| e.to_string())?;
        if !reply.is_success() {
            let why = match oauth_error(&reply.body) {
                Some((e, d)) => format!("{e}: {d}"),
                None => server_message(&reply.body),
            };
            return Err(format!(
                "POST {}: HTTP {}: {why}",
                self.http.url(path),
                reply.status
            ));
        }
        reply
            .json()
            .ok_or_else(|| format!("POST {}: the answer is not JSON", self.http.url(path)))
    }

    async fn authorize(&self) -> Result<(), String> {
        let Some(o) = &self.obtained else {
            return Ok(());
        };
        let body = json!({
            "client_id": o.grant.client_id,
            "username": o.grant.username,
            "password": o.grant.password.expose(),
            "scope": o.grant.scope,
        });
        let answer = self
            .post_auth("/vedauth/authorize/oauth", body)
            .await
            .map_err(|e| format!("cannot obtain a token: {e}"))?;
        self.store_tokens(&answer)
    }

    /// Refreshes an expired token (the refresh token rotates); falls back to
    /// obtaining a new one with the password.
    async fn refresh(&self) -> Result<(), String> {
        let Some(o) = &self.obtained else {
            return Err("the static token is no longer valid".into());
        };
        let refresh = o.refresh_token.lock().ok().and_then(|r| r.clone());
        if let Some(refresh) = refresh {
            let body = json!({"client_id": o.grant.client_id, "refresh_token": refresh.expose()});
            if let Ok(answer) = self.post_auth("/vedauth/authorize/token", body).await {
                return self.store_tokens(&answer);
            }
        }
        self.authorize().await
    }

    /// Revokes a token appform obtained (the end of a run).
    pub async fn close(&self) {
        let Some(o) = &self.obtained else {
            return;
        };
        let token = o.access_token.lock().ok().and_then(|a| a.clone());
        if let Some(t) = token {
            let _ = self
                .http
                .send_as(
                    Method::GET,
                    "/vedauth/revoke/token",
                    None,
                    Retry::Idempotent,
                    Some(&AuthHeader::Bearer(t)),
                )
                .await;
        }
    }

    /// One `/vedsdk/oauth/<method>` call; a 401 (expired token) is refreshed once.
    async fn call(&self, method: &str, body: &Value, retry: Retry) -> Result<Value, CallError> {
        let path = format!("/vedsdk/oauth/{method}");
        let mut refreshed = false;
        loop {
            let reply = self
                .http
                .send(Method::POST, &path, Some(body), retry)
                .await
                .map_err(|e| CallError::Transport(e.to_string()))?;
            if reply.status.as_u16() == 401 && !refreshed && self.obtained.is_some() {
                refreshed = true;
                crate::logging::log(1, || "TPP token expired; refreshing it".to_string());
                self.refresh()
                    .await
                    .map_err(|e| CallError::Status(401, e))?;
                continue;
            }
            return self.check(&path, &reply);
        }
    }

    fn check(&self, path: &str, reply: &Reply) -> Result<Value, CallError> {
        let url = self.http.url(path);
        if !reply.is_success() {
            let why = match (reply.status.as_u16(), oauth_error(&reply.body)) {
                (401, Some((e, d))) => {
                    format!("{e}: {d} (the token is missing, expired, revoked or not valid)")
                }
                (403, Some((e, d))) => format!("{e}: {d} (the token needs the `admin` scope)"),
                (_, Some((e, d))) => format!("{e}: {d}"),
                (_, None) => server_message(&reply.body),
            };
            return Err(CallError::Status(
                reply.status.as_u16(),
                format!("POST {url}: HTTP {}: {why}", reply.status),
            ));
        }
        match parse_answer(&reply.body) {
            Ok(body) => Ok(body),
            Err(Refusal::Result(code)) => Err(CallError::Result(
                code,
                format!("POST {url}: TPP result {code} ({})", result_name(code)),
            )),
            Err(Refusal::Malformed(why)) => Err(CallError::Malformed(format!(
                "POST {url}: unexpected response: {why}"
            ))),
        }
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
                    self.http.url("/vedsdk/oauth/TotalCount")
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
        match (current, expected) {
            (None, _) => Err(WriteError::new(
                FailureKind::Gone,
                format!("skipped as stale: `{id}` was deleted since the plan was made"),
            )),
            (Some((app, _)), Some(fp)) if fingerprint(Kind::Tpp, &app) != fp => {
                Err(WriteError::stale(format!(
                    "skipped as stale: `{id}` changed on the server since the plan was made; plan again"
                )))
            }
            (Some((_, raw)), _) => Ok(raw),
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
                    if attempts > self.http.max_retries() {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn omitted_validity_reads_as_the_system_default() {
        let app = live_app(
            &json!({"ID": "x", "Name": "n", "Vendor": "v", "Description": "d", "Url": "u",
            "Scope": "a", "MaximumScope": "a"}),
        )
        .unwrap();
        assert_eq!(app.fields["access_validity"], json!(7_776_000));
        assert_eq!(app.fields["grant_validity"], json!(31_536_000));
        assert_eq!(app.fields["renewable"], json!(true));
        assert_eq!(app.fields["id"], json!("x"));
    }

    #[test]
    fn malformed_objects_are_errors() {
        assert!(live_app(&json!({"Name": "no id"})).is_err());
        assert!(live_app(&json!({"ID": "x", "AccessValidity": "90d"})).is_err());
        assert!(live_app(&json!({"ID": "x", "Name": 5})).is_err());
    }

    #[test]
    fn defaults_the_server_omits_stay_omitted() {
        let mut f = BTreeMap::new();
        f.insert("name".to_string(), json!("n"));
        f.insert("access_validity".to_string(), json!(7_776_000));
        f.insert("grant_validity".to_string(), json!(86_400));
        let omit: BTreeSet<&str> = ["AccessValidity", "GrantValidity"].into_iter().collect();
        let o = api_object("x", &f, &omit);
        assert!(!o.contains_key("AccessValidity"));
        assert_eq!(
            o["GrantValidity"],
            json!(86_400),
            "a non-default value is always sent"
        );
        assert_eq!(o["ID"], json!("x"));
    }

    #[test]
    fn result_codes_have_names() {
        assert_eq!(result_name(2), "ApplicationNotFound");
        assert_eq!(result_name(6), "InvalidParameters");
        assert_eq!(result_name(99), "an undocumented result code");
    }
}
