//! The HTTP client every provider uses: per-server TLS and timeouts, at most
//! `max_in_flight` requests per host, retries with exponential backoff and
//! jitter for requests that are safe to repeat (honouring `Retry-After`), a
//! 16 MiB response limit, `-v` logging with secrets redacted, and errors that
//! name the method, URL, status and the server's message.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::sync::Semaphore;

mod client;

use crate::logging;
use crate::model::ServerOptions;
use crate::secret::Secret;
pub use client::clients_built;
use client::shared_client;

/// Responses larger than this are refused (docs/reference.md §4.5).
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// The most bytes one server's listing may take in all pages (about 170,000
/// AWX applications): more is a broken or hostile server, refused before it
/// fills the memory.
pub const MAX_LISTING_BYTES: u64 = 256 * 1024 * 1024;

/// The error of a listing past [`MAX_LISTING_BYTES`], or `None`.
pub fn listing_too_large(http: &Http, since: u64, what: &str) -> Option<String> {
    let read = http.received_bytes().saturating_sub(since);
    (read > MAX_LISTING_BYTES).then(|| {
        format!(
            "unexpected response: the {what} listing passed {} MiB in all its pages; appform reads at most {} MiB of one listing",
            read / (1024 * 1024),
            MAX_LISTING_BYTES / (1024 * 1024)
        )
    })
}

/// How a request authenticates.
#[derive(Debug, Clone)]
pub enum AuthHeader {
    None,
    Bearer(Secret),
    Basic {
        username: String,
        password: Secret,
    },
    /// cPanel WHM API token: `Authorization: whm user:token`.
    WhmToken {
        username: String,
        token: Secret,
    },
}

/// Whether a request may be sent again after an ambiguous failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Reads, AWX PATCH/PUT/DELETE, TPP update/delete, WHM save/remove.
    Idempotent,
    /// Creates: the caller decides after checking what happened.
    Never,
}

/// A response that arrived (any status).
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn is_success(&self) -> bool {
        self.status.is_success()
    }
    /// The body as JSON; `None` when it is not, or repeats a key.
    pub fn json(&self) -> Option<Value> {
        super::strict_json::parse(&self.body).ok()
    }
}

/// A request that got no usable response.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{method} {url}: {message}")]
pub struct TransportError {
    pub method: Method,
    pub url: String,
    pub message: String,
    /// The server may have acted on it (timeout or reset after sending).
    pub ambiguous: bool,
    /// Sending it again cannot help (the URL's scheme does not match what
    /// the server speaks).
    pub permanent: bool,
}

#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    /// The server's `timeout`, for every request to it.
    timeout: Duration,
    base: String,
    /// Shared so that a refreshed token reaches every clone (TPP).
    auth: Arc<std::sync::RwLock<AuthHeader>>,
    limiter: Arc<Semaphore>,
    max_retries: u32,
    /// The server's `deadline`: no request with its retries takes longer,
    /// and retries wait at most this long in all (`waited`).
    deadline: Duration,
    /// Time spent waiting before retries on this server, in milliseconds.
    waited_ms: Arc<AtomicU64>,
    /// Response body bytes received from this server (listings are bounded
    /// by it, not only page by page).
    received: Arc<AtomicU64>,
}

impl Http {
    /// A client for one server instance. `base` has no trailing slash.
    pub fn new(
        base: &str,
        options: &ServerOptions,
        auth: AuthHeader,
        max_retries: u32,
    ) -> Result<Http, String> {
        let client = shared_client(base, options)?;
        Ok(Http {
            client,
            timeout: options.timeout,
            base: base.trim_end_matches('/').to_string(),
            auth: Arc::new(std::sync::RwLock::new(auth)),
            limiter: Arc::new(Semaphore::new(options.max_in_flight.max(1) as usize)),
            max_retries,
            deadline: options.deadline.max(options.timeout),
            waited_ms: Arc::new(AtomicU64::new(0)),
            received: Arc::new(AtomicU64::new(0)),
        })
    }

