//! One HTTP exchange: send with a timeout, read the whole body, and turn failures into
//! [`Error`]s that never carry a secret or a NIN.

use std::time::Duration;

use bytes::Bytes;
use reqwest::{RequestBuilder, Url};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::config::Config;
use crate::error::{ApiError, Error, Result, TransportErrorKind};
use crate::runtime;
use crate::secret::redact_nins;
use crate::timestamp::parse_http_date;

/// At most this many requests of one client are under way at once (natively; browsers keep
/// their own per-host limit). Without a cap, a burst of sessions against a server that slows
/// down opens one connection per waiting request: thousands of sockets, each with its buffers.
/// Requests past the cap wait for a turn before anything is sent, so a create that waits is
/// still certainly not received, and the wait does not count against the request timeout.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) const MAX_CONCURRENT_REQUESTS: usize = 256;

pub(crate) struct Transport {
    http: reqwest::Client,
    token_url: Url,
    timeout: Duration,
    #[cfg(not(target_arch = "wasm32"))]
    turns: tokio::sync::Semaphore,
    #[cfg(not(target_arch = "wasm32"))]
    proxies: crate::proxy::ProxyRoutes,
}

/// A response read to the end.
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) body: Bytes,
}

impl Transport {
    pub(crate) fn new(config: &Config) -> Result<Self> {
        let builder = reqwest::Client::builder().user_agent(config.user_agent.clone());
        #[cfg(not(target_arch = "wasm32"))]
        let builder = builder
            .tls_backend_preconfigured(crate::tls::client_config(&config.trust)?)
            .connect_timeout(config.request_timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(MAX_CONCURRENT_REQUESTS);
        #[cfg(not(target_arch = "wasm32"))]
        let (builder, proxies) = crate::proxy::ProxyRoutes::apply(&config.proxy, builder)?;
        let http = builder.build().map_err(|e| {
            Error::invalid_input("http_client", format!("cannot build the HTTP client: {e}"))
        })?;
        Ok(Transport {
            http,
            token_url: config.token_url.clone(),
            timeout: config.request_timeout,
            #[cfg(not(target_arch = "wasm32"))]
            turns: tokio::sync::Semaphore::new(MAX_CONCURRENT_REQUESTS),
            #[cfg(not(target_arch = "wasm32"))]
            proxies,
        })
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub(crate) fn token_url(&self) -> &Url {
        &self.token_url
    }

    /// Sends `request` and reads the whole answer within the request timeout.
    pub(crate) async fn send(&self, request: RequestBuilder) -> Result<Response> {
        // Held until the body is read. The semaphore is never closed, so this cannot fail.
        #[cfg(not(target_arch = "wasm32"))]
        let _turn = self.turns.acquire().await.ok();
        let response = request
            .timeout(self.timeout)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| self.error(&e))?;
        let status = response.status().as_u16();
        // Only a proxy answers 407 (here: to a plain-HTTP request it forwarded).
        #[cfg(not(target_arch = "wasm32"))]
        if status == 407
            && let Some(proxy) = self.proxies.proxy_for(response.url())
        {
            return Err(Error::Transport {
                kind: TransportErrorKind::Proxy,
                message: crate::proxy::auth_required(&proxy),
            });
        }
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| parse_retry_after(value, runtime::now_unix_ms()));
        let body = response.bytes().await.map_err(|e| self.error(&e))?;
        Ok(Response {
            status,
            retry_after,
            body,
        })
    }

    /// The error for a failed exchange: a TLS or proxy failure named for what failed, else by
    /// when it failed (and through which proxy).
    #[cfg(not(target_arch = "wasm32"))]
    fn error(&self, e: &reqwest::Error) -> Error {
        let proxy = e.url().and_then(|url| self.proxies.proxy_for(url));
        if let Some(error) = connect_failure(e, proxy.as_deref()) {
            return error;
        }
        match (transport_error(e), proxy) {
            (Error::Transport { kind, message }, Some(proxy)) => Error::Transport {
                kind,
                message: format!("{message} (through the proxy {proxy})"),
            },
            (error, _) => error,
        }
    }

    #[cfg(target_arch = "wasm32")]
    fn error(&self, e: &reqwest::Error) -> Error {
        transport_error(e)
    }
}

