//! A loopback HTTP proxy for tests: `CONNECT` tunnels (how clients reach an HTTPS server
//! through a proxy) and plain forwarding of absolute-form requests, to loopback targets only,
//! with optional Basic credentials and counters that prove traffic went through it.

use std::convert::Infallible;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, Uri, header};
use base64::Engine;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde::Serialize;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::server::{ServerHandle, spawn_on_own_thread};

/// How long the proxy tries to reach a target before answering 502.
const TARGET_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How a [`TestProxy`] is started.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TestProxyConfig {
    /// TCP port on 127.0.0.1; `0` picks a free one.
    pub port: u16,
    /// Require `Proxy-Authorization: Basic` with this user name and password; anything else is
    /// answered `407 Proxy Authentication Required`.
    pub credentials: Option<(String, String)>,
    /// Refuse every proxy request (after the credentials check) with this status, e.g. 403 or
    /// 502, as a corporate proxy's policy or a broken upstream would.
    pub refuse_with: Option<u16>,
    /// Log one line per proxy request to stderr.
    pub log_requests: bool,
}

/// What the proxy has done since start or the last reset. Requests to its own `/proxy/` admin
/// paths are not counted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProxyCounters {
    /// `CONNECT` requests answered `200`: tunnels opened to a target.
    pub tunnels_opened: u64,
    /// Absolute-form requests (`GET http://127.0.0.1:PORT/…`) forwarded to their target.
    pub requests_forwarded: u64,
    /// Proxy requests answered `407` for missing or wrong credentials.
    pub auth_failures: u64,
    /// Proxy requests refused otherwise: by `refuse_with` (its status), a target that is not
    /// loopback (403), a target that cannot be reached (502), or a malformed request (400).
    pub refused: u64,
}

#[derive(Debug, Default)]
struct CounterSet {
    tunnels_opened: AtomicU64,
    requests_forwarded: AtomicU64,
    auth_failures: AtomicU64,
    refused: AtomicU64,
}

impl CounterSet {
    fn all(&self) -> [&AtomicU64; 4] {
        [
            &self.tunnels_opened,
            &self.requests_forwarded,
            &self.auth_failures,
            &self.refused,
        ]
    }

    fn snapshot(&self) -> ProxyCounters {
        let [tunnels_opened, requests_forwarded, auth_failures, refused] =
            self.all().map(|c| c.load(Ordering::Relaxed));
        ProxyCounters {
            tunnels_opened,
            requests_forwarded,
            auth_failures,
            refused,
        }
    }

    fn reset(&self) {
        for c in self.all() {
            c.store(0, Ordering::Relaxed);
        }
    }
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

#[derive(Debug)]
struct ProxyState {
    config: TestProxyConfig,
    /// The `Proxy-Authorization` value that `credentials` stand for.
    expected_authorization: Option<String>,
    counters: CounterSet,
}

/// A running test proxy on 127.0.0.1. Like the emulator it runs on its own thread and runtime;
/// dropping it stops it.
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// use safeconv_emulator::{TestProxy, TestProxyConfig};
///
/// let proxy = TestProxy::start(TestProxyConfig {
///     credentials: Some(("agent".into(), "proxy-secret".into())),
///     ..Default::default()
/// })
/// .await?;
/// let url = proxy.url(); // http://127.0.0.1:PORT, without the credentials
/// // ... point the client at `url` with the credentials, run it ...
/// assert!(proxy.counters().tunnels_opened > 0);
/// # let _ = url;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct TestProxy {
    state: Arc<ProxyState>,
    url: String,
    server: ServerHandle,
}

impl TestProxy {
    /// Bind 127.0.0.1 on `config.port` (0: any free port) and start serving.
    pub async fn start(config: TestProxyConfig) -> io::Result<TestProxy> {
        Self::start_blocking(config)
    }

    /// [`TestProxy::start`] for code without an async runtime.
    pub fn start_blocking(mut config: TestProxyConfig) -> io::Result<TestProxy> {
        let listener =
            std::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, config.port)))?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        config.port = port;
        let expected_authorization = config.credentials.as_ref().map(|(user, password)| {
            let pair = format!("{user}:{password}");
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair)
            )
        });
        let state = Arc::new(ProxyState {
            config,
            expected_authorization,
            counters: CounterSet::default(),
        });
        let serving = state.clone();
        let server = spawn_on_own_thread("safeconv-proxy", listener, move |listener, stop| {
            accept_loop(listener, serving, stop)
        })?;
        Ok(TestProxy {
            state,
            url: format!("http://127.0.0.1:{port}"),
            server,
        })
    }

    /// The proxy URL, `http://127.0.0.1:PORT` (never with the credentials).
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The configuration as started, with `port` set to the port actually bound.
    pub fn config(&self) -> &TestProxyConfig {
        &self.state.config
    }

    /// The counters now.
    pub fn counters(&self) -> ProxyCounters {
        self.state.counters.snapshot()
    }

    /// Set every counter back to zero.
    pub fn reset(&self) {
        self.state.counters.reset();
    }

    /// Stop serving and wait until the proxy's thread has closed every connection and tunnel.
    pub async fn shutdown(mut self) {
        self.server.stop().await;
    }
}

impl Drop for TestProxy {
    fn drop(&mut self) {
        self.server.signal_stop();
    }
}

async fn accept_loop(
    listener: TcpListener,
    state: Arc<ProxyState>,
    mut stop: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let state = state.clone();
                    connections.spawn(async move {
                        let service = service_fn(move |request| handle(state.clone(), request));
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .with_upgrades()
                            .await;
                    });
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    // Tunnels run on tasks of their own; they end with the runtime when this thread does.
    connections.abort_all();
    while connections.join_next().await.is_some() {}
}