    /// Replaces the credentials of every later request (a refreshed token).
    pub fn set_auth(&self, auth: AuthHeader) {
        match self.auth.write() {
            Ok(mut a) => *a = auth,
            Err(poisoned) => *poisoned.into_inner() = auth,
        }
    }

    fn current_auth(&self) -> AuthHeader {
        match self.auth.read() {
            Ok(a) => a.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn max_retries(&self) -> u32 {
        self.max_retries
    }

    /// Response body bytes received from this server so far.
    pub fn received_bytes(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }

    /// Whether waiting `wait` before another attempt stays within the
    /// deadline: this request's (`started`) and the server's retry budget.
    /// Counts the wait when it does.
    fn may_wait(&self, started: Instant, wait: Duration) -> bool {
        if started.elapsed() + wait + Duration::from_millis(1) > self.deadline {
            return false;
        }
        let ms = wait.as_millis() as u64;
        let waited = self.waited_ms.fetch_add(ms, Ordering::Relaxed) + ms;
        waited <= self.deadline.as_millis() as u64
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends a request; `path` starts with `/` and may carry a query string.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        retry: Retry,
    ) -> Result<Reply, TransportError> {
        self.send_as(method, path, body, retry, None).await
    }

    /// Like [`Http::send`], with other credentials for this request only
    /// (`Some(&AuthHeader::None)`: none, as for token requests).
    pub async fn send_as(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        retry: Retry,
        auth: Option<&AuthHeader>,
    ) -> Result<Reply, TransportError> {
        let url = self.url(path);
        let started = Instant::now();
        let mut attempt: u32 = 0;
        loop {
            let outcome = self.attempt(&method, &url, body, auth, started).await;
            let retries_left = retry == Retry::Idempotent && attempt < self.max_retries;
            match outcome {
                Ok(reply) if retries_left && retryable_status(reply.status) => {
                    let wait = backoff(attempt, retry_after(&reply.headers));
                    if !self.may_wait(started, wait) {
                        return Err(self.past_deadline(
                            &method,
                            &url,
                            wait,
                            &format!("HTTP {}", reply.status),
                        ));
                    }
                    logging::log(1, || {
                        format!("{method} {url} -> {}; retrying in {wait:?}", reply.status)
                    });
                    tokio::time::sleep(wait).await;
                }
                Ok(reply) => return Ok(reply),
                Err(e) if retries_left && !e.permanent => {
                    let wait = backoff(attempt, None);
                    if !self.may_wait(started, wait) {
                        return Err(self.past_deadline(&method, &url, wait, &e.message));
                    }
                    logging::log(1, || format!("{e}; retrying in {wait:?}"));
                    tokio::time::sleep(wait).await;
                }
                Err(e) => return Err(e),
            }
            attempt += 1;
        }
    }

    /// The error of a request whose next retry would pass the deadline.
    fn past_deadline(
        &self,
        method: &Method,
        url: &str,
        wait: Duration,
        last: &str,
    ) -> TransportError {
        TransportError {
            method: method.clone(),
            url: url.to_string(),
            message: format!(
                "{last}; not retried: waiting {} s more would pass the server's deadline of {} s (`deadline`, default 10 × `timeout`; it bounds a request with its retries and all retry waits of a run)",
                wait.as_secs_f64().ceil(),
                self.deadline.as_secs()
            ),
            // What was last seen is an answer or a failure without one: as
            // ambiguous as a timeout, which the caller reads again after.
            ambiguous: true,
            permanent: false,
        }
    }

    async fn attempt(
        &self,
        method: &Method,
        url: &str,
        body: Option<&Value>,
        auth: Option<&AuthHeader>,
        started: Instant,
    ) -> Result<Reply, TransportError> {
        let fail = |message: String, ambiguous: bool| TransportError {
            method: method.clone(),
            url: url.to_string(),
            message,
            ambiguous,
            permanent: false,
        };
        let _permit = self
            .limiter
            .acquire()
            .await
            .map_err(|_| fail("the request limiter was closed".into(), false))?;
        // No attempt outlives the request's deadline.
        let left = self.deadline.saturating_sub(started.elapsed());
        if left.is_zero() {
            return Err(fail(
                format!(
                    "the server's deadline of {} s passed",
                    self.deadline.as_secs()
                ),
                false,
            ));
        }
        let mut request = self
            .client
            .request(method.clone(), url)
            .timeout(self.timeout.min(left));
        request =
            match &auth.cloned().unwrap_or_else(|| self.current_auth()) {
                AuthHeader::None => request,
                AuthHeader::Bearer(token) => request.bearer_auth(token.expose()),
                AuthHeader::Basic { username, password } => {
                    request.basic_auth(username, Some(password.expose()))
                }
                AuthHeader::WhmToken { username, token } => {
                    let mut value =
                        HeaderValue::from_str(&format!("whm {username}:{}", token.expose()))
                            .map_err(|_| {
                                fail(
                        "the WHM credentials contain characters not allowed in a header".into(),
                        false,
                    )
                            })?;
                    value.set_sensitive(true);
                    request.header(reqwest::header::AUTHORIZATION, value)
                }
            };
        if let Some(b) = body {
            // `.json()` sets exactly `application/json` (no charset), which WHM needs.
            request = request.json(b);
            logging::log(2, || format!("{method} {url} body {}", logging::redact(b)));
        }
        let started = Instant::now();
        let mut response = request.send().await.map_err(|e| {
            // A server that has answered this run speaks the URL's scheme.
            let answered_before = self.received.load(Ordering::Relaxed) > 0;
            if let Some(mismatch) = scheme_mismatch(&e, url).filter(|_| !answered_before) {
                logging::log(1, || format!("{method} {url} -> {mismatch}"));
                return TransportError {
                    permanent: true,
                    ..fail(mismatch, false)
                };
            }
            let ambiguous = !e.is_connect() && !e.is_builder();
            let message = describe_send_error(&e);
            // `-v` shows every request, also the ones that got no answer.
            logging::log(1, || {
                format!(
                    "{method} {url} -> no answer after {} ms: {message}",
                    started.elapsed().as_millis()
                )
            });
            fail(message, ambiguous)
        })?;
        let status = response.status();
        let headers = response.headers().clone();
        if response
            .content_length()
            .is_some_and(|n| n > MAX_BODY_BYTES as u64)
        {
            return Err(fail(
                format!("HTTP {status}: the response body is larger than {MAX_BODY_BYTES} bytes"),
                false,
            ));
        }
        let mut bytes = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if bytes.len() + chunk.len() > MAX_BODY_BYTES {
                        return Err(fail(
                            format!(
                                "HTTP {status}: the response body is larger than {MAX_BODY_BYTES} bytes"
                            ),
                            false,
                        ));
                    }
                    bytes.extend_from_slice(&chunk);
                    self.received
                        .fetch_add(chunk.len() as u64, Ordering::Relaxed);
                }
                Ok(None) => break,
                Err(e) => {
                    return Err(fail(
                        format!("reading the response failed: {}", error_chain(&e)),
                        true,
                    ));
                }
            }
        }
        logging::log(1, || {
            format!(
                "{method} {url} -> {} ({} ms)",
                status.as_u16(),
                started.elapsed().as_millis()
            )
        });
        logging::log(3, || {
            format!("{method} {url} response {}", logging::redact_body(&bytes))
        });
        Ok(Reply {
            status,
            headers,
            body: bytes,
        })
    }
}

