//! Serving a simulator: a listener that can reset connections, a middleware for
//! latency and 503s, and a background server (its own thread and runtime) that
//! tests and `--sandbox` runs start and stop.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use serde::Serialize;
use tokio::net::{TcpListener, TcpStream};

use super::Faults;

/// The `user:password` of an `Authorization: Basic` header (an OAuth
/// client's id and secret at a token endpoint), when there is a readable one.
pub(crate) fn basic_credentials(headers: &axum::http::HeaderMap) -> Option<(String, String)> {
    use base64::Engine;
    let encoded = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

/// One request as a simulator saw it, for tests and `--state` dumps.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoggedRequest {
    pub method: String,
    /// Path with the query string.
    pub path: String,
    /// The body parsed as JSON, when it was JSON.
    pub body: Option<serde_json::Value>,
    /// The `Content-Type` header as sent.
    pub content_type: Option<String>,
}

impl LoggedRequest {
    /// The log entry for one request as a handler received it.
    pub fn of(
        method: &axum::http::Method,
        uri: &axum::http::Uri,
        headers: &axum::http::HeaderMap,
        body: &[u8],
    ) -> Self {
        LoggedRequest {
            method: method.to_string(),
            path: uri
                .path_and_query()
                .map(|p| p.to_string())
                .unwrap_or_default(),
            body: serde_json::from_slice(body).ok(),
            content_type: headers
                .get(axum::http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
        }
    }
}

/// A TCP listener that resets a share of new connections.
struct FaultyListener {
    inner: TcpListener,
    faults: Faults,
}

impl axum::serve::Listener for FaultyListener {
    type Io = TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (TcpStream, SocketAddr) {
        loop {
            match self.inner.accept().await {
                Ok((stream, addr)) => {
                    if self.faults.roll_reset() {
                        // SO_LINGER 0 makes the close an RST: the client sees a reset.
                        let _ = stream.set_zero_linger();
                        drop(stream);
                        continue;
                    }
                    let _ = stream.set_nodelay(true);
                    return (stream, addr);
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

/// Requests being answered right now, and the most at any one time: shows
/// whether a client sent requests together (the tests of request counts).
#[derive(Debug, Default)]
pub struct InFlight {
    now: std::sync::atomic::AtomicUsize,
    peak: std::sync::atomic::AtomicUsize,
}

impl InFlight {
    fn enter(&self) {
        use std::sync::atomic::Ordering::SeqCst;
        let now = self.now.fetch_add(1, SeqCst) + 1;
        self.peak.fetch_max(now, SeqCst);
    }
    fn leave(&self) {
        self.now.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
    /// The most requests in flight at once since the last reset.
    pub fn peak(&self) -> usize {
        self.peak.load(std::sync::atomic::Ordering::SeqCst)
    }
    pub fn reset_peak(&self) {
        self.peak.store(0, std::sync::atomic::Ordering::SeqCst);
    }
}

/// One request in flight; leaves when dropped (also when the client hangs up).
struct Entered(std::sync::Arc<InFlight>);

impl Entered {
    fn new(in_flight: std::sync::Arc<InFlight>) -> Self {
        in_flight.enter();
        Entered(in_flight)
    }
}

impl Drop for Entered {
    fn drop(&mut self) {
        self.0.leave();
    }
}

async fn inject(faults: Faults, request: Request, next: Next) -> Response {
    if !faults.latency.is_zero() {
        tokio::time::sleep(faults.latency).await;
    }
    if faults.roll_error() {
        return unavailable();
    }
    let response = next.run(request).await;
    if faults.roll_lost_answer() {
        return unavailable();
    }
    response
}

fn unavailable() -> Response {
    let mut response = Response::new(Body::from(
        "<html><body><h1>503 Service Unavailable</h1></body></html>\n",
    ));
    *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/html"),
    );
    response
}

/// Serves `router` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    faults: Faults,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_counted(
        listener,
        router,
        faults,
        shutdown,
        std::sync::Arc::default(),
    )
    .await
}

async fn serve_counted(
    listener: TcpListener,
    router: Router,
    faults: Faults,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    in_flight: std::sync::Arc<InFlight>,
) -> std::io::Result<()> {
    let app = router.layer(axum::middleware::from_fn(move |req, next| {
        let in_flight = in_flight.clone();
        async move {
            let _entered = Entered::new(in_flight);
            inject(faults, req, next).await
        }
    }));
    axum::serve(
        FaultyListener {
            inner: listener,
            faults,
        },
        app,
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// A simulator running on its own thread; stopped when dropped.
pub struct BackgroundServer {
    pub addr: SocketAddr,
    /// Requests in flight on this server.
    pub in_flight: std::sync::Arc<InFlight>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BackgroundServer {
    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for BackgroundServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Binds `addr` (port 0 for any) and serves `router` on a background thread.
pub fn serve_in_background(
    addr: SocketAddr,
    router: Router,
    faults: Faults,
) -> std::io::Result<BackgroundServer> {
    let std_listener = std::net::TcpListener::bind(addr)?;
    std_listener.set_nonblocking(true)?;
    let bound = std_listener.local_addr()?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let in_flight = std::sync::Arc::new(InFlight::default());
    let counted = in_flight.clone();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let thread = std::thread::Builder::new()
        .name(format!("sandbox-{}", bound.port()))
        .spawn(move || {
            runtime.block_on(async move {
                let Ok(listener) = TcpListener::from_std(std_listener) else {
                    return;
                };
                let _ = serve_counted(
                    listener,
                    router,
                    faults,
                    async {
                        let _ = rx.await;
                    },
                    counted,
                )
                .await;
            });
        })?;
    Ok(BackgroundServer {
        addr: bound,
        in_flight,
        shutdown: Some(tx),
        thread: Some(thread),
    })
}
