//! The one error type of the bindings: `SafeconvException` in Kotlin, `SafeconvError` in Swift
//! and Python, made from the core's [`ErrorReport`] in one place.

use std::fmt;
use std::time::Duration;

use safeconv::{ApiError, Error, ErrorKind, ErrorReport, TransportErrorKind};

/// A field Signicat refused, from the error body's `invalidParams`.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct InvalidParam {
    /// The field's name, e.g. `prefilledInput.nin`.
    pub name: String,
    /// Why it was refused.
    pub reason: String,
}

/// Everything that can keep the SDK from learning a session's outcome. A session that ends
/// badly (declined, expired, failed) is not an error but an [`Outcome`](crate::types::Outcome).
/// Messages never contain a NIN, secret or token.
///
/// `reason` is the whole message in the core's wording (the same in every language). Fields
/// are named `reason` rather than `message`, which Kotlin's `Throwable` already has;
/// `toString()` (Kotlin), `description` (Swift) and `str()` (Python) give the core's wording.
#[derive(Clone, Debug, PartialEq, uniffi::Error)]
#[uniffi::export(Display)]
pub enum SafeconvError {
    /// An argument or configuration value was refused before anything was sent.
    InvalidInput {
        /// Which field, e.g. `base_url` or `poll_interval`.
        field: String,
        /// What was wrong with it.
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
        /// OAuth `error` (e.g. `invalid_client`), or the provider's code
        /// (`token_provider_failed` when it threw something else).
        error: String,
        /// OAuth `error_description`, if any.
        description: Option<String>,
        /// The HTTP status, when a server answered. (`i32`, not `u16`: a plain `Int` in Kotlin
        /// and Swift, which compare it with a literal.)
        http_status: Option<i32>,
    },
    /// Signicat answered with an error.
    Api {
        /// HTTP status code.
        http_status: i32,
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
        /// What happened, without secrets.
        reason: String,
    },
    /// The server answered something the SDK cannot read.
    Protocol {
        /// What was wrong (never the body itself, which may hold personal data).
        reason: String,
    },
    /// The operation was stopped (its `CancelHandle`, or its task) before it had a result. A
    /// start stopped after its request went out has its session cancelled at Signicat.
    Cancelled {
        /// What was stopped.
        reason: String,
    },
}

impl From<Error> for SafeconvError {
    fn from(error: Error) -> Self {
        let ErrorReport {
            kind,
            message: reason,
            field,
            code,
            http_status,
            trace_id,
            retry_after,
            title,
            detail,
            invalid_params,
            ..
        } = error.report();
        match kind {
            ErrorKind::InvalidInput => SafeconvError::InvalidInput {
                field: field.unwrap_or_default(),
                reason,
            },
            ErrorKind::InvalidNin => SafeconvError::InvalidNin {
                reason_code: code.unwrap_or_default(),
                reason,
            },
            ErrorKind::Authentication => SafeconvError::Authentication {
                error: code.unwrap_or_default(),
                description: detail,
                http_status: http_status.map(i32::from),
            },
            ErrorKind::Api => SafeconvError::Api {
                http_status: http_status.map(i32::from).unwrap_or_default(),
                code,
                title,
                detail,
                trace_id,
                invalid_params: invalid_params
                    .into_iter()
                    .map(|(name, reason)| InvalidParam { name, reason })
                    .collect(),
                retry_after,
            },
            ErrorKind::Transport(kind) => SafeconvError::Transport { kind, reason },
            ErrorKind::Cancelled => SafeconvError::Cancelled { reason },
            _ => SafeconvError::Protocol { reason },
        }
    }
}

/// What a foreign token provider throws, for the core: `Authentication` and `Api` as they are,
/// anything else (an HTTP status no server sends included) as [`Error::token_provider_failed`]
/// with its message.
impl From<SafeconvError> for Error {
    fn from(error: SafeconvError) -> Self {
        let status = |status: i32| {
            u16::try_from(status).map_err(|_| {
                Error::token_provider_failed(format!("it gave the HTTP status {status}"))
            })
        };
        match error {
            SafeconvError::Authentication {
                error,
                description,
                http_status,
            } => match http_status.map(status).transpose() {
                Ok(http_status) => Error::Authentication {
                    error,
                    description,
                    http_status,
                },
                Err(refused) => refused,
            },
            SafeconvError::Api {
                http_status,
                code,
                title,
                detail,
                trace_id,
                invalid_params,
                retry_after,
            } => match status(http_status) {
                Ok(http_status) => Error::Api(Box::new(ApiError {
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
                Err(refused) => refused,
            },
            other => Error::token_provider_failed(other.to_string()),
        }
    }
}

impl fmt::Display for SafeconvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SafeconvError::InvalidInput { reason, .. }
            | SafeconvError::InvalidNin { reason, .. }
            | SafeconvError::Transport { reason, .. }
            | SafeconvError::Protocol { reason }
            | SafeconvError::Cancelled { reason } => f.write_str(reason),
            // Their words are the core's, from the fields.
            SafeconvError::Authentication { .. } | SafeconvError::Api { .. } => {
                f.write_str(&Error::from(self.clone()).report().message)
            }
        }
    }
}

impl std::error::Error for SafeconvError {}

/// A foreign callback threw something other than a `SafeconvException`. Only a token provider's
/// error is used (a log sink's is dropped): the provider failed, in the core's one way of
/// saying so.
impl From<uniffi::UnexpectedUniFFICallbackError> for SafeconvError {
    fn from(error: uniffi::UnexpectedUniFFICallbackError) -> Self {
        Error::token_provider_failed(&error.reason).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use safeconv::NinError;

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
            Error::cancelled("stopped"),
        ] {
            let mobile = SafeconvError::from(core.clone());
            assert_eq!(mobile.to_string(), core.to_string());
            assert_eq!(mobile.to_string(), core.report().message);
        }
        let mobile = SafeconvError::from(Error::InvalidInput {
            field: "base_url".into(),
            reason: "must use https".into(),
        });
        assert!(
            matches!(&mobile, SafeconvError::InvalidInput { field, .. } if field == "base_url")
        );
    }

    #[test]
    fn what_a_token_provider_throws_reaches_the_core() {
        let refused = Error::Authentication {
            error: "backend_refused".into(),
            description: Some("agent is not signed in".into()),
            http_status: None,
        };
        assert_eq!(Error::from(SafeconvError::from(refused.clone())), refused);
        let other = Error::from(SafeconvError::Protocol {
            reason: "backend said 01018010018 is unknown".into(),
        });
        assert_eq!(
            other,
            Error::token_provider_failed("backend said 010180***** is unknown")
        );
    }

    #[test]
    fn an_impossible_http_status_from_a_provider_is_its_failure() {
        let thrown = SafeconvError::Authentication {
            error: "backend_refused".into(),
            description: None,
            http_status: Some(70_000),
        };
        assert_eq!(
            Error::from(thrown),
            Error::token_provider_failed("it gave the HTTP status 70000")
        );
        let core = Error::from(SafeconvError::Api {
            http_status: -1,
            code: None,
            title: None,
            detail: None,
            trace_id: None,
            invalid_params: vec![],
            retry_after: None,
        });
        assert_eq!(
            core,
            Error::token_provider_failed("it gave the HTTP status -1")
        );
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
