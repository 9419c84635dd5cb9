//! The C ABI (feature `c-api`, native targets only). The header is `include/safeconv.h`,
//! generated from this module by cbindgen (`scripts/gen-header.sh`); docs/c-api.md is the guide.
//!
//! This module is a translation layer and holds no logic of its own: it checks pointers and
//! UTF-8, turns core errors into stable result numbers with readable details, runs the core
//! on a tokio runtime owned by each client, and catches every panic before it can reach C.
//!
//! Conventions, the same in every function:
//!
//! * Fallible functions return a [`SafeconvResult`]; anything they produce comes through an
//!   out-pointer, which is set to NULL (or zero) first, so it is never left dangling on failure.
//! * Every function that returns a `SafeconvResult` sets the calling thread's *last error*:
//!   cleared on `SAFECONV_OK`, filled with the details on failure (see
//!   [`safeconv_last_error`]). Getters, `*_free` and the static lookups leave it alone.
//! * `char *` results are the caller's, freed with [`safeconv_string_free`]; `const char *`
//!   results are static and never freed. Handles (`SafeconvClient *`, `SafeconvSession *`, …)
//!   returned or handed to a callback as non-`const` pointers are the receiver's, freed with
//!   their `*_free` function, which accepts NULL; `const` pointers handed to a callback are
//!   borrowed for the duration of the call.
//! * No panic crosses the boundary: it becomes `SAFECONV_PANIC` (or NULL / 0 from a getter).

mod client;
mod config;
mod nin;
mod options;
mod panic;
mod result;
mod session;
mod strings;

pub use client::{
    SafeconvClient, SafeconvOperationId, SafeconvOutcomeCallback, SafeconvSessionCallback,
    SafeconvStatusCallback, safeconv_cancel_session, safeconv_cancel_session_async,
    safeconv_client_free, safeconv_client_new, safeconv_get_session, safeconv_get_session_async,
    safeconv_operation_cancel, safeconv_start, safeconv_start_async, safeconv_wait,
    safeconv_wait_async,
};
pub use config::{
    SafeconvConfig, SafeconvFreeCallback, SafeconvTokenCallback, SafeconvTokenRequest,
    safeconv_config_free, safeconv_config_new, safeconv_config_set_account_id,
    safeconv_config_set_base_url, safeconv_config_set_client_credentials,
    safeconv_config_set_nin_rules, safeconv_config_set_poll_interval_ms,
    safeconv_config_set_request_timeout_ms, safeconv_config_set_shutdown_timeout_ms,
    safeconv_config_set_token_callback, safeconv_config_set_token_url,
    safeconv_config_set_user_agent, safeconv_config_set_worker_threads,
    safeconv_token_request_set_error, safeconv_token_request_set_token,
};
pub use nin::{
    SAFECONV_NIN_ALLOW_INVALID_CHECK_DIGITS, SAFECONV_NIN_ALLOW_SYNTHETIC, SafeconvNinKind,
    SafeconvNinReason, safeconv_nin_check, safeconv_nin_kind_code, safeconv_nin_reason_code,
};
pub use options::{
    SafeconvStartOptions, safeconv_start_options_add_attribute, safeconv_start_options_add_tag,
    safeconv_start_options_free, safeconv_start_options_new,
    safeconv_start_options_set_external_reference, safeconv_start_options_set_language,
    safeconv_start_options_set_requested_loa, safeconv_start_options_set_session_lifetime,
};
pub use result::{
    SafeconvError, SafeconvResult, safeconv_error_clone, safeconv_error_code, safeconv_error_field,
    safeconv_error_free, safeconv_error_http_status, safeconv_error_is_transient,
    safeconv_error_message, safeconv_error_result, safeconv_error_retry_after_ms,
    safeconv_error_trace_id, safeconv_last_error, safeconv_last_error_message,
    safeconv_last_error_result, safeconv_result_name,
};
pub use session::{
    SafeconvOutcome, SafeconvSession, SafeconvStatus, SafeconvSubject, safeconv_outcome_clone,
    safeconv_outcome_error_code, safeconv_outcome_error_detail, safeconv_outcome_free,
    safeconv_outcome_is_success, safeconv_outcome_status, safeconv_outcome_subject,
    safeconv_session_binding_message, safeconv_session_clone, safeconv_session_error_code,
    safeconv_session_expires_at, safeconv_session_expires_at_unix_ms,
    safeconv_session_external_reference, safeconv_session_free, safeconv_session_id,
    safeconv_session_is_final, safeconv_session_loa, safeconv_session_outcome,
    safeconv_session_provider, safeconv_session_status, safeconv_session_status_text,
    safeconv_session_subject, safeconv_status_name, safeconv_subject_clone,
    safeconv_subject_date_of_birth, safeconv_subject_email, safeconv_subject_extra_json,
    safeconv_subject_first_name, safeconv_subject_free, safeconv_subject_id,
    safeconv_subject_idp_id, safeconv_subject_last_name, safeconv_subject_middle_name,
    safeconv_subject_name, safeconv_subject_nin, safeconv_subject_nin_issuing_country,
    safeconv_subject_nin_type,
};
pub use strings::safeconv_string_free;

use std::ffi::c_char;

/// The version of the C ABI described by this header. It changes only when an existing
/// function, type or number changes meaning (never for additions); compare it with
/// `safeconv_abi_version()` to check that the library loaded is the one compiled against.
pub const SAFECONV_ABI_VERSION: u32 = 1;

/// The library's version, e.g. `"0.1.0"`.
///
/// Ownership: a static string; never free it. Thread-safe; never fails.
#[unsafe(no_mangle)]
pub extern "C" fn safeconv_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The C ABI version of the library loaded (see `SAFECONV_ABI_VERSION`).
///
/// Thread-safe; never fails.
#[unsafe(no_mangle)]
pub extern "C" fn safeconv_abi_version() -> u32 {
    SAFECONV_ABI_VERSION
}
