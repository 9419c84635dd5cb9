//! The one boundary every exported function runs its body in ([`ffi_boundary!`]): a panic is
//! caught, and what a failed or panicking body returns follows from the function's return type
//! ([`Returns`]), so that a body is only the domain call with `?` for what can fail.
//!
//! Two kinds of function share it, told apart by what the body produces:
//!
//! * a **call** returns `SafeconvResult` and its body `Ok(())`: it reports through the thread's
//!   last error, cleared on success and filled with the details on failure;
//! * a **query** (a getter, a `*_free`, a static look-up) returns a value and its body that
//!   value: a failure (a NULL handle) gives the return type's neutral value — NULL, 0, false,
//!   `SAFECONV_STATUS_UNKNOWN`, `SAFECONV_NULL_ARGUMENT` — and leaves the last error alone.
//!
//! A caught panic always becomes the thread's last error (`SAFECONV_PANIC`).

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};

use super::error::{Failure, SafeconvResult, set_last_error};
use super::session::SafeconvStatus;

/// What an exported function returns, given what its body produced (`V`).
pub(crate) trait Returns<V>: Sized {
    /// Whether the function reports through the thread's last error.
    const REPORTS: bool;
    /// The return value for a body that succeeded.
    fn ok(value: V) -> Self;
    /// The return value for a body that failed (or panicked) with `failure`.
    fn failed(failure: &Failure) -> Self;
}

/// A call: `SAFECONV_OK`, or the failure's result number.
impl Returns<()> for SafeconvResult {
    const REPORTS: bool = true;
    fn ok((): ()) -> Self {
        SafeconvResult::SAFECONV_OK
    }
    fn failed(failure: &Failure) -> Self {
        failure.result
    }
}

/// A query whose answer is a result number (`safeconv_error_result`, `safeconv_last_error_result`).
impl Returns<SafeconvResult> for SafeconvResult {
    const REPORTS: bool = false;
    fn ok(value: SafeconvResult) -> Self {
        value
    }
    fn failed(failure: &Failure) -> Self {
        failure.result
    }
}

impl<T> Returns<*mut T> for *mut T {
    const REPORTS: bool = false;
    fn ok(value: *mut T) -> Self {
        value
    }
    fn failed(_: &Failure) -> Self {
        std::ptr::null_mut()
    }
}

impl<T> Returns<*const T> for *const T {
    const REPORTS: bool = false;
    fn ok(value: *const T) -> Self {
        value
    }
    fn failed(_: &Failure) -> Self {
        std::ptr::null()
    }
}

/// Queries whose neutral value is the type's default (0, false, nothing) or a named one.
macro_rules! neutral {
    ($($ty:ty => $value:expr),* $(,)?) => {$(
        impl Returns<$ty> for $ty {
            const REPORTS: bool = false;
            fn ok(value: $ty) -> Self {
                value
            }
            fn failed(_: &Failure) -> Self {
                $value
            }
        }
    )*};
}

neutral! {
    () => (),
    bool => false,
    u16 => 0,
    u32 => 0,
    u64 => 0,
    SafeconvStatus => SafeconvStatus::SAFECONV_STATUS_UNKNOWN,
}

/// Runs an exported function's body; see the module documentation.
pub(crate) fn boundary<R, V>(body: impl FnOnce() -> Result<V, Failure>) -> R
where
    R: Returns<V>,
{
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(value)) => {
            if R::REPORTS {
                set_last_error(None);
            }
            R::ok(value)
        }
        Ok(Err(failure)) => {
            let returned = R::failed(&failure);
            if R::REPORTS {
                set_last_error(Some(failure));
            }
            returned
        }
        Err(payload) => {
            let failure = panic_failure(payload);
            let returned = R::failed(&failure);
            set_last_error(Some(failure));
            returned
        }
    }
}

/// The body of every exported function: `ffi_boundary! { ...; Ok(value) }`. Inside it,
/// `arg!(name)` / `opt_arg!(name)` read a pointer or string argument (see `handle.rs`).
macro_rules! ffi_boundary {
    ($($body:tt)*) => {
        $crate::ffi::boundary::boundary(move || { $($body)* })
    };
}
pub(crate) use ffi_boundary;

/// The failure for a caught panic, with the panic's message when it has one.
pub(crate) fn panic_failure(payload: Box<dyn Any + Send>) -> Failure {
    let detail = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".to_owned());
    Failure::bridge(
        SafeconvResult::SAFECONV_PANIC,
        format!("internal error (a panic was caught at the C boundary): {detail}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::error::{last_error_message, last_error_result};

    #[test]
    fn a_panicking_call_returns_panic_and_sets_the_last_error() {
        let result: SafeconvResult = boundary(|| -> Result<(), Failure> { panic!("boom") });
        assert_eq!(result, SafeconvResult::SAFECONV_PANIC);
        assert_eq!(last_error_result(), SafeconvResult::SAFECONV_PANIC);
        assert!(last_error_message().unwrap().contains("boom"));
        let ok: SafeconvResult = ffi_boundary! { Ok(()) };
        assert_eq!(ok, SafeconvResult::SAFECONV_OK);
        assert_eq!(last_error_result(), SafeconvResult::SAFECONV_OK);
    }

    #[test]
    fn a_panicking_query_returns_its_neutral_value_and_sets_the_last_error() {
        let v: u32 = boundary(|| -> Result<u32, Failure> { panic!("{}", String::from("owned")) });
        assert_eq!(v, 0);
        assert!(last_error_message().unwrap().contains("owned"));
        let p: *mut u8 = boundary(|| -> Result<*mut u8, Failure> { panic!("p") });
        assert!(p.is_null());
        let s: SafeconvStatus = boundary(|| -> Result<SafeconvStatus, Failure> { panic!("s") });
        assert_eq!(s, SafeconvStatus::SAFECONV_STATUS_UNKNOWN);
    }

    #[test]
    fn a_failed_query_leaves_the_last_error_alone() {
        let _: SafeconvResult = ffi_boundary! { Err::<(), _>(Failure::null_argument("first")) };
        let b: bool = ffi_boundary! { Err(Failure::null_argument("second")) };
        assert!(!b);
        let r: SafeconvResult =
            ffi_boundary! { Err::<SafeconvResult, _>(Failure::null_argument("third")) };
        assert_eq!(r, SafeconvResult::SAFECONV_NULL_ARGUMENT);
        // Still the call's failure: neither query touched it.
        assert!(last_error_message().unwrap().contains("first"));
    }
}