fn retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 502 | 503 | 504)
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

/// Exponential backoff with jitter: 250 ms, 500 ms, 1 s… capped at 10 s, each
/// scaled by a random factor in [0.5, 1); `Retry-After` (capped at 60 s) wins
/// when longer.
pub fn backoff(attempt: u32, retry_after: Option<Duration>) -> Duration {
    let base = Duration::from_millis(250).saturating_mul(1u32 << attempt.min(6));
    let capped = base.min(Duration::from_secs(10));
    let jittered = capped.mul_f64(0.5 + fastrand::f64() / 2.0);
    match retry_after {
        Some(ra) => jittered.max(ra.min(Duration::from_secs(60))),
        None => jittered,
    }
}

/// What went wrong, without reqwest's "error sending request for url (…)",
/// which would repeat the URL the caller already names.
fn describe_send_error(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "timed out".into();
    }
    let causes = match std::error::Error::source(e) {
        Some(source) => error_chain(source),
        None => e.to_string(),
    };
    if e.is_connect() {
        match innermost_io_error(e).map(|io| io.kind()) {
            Some(std::io::ErrorKind::ConnectionRefused) => {
                "cannot connect: connection refused (is the server up, and the port right?)".into()
            }
            _ => format!("cannot connect: {}", innermost(e)),
        }
    } else {
        causes
    }
}

