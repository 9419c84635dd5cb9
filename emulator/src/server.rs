//! The accept loop: a hyper HTTP/1.1 server around the axum router (over TLS when serving
//! HTTPS), on its own thread and runtime, applying CORS and injected faults before routing.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Method, Request, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::{Frame, Incoming, SizeHint};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::api::PeerAddr;
use crate::counters::bump;
use crate::errors::{invalid_token, oauth_error, signicat_error};
use crate::faults::{Endpoint, Fault};
use crate::personas::mask_nin;
use crate::state::{Shared, lock};
use crate::{cors, routes};

/// The service's error for `DropConnection`: hyper closes the connection without answering.
#[derive(Debug)]
struct Dropped;

impl fmt::Display for Dropped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection dropped by fault injection")
    }
}

impl std::error::Error for Dropped {}

/// The running server thread.
#[derive(Debug)]
pub(crate) struct ServerHandle {
    stop: watch::Sender<bool>,
    stopped: Option<oneshot::Receiver<()>>,
}

impl ServerHandle {
    /// Ask the server to stop (also happens when the handle is dropped).
    pub(crate) fn signal_stop(&self) {
        let _ = self.stop.send(true);
    }

    /// Ask the server to stop and wait until its thread has closed every connection.
    pub(crate) async fn stop(&mut self) {
        self.signal_stop();
        if let Some(stopped) = self.stopped.take() {
            let _ = stopped.await;
        }
    }
}

/// How long a client may take over its TLS handshake before the connection is dropped.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs `serve(listener, stop)` on a new thread with its own single-threaded runtime; the
/// returned handle stops it. Shared by the emulator and the test proxy.
pub(crate) fn spawn_on_own_thread<F, Fut>(
    name: &str,
    listener: std::net::TcpListener,
    serve: F,
) -> io::Result<ServerHandle>
where
    F: FnOnce(TcpListener, watch::Receiver<bool>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()>,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let (stopped_tx, stopped_rx) = oneshot::channel();
    let label = name.to_owned();
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            runtime.block_on(async move {
                match TcpListener::from_std(listener) {
                    Ok(listener) => serve(listener, stop_rx).await,
                    Err(e) => eprintln!("{label}: cannot listen: {e}"),
                }
            });
            drop(runtime);
            let _ = stopped_tx.send(());
        })?;
    Ok(ServerHandle {
        stop: stop_tx,
        stopped: Some(stopped_rx),
    })
}

/// Serve `listener` (already bound, non-blocking) on a new thread with its own runtime, over
/// TLS when `tls` is given.
pub(crate) fn spawn(
    listener: std::net::TcpListener,
    shared: Arc<Shared>,
    tls: Option<TlsAcceptor>,
) -> io::Result<ServerHandle> {
    spawn_on_own_thread("safeconv-emulator", listener, move |listener, stop| {
        accept_loop(listener, shared, tls, stop)
    })
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    tls: Option<TlsAcceptor>,
    mut stop: watch::Receiver<bool>,
) {
    let router = routes::router(shared.clone());
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            // A stop request, or the handle was dropped.
            _ = stop.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    let (shared, router) = (shared.clone(), router.clone());
                    match tls.clone() {
                        None => connections.spawn(serve_connection(stream, peer, shared, router)),
                        Some(acceptor) => connections.spawn(async move {
                            let handshake = tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream));
                            match handshake.await {
                                Ok(Ok(stream)) => serve_connection(stream, peer, shared, router).await,
                                Ok(Err(e)) => {
                                    bump(&shared.counters.tls_handshakes_failed);
                                    if shared.config.log_requests {
                                        eprintln!("safeconv-emulator: TLS handshake from {peer} failed: {e}");
                                    }
                                }
                                Err(_) => bump(&shared.counters.tls_handshakes_failed),
                            }
                        }),
                    };
                }
                // Out of file descriptors and the like: back off a little.
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.abort_all();
    while connections.join_next().await.is_some() {}
}

async fn serve_connection<S>(stream: S, peer: SocketAddr, shared: Arc<Shared>, router: Router)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |request| handle(shared.clone(), router.clone(), peer, request));
    let _ = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

