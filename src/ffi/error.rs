//! Result numbers, error details (a core `ErrorReport` with its result number), and the
//! per-thread last error.

use std::cell::RefCell;
use std::ffi::{CString, c_char};
use std::sync::OnceLock;

use super::boundary::ffi_boundary;
use super::handle::{arg, free, give, handle};
use super::strings::{look_up, to_c, to_c_opt};
use crate::{Error, ErrorKind, ErrorReport, TransportErrorKind};

/// What a `safeconv_*` function returned. The numbers are stable: a value is never renumbered
/// or reused, and new values may be added (treat an unknown one as a failure).
///
/// 1–99 are the core's error kinds, 100 and up the C layer's own.
/// `safeconv_result_name` gives a value's name; the details of a failure are in the thread's
/// last error (`safeconv_last_error`) or in the `SafeconvError` handed to a callback.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum SafeconvResult {
    /// Success.
    SAFECONV_OK = 0,
    /// An argument or configuration value was refused before anything was sent;
    /// `safeconv_error_field` names it (e.g. `"base_url"`, `"poll_interval"`).
    SAFECONV_INVALID_INPUT = 1,
    /// The national identity number was refused before anything was sent;
    /// `safeconv_error_code` gives the reason's code (`"length"`, `"check-digits"`, …).
    SAFECONV_INVALID_NIN = 2,
    /// The token endpoint (or your token callback) refused: wrong client id or secret, or no
    /// token could be had. `safeconv_error_code` gives the OAuth error (e.g. `"invalid_client"`).
    SAFECONV_AUTHENTICATION = 3,
    /// Signicat answered with an error: see `safeconv_error_http_status`, `safeconv_error_code`
    /// and `safeconv_error_trace_id` (quote it to Signicat support).
    SAFECONV_API = 4,
    /// A request did not complete within the request timeout. When starting a session, it is
    /// unknown whether Signicat created it.
    SAFECONV_TRANSPORT_TIMEOUT = 5,
    /// No connection could be made; the request was certainly not sent.
    SAFECONV_TRANSPORT_CONNECT = 6,
    /// The connection failed while the request was under way.
    SAFECONV_TRANSPORT_CONNECTION = 7,
    /// The server answered something the library cannot read (malformed or cut-short JSON,
    /// a missing required field).
    SAFECONV_PROTOCOL = 8,
    /// The TLS handshake failed, so the request was never sent: the server's certificate was
    /// refused (the message says why: an unknown issuer, expired, not valid for the host name)
    /// or no TLS could be agreed. Not transient: it takes other trust settings
    /// (`safeconv_config_add_ca_pem`, `_add_ca_file`, `_set_trust_roots`) or another server.
    SAFECONV_TRANSPORT_TLS = 9,
    /// The proxy answered and refused, so the request was never sent: HTTP 407 (its user name
    /// or password is missing or wrong) or another error status for `CONNECT` (its policy, or
    /// it cannot reach the host). The message names the proxy, never its credentials. Not
    /// transient. A proxy that cannot be reached at all is `SAFECONV_TRANSPORT_CONNECT`.
    SAFECONV_TRANSPORT_PROXY = 10,
    /// A pointer argument that must not be NULL was NULL; `safeconv_error_field` names it.
    SAFECONV_NULL_ARGUMENT = 100,
    /// A string argument was not valid UTF-8; `safeconv_error_field` names it.
    SAFECONV_INVALID_UTF8 = 101,
    /// An internal error (a Rust panic) was caught at the boundary. Please report it.
    SAFECONV_PANIC = 102,
    /// A blocking function was called on one of the library's own threads (from inside a
    /// callback), where it would deadlock. Use the `_async` variant there.
    SAFECONV_WRONG_THREAD = 103,
    /// The operation was cancelled (`safeconv_operation_cancel`, or its client was freed)
    /// before it had a result. A cancelled *wait* is not this: it reports the session's real
    /// end, normally `SAFECONV_STATUS_CANCELLED`.
    SAFECONV_CANCELLED = 104,
    /// `safeconv_operation_cancel` was given an id that is not running on that client (it has
    /// completed, or it never existed).
    SAFECONV_NO_SUCH_OPERATION = 105,
    /// The library could not start its threads (the operating system refused).
    SAFECONV_RUNTIME = 106,
}

