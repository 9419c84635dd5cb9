//! The core's log records for C: a process-wide callback with a level filter, on the core's
//! log sink (which masks NINs before anything reaches it).

use std::ffi::{CString, c_char, c_void};
use std::sync::Arc;

use super::boundary::ffi_boundary;
use super::config::SafeconvFreeCallback;
use super::error::SafeconvResult;
use super::handle::{CCallback, opt_arg};
use super::strings::{c_string, static_c};
use crate::{Error, LogLevel, LogRecord, LogSink, set_log_sink};

/// How important a log record is. Stable numbers; a lower one is more important.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum SafeconvLogLevel {
    /// Something failed that the caller will hear about.
    SAFECONV_LOG_ERROR = 1,
    /// Something went wrong and was handled (a retry, a cancel that failed).
    SAFECONV_LOG_WARN = 2,
    /// The main steps: a session created, cancelled, ended.
    SAFECONV_LOG_INFO = 3,
    /// Details: token fetches, status changes.
    SAFECONV_LOG_DEBUG = 4,
    /// Everything.
    SAFECONV_LOG_TRACE = 5,
}

impl From<LogLevel> for SafeconvLogLevel {
    fn from(level: LogLevel) -> Self {
        match level {
            LogLevel::Error => SafeconvLogLevel::SAFECONV_LOG_ERROR,
            LogLevel::Warn => SafeconvLogLevel::SAFECONV_LOG_WARN,
            LogLevel::Info => SafeconvLogLevel::SAFECONV_LOG_INFO,
            LogLevel::Debug => SafeconvLogLevel::SAFECONV_LOG_DEBUG,
            LogLevel::Trace => SafeconvLogLevel::SAFECONV_LOG_TRACE,
        }
    }
}

/// One structured field of a log record, e.g. `session_id` = `3d07c219-…`.
#[repr(C)]
pub struct SafeconvLogField {
    /// The field's name (NUL-terminated).
    pub name: *const c_char,
    /// Its value as text (NUL-terminated; NINs masked).
    pub value: *const c_char,
}

/// One log record of the library, borrowed for the duration of the callback (copy what you
/// keep). Members may be added at the end in later versions.
#[repr(C)]
pub struct SafeconvLogRecord {
    /// How important it is.
    pub level: SafeconvLogLevel,
    /// Where it comes from, e.g. `"safeconv::wait"`.
    pub target: *const c_char,
    /// What happened, e.g. `"poll failed; will retry"` (NINs masked).
    pub message: *const c_char,
    /// The record's fields, in order (`field_count` of them; NULL when there are none).
    pub fields: *const SafeconvLogField,
    /// How many fields there are.
    pub field_count: usize,
}

/// Receives the library's log records (see `safeconv_set_log_callback`).
///
/// `record` and every string in it are borrowed for the duration of the call. No record ever
/// holds a national identity number (they are masked, e.g. `170290*****`), a secret or a token.
///
/// Thread rules: called on whichever thread the library logs on — a client's worker threads,
/// the thread inside a blocking call such as `safeconv_wait`, a thread freeing a client —
/// possibly on several threads at once. Return quickly and do not block; do not call
/// `safeconv_set_log_callback` or blocking `safeconv_*` functions from it, and never let a
/// C++ exception or `longjmp` leave it.
pub type SafeconvLogCallback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, record: *const SafeconvLogRecord)>;

type LogCallback = unsafe extern "C" fn(*mut c_void, *const SafeconvLogRecord);

/// The C callback as the core's [`LogSink`].
struct CLogSink(CCallback<LogCallback>);

impl LogSink for CLogSink {
    fn log(&self, record: &LogRecord) {
        let (target, message) = (c_string(&record.target), c_string(&record.message));
        let texts: Vec<(CString, CString)> = record
            .fields
            .iter()
            .map(|(name, value)| (c_string(name), c_string(value)))
            .collect();
        let fields: Vec<SafeconvLogField> = texts
            .iter()
            .map(|(name, value)| SafeconvLogField {
                name: name.as_ptr(),
                value: value.as_ptr(),
            })
            .collect();
        let record = SafeconvLogRecord {
            level: record.level.into(),
            target: target.as_ptr(),
            message: message.as_ptr(),
            fields: if fields.is_empty() {
                std::ptr::null()
            } else {
                fields.as_ptr()
            },
            field_count: fields.len(),
        };
        // SAFETY: callback and user_data were given together by the C side, for any thread;
        // the record and its strings live until the call returns.
        unsafe { (self.0.callback)(self.0.user_data.get(), &record) }
    }
}

/// The core's level for a `SafeconvLogLevel` number.
fn log_level(max_level: u32) -> Result<LogLevel, Error> {
    Ok(match max_level {
        1 => LogLevel::Error,
        2 => LogLevel::Warn,
        3 => LogLevel::Info,
        4 => LogLevel::Debug,
        5 => LogLevel::Trace,
        _ => {
            let reason = format!("{max_level} is not a SafeconvLogLevel (1 to 5)");
            return Err(Error::invalid_input("max_level", reason));
        }
    })
}

/// The name of a `SafeconvLogLevel` value: `"error"`, `"warn"`, `"info"`, `"debug"` or
/// `"trace"`; NULL for a number that is not a level.
///
/// Ownership: a static string; never free it. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn safeconv_log_level_name(level: u32) -> *const c_char {
    ffi_boundary! {
        Ok(match log_level(level) {
            Ok(LogLevel::Error) => static_c("error\0"),
            Ok(LogLevel::Warn) => static_c("warn\0"),
            Ok(LogLevel::Info) => static_c("info\0"),
            Ok(LogLevel::Debug) => static_c("debug\0"),
            Ok(LogLevel::Trace) => static_c("trace\0"),
            Err(_) => std::ptr::null(),
        })
    }
}

/// Sends the library's log records at `max_level` (a `SafeconvLogLevel`) and more important
/// ones to `callback`, for every client in the process; a NULL `callback` turns logging off
/// (then the other arguments are ignored). Replaces the callback set before. Off by default.
///
/// `free_user_data` (may be NULL) is called exactly once with `user_data` when the library no
/// longer uses it: after a later call replaced this callback and the last record being
/// delivered to it has returned, or before this function returns if it fails. After that the
/// callback is never called again.
///
/// Returns `SAFECONV_INVALID_INPUT` naming `max_level` for a number that is not a level, or
/// `log_sink` if a Rust component of the same program already installed its own `tracing`
/// subscriber (that one then receives the records).
///
/// # Safety
/// `callback` is NULL or a function that may be called from any thread with `user_data`,
/// which must stay valid until `free_user_data` is called (or, without one, until logging is
/// turned off or replaced and no record is being delivered).
/// Threads: any thread; calls are process-wide and take effect at once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_set_log_callback(
    callback: SafeconvLogCallback,
    user_data: *mut c_void,
    free_user_data: SafeconvFreeCallback,
    max_level: u32,
) -> SafeconvResult {
    ffi_boundary! {
        let Some(callback) = opt_arg!(callback) else {
            return Ok(set_log_sink(None, LogLevel::Error)?);
        };
        // Owned from here on: dropped (so released) on any failure below.
        let sink = CLogSink(CCallback::new(callback, user_data, free_user_data));
        Ok(set_log_sink(Some(Arc::new(sink)), log_level(max_level)?)?)
    }
}