/// Which counted API operation a request is, before routing.
fn classify(method: &Method, path: &str) -> Option<Endpoint> {
    if *method == Method::POST && path == "/auth/open/connect/token" {
        return Some(Endpoint::Token);
    }
    let rest = path.strip_prefix("/auth/rest/sessions")?;
    if rest.is_empty() {
        return (*method == Method::POST).then_some(Endpoint::CreateSession);
    }
    let rest = rest.strip_prefix('/')?;
    match rest.split_once('/') {
        None if !rest.is_empty() && *method == Method::GET => Some(Endpoint::GetSession),
        Some((id, "cancel")) if !id.is_empty() && *method == Method::POST => {
            Some(Endpoint::CancelSession)
        }
        _ => None,
    }
}

async fn handle(
    shared: Arc<Shared>,
    router: Router,
    peer: SocketAddr,
    mut request: Request<Incoming>,
) -> Result<Response, Dropped> {
    if request.method() == Method::OPTIONS {
        return Ok(cors::preflight(request.headers()));
    }
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let endpoint = classify(&method, &path);
    let fault = endpoint.and_then(|endpoint| {
        shared.counters.count_request(endpoint);
        let fault = lock(&shared.faults).pick(endpoint);
        if fault.is_some() {
            bump(&shared.counters.faults_injected);
        }
        fault
    });
    request.extensions_mut().insert(PeerAddr(peer));

    let result = match (endpoint, &fault) {
        (Some(endpoint), Some(fault)) => {
            apply_fault(&shared, router, endpoint, fault, request).await
        }
        _ => Ok(route(router, request).await),
    };
    if shared.config.log_requests {
        let outcome = match &result {
            Ok(response) => response.status().as_u16().to_string(),
            Err(_) => "connection dropped".to_owned(),
        };
        let fault = fault.map(|f| format!(" (fault {f:?})")).unwrap_or_default();
        eprintln!(
            "safeconv-emulator: {method} {} -> {outcome}{fault}",
            mask_digits(&path)
        );
    }
    let mut response = result?;
    cors::decorate(response.headers_mut());
    Ok(response)
}

