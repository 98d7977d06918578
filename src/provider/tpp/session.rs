//! A TPP session: a static token, or one obtained from VEDAuth with
//! client_id + username + password, refreshed (rotating the refresh token, or
//! obtained again) when it expires mid-run and revoked at the end
//! (docs/contracts/tpp.md §4).

use std::sync::Mutex;

use reqwest::Method;
use serde_json::{Value, json};

use super::super::Error;
use super::super::http::{AuthHeader, Http, Retry, server_message};
use super::wire::oauth_error;
use crate::secret::Secret;

/// Credentials to obtain a token with.
pub struct PasswordGrant {
    pub client_id: String,
    pub username: String,
    pub password: Secret,
    pub scope: String,
}

pub(super) struct Obtained {
    grant: PasswordGrant,
    refresh_token: Mutex<Option<Secret>>,
    access_token: Mutex<Option<Secret>>,
}

/// The HTTP client of one TPP instance and the tokens appform obtained.
pub(super) struct Session {
    pub(super) http: Http,
    pub(super) obtained: Option<Obtained>,
}

impl Session {
    /// Connects; with a password grant, obtains a token first.
    pub(super) async fn connect(
        http: Http,
        grant: Option<PasswordGrant>,
    ) -> Result<Session, Error> {
        let tpp = Session {
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

    /// The tokens obtained so far: redacted from whatever the server says.
    pub(super) fn tokens_in_use(&self) -> Vec<String> {
        let Some(o) = &self.obtained else {
            return Vec::new();
        };
        [&o.access_token, &o.refresh_token]
            .iter()
            .filter_map(|m| m.lock().ok()?.as_ref().map(|s| s.expose().to_string()))
            .collect()
    }

    fn store_tokens(&self, body: &Value) -> Result<(), Error> {
        let access = body
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                Error::malformed("unexpected response: VEDAuth returned no access_token")
            })?;
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

    async fn post_auth(&self, path: &str, body: Value) -> Result<Value, Error> {
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
            .map_err(|e| Error::unreachable(&e))?;
        if !reply.is_success() {
            let why = match oauth_error(&reply.body) {
                Some((e, d)) => format!("{e}: {d}"),
                None => server_message(&reply.body),
            };
            return Err(Error::status(
                format!("POST {}: HTTP {}: {why}", self.http.url(path), reply.status),
                reply.status.as_u16(),
            ));
        }
        reply.json().ok_or_else(|| {
            Error::malformed(format!(
                "POST {}: the answer is not JSON",
                self.http.url(path)
            ))
        })
    }

    async fn authorize(&self) -> Result<(), Error> {
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
            .map_err(|e| Error::new(e.kind, format!("cannot obtain a token: {e}")))?;
        self.store_tokens(&answer)
    }

    /// Refreshes an expired token (the refresh token rotates); falls back to
    /// obtaining a new one with the password.
    pub(super) async fn refresh(&self) -> Result<(), Error> {
        let Some(o) = &self.obtained else {
            return Err(Error::status("the static token is no longer valid", 401));
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
    /// `Err`: the token could not be revoked and stays valid for its lifetime.
    pub(super) async fn close(&self) -> Result<(), crate::provider::NotRevoked> {
        let Some(o) = &self.obtained else {
            return Ok(());
        };
        let token = o.access_token.lock().ok().and_then(|a| a.clone());
        let Some(t) = token else {
            return Ok(());
        };
        let path = "/vedauth/revoke/token";
        let answer = self
            .http
            .send_as(
                Method::GET,
                path,
                None,
                Retry::Idempotent,
                Some(&AuthHeader::Bearer(t)),
            )
            .await;
        match answer {
            Ok(reply) if reply.is_success() => Ok(()),
            Ok(reply) => Err(format!(
                "GET {}: HTTP {}: {}",
                self.http.url(path),
                reply.status,
                server_message(&reply.body)
            )),
            Err(e) => Err(e.to_string()),
        }
        .map_err(|reason| crate::provider::NotRevoked { reason })
    }
}