fn transport_error(e: &reqwest::Error) -> Error {
    let message = describe(e);
    if e.is_timeout() {
        Error::Transport {
            kind: TransportErrorKind::Timeout,
            message,
        }
    } else if is_connect(e) {
        Error::Transport {
            kind: TransportErrorKind::Connect,
            message,
        }
    } else if e.is_body() || e.is_decode() {
        Error::protocol(format!(
            "the response body was cut short or unreadable ({message})"
        ))
    } else {
        Error::Transport {
            kind: TransportErrorKind::Connection,
            message,
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn is_connect(e: &reqwest::Error) -> bool {
    e.is_connect()
}

/// A failed TLS handshake named for what failed (unknown issuer, expired, host name…), or a
/// failed proxy tunnel naming the proxy (`proxy`: the one the request went to, if any). Either
/// way the request was never sent.
#[cfg(not(target_arch = "wasm32"))]
fn connect_failure(e: &reqwest::Error, proxy: Option<&str>) -> Option<Error> {
    use crate::proxy::{TunnelFailure, tunnel_failure};

    let url = e.url();
    let host = url.and_then(Url::host_str).unwrap_or("the server");
    // Below a tunnel's "cannot connect", every cause is about the proxy, not the server.
    let mut to_proxy = false;
    let mut deepest = None;
    for cause in causes(e) {
        deepest = Some(cause);
        if let Some(failure) = cause.downcast_ref::<rustls::Error>() {
            let peer = match proxy {
                Some(proxy) if to_proxy => format!("the proxy {proxy}"),
                _ => host.to_owned(),
            };
            return Some(Error::Transport {
                kind: TransportErrorKind::Tls,
                message: crate::tls::describe_failure(failure, &peer),
            });
        }
        if let (Some(failure), Some(proxy)) = (tunnel_failure(cause), proxy) {
            if failure == TunnelFailure::Unreachable {
                to_proxy = true;
                continue;
            }
            let target = url.map_or_else(
                || host.to_owned(),
                |u| format!("{host}:{}", u.port_or_known_default().unwrap_or(443)),
            );
            return Some(failure.error(proxy, &target));
        }
    }
    // A plain-HTTP request through a proxy connects to the proxy only.
    let forwarded = url.is_some_and(|u| u.scheme() == "http") && e.is_connect();
    let proxy = proxy.filter(|_| to_proxy || forwarded)?;
    let mut error = TunnelFailure::Unreachable.error(proxy, host);
    if let (Error::Transport { message, .. }, Some(cause)) = (&mut error, deepest) {
        message.push_str(&format!(": {cause}"));
    }
    Some(error)
}

/// The chain of causes under `e`. Unlike `source()`, this steps into the error an
/// `io::Error` wraps (rustls reports through one), not past it.
#[cfg(not(target_arch = "wasm32"))]
fn causes<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(e.source(), |cause| {
        match cause.downcast_ref::<std::io::Error>() {
            Some(io) => io
                .get_ref()
                .map(|inner| inner as &(dyn std::error::Error + 'static)),
            None => cause.source(),
        }
    })
}

/// `fetch` does not say whether a request left the browser, so no failure there counts as
/// "certainly not sent".
#[cfg(target_arch = "wasm32")]
fn is_connect(_: &reqwest::Error) -> bool {
    false
}

/// The error's causes, without reqwest's "for url (…)" (the caller knows the URL, and the
/// query string names the account).
fn describe(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut text = String::new();
    let mut current: Option<&dyn std::error::Error> = e.source();
    while let Some(cause) = current {
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&cause.to_string());
        current = cause.source();
    }
    if text.is_empty() {
        text = "request failed".to_owned();
    }
    redact_nins(&text)
}

/// The longest `Retry-After` taken as given: a server that asks for more (a date years ahead,
/// a number of seconds as large) is read as asking for this long.
pub(crate) const MAX_RETRY_AFTER_HINT: Duration = Duration::from_secs(24 * 60 * 60);

/// Reads a `Retry-After` value, whole seconds or an HTTP-date, the date against `now_unix_ms`
/// (one clock reading, so that the same answer always reads the same). At most
/// [`MAX_RETRY_AFTER_HINT`].
pub(crate) fn parse_retry_after(value: &str, now_unix_ms: i64) -> Option<Duration> {
    let value = value.trim();
    let wait = if let Ok(seconds) = value.parse::<u64>() {
        Duration::from_secs(seconds)
    } else {
        let when = parse_http_date(value)?;
        let millis = when.unix_millis().saturating_sub(now_unix_ms);
        Duration::from_millis(u64::try_from(millis).unwrap_or(0))
    };
    Some(wait.min(MAX_RETRY_AFTER_HINT))
}

/// Parses a JSON body; errors say where and what kind of fault, never quote the body.
pub(crate) fn parse_json<T: DeserializeOwned>(body: &[u8], what: &str) -> Result<T> {
    serde_json::from_slice(body).map_err(|e| {
        let kind = match e.classify() {
            serde_json::error::Category::Io => "unreadable",
            serde_json::error::Category::Syntax => "malformed JSON",
            serde_json::error::Category::Data => "JSON of the wrong shape",
            serde_json::error::Category::Eof => "JSON cut short",
        };
        Error::protocol(format!(
            "{what}: {kind} at line {} column {}",
            e.line(),
            e.column()
        ))
    })
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct ErrorBody {
    code: Option<String>,
    title: Option<String>,
    detail: Option<String>,
    trace_id: Option<String>,
    invalid_params: Vec<InvalidParam>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct InvalidParam {
    name: String,
    reason: String,
}

/// An [`ApiError`] from Signicat's error body; a body that is not one still gives the status.
pub(crate) fn api_error(response: &Response) -> ApiError {
    let body: ErrorBody = serde_json::from_slice(&response.body).unwrap_or_default();
    let clean = |text: Option<String>| text.map(|t| redact_nins(&t));
    ApiError {
        http_status: response.status,
        code: body.code,
        title: clean(body.title),
        detail: clean(body.detail),
        trace_id: body.trace_id,
        invalid_params: body
            .invalid_params
            .into_iter()
            .map(|p| (p.name, redact_nins(&p.reason)))
            .collect(),
        retry_after: response.retry_after,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        let now = runtime::now_unix_ms();
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-1", now), None);
    }

    #[test]
    fn retry_after_dates_read_against_one_clock_reading_and_are_capped() {
        // 2015-10-21T07:28:00Z, and one minute before it.
        let at = 1_445_412_480_000;
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", at - 60_000),
            Some(Duration::from_secs(60))
        );
        // The fuzzer's finding: a date centuries ahead reads the same every time, capped.
        let far = "Wed, 21 Oct 4232 07:28:00 GMT";
        assert_eq!(parse_retry_after(far, at), Some(MAX_RETRY_AFTER_HINT));
        assert_eq!(parse_retry_after(far, at), parse_retry_after(far, at + 1));
        assert_eq!(
            parse_retry_after("99999999999999", at),
            Some(MAX_RETRY_AFTER_HINT)
        );
    }

    #[test]
    fn error_body_of_the_reference() {
        let body = include_bytes!("../tests/data/error-body.json");
        let response = Response {
            status: 500,
            retry_after: None,
            body: Bytes::from_static(body),
        };
        let api = api_error(&response);
        assert_eq!(api.code.as_deref(), Some("internal_server_error"));
        assert_eq!(
            api.trace_id.as_deref(),
            Some("ffb75ca1385ecb0a362ff9cd029d23de")
        );
        assert_eq!(
            api.detail.as_deref(),
            Some("An internal server error happened.")
        );
    }

    #[test]
    fn error_bodies_that_are_not_json_keep_the_status_and_mask_nins() {
        let response = Response {
            status: 502,
            retry_after: Some(Duration::from_secs(1)),
            body: Bytes::from_static(b"<html>bad gateway</html>"),
        };
        let api = api_error(&response);
        assert_eq!((api.http_status, api.code), (502, None));
        let response = Response {
            status: 400,
            retry_after: None,
            body: Bytes::from_static(br#"{"detail":"nin 17029012345 unknown","invalidParams":[{"name":"prefilledInput.nin","reason":"17029012345 bad"}]}"#),
        };
        let text = Error::Api(Box::new(api_error(&response))).to_string();
        assert!(!text.contains("17029012345"), "{text}");
        assert!(text.contains("170290*****"), "{text}");
    }

    #[test]
    fn json_errors_never_quote_the_body() {
        let err = parse_json::<crate::Session>(br#"{"subject":{"nin":"17029012345"}}"#, "session")
            .unwrap_err();
        assert!(!err.to_string().contains("17029012345"), "{err}");
    }
}