fn text(status: StatusCode, body: &str) -> Response<Body> {
    let mut response = Response::new(Body::from(format!("{body}\n")));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

async fn handle(
    state: Arc<ProxyState>,
    request: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let is_proxy_request =
        request.method() == Method::CONNECT || request.uri().authority().is_some();
    if !is_proxy_request {
        return Ok(admin(&state, &request));
    }
    let line = format!("{} {}", request.method(), request.uri());
    let response = proxy(&state, request).await;
    if state.config.log_requests {
        eprintln!("safeconv-proxy: {line} -> {}", response.status().as_u16());
    }
    Ok(response)
}

/// The proxy's own paths: `GET /proxy/counters` and `POST /proxy/reset`.
fn admin(state: &ProxyState, request: &Request<Incoming>) -> Response<Body> {
    match (request.method(), request.uri().path()) {
        (&Method::GET, "/proxy/counters") => {
            let body = serde_json::to_vec(&state.counters.snapshot()).unwrap_or_default();
            let mut response = Response::new(Body::from(body));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
        }
        (&Method::POST, "/proxy/reset") => {
            state.counters.reset();
            text(StatusCode::OK, "counters reset")
        }
        _ => text(
            StatusCode::NOT_FOUND,
            "a proxy: send CONNECT or absolute-form requests; GET /proxy/counters, POST /proxy/reset",
        ),
    }
}

async fn proxy(state: &ProxyState, request: Request<Incoming>) -> Response<Body> {
    let counters = &state.counters;
    if let Some(expected) = &state.expected_authorization {
        let given = request
            .headers()
            .get(header::PROXY_AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        if given != Some(expected.as_str()) {
            bump(&counters.auth_failures);
            let mut response = text(
                StatusCode::PROXY_AUTHENTICATION_REQUIRED,
                "proxy credentials missing or wrong",
            );
            response.headers_mut().insert(
                header::PROXY_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"safeconv test proxy\""),
            );
            return response;
        }
    }
    if let Some(status) = state.config.refuse_with {
        bump(&counters.refused);
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::FORBIDDEN);
        return text(status, "refused by the proxy's configuration");
    }
    let Some(target) = loopback_target(request.uri(), request.method() == Method::CONNECT) else {
        bump(&counters.refused);
        return text(
            StatusCode::FORBIDDEN,
            "this test proxy only reaches 127.0.0.0/8, ::1 and localhost",
        );
    };
    let upstream =
        match tokio::time::timeout(TARGET_CONNECT_TIMEOUT, TcpStream::connect(target)).await {
            Ok(Ok(stream)) => stream,
            _ => {
                bump(&counters.refused);
                return text(StatusCode::BAD_GATEWAY, "cannot reach the target");
            }
        };
    let _ = upstream.set_nodelay(true);
    if request.method() == Method::CONNECT {
        bump(&counters.tunnels_opened);
        tokio::spawn(async move {
            if let Ok(upgraded) = hyper::upgrade::on(request).await {
                let mut client = TokioIo::new(upgraded);
                let mut upstream = upstream;
                let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
            }
        });
        return Response::new(Body::empty());
    }
    match forward(upstream, request).await {
        Ok(response) => {
            bump(&counters.requests_forwarded);
            response
        }
        Err(_) => {
            bump(&counters.refused);
            text(StatusCode::BAD_GATEWAY, "the target failed to answer")
        }
    }
}

/// Sends an absolute-form request on to its target in origin form, without the proxy's own
/// headers, on a connection of its own.
async fn forward(upstream: TcpStream, request: Request<Incoming>) -> hyper::Result<Response<Body>> {
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(upstream)).await?;
    tokio::spawn(connection);
    let (mut parts, body) = request.into_parts();
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    parts.uri = path.parse().unwrap_or_else(|_| Uri::from_static("/"));
    strip_proxy_headers(&mut parts.headers);
    let response = sender
        .send_request(Request::from_parts(parts, body))
        .await?;
    Ok(response.map(Body::new))
}

fn strip_proxy_headers(headers: &mut HeaderMap) {
    headers.remove(header::PROXY_AUTHORIZATION);
    headers.remove("proxy-connection");
}

/// The socket address of a loopback target (`None` for anything else).
fn loopback_target(uri: &Uri, connect: bool) -> Option<SocketAddr> {
    let host = uri.host()?;
    let port = uri.port_u16().or(if connect { None } else { Some(80) })?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let ip: IpAddr = if host.eq_ignore_ascii_case("localhost") {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        host.parse().ok()?
    };
    ip.is_loopback().then_some(SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_targets() {
        let target = |uri: &str, connect| loopback_target(&uri.parse().unwrap(), connect);
        assert_eq!(
            target("127.0.0.1:443", true),
            Some(([127, 0, 0, 1], 443).into())
        );
        assert_eq!(
            target("localhost:8443", true),
            Some(([127, 0, 0, 1], 8443).into())
        );
        assert_eq!(
            target("http://127.9.0.1/x", false),
            Some(([127, 9, 0, 1], 80).into())
        );
        assert!(target("[::1]:443", true).is_some());
        assert_eq!(target("api.signicat.com:443", true), None);
        assert_eq!(target("10.0.0.1:443", true), None);
        // CONNECT needs a port.
        assert_eq!(target("127.0.0.1", true), None);
    }
}