impl SafeconvResult {
    const ALL: [SafeconvResult; 18] = [
        SafeconvResult::SAFECONV_OK,
        SafeconvResult::SAFECONV_INVALID_INPUT,
        SafeconvResult::SAFECONV_INVALID_NIN,
        SafeconvResult::SAFECONV_AUTHENTICATION,
        SafeconvResult::SAFECONV_API,
        SafeconvResult::SAFECONV_TRANSPORT_TIMEOUT,
        SafeconvResult::SAFECONV_TRANSPORT_CONNECT,
        SafeconvResult::SAFECONV_TRANSPORT_CONNECTION,
        SafeconvResult::SAFECONV_PROTOCOL,
        SafeconvResult::SAFECONV_TRANSPORT_TLS,
        SafeconvResult::SAFECONV_TRANSPORT_PROXY,
        SafeconvResult::SAFECONV_NULL_ARGUMENT,
        SafeconvResult::SAFECONV_INVALID_UTF8,
        SafeconvResult::SAFECONV_PANIC,
        SafeconvResult::SAFECONV_WRONG_THREAD,
        SafeconvResult::SAFECONV_CANCELLED,
        SafeconvResult::SAFECONV_NO_SUCH_OPERATION,
        SafeconvResult::SAFECONV_RUNTIME,
    ];
}

/// The details of a failure: result number, message, and what the server said.
///
/// Get one from `safeconv_last_error` (a copy of the calling thread's last error), from
/// `safeconv_error_clone`, or borrowed as the `const SafeconvError *` handed to a completion
/// callback. Immutable, so a copy may be read from any thread; free copies with
/// `safeconv_error_free`. Messages never contain a national identity number, secret or token.
pub struct SafeconvError {
    _private: [u8; 0],
}

handle!(SafeconvError => Failure, Owned);

/// What a `SafeconvError` is in Rust: the core's report (boxed: failures travel in every
/// `Result` of the bridge) and the result number C sees.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Failure {
    pub(crate) result: SafeconvResult,
    pub(crate) report: Box<ErrorReport>,
}

impl Failure {
    /// A failure of the C layer itself (a panic, a wrong thread, no runtime), which no core
    /// error describes. The report's `kind` is not visible to C; the result number is.
    pub(crate) fn bridge(result: SafeconvResult, message: impl Into<String>) -> Self {
        Failure {
            result,
            report: Box::new(ErrorReport {
                kind: ErrorKind::InvalidInput,
                message: message.into(),
                field: None,
                code: None,
                http_status: None,
                trace_id: None,
                transient: false,
                retry_after: None,
                title: None,
                detail: None,
                invalid_params: Vec::new(),
            }),
        }
    }

    /// A refused argument, named as in the header, with a result number of the C layer.
    fn argument(result: SafeconvResult, name: &str, reason: &str) -> Self {
        Failure {
            result,
            report: Box::new(Error::invalid_input(name, reason).report()),
        }
    }

    pub(crate) fn null_argument(name: &str) -> Self {
        Self::argument(
            SafeconvResult::SAFECONV_NULL_ARGUMENT,
            name,
            "must not be NULL",
        )
    }

    pub(crate) fn invalid_utf8(name: &str) -> Self {
        Self::argument(
            SafeconvResult::SAFECONV_INVALID_UTF8,
            name,
            "is not valid UTF-8",
        )
    }

