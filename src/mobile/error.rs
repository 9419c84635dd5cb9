//! The one error type of the bindings: `SafeconvException` in Kotlin, `SafeconvError` in Swift
//! and Python. Each variant keeps the core error's details.

use std::fmt;
use std::time::Duration;

use crate::error::{ApiError, Error, TransportErrorKind};
use crate::nin::NinError;

/// A field Signicat refused, from the error body's `invalidParams`.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct InvalidParam {
    /// The field's name, e.g. `prefilledInput.nin`.
    pub name: String,
    /// Why it was refused.
    pub reason: String,
}

/// Everything that can keep the SDK from learning a session's outcome. A session that ends
/// badly (declined, expired, failed) is not an error but an [`Outcome`](super::types::Outcome).
/// Messages never contain a NIN, secret or token.
///
/// Fields are named `reason` rather than `message`, which Kotlin's `Throwable` already has;
/// `toString()` (Kotlin), `description` (Swift) and `str()` (Python) give the core's wording.
#[derive(Clone, Debug, PartialEq, uniffi::Error)]
#[uniffi::export(Display)]
pub enum SafeconvError {
    /// An argument or configuration value was refused before anything was sent.
    InvalidInput {
        /// Which field, e.g. `base_url` or `poll_interval`.
        field: String,
        /// Why it was refused.
        reason: String,
    },
    /// The national identity number was refused before anything was sent.
    InvalidNin {
        /// A stable code: `length`, `non-digit`, `date`, `check-digits` or `synthetic`.
        reason_code: String,
        /// A readable explanation (never the number itself).
        reason: String,
    },
    /// The token endpoint (or the token provider) refused: wrong client id or secret, or no
    /// token could be had.
    Authentication {
        /// OAuth `error` (e.g. `invalid_client`), or the provider's code.
        error: String,
        /// OAuth `error_description`, if any.
        description: Option<String>,
        /// The HTTP status, when a server answered.
        http_status: Option<u16>,
    },
    /// Signicat answered with an error.
    Api {
        /// HTTP status code.
        http_status: u16,
        /// Signicat's machine-readable `code`, e.g. `invalid_request_parameter`.
        code: Option<String>,
        /// Short human-readable `title`.
        title: Option<String>,
        /// Longer `detail`.
        detail: Option<String>,
        /// Signicat's `traceId`: quote it to Signicat support.
        trace_id: Option<String>,
        /// Fields Signicat refused.
        invalid_params: Vec<InvalidParam>,
        /// How long the server asked to wait before trying again (429 and 503).
        retry_after: Option<Duration>,
    },
    /// No usable answer arrived: timeout, refused or dropped connection.
    Transport {
        /// What kind of failure.
        kind: TransportErrorKind,
        /// A description, without secrets.
        reason: String,
    },
    /// The server answered something the SDK cannot read.
    Protocol {
        /// What was wrong (never the body itself, which may hold personal data).
        reason: String,
    },
    /// The operation was stopped before it had a result.
    Cancelled {
        /// What was stopped.
        reason: String,
    },
}

impl fmt::Display for SafeconvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The core's wording, so that every language reads the same messages.
        match self {
            SafeconvError::InvalidNin { reason, .. } => {
                write!(f, "invalid national identity number: {reason}")
            }
            other => fmt::Display::fmt(&Error::from(other.clone()), f),
        }
    }
}

impl std::error::Error for SafeconvError {}

impl From<NinError> for SafeconvError {
    fn from(reason: NinError) -> Self {
        SafeconvError::InvalidNin {
            reason_code: reason.code().to_owned(),
            reason: reason.to_string(),
        }
    }
}

impl From<Error> for SafeconvError {
    fn from(error: Error) -> Self {
        match error {
            Error::InvalidInput { field, reason } => SafeconvError::InvalidInput { field, reason },
            Error::InvalidNin(reason) => reason.into(),
            Error::Authentication {
                error,
                description,
                http_status,
            } => SafeconvError::Authentication {
                error,
                description,
                http_status,
            },
            Error::Api(api) => {
                let ApiError {
                    http_status,
                    code,
                    title,
                    detail,
                    trace_id,
                    invalid_params,
                    retry_after,
                } = *api;
                SafeconvError::Api {
                    http_status,
                    code,
                    title,
                    detail,
                    trace_id,
                    invalid_params: invalid_params
                        .into_iter()
                        .map(|(name, reason)| InvalidParam { name, reason })
                        .collect(),
                    retry_after,
                }
            }
            Error::Transport { kind, message } => SafeconvError::Transport {
                kind,
                reason: message,
            },
            Error::Protocol { message } => SafeconvError::Protocol { reason: message },
            Error::Cancelled { message } => SafeconvError::Cancelled { reason: message },
        }
    }
}

