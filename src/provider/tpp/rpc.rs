//! One `/vedsdk/oauth/<method>` call: POST with the session's token, a 401
//! refreshed once, and the answer checked for its HTTP status and then its
//! `Success`/`Result` envelope (docs/contracts/tpp.md §6: HTTP 200 alone is
//! not success).

use reqwest::Method;
use serde_json::Value;

use super::super::http::{Reply, Retry, server_message};
use super::super::{Error, FailureKind};
use super::session::Session;
use super::wire::{Refusal, oauth_error, parse_answer, result_name};

/// A failed call: no answer, an HTTP status, an answer that is not the API's,
/// or a `Result` code.
#[derive(Debug)]
pub(super) enum CallError {
    Transport(String),
    Status(u16, String),
    Malformed(String),
    Result(i64, String),
}

impl CallError {
    pub(super) fn message(self) -> String {
        match self {
            CallError::Transport(m)
            | CallError::Status(_, m)
            | CallError::Malformed(m)
            | CallError::Result(_, m) => m,
        }
    }
    pub(super) fn into_write(self) -> Error {
        match self {
            CallError::Status(s, m) => Error::status(m, s),
            CallError::Transport(m) => Error::new(FailureKind::Unreachable, m),
            CallError::Malformed(m) => Error::new(FailureKind::Malformed, m),
            CallError::Result(_, m) => Error::new(FailureKind::Rejected, m),
        }
    }
}

impl Session {
    /// One `/vedsdk/oauth/<method>` call; a 401 (expired token) is refreshed once.
    pub(super) async fn call(
        &self,
        method: &str,
        body: &Value,
        retry: Retry,
    ) -> Result<Value, CallError> {
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
                    .map_err(|e| CallError::Status(401, e.message))?;
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
}