/// The URL's scheme does not match what the server speaks: `https://` to a
/// plain http server (its answer is not a TLS record) or `http://` to a TLS
/// port (the answer is a TLS alert, or the server hangs up on plain text).
/// One short line; sending again would not help. Only asked while the
/// server has not answered anything yet in this run: a plain http server
/// that closes a kept-alive connection later is not mistaken for TLS.
fn scheme_mismatch(e: &reqwest::Error, url: &str) -> Option<String> {
    let chain = error_chain(e);
    if url.starts_with("https://")
        && (chain.contains("InvalidContentType") || chain.contains("corrupt message"))
    {
        return Some(
            "the server speaks plain http, not TLS: use http:// in `url` (with `allow_insecure_http` beyond loopback)".into(),
        );
    }
    let tls_answer = chain.contains("invalid HTTP version parsed")
        || chain.contains("received HTTP/0.9")
        || chain.contains("connection closed before message completed");
    if url.starts_with("http://") && tls_answer && !e.is_timeout() {
        return Some(
            "the server expects TLS (it did not answer plain http): use https:// in `url`".into(),
        );
    }
    None
}

fn innermost_io_error<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a std::io::Error> {
    let mut found = None;
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            found = Some(io);
        }
        source = s.source();
    }
    found
}

/// The last cause in the chain: the one that says what happened.
fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut last = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        last = s.to_string();
        source = s.source();
    }
    last
}

/// The error and its causes, joined: reqwest's own Display hides the cause.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

/// The server's message in an error body, short: JSON `detail` / `__all__` /
/// field errors / `error_description`, or a note that it was not JSON.
pub fn server_message(body: &[u8]) -> String {
    const MAX: usize = 300;
    let text = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => {
            let mut parts = Vec::new();
            for (k, v) in &map {
                let msg = match v {
                    Value::String(s) => s.clone(),
                    Value::Array(items) => items
                        .iter()
                        .map(|i| {
                            i.as_str()
                                .map(str::to_string)
                                .unwrap_or_else(|| i.to_string())
                        })
                        .collect::<Vec<_>>()
                        .join(" "),
                    other => logging::redact(other).to_string(),
                };
                if k == "detail" || k == "__all__" {
                    parts.push(msg);
                } else {
                    parts.push(format!("{k}: {msg}"));
                }
            }
            parts.join("; ")
        }
        Ok(other) => logging::redact(&other).to_string(),
        Err(_) if body.is_empty() => "(empty body)".into(),
        Err(_) => {
            let s = String::from_utf8_lossy(body);
            if s.trim_start().starts_with('<') {
                "an HTML page instead of the API's JSON".into()
            } else {
                s.trim().to_string()
            }
        }
    };
    if text.chars().count() > MAX {
        format!("{}…", text.chars().take(MAX).collect::<String>())
    } else {
        text
    }
}

#[cfg(test)]
mod tests;
