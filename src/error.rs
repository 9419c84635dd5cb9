//! The one error type of the SDK.
//!
//! A session that ends badly (declined, expired, failed at BankID) is not an error: it is an
//! [`Outcome`](crate::Outcome). Errors are what kept the SDK from learning the outcome.

use std::fmt;
use std::time::Duration;

use crate::nin::NinError;

/// Everything that can go wrong, with the details support needs (HTTP status, Signicat's error
/// code and `traceId`). Messages never contain a NIN, secret or token.
///
/// ```
/// use safeconv::{Error, SafeConversation, NinRules};
/// let err = SafeConversation::parse("12345", NinRules::strict()).unwrap_err();
/// assert!(matches!(err, Error::InvalidNin(_)));
/// assert_eq!(err.to_string(), "invalid national identity number: must be 11 digits, got 5 characters");
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// An argument or configuration value was refused before anything was sent.
    InvalidInput {
        /// Which field, e.g. `base_url` or `poll_interval`.
        field: String,
        /// Why it was refused.
        reason: String,
    },
    /// The national identity number was refused before anything was sent.
    InvalidNin(NinError),
    /// The token endpoint (or your token provider) refused: wrong client id or secret, or no
    /// token could be had. A fresh token the API rejects is an [`Error::Api`] with HTTP 401.
    Authentication {
        /// OAuth `error` (e.g. `invalid_client`) or the API's error code (e.g. `invalid_token`).
        error: String,
        /// OAuth `error_description` or the API's detail, if any.
        description: Option<String>,
        /// The HTTP status, when the server answered.
        http_status: Option<u16>,
    },
    /// Signicat answered with an error.
    Api(Box<ApiError>),
    /// No usable answer arrived: timeout, refused or dropped connection, a refused TLS
    /// certificate, a proxy that said no.
    Transport {
        /// What kind of failure.
        kind: TransportErrorKind,
        /// A description, without secrets.
        message: String,
    },
    /// The server answered something this SDK cannot read: malformed JSON, a body cut short, a
    /// missing required field.
    Protocol {
        /// What was wrong (never the body itself, which may hold personal data).
        message: String,
    },
    /// The operation was stopped through its [`CancelToken`](crate::CancelToken) before it had
    /// a result. A cancelled *wait* is not this: it reports how the session really ended.
    Cancelled {
        /// What was stopped, and what became of a session it may have created.
        message: String,
    },
}

/// The kinds of [`Error::Transport`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// The request did not complete within the configured request timeout.
    Timeout,
    /// No connection could be made (the request was never sent).
    Connect,
    /// The connection failed while the request was under way.
    Connection,
    /// The TLS handshake failed, so the request was never sent: the server's certificate was
    /// refused (the message says why: an unknown issuer, expired, not valid for the host name)
    /// or no TLS could be agreed. Not transient: trying again cannot help until the trust
    /// settings ([`TrustRoots`](crate::TrustRoots), an added CA) or the server change.
    Tls,
    /// The proxy answered and refused, so the request was never sent: HTTP 407 (the proxy
    /// credentials are missing or wrong) or another error status for `CONNECT` (its policy, or
    /// it cannot reach Signicat). The message names the proxy, never its credentials. Not
    /// transient. A proxy that cannot be reached at all is a [`TransportErrorKind::Connect`]
    /// error naming it.
    Proxy,
}

impl TransportErrorKind {
    /// A short stable code: `timeout`, `connect`, `connection`, `tls` or `proxy`.
    ///
    /// ```
    /// assert_eq!(safeconv::TransportErrorKind::Timeout.code(), "timeout");
    /// assert_eq!(safeconv::TransportErrorKind::Tls.code(), "tls");
    /// ```
    pub fn code(self) -> &'static str {
        match self {
            TransportErrorKind::Timeout => "timeout",
            TransportErrorKind::Connect => "connect",
            TransportErrorKind::Connection => "connection",
            TransportErrorKind::Tls => "tls",
            TransportErrorKind::Proxy => "proxy",
        }
    }
}

/// Signicat's error body, plus the HTTP status and any `Retry-After`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ApiError {
    /// HTTP status code.
    pub http_status: u16,
    /// Signicat's machine-readable `code`, e.g. `invalid_request_parameter`.
    pub code: Option<String>,
    /// Short human-readable `title`.
    pub title: Option<String>,
    /// Longer `detail`.
    pub detail: Option<String>,
    /// Signicat's `traceId`: quote it to Signicat support.
    pub trace_id: Option<String>,
    /// Fields Signicat refused, as `(name, reason)`.
    pub invalid_params: Vec<(String, String)>,
    /// How long the server asked us to wait (429 and 503).
    pub retry_after: Option<Duration>,
}

/// The `error` of [`Error::Authentication`] when a token provider failed without a reason of
/// its own.
pub const TOKEN_PROVIDER_FAILED: &str = "token_provider_failed";