    pub(crate) fn no_such_operation(op_id: u64) -> Self {
        Self::argument(
            SafeconvResult::SAFECONV_NO_SUCH_OPERATION,
            "op_id",
            &format!("operation {op_id} is not running on this client"),
        )
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        let report = Box::new(error.report());
        let result = match report.kind {
            ErrorKind::InvalidInput => SafeconvResult::SAFECONV_INVALID_INPUT,
            ErrorKind::InvalidNin => SafeconvResult::SAFECONV_INVALID_NIN,
            ErrorKind::Authentication => SafeconvResult::SAFECONV_AUTHENTICATION,
            ErrorKind::Api => SafeconvResult::SAFECONV_API,
            ErrorKind::Transport(TransportErrorKind::Timeout) => {
                SafeconvResult::SAFECONV_TRANSPORT_TIMEOUT
            }
            ErrorKind::Transport(TransportErrorKind::Connect) => {
                SafeconvResult::SAFECONV_TRANSPORT_CONNECT
            }
            ErrorKind::Transport(TransportErrorKind::Connection) => {
                SafeconvResult::SAFECONV_TRANSPORT_CONNECTION
            }
            ErrorKind::Transport(TransportErrorKind::Tls) => SafeconvResult::SAFECONV_TRANSPORT_TLS,
            ErrorKind::Transport(TransportErrorKind::Proxy) => {
                SafeconvResult::SAFECONV_TRANSPORT_PROXY
            }
            ErrorKind::Protocol => SafeconvResult::SAFECONV_PROTOCOL,
            ErrorKind::Cancelled => SafeconvResult::SAFECONV_CANCELLED,
        };
        Failure { result, report }
    }
}

thread_local! {
    static LAST_ERROR: RefCell<Option<Failure>> = const { RefCell::new(None) };
}

/// Replaces the calling thread's last error (`None`: the last call succeeded).
pub(crate) fn set_last_error(failure: Option<Failure>) {
    // During thread teardown the slot may be gone; there is nobody left to read it then.
    let _ = LAST_ERROR.try_with(|slot| {
        if let Ok(mut slot) = slot.try_borrow_mut() {
            *slot = failure;
        }
    });
}

fn last_error() -> Option<Failure> {
    LAST_ERROR
        .try_with(|slot| slot.try_borrow().ok().and_then(|e| e.clone()))
        .ok()
        .flatten()
}

pub(crate) fn last_error_result() -> SafeconvResult {
    last_error().map_or(SafeconvResult::SAFECONV_OK, |e| e.result)
}

#[cfg(test)]
pub(crate) fn last_error_message() -> Option<String> {
    last_error().map(|e| e.report.message)
}

/// The name of a result number, e.g. `"SAFECONV_INVALID_NIN"`, or NULL for a number this
/// version does not know.
///
/// Ownership: a static string; never free it. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn safeconv_result_name(result: u32) -> *const c_char {
    static NAMES: OnceLock<Vec<CString>> = OnceLock::new();
    ffi_boundary! {
        let index = SafeconvResult::ALL.iter().position(|r| *r as u32 == result);
        Ok(look_up(&NAMES, &SafeconvResult::ALL, |r| format!("{r:?}"), index))
    }
}

/// The result of the calling thread's last call that returns a `SafeconvResult`
/// (`SAFECONV_OK` if it succeeded or there was none).
///
/// Thread rules: each thread has its own last error. Inside a completion callback it is the
/// operation's result.
#[unsafe(no_mangle)]
pub extern "C" fn safeconv_last_error_result() -> SafeconvResult {
    ffi_boundary! { Ok(last_error_result()) }
}

/// The message of the calling thread's last error, or NULL if its last call succeeded.
///
/// Ownership: the caller frees the string with `safeconv_string_free`.
/// Thread rules: each thread has its own last error.
#[unsafe(no_mangle)]
pub extern "C" fn safeconv_last_error_message() -> *mut c_char {
    ffi_boundary! { Ok(last_error().map_or(std::ptr::null_mut(), |e| to_c(&e.report.message))) }
}

/// A copy of the calling thread's last error with every detail, or NULL if its last call
/// succeeded. The copy may be handed to and read from any thread.
///
/// Ownership: the caller frees it with `safeconv_error_free`.
#[unsafe(no_mangle)]
pub extern "C" fn safeconv_last_error() -> *mut SafeconvError {
    ffi_boundary! { Ok(last_error().map_or(std::ptr::null_mut(), give)) }
}