async fn route(router: Router, request: Request<Incoming>) -> Response {
    match router.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

/// Read and discard a request body (so that keep-alive goes on after a fault).
async fn drain(request: Request<Incoming>) {
    let _ = Limited::new(request.into_body(), 1 << 20).collect().await;
}

fn with_retry_after(mut response: Response, retry_after: Option<Duration>) -> Response {
    if let Some(d) = retry_after {
        let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

async fn apply_fault(
    shared: &Shared,
    router: Router,
    endpoint: Endpoint,
    fault: &Fault,
    request: Request<Incoming>,
) -> Result<Response, Dropped> {
    let response = match fault {
        Fault::DropConnection => return Err(Dropped),
        Fault::InternalError => {
            drain(request).await;
            signicat_error(
                shared,
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_server_error",
                "An internal server error happened.",
                Vec::new(),
            )
        }
        Fault::Unavailable { retry_after } => {
            drain(request).await;
            let response = signicat_error(
                shared,
                StatusCode::SERVICE_UNAVAILABLE,
                "service_unavailable",
                "The service is temporarily unavailable.",
                Vec::new(),
            );
            with_retry_after(response, *retry_after)
        }
        Fault::TooManyRequests { retry_after } => {
            drain(request).await;
            let response = signicat_error(
                shared,
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_requests",
                "Too many requests; slow down.",
                Vec::new(),
            );
            with_retry_after(response, Some(*retry_after))
        }
        Fault::RejectToken => {
            drain(request).await;
            if endpoint == Endpoint::Token {
                oauth_error(
                    StatusCode::UNAUTHORIZED,
                    "invalid_client",
                    "Unknown client or wrong client secret",
                )
            } else {
                invalid_token(shared, "The access token is not valid.")
            }
        }
        Fault::Slow { delay } => {
            let response = route(router, request).await;
            tokio::time::sleep(*delay).await;
            response
        }
        Fault::TruncatedJson => {
            let (mut parts, body) = route(router, request).await.into_parts();
            let bytes = body
                .collect()
                .await
                .map(|c| c.to_bytes())
                .unwrap_or_default();
            parts
                .headers
                .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
            Response::from_parts(parts, Body::new(TruncatedBody::new(bytes)))
        }
        Fault::MalformedJson => {
            let (mut parts, body) = route(router, request).await.into_parts();
            let bytes = body
                .collect()
                .await
                .map(|c| c.to_bytes())
                .unwrap_or_default();
            parts.status = StatusCode::OK;
            parts.headers.remove(header::CONTENT_LENGTH);
            parts.headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            Response::from_parts(parts, Body::from(malform(&bytes)))
        }
    };
    Ok(response)
}

/// A complete body that no JSON parser accepts: the object's closing brace becomes a
/// member without a value (`..., "emulatorMalformed":}`).
fn malform(json: &[u8]) -> Vec<u8> {
    let mut out = match json.strip_suffix(b"}") {
        Some(open) if open.len() > 1 => {
            let mut v = open.to_vec();
            v.push(b',');
            v
        }
        _ => b"{".to_vec(),
    };
    out.extend_from_slice(b"\"emulatorMalformed\":}");
    out
}

/// A body that sends the first half of `full`, pauses so hyper flushes it, then fails so
/// hyper closes the connection short of the advertised `Content-Length`.
struct TruncatedBody {
    full_len: u64,
    first_half: Option<Bytes>,
    pause: Option<Pin<Box<tokio::time::Sleep>>>,
    failed: bool,
}

impl TruncatedBody {
    fn new(full: Bytes) -> Self {
        let half = full.slice(..full.len() / 2);
        TruncatedBody {
            full_len: full.len() as u64,
            first_half: Some(half),
            pause: Some(Box::pin(tokio::time::sleep(Duration::from_millis(50)))),
            failed: false,
        }
    }
}

impl hyper::body::Body for TruncatedBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        if let Some(half) = self.first_half.take() {
            return Poll::Ready(Some(Ok(Frame::data(half))));
        }
        if let Some(pause) = self.pause.as_mut() {
            if pause.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.pause = None;
        }
        if self.failed {
            return Poll::Ready(None);
        }
        self.failed = true;
        Poll::Ready(Some(Err(io::Error::new(
            io::ErrorKind::ConnectionAborted,
            "response truncated by fault injection",
        ))))
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.full_len)
    }
}

/// A path with every run of 11 digits (a NIN) masked, for logs.
fn mask_digits(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() == 11 {
            out.push_str(&mask_nin(run));
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in path.chars() {
        if c.is_ascii_digit() {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_api_requests() {
        assert_eq!(
            classify(&Method::POST, "/auth/open/connect/token"),
            Some(Endpoint::Token)
        );
        assert_eq!(
            classify(&Method::POST, "/auth/rest/sessions"),
            Some(Endpoint::CreateSession)
        );
        assert_eq!(
            classify(&Method::GET, "/auth/rest/sessions/abc"),
            Some(Endpoint::GetSession)
        );
        assert_eq!(
            classify(&Method::POST, "/auth/rest/sessions/abc/cancel"),
            Some(Endpoint::CancelSession)
        );
        assert_eq!(classify(&Method::GET, "/auth/rest/sessions"), None);
        assert_eq!(classify(&Method::GET, "/emulator/health"), None);
        assert_eq!(classify(&Method::POST, "/auth/rest/sessions//cancel"), None);
    }

    #[test]
    fn malformed_json_is_broken() {
        let broken = malform(br#"{"a":1}"#);
        assert_eq!(broken, br#"{"a":1,"emulatorMalformed":}"#);
        assert!(serde_json::from_slice::<serde_json::Value>(&broken).is_err());
        assert!(serde_json::from_slice::<serde_json::Value>(&malform(b"")).is_err());
    }

    #[test]
    fn masks_nins_in_paths() {
        assert_eq!(
            mask_digits("/emulator/users/17829040085"),
            "/emulator/users/178290*****"
        );
        assert_eq!(mask_digits("/a/123"), "/a/123");
    }
}
