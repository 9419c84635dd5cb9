//! Signicat, upstream: building the core [`safeconv::Client`] from the CLI's variables, and
//! turning its errors into answers for the agent with the core's semantics kept (a Signicat
//! status passes through with its code and `traceId`; a failure to reach Signicat is a 502 or
//! 504, never a 401 that would make the agent's client think its own credential was refused).

use std::path::PathBuf;
use std::time::Duration;

use axum::http::StatusCode;
use safeconv::{Error, Secret, TransportErrorKind, TrustRoots};

use crate::problem::Problem;

/// How to reach Signicat.
#[derive(Clone, Debug)]
pub struct UpstreamSettings {
    /// API base URL (`SAFECONV_BASE_URL`, default `https://api.signicat.com`).
    pub base_url: String,
    /// Token endpoint (`SAFECONV_TOKEN_URL`, default `{base}/auth/open/connect/token`).
    pub token_url: Option<String>,
    /// The Signicat account (`SAFECONV_ACCOUNT_ID`).
    pub account_id: String,
    /// The API client (`SAFECONV_CLIENT_ID`).
    pub client_id: String,
    /// Its secret (`SAFECONV_CLIENT_SECRET` or a secret file). `Debug` masks it.
    pub client_secret: Secret,
    /// Timeout of each request to Signicat.
    pub request_timeout: Duration,
    /// The longest a create may take, the core's retry included: past it the relay stops
    /// waiting and audits the create as one that may exist.
    pub create_deadline: Duration,
    /// Which root certificates HTTPS to Signicat trusts (`--roots`).
    pub trust_roots: TrustRoots,
    /// Extra CAs to trust, e.g. a bank's TLS-inspecting proxy (`--ca-file`).
    pub ca_files: Vec<PathBuf>,
    /// An explicit proxy (`--proxy`); without it the system's `HTTPS_PROXY` and `NO_PROXY`.
    pub proxy_url: Option<String>,
    /// The proxy's user name (`--proxy-user`).
    pub proxy_username: Option<String>,
    /// The proxy's password (`SAFECONV_PROXY_PASSWORD` or a file). `Debug` masks it.
    pub proxy_password: Option<Secret>,
    /// Hosts that bypass the explicit proxy (`--no-proxy`, `NO_PROXY` syntax).
    pub no_proxy: Option<String>,
}

impl UpstreamSettings {
    /// The core client for these settings (the core checks each of them).
    pub fn client(&self) -> Result<safeconv::Client, Error> {
        safeconv::ClientOptions {
            account_id: self.account_id.clone(),
            base_url: Some(self.base_url.clone()),
            token_url: self.token_url.clone(),
            client_id: Some(self.client_id.clone()),
            client_secret: Some(self.client_secret.clone()),
            request_timeout: Some(self.request_timeout),
            user_agent: Some(concat!("safeconv-relay/", env!("CARGO_PKG_VERSION")).to_owned()),
            trust_roots: self.trust_roots,
            ca_files: self.ca_files.clone(),
            proxy_url: self.proxy_url.clone(),
            proxy_username: self.proxy_username.clone(),
            proxy_password: self.proxy_password.clone(),
            no_proxy: self.no_proxy.clone(),
            ..safeconv::ClientOptions::default()
        }
        .build(None)
    }
}

/// rustls with `ring` and Mozilla's roots, as the core uses.
pub(crate) fn tls_config() -> rustls::ClientConfig {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth()
}

/// A short code for the audit log and metrics, e.g. `api_503`, `transport_timeout`.
pub(crate) fn reason_code(error: &Error) -> String {
    match error {
        Error::Api(api) => match &api.code {
            Some(code) => format!("api_{}:{code}", api.http_status),
            None => format!("api_{}", api.http_status),
        },
        Error::Transport { kind, .. } => match kind {
            TransportErrorKind::Timeout => "transport_timeout".to_owned(),
            TransportErrorKind::Connect => "transport_connect".to_owned(),
            _ => "transport_connection".to_owned(),
        },
        Error::Authentication { .. } => "upstream_authentication".to_owned(),
        Error::Protocol { .. } => "upstream_protocol".to_owned(),
        other => other.kind_code().to_owned(),
    }
}

/// Whether Signicat certainly did not act on a create that failed this way: it refused it
/// (4xx), or it was never reached (no connection, no token). After a timeout, a dropped
/// connection or a 5xx the session may exist.
pub(crate) fn certainly_not_created(error: &Error) -> bool {
    match error {
        Error::Api(api) => (400..500).contains(&api.http_status) && api.http_status != 408,
        Error::Transport { kind, .. } => *kind == TransportErrorKind::Connect,
        Error::Authentication { .. } | Error::InvalidInput { .. } | Error::InvalidNin(_) => true,
        _ => false,
    }
}

/// The agent's answer for an upstream failure.
pub(crate) fn problem_for(error: &Error) -> Problem {
    match error {
        Error::Api(api) if matches!(api.http_status, 401 | 403) => Problem::new(
            StatusCode::BAD_GATEWAY,
            "upstream_authentication_failed",
            "The relay's Signicat credentials were refused",
        )
        .detail(format!(
            "Signicat answered HTTP {} to the relay (not to your credential)",
            api.http_status
        ))
        .upstream_trace_id(api.trace_id.clone()),
        Error::Api(api) => {
            let status = StatusCode::from_u16(api.http_status).unwrap_or(StatusCode::BAD_GATEWAY);
            let code = api
                .code
                .clone()
                .unwrap_or_else(|| format!("http_{}", api.http_status));
            let title = api
                .title
                .clone()
                .unwrap_or_else(|| "Signicat refused the request".to_owned());
            let mut problem =
                Problem::new(status, code, title).upstream_trace_id(api.trace_id.clone());
            if let Some(detail) = &api.detail {
                problem = problem.detail(detail.clone());
            }
            for (name, reason) in &api.invalid_params {
                problem = problem.invalid_param(name, reason.clone());
            }
            if let Some(after) = api.retry_after {
                problem = problem.retry_after(after);
            }
            problem
        }
        Error::Transport {
            kind: TransportErrorKind::Timeout,
            ..
        } => Problem::new(
            StatusCode::GATEWAY_TIMEOUT,
            "upstream_timeout",
            "Signicat did not answer in time",
        ),
        Error::Transport { .. } => Problem::new(
            StatusCode::BAD_GATEWAY,
            "upstream_unavailable",
            "Signicat could not be reached",
        )
        .retry_after(Duration::from_secs(2)),
        Error::Authentication { .. } => Problem::new(
            StatusCode::BAD_GATEWAY,
            "upstream_authentication_failed",
            "The relay could not get a Signicat access token",
        ),
        Error::Protocol { .. } => Problem::new(
            StatusCode::BAD_GATEWAY,
            "upstream_protocol_error",
            "Signicat's answer could not be read",
        ),
        Error::InvalidNin(e) => Problem::bad_request("prefilledInput.nin", e.to_string()),
        Error::InvalidInput { field, reason } => Problem::bad_request(field, reason.clone()),
        other => Problem::new(
            StatusCode::BAD_GATEWAY,
            "upstream_error",
            "The request to Signicat failed",
        )
        .detail(other.to_string()),
    }
}