/// The result number of an error (`SAFECONV_NULL_ARGUMENT` if `error` is NULL).
///
/// # Safety
/// `error` is NULL or a live `SafeconvError`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_error_result(error: *const SafeconvError) -> SafeconvResult {
    ffi_boundary! { Ok(arg!(error).result) }
}

/// A human-readable message, without any NIN, secret or token; NULL if `error` is NULL.
///
/// # Safety
/// `error` is NULL or a live `SafeconvError`. The caller frees the string with
/// `safeconv_string_free`.
/// Threads: any thread; handles are immutable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_error_message(error: *const SafeconvError) -> *mut c_char {
    ffi_boundary! { Ok(to_c(&arg!(error).report.message)) }
}

/// The machine-readable code, or NULL when there is none (or `error` is NULL):
/// Signicat's `code` for `SAFECONV_API` (e.g. `"invalid_request_parameter"`), the OAuth
/// `error` for `SAFECONV_AUTHENTICATION` (e.g. `"invalid_client"`, or
/// `"token_provider_failed"` when the token callback gave no answer), the reason's code for
/// `SAFECONV_INVALID_NIN` (as `safeconv_nin_reason_code`), and `"timeout"`, `"connect"`,
/// `"connection"`, `"tls"` or `"proxy"` for the `SAFECONV_TRANSPORT_*` results.
///
/// # Safety
/// `error` is NULL or a live `SafeconvError`. The caller frees the string with
/// `safeconv_string_free`.
/// Threads: any thread; handles are immutable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_error_code(error: *const SafeconvError) -> *mut c_char {
    ffi_boundary! { Ok(to_c_opt(arg!(error).report.code.as_deref())) }
}

/// The refused field or argument, for `SAFECONV_INVALID_INPUT` (a configuration field such
/// as `"account_id"`), `SAFECONV_INVALID_NIN` (`"nin"`), `SAFECONV_NULL_ARGUMENT` and
/// `SAFECONV_INVALID_UTF8` (the parameter's name); NULL otherwise or if `error` is NULL.
///
/// # Safety
/// `error` is NULL or a live `SafeconvError`. The caller frees the string with
/// `safeconv_string_free`.
/// Threads: any thread; handles are immutable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_error_field(error: *const SafeconvError) -> *mut c_char {
    ffi_boundary! { Ok(to_c_opt(arg!(error).report.field.as_deref())) }
}

/// The HTTP status the server answered with, or 0 if it did not answer (or `error` is NULL).
///
/// # Safety
/// `error` is NULL or a live `SafeconvError`.
/// Threads: any thread; handles are immutable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_error_http_status(error: *const SafeconvError) -> u16 {
    ffi_boundary! { Ok(arg!(error).report.http_status.unwrap_or(0)) }
}

/// Signicat's `traceId` (quote it to Signicat support), or NULL if the server gave none.
///
/// # Safety
/// `error` is NULL or a live `SafeconvError`. The caller frees the string with
/// `safeconv_string_free`.
/// Threads: any thread; handles are immutable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_error_trace_id(error: *const SafeconvError) -> *mut c_char {
    ffi_boundary! { Ok(to_c_opt(arg!(error).report.trace_id.as_deref())) }
}

/// Whether trying the same call again later may succeed (timeouts, connection failures,
/// malformed answers, HTTP 408, 429 and 5xx). False if `error` is NULL.
///
/// # Safety
/// `error` is NULL or a live `SafeconvError`.
/// Threads: any thread; handles are immutable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_error_is_transient(error: *const SafeconvError) -> bool {
    ffi_boundary! { Ok(arg!(error).report.transient) }
}

/// How long the server asked to wait before trying again (`Retry-After`), in milliseconds;
/// 0 if it did not say (or `error` is NULL).
///
/// # Safety
/// `error` is NULL or a live `SafeconvError`.
/// Threads: any thread; handles are immutable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_error_retry_after_ms(error: *const SafeconvError) -> u64 {
    ffi_boundary! {
        let retry_after = arg!(error).report.retry_after.unwrap_or_default();
        Ok(u64::try_from(retry_after.as_millis()).unwrap_or(u64::MAX))
    }
}