/// Shorthand for `Result<T, safeconv::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A refused argument or option, named as the caller knows it.
    ///
    /// ```
    /// let err = safeconv::Error::invalid_input("timeoutMs", "must be a number");
    /// assert_eq!(err.to_string(), "invalid timeoutMs: must be a number");
    /// ```
    pub fn invalid_input(field: &str, reason: impl Into<String>) -> Error {
        Error::InvalidInput {
            field: field.to_owned(),
            reason: reason.into(),
        }
    }

    /// An answer that cannot be read (the message must not quote personal data).
    pub fn protocol(message: impl Into<String>) -> Error {
        Error::Protocol {
            message: message.into(),
        }
    }

    /// An operation stopped through its cancel token.
    pub fn cancelled(message: impl Into<String>) -> Error {
        Error::Cancelled {
            message: message.into(),
        }
    }

    /// A [`TokenProvider`](crate::TokenProvider) that failed without saying why in the SDK's
    /// terms (it threw, rejected, or never answered): [`Error::Authentication`] with the code
    /// `token_provider_failed` and `description` (NINs masked), the same in every language.
    ///
    /// ```
    /// let err = safeconv::Error::token_provider_failed("backend down for 01018010018");
    /// assert_eq!(err.to_string(),
    ///     "authentication failed: token_provider_failed (backend down for 010180*****)");
    /// ```
    pub fn token_provider_failed(description: impl AsRef<str>) -> Error {
        Error::Authentication {
            error: TOKEN_PROVIDER_FAILED.to_owned(),
            description: Some(crate::secret::redact_nins(description.as_ref())),
            http_status: None,
        }
    }

    /// A short stable code for the kind of error: `invalid-input`, `invalid-nin`,
    /// `authentication`, `api`, `transport`, `protocol` or `cancelled`.
    ///
    /// ```
    /// let err = safeconv::Nin::parse("123").map_err(safeconv::Error::from).unwrap_err();
    /// assert_eq!(err.kind_code(), "invalid-nin");
    /// ```
    pub fn kind_code(&self) -> &'static str {
        match self {
            Error::InvalidInput { .. } => "invalid-input",
            Error::InvalidNin(_) => "invalid-nin",
            Error::Authentication { .. } => "authentication",
            Error::Api(_) => "api",
            Error::Transport { .. } => "transport",
            Error::Protocol { .. } => "protocol",
            Error::Cancelled { .. } => "cancelled",
        }
    }

    /// Whether trying the same read again later may succeed: timeouts, connection failures,
    /// malformed or cut-short answers, 408, 429 and 5xx. A refused TLS certificate and a proxy
    /// that says no are not.
    ///
    /// ```
    /// use safeconv::{Error, TransportErrorKind};
    /// let timeout = Error::Transport { kind: TransportErrorKind::Timeout, message: "slow".into() };
    /// assert!(timeout.is_transient());
    /// ```
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Transport { kind, .. } => {
                !matches!(kind, TransportErrorKind::Tls | TransportErrorKind::Proxy)
            }
            Error::Protocol { .. } => true,
            Error::Api(api) => matches!(api.http_status, 408 | 429 | 500..=599),
            Error::Authentication { http_status, .. } => {
                matches!(http_status, Some(408 | 429 | 500..=599))
            }
            Error::InvalidInput { .. } | Error::InvalidNin(_) | Error::Cancelled { .. } => false,
        }
    }

    /// The wait the server asked for with `Retry-After`, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Api(api) => api.retry_after,
            _ => None,
        }
    }

    /// Signicat's `traceId`, if the server gave one.
    pub fn trace_id(&self) -> Option<&str> {
        match self {
            Error::Api(api) => api.trace_id.as_deref(),
            _ => None,
        }
    }

    /// The HTTP status, if the server answered.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Error::Api(api) => Some(api.http_status),
            Error::Authentication { http_status, .. } => *http_status,
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidInput { field, reason } => write!(f, "invalid {field}: {reason}"),
            Error::InvalidNin(reason) => write!(f, "invalid national identity number: {reason}"),
            Error::Authentication {
                error,
                description,
                http_status,
            } => {
                write!(f, "authentication failed: {error}")?;
                if let Some(description) = description {
                    write!(f, " ({description})")?;
                }
                if let Some(status) = http_status {
                    write!(f, " [HTTP {status}]")?;
                }
                Ok(())
            }
            Error::Api(api) => fmt::Display::fmt(api, f),
            Error::Transport { kind, message } => {
                let kind = match kind {
                    TransportErrorKind::Timeout => "timed out",
                    TransportErrorKind::Connect => "could not connect",
                    TransportErrorKind::Connection => "connection failed",
                    TransportErrorKind::Tls => "TLS failed",
                    TransportErrorKind::Proxy => "proxy refused",
                };
                write!(f, "{kind}: {message}")
            }
            Error::Protocol { message } => {
                write!(f, "unexpected answer from the server: {message}")
            }
            Error::Cancelled { message } => write!(f, "cancelled: {message}"),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signicat API error (HTTP {})", self.http_status)?;
        if let Some(code) = &self.code {
            write!(f, " {code}")?;
        }
        match (&self.title, &self.detail) {
            (Some(title), Some(detail)) => write!(f, ": {title}: {detail}")?,
            (Some(text), None) | (None, Some(text)) => write!(f, ": {text}")?,
            (None, None) => {}
        }
        for (name, reason) in &self.invalid_params {
            write!(f, "; {name}: {reason}")?;
        }
        if let Some(trace_id) = &self.trace_id {
            write!(f, " (traceId {trace_id})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::InvalidNin(reason) => Some(reason),
            _ => None,
        }
    }
}

impl From<NinError> for Error {
    fn from(reason: NinError) -> Self {
        Error::InvalidNin(reason)
    }
}
