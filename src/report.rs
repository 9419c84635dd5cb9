//! An [`Error`] as flat data: what a binding hands to another language, a log line or a JSON
//! event, with the same codes and wording everywhere.

use std::time::Duration;

use crate::error::{Error, TransportErrorKind};
use crate::secret::redact_nins;

/// The kind of an [`Error`], without its data. [`ErrorKind::code`] is the stable text form.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// An argument or option was refused before anything was sent ([`ErrorReport::field`]).
    InvalidInput,
    /// The national identity number was refused ([`ErrorReport::code`] is the reason's code).
    InvalidNin,
    /// No token could be had ([`ErrorReport::code`] is the OAuth error).
    Authentication,
    /// Signicat answered with an error ([`ErrorReport::code`] is Signicat's `code`).
    Api,
    /// No usable answer arrived; which way it failed.
    Transport(TransportErrorKind),
    /// The answer could not be read.
    Protocol,
    /// The operation was stopped through its cancel token.
    Cancelled,
}

impl ErrorKind {
    /// The same code as [`Error::kind_code`]: `invalid-input`, `invalid-nin`, `authentication`,
    /// `api`, `transport`, `protocol` or `cancelled`.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::InvalidInput => "invalid-input",
            ErrorKind::InvalidNin => "invalid-nin",
            ErrorKind::Authentication => "authentication",
            ErrorKind::Api => "api",
            ErrorKind::Transport(_) => "transport",
            ErrorKind::Protocol => "protocol",
            ErrorKind::Cancelled => "cancelled",
        }
    }
}

/// Every detail of an [`Error`] in one flat record. Nothing in it holds a NIN, a secret or a
/// token.
///
/// ```
/// use safeconv::{Error, ErrorKind, NinError};
/// let report = Error::from(NinError::CheckDigits).report();
/// assert_eq!(report.kind, ErrorKind::InvalidNin);
/// assert_eq!(report.kind.code(), "invalid-nin");
/// assert_eq!(report.code.as_deref(), Some("check-digits"));
/// assert_eq!(report.field.as_deref(), Some("nin"));
/// assert!(!report.transient);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ErrorReport {
    /// What kind of error.
    pub kind: ErrorKind,
    /// The whole message, as `Display` words it.
    pub message: String,
    /// The refused field (invalid input, and `nin` for an invalid NIN).
    pub field: Option<String>,
    /// A machine-readable code: the NIN reason (`check-digits`), the OAuth error
    /// (`invalid_client`), Signicat's `code` (`session_not_found`) or the transport failure
    /// (`timeout`, `connect`, `connection`).
    pub code: Option<String>,
    /// The HTTP status, when a server answered.
    pub http_status: Option<u16>,
    /// Signicat's `traceId`, for support.
    pub trace_id: Option<String>,
    /// Whether trying again later may succeed.
    pub transient: bool,
    /// How long the server asked to wait before trying again.
    pub retry_after: Option<Duration>,
    /// Signicat's `title`.
    pub title: Option<String>,
    /// Signicat's `detail`, or the OAuth `error_description`.
    pub detail: Option<String>,
    /// The fields Signicat refused, as `(name, reason)`.
    pub invalid_params: Vec<(String, String)>,
}

impl Error {
    /// This error as an [`ErrorReport`].
    pub fn report(&self) -> ErrorReport {
        let mut report = ErrorReport {
            kind: ErrorKind::Protocol,
            message: redact_nins(&self.to_string()),
            field: None,
            code: None,
            http_status: self.http_status(),
            trace_id: self.trace_id().map(str::to_owned),
            transient: self.is_transient(),
            retry_after: self.retry_after(),
            title: None,
            detail: None,
            invalid_params: Vec::new(),
        };
        match self {
            Error::InvalidInput { field, .. } => {
                report.kind = ErrorKind::InvalidInput;
                report.field = Some(field.clone());
            }
            Error::InvalidNin(reason) => {
                report.kind = ErrorKind::InvalidNin;
                report.field = Some("nin".to_owned());
                report.code = Some(reason.code().to_owned());
            }
            Error::Authentication {
                error, description, ..
            } => {
                report.kind = ErrorKind::Authentication;
                report.code = Some(error.clone());
                report.detail = description.clone();
            }
            Error::Api(api) => {
                report.kind = ErrorKind::Api;
                report.code = api.code.clone();
                report.title = api.title.clone();
                report.detail = api.detail.clone();
                report.invalid_params = api.invalid_params.clone();
            }
            Error::Transport { kind, .. } => {
                report.kind = ErrorKind::Transport(*kind);
                report.code = Some(kind.code().to_owned());
            }
            Error::Protocol { .. } => report.kind = ErrorKind::Protocol,
            Error::Cancelled { .. } => report.kind = ErrorKind::Cancelled,
        }
        report
    }
}

impl From<&Error> for ErrorReport {
    fn from(error: &Error) -> Self {
        error.report()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ApiError;

    #[test]
    fn every_kind_keeps_its_details() {
        let api = Error::Api(Box::new(ApiError {
            http_status: 503,
            code: Some("service_unavailable".into()),
            title: Some("Unavailable".into()),
            detail: Some("try 17029012345 later".into()),
            trace_id: Some("t-1".into()),
            invalid_params: vec![("a".into(), "b".into())],
            retry_after: Some(Duration::from_secs(2)),
        }))
        .report();
        assert_eq!(api.kind, ErrorKind::Api);
        assert_eq!(
            (
                api.http_status,
                api.code.as_deref(),
                api.trace_id.as_deref()
            ),
            (Some(503), Some("service_unavailable"), Some("t-1"))
        );
        assert!(api.transient);
        assert_eq!(api.retry_after, Some(Duration::from_secs(2)));
        assert_eq!(api.invalid_params, [("a".to_owned(), "b".to_owned())]);
        assert!(!api.message.contains("17029012345"), "{}", api.message);

        let timeout = Error::Transport {
            kind: TransportErrorKind::Timeout,
            message: "slow".into(),
        }
        .report();
        assert_eq!(
            timeout.kind,
            ErrorKind::Transport(TransportErrorKind::Timeout)
        );
        assert_eq!(timeout.kind.code(), "transport");
        assert_eq!(timeout.code.as_deref(), Some("timeout"));

        let input = Error::invalid_input("base_url", "bad").report();
        assert_eq!(input.field.as_deref(), Some("base_url"));
        assert_eq!(input.message, "invalid base_url: bad");

        let auth = Error::token_provider_failed("down").report();
        assert_eq!(auth.kind, ErrorKind::Authentication);
        assert_eq!(auth.code.as_deref(), Some("token_provider_failed"));
        assert_eq!(auth.detail.as_deref(), Some("down"));

        let cancelled = Error::cancelled("stopped").report();
        assert_eq!(cancelled.kind.code(), "cancelled");
        assert!(!cancelled.transient);
    }

    #[test]
    fn kind_codes_agree_with_the_error() {
        for error in [
            Error::invalid_input("x", "y"),
            Error::from(crate::NinError::InvalidDate),
            Error::token_provider_failed("z"),
            Error::protocol("p"),
            Error::cancelled("c"),
        ] {
            assert_eq!(error.report().kind.code(), error.kind_code());
        }
    }
}