/// Back to the core error, for what a foreign [`TokenProvider`](super::client::TokenProvider) throws.
impl From<SafeconvError> for Error {
    fn from(error: SafeconvError) -> Self {
        match error {
            SafeconvError::InvalidInput { field, reason } => Error::InvalidInput { field, reason },
            // The core's NIN errors cannot be rebuilt from text; keep the words.
            SafeconvError::InvalidNin {
                reason_code,
                reason,
            } => Error::InvalidInput {
                field: "nin".to_owned(),
                reason: format!("{reason} ({reason_code})"),
            },
            SafeconvError::Authentication {
                error,
                description,
                http_status,
            } => Error::Authentication {
                error,
                description,
                http_status,
            },
            SafeconvError::Api {
                http_status,
                code,
                title,
                detail,
                trace_id,
                invalid_params,
                retry_after,
            } => Error::Api(Box::new(ApiError {
                http_status,
                code,
                title,
                detail,
                trace_id,
                invalid_params: invalid_params
                    .into_iter()
                    .map(|p| (p.name, p.reason))
                    .collect(),
                retry_after,
            })),
            SafeconvError::Transport { kind, reason } => Error::Transport {
                kind,
                message: reason,
            },
            SafeconvError::Protocol { reason } => Error::Protocol { message: reason },
            SafeconvError::Cancelled { reason } => Error::Cancelled { message: reason },
        }
    }
}

/// A foreign callback threw something other than a `SafeconvException`: report it as a failed
/// token fetch (the only fallible callback), with the exception's text.
impl From<uniffi::UnexpectedUniFFICallbackError> for SafeconvError {
    fn from(error: uniffi::UnexpectedUniFFICallbackError) -> Self {
        SafeconvError::Authentication {
            error: "token_provider_failed".to_owned(),
            description: Some(crate::secret::redact_nins(&error.reason)),
            http_status: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_errors_keep_their_details_both_ways() {
        let core = Error::Api(Box::new(ApiError {
            http_status: 400,
            code: Some("invalid_request_parameter".into()),
            title: Some("Bad request".into()),
            detail: Some("nin is refused".into()),
            trace_id: Some("trace-1".into()),
            invalid_params: vec![("prefilledInput.nin".into(), "invalid".into())],
            retry_after: Some(Duration::from_secs(2)),
        }));
        let mobile = SafeconvError::from(core.clone());
        match &mobile {
            SafeconvError::Api {
                http_status,
                trace_id,
                invalid_params,
                retry_after,
                ..
            } => {
                assert_eq!(*http_status, 400);
                assert_eq!(trace_id.as_deref(), Some("trace-1"));
                assert_eq!(invalid_params[0].name, "prefilledInput.nin");
                assert_eq!(*retry_after, Some(Duration::from_secs(2)));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(mobile.to_string(), core.to_string());
        assert_eq!(Error::from(mobile), core);
    }

    #[test]
    fn nin_errors_keep_their_code_and_wording() {
        let core = Error::InvalidNin(NinError::CheckDigits);
        let mobile = SafeconvError::from(core.clone());
        assert!(
            matches!(&mobile, SafeconvError::InvalidNin { reason_code, .. } if reason_code == "check-digits")
        );
        assert_eq!(mobile.to_string(), core.to_string());
    }

    #[test]
    fn other_errors_map_one_to_one() {
        for core in [
            Error::InvalidInput {
                field: "base_url".into(),
                reason: "must use https".into(),
            },
            Error::Authentication {
                error: "invalid_client".into(),
                description: None,
                http_status: Some(401),
            },
            Error::Transport {
                kind: TransportErrorKind::Timeout,
                message: "slow".into(),
            },
            Error::Protocol {
                message: "cut short".into(),
            },
        ] {
            let mobile = SafeconvError::from(core.clone());
            assert_eq!(mobile.to_string(), core.to_string());
            assert_eq!(Error::from(mobile), core);
        }
    }

    #[test]
    fn unexpected_callback_errors_are_authentication_failures() {
        let error = SafeconvError::from(uniffi::UnexpectedUniFFICallbackError::new(
            "backend said no for 01018010018",
        ));
        match error {
            SafeconvError::Authentication {
                error, description, ..
            } => {
                assert_eq!(error, "token_provider_failed");
                assert_eq!(
                    description.as_deref(),
                    Some("backend said no for 010180*****")
                );
            }
            other => panic!("{other:?}"),
        }
    }
}
