//! The wrappers every `extern "C"` function runs its body in: panics are caught and turned
//! into `SAFECONV_PANIC` (or a neutral value), and the thread's last error is kept up to date.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};

use super::result::{SafeconvError, SafeconvResult, set_last_error};

/// Runs a fallible body: `Ok` clears the thread's last error and returns `SAFECONV_OK`; an
/// error or a panic becomes the thread's last error and its result number.
pub(crate) fn call(body: impl FnOnce() -> Result<(), SafeconvError>) -> SafeconvResult {
    let error = match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => {
            set_last_error(None);
            return SafeconvResult::SAFECONV_OK;
        }
        Ok(Err(error)) => error,
        Err(payload) => panic_error(payload),
    };
    let result = error.result;
    set_last_error(Some(error));
    result
}

/// Runs an infallible body (a getter, a `*_free`): a panic makes it return `fallback` and
/// becomes the thread's last error; otherwise the last error is left alone.
pub(crate) fn value<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(value) => value,
        Err(payload) => {
            set_last_error(Some(panic_error(payload)));
            fallback
        }
    }
}

/// The error for a caught panic, with the panic's message when it has one.
pub(crate) fn panic_error(payload: Box<dyn Any + Send>) -> SafeconvError {
    let detail = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".to_owned());
    SafeconvError::bridge(
        SafeconvResult::SAFECONV_PANIC,
        format!("internal error (a panic was caught at the C boundary): {detail}"),
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::result::{last_error_result, take_last_error_message};

    #[test]
    fn a_panic_becomes_a_result_and_the_last_error() {
        let result = call(|| panic!("boom"));
        assert_eq!(result, SafeconvResult::SAFECONV_PANIC);
        assert_eq!(last_error_result(), SafeconvResult::SAFECONV_PANIC);
        assert!(take_last_error_message().unwrap().contains("boom"));
        assert_eq!(call(|| Ok(())), SafeconvResult::SAFECONV_OK);
        assert_eq!(last_error_result(), SafeconvResult::SAFECONV_OK);
    }

    #[test]
    fn a_panicking_getter_returns_the_fallback() {
        let v: u32 = value(7, || panic!("{}", String::from("owned message")));
        assert_eq!(v, 7);
        assert!(take_last_error_message().unwrap().contains("owned message"));
    }
}