/// A copy of `error` (for instance to keep the one borrowed by a callback); NULL if `error`
/// is NULL.
///
/// # Safety
/// `error` is NULL or a live `SafeconvError`. The caller frees the copy with
/// `safeconv_error_free`.
/// Threads: any thread; handles are immutable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_error_clone(error: *const SafeconvError) -> *mut SafeconvError {
    ffi_boundary! { Ok(give(arg!(error).clone())) }
}

/// Frees an error. NULL is accepted and ignored.
///
/// # Safety
/// `error` is NULL or a `SafeconvError *` this library gave you (never the `const` one a
/// callback borrows), not yet freed.
/// Threads: any thread, once no other thread uses it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_error_free(error: *mut SafeconvError) {
    ffi_boundary! {
        // SAFETY: the caller hands back a handle this library gave out, not yet freed.
        unsafe { free(error) };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ApiError;

    #[test]
    fn every_result_has_its_name_and_numbers_are_stable() {
        for r in SafeconvResult::ALL {
            let name = unsafe { std::ffi::CStr::from_ptr(safeconv_result_name(r as u32)) };
            assert!(name.to_str().unwrap().starts_with("SAFECONV_"));
        }
        assert!(safeconv_result_name(9999).is_null());
        assert_eq!(SafeconvResult::SAFECONV_PROTOCOL as u32, 8);
        assert_eq!(SafeconvResult::SAFECONV_TRANSPORT_TLS as u32, 9);
        assert_eq!(SafeconvResult::SAFECONV_TRANSPORT_PROXY as u32, 10);
        assert_eq!(SafeconvResult::SAFECONV_PANIC as u32, 102);
        assert_eq!(SafeconvResult::SAFECONV_CANCELLED as u32, 104);
    }

    #[test]
    fn core_errors_keep_their_details() {
        let api = Error::Api(Box::new(ApiError {
            http_status: 503,
            code: Some("service_unavailable".into()),
            trace_id: Some("t-1".into()),
            retry_after: Some(std::time::Duration::from_secs(2)),
            ..ApiError::default()
        }));
        let e = Failure::from(api);
        assert_eq!(e.result, SafeconvResult::SAFECONV_API);
        let report = &e.report;
        assert_eq!(
            (
                report.http_status,
                report.code.as_deref(),
                report.trace_id.as_deref()
            ),
            (Some(503), Some("service_unavailable"), Some("t-1"))
        );
        assert!(report.transient);
        let handle = give::<SafeconvError>(e);
        assert_eq!(unsafe { safeconv_error_retry_after_ms(handle) }, 2000);
        unsafe { safeconv_error_free(handle) };
        let e = Failure::from(Error::from(crate::NinError::CheckDigits));
        assert_eq!(
            (e.result, e.report.code.as_deref()),
            (SafeconvResult::SAFECONV_INVALID_NIN, Some("check-digits"))
        );
        let e = Failure::from(Error::invalid_input("base_url", "bad"));
        assert_eq!(e.report.field.as_deref(), Some("base_url"));
        for (kind, result, code) in [
            (
                TransportErrorKind::Connect,
                SafeconvResult::SAFECONV_TRANSPORT_CONNECT,
                "connect",
            ),
            (
                TransportErrorKind::Tls,
                SafeconvResult::SAFECONV_TRANSPORT_TLS,
                "tls",
            ),
            (
                TransportErrorKind::Proxy,
                SafeconvResult::SAFECONV_TRANSPORT_PROXY,
                "proxy",
            ),
        ] {
            let message = "what failed".to_owned();
            let e = Failure::from(Error::Transport { kind, message });
            assert_eq!((e.result, e.report.code.as_deref()), (result, Some(code)));
        }
        let e = Failure::from(Error::cancelled("stopped"));
        assert_eq!(e.result, SafeconvResult::SAFECONV_CANCELLED);
        let e = Failure::from(Error::token_provider_failed("nothing"));
        assert_eq!(
            (e.result, e.report.code.as_deref()),
            (
                SafeconvResult::SAFECONV_AUTHENTICATION,
                Some("token_provider_failed")
            )
        );
    }
}
