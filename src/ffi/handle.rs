//! Pointers across the boundary. Each C-visible handle type declares once (`handle!`) which Rust
//! value it stands for and how C holds it — [`Owned`] (made with `Box`, released by its
//! `*_free`) or [`Borrowed`] (lent for the duration of a callback) — so that reading an
//! argument, checking it for NULL, handing a value out and freeing it are the same generic
//! code for every type. The handle types themselves are opaque to C and to Rust: a pointer to
//! `SafeconvSession` is a pointer to the core's `Session`.

use std::ffi::{CStr, c_char, c_void};

use super::config::SafeconvFreeCallback;
use super::error::Failure;
use super::nin::{SafeconvNinKind, SafeconvNinReason};

/// C received it from a function (`Box::into_raw`) and releases it with the type's `*_free`.
pub(crate) struct Owned;
/// C sees it only during a callback and never frees it.
pub(crate) struct Borrowed;

/// A C-visible handle type: the Rust value behind its pointers and how C holds them.
pub(crate) trait Handle {
    type Rust;
    type Ownership;
}

/// Declares a handle type: `handle!(SafeconvSession => Session, Owned);`.
macro_rules! handle {
    ($c:ty => $rust:ty, $ownership:ident) => {
        impl $crate::ffi::handle::Handle for $c {
            type Rust = $rust;
            type Ownership = $crate::ffi::handle::$ownership;
        }
    };
}
pub(crate) use handle;

/// Hands a new value to C, which releases it with the type's `*_free`.
pub(crate) fn give<H: Handle<Ownership = Owned>>(value: H::Rust) -> *mut H {
    Box::into_raw(Box::new(value)).cast()
}

/// Lends a value to C for the duration of a callback.
pub(crate) fn lend<H: Handle>(value: &H::Rust) -> *const H {
    (value as *const H::Rust).cast()
}

/// Lends a value to C, writable, for the duration of a callback.
pub(crate) fn lend_mut<H: Handle<Ownership = Borrowed>>(value: &mut H::Rust) -> *mut H {
    (value as *mut H::Rust).cast()
}

/// Takes back a value given to C (`None` for NULL).
///
/// # Safety
/// `handle` is NULL or came from [`give`] and is not used again.
pub(crate) unsafe fn take<H: Handle<Ownership = Owned>>(handle: *mut H) -> Option<Box<H::Rust>> {
    // SAFETY: forwarded from the caller: made by Box::into_raw of an `H::Rust`.
    (!handle.is_null()).then(|| unsafe { Box::from_raw(handle.cast::<H::Rust>()) })
}

/// Releases a value given to C; NULL is ignored.
///
/// # Safety
/// As [`take`].
pub(crate) unsafe fn free<H: Handle<Ownership = Owned>>(handle: *mut H) {
    // SAFETY: forwarded from the caller.
    drop(unsafe { take(handle) });
}

/// A C `user_data` pointer, passed back to the callbacks it came with.
#[derive(Clone, Copy)]
pub(crate) struct UserData(*mut c_void);
// SAFETY: every function taking a `user_data` documents that it must be usable from the
// library's threads. The library never dereferences it.
unsafe impl Send for UserData {}
// SAFETY: as above.
unsafe impl Sync for UserData {}

impl UserData {
    pub(crate) fn new(pointer: *mut c_void) -> Self {
        UserData(pointer)
    }

    /// The pointer (a method, so that closures capture the `Send` wrapper).
    pub(crate) fn get(self) -> *mut c_void {
        self.0
    }
}

/// A C callback with its `user_data`, and what releases that once nothing calls it any more.
pub(crate) struct CCallback<F: Copy> {
    pub(crate) callback: F,
    pub(crate) user_data: UserData,
    free_user_data: SafeconvFreeCallback,
}

impl<F: Copy> CCallback<F> {
    pub(crate) fn new(
        callback: F,
        user_data: *mut c_void,
        free_user_data: SafeconvFreeCallback,
    ) -> Self {
        CCallback {
            callback,
            user_data: UserData::new(user_data),
            free_user_data,
        }
    }
}

impl<F: Copy> Drop for CCallback<F> {
    fn drop(&mut self) {
        if let Some(free) = self.free_user_data {
            // SAFETY: called once, when the last holder of the callback is gone.
            unsafe { free(self.user_data.get()) };
        }
    }
}

/// An out-pointer for a handle, set to NULL when read so it never dangles on failure.
pub(crate) struct Out<'a, H: Handle<Ownership = Owned>> {
    slot: &'a mut *mut H,
}

impl<H: Handle<Ownership = Owned>> Out<'_, H> {
    /// Hands `value` to C through the out-pointer.
    pub(crate) fn set(self, value: H::Rust) {
        *self.slot = give(value);
    }
}

/// A C argument read into its Rust form: `None` for NULL, an error for a bad value.
pub(crate) trait Arg<'a>: Sized {
    type Value;

    /// # Safety
    /// `self` is NULL or valid for `'a` as the exported function's `# Safety` promises.
    unsafe fn read(self, name: &'static str) -> Result<Option<Self::Value>, Failure>;
}

impl<'a, H: Handle + 'a> Arg<'a> for *const H {
    type Value = &'a H::Rust;
    unsafe fn read(self, _: &'static str) -> Result<Option<Self::Value>, Failure> {
        // SAFETY: forwarded from the caller; the pointer came from `give` or `lend`.
        Ok(unsafe { self.cast::<H::Rust>().as_ref() })
    }
}

impl<'a, H: Handle + 'a> Arg<'a> for *mut H {
    type Value = &'a mut H::Rust;
    unsafe fn read(self, _: &'static str) -> Result<Option<Self::Value>, Failure> {
        // SAFETY: forwarded from the caller, who also promises no other thread uses it now.
        Ok(unsafe { self.cast::<H::Rust>().as_mut() })
    }
}

impl<'a, H: Handle<Ownership = Owned> + 'a> Arg<'a> for *mut *mut H {
    type Value = Out<'a, H>;
    unsafe fn read(self, _: &'static str) -> Result<Option<Self::Value>, Failure> {
        // SAFETY: forwarded from the caller: NULL or writable.
        Ok(unsafe { self.as_mut() }.map(|slot| {
            *slot = std::ptr::null_mut();
            Out { slot }
        }))
    }
}

/// Out-pointers for plain values (an operation id, a NIN's kind or reason), set to their
/// default (0, `_NONE`) when read, so they never hold stale values on failure.
macro_rules! value_out {
    ($($ty:ty),*) => {$(
        impl<'a> Arg<'a> for *mut $ty {
            type Value = &'a mut $ty;
            unsafe fn read(self, _: &'static str) -> Result<Option<Self::Value>, Failure> {
                // SAFETY: forwarded from the caller: NULL or writable.
                Ok(unsafe { self.as_mut() }.map(|slot| {
                    *slot = <$ty>::default();
                    slot
                }))
            }
        }
    )*};
}

value_out!(u64, SafeconvNinKind, SafeconvNinReason);

/// A NUL-terminated string, which must be UTF-8.
impl<'a> Arg<'a> for *const c_char {
    type Value = &'a str;
    unsafe fn read(self, name: &'static str) -> Result<Option<Self::Value>, Failure> {
        if self.is_null() {
            return Ok(None);
        }
        // SAFETY: forwarded from the caller: NUL-terminated and valid for 'a.
        let text = unsafe { CStr::from_ptr(self) };
        text.to_str()
            .map(Some)
            .map_err(|_| Failure::invalid_utf8(name))
    }
}

/// A buffer given as a pointer and a length (`arg!(pem, len)`), copied by the caller.
impl<'a> Arg<'a> for (*const u8, usize) {
    type Value = &'a [u8];
    unsafe fn read(self, name: &'static str) -> Result<Option<Self::Value>, Failure> {
        let (data, len) = self;
        if data.is_null() {
            return Ok(None);
        }
        // No real buffer is longer (`slice::from_raw_parts` requires it): a wrong length.
        if isize::try_from(len).is_err() {
            let reason = format!("cannot be {len} bytes long");
            return Err(crate::Error::invalid_input(name, reason).into());
        }
        // SAFETY: forwarded from the caller: `len` readable bytes at `data`, valid for 'a.
        Ok(Some(unsafe { std::slice::from_raw_parts(data, len) }))
    }
}

/// A callback (`Option` of a function pointer: NULL is `None`).
impl<'a, F: Copy> Arg<'a> for Option<F> {
    type Value = F;
    unsafe fn read(self, _: &'static str) -> Result<Option<Self::Value>, Failure> {
        Ok(self)
    }
}

/// A required argument of the exported function, by its parameter name: NULL is
/// `SAFECONV_NULL_ARGUMENT` naming it. `arg!(data, len)` reads a buffer of `len` bytes.
macro_rules! arg {
    ($name:ident) => {
        // SAFETY: each exported function's `# Safety` makes its pointer arguments NULL or valid.
        match unsafe { $crate::ffi::handle::Arg::read($name, stringify!($name)) }? {
            Some(value) => value,
            None => {
                return Err($crate::ffi::error::Failure::null_argument(stringify!(
                    $name
                )))
            }
        }
    };
    ($name:ident, $len:ident) => {{
        let $name = ($name, $len);
        $crate::ffi::handle::arg!($name)
    }};
}
pub(crate) use arg;

/// An optional argument (NULL is `None`).
macro_rules! opt_arg {
    ($name:ident) => {
        // SAFETY: as for `arg!`.
        unsafe { $crate::ffi::handle::Arg::read($name, stringify!($name)) }?
    };
}
pub(crate) use opt_arg;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::error::{Failure, SafeconvResult};

    fn text(nin: *const c_char) -> Result<Option<&'static str>, Failure> {
        Ok(opt_arg!(nin))
    }

    fn required(nin: *const c_char) -> Result<&'static str, Failure> {
        Ok(arg!(nin))
    }

    fn buffer(pem: *const u8, len: usize) -> Result<&'static [u8], Failure> {
        Ok(arg!(pem, len))
    }

    #[test]
    fn buffers_are_checked_and_named() {
        assert_eq!(buffer(b"abc".as_ptr(), 2).unwrap(), b"ab");
        let err = buffer(std::ptr::null(), 0).unwrap_err();
        assert_eq!(err.result, SafeconvResult::SAFECONV_NULL_ARGUMENT);
        assert_eq!(err.report.field.as_deref(), Some("pem"));
        let err = buffer(b"abc".as_ptr(), usize::MAX).unwrap_err();
        assert_eq!(err.result, SafeconvResult::SAFECONV_INVALID_INPUT);
        assert_eq!(err.report.field.as_deref(), Some("pem"));
    }

    #[test]
    fn strings_are_checked_and_named() {
        let err = required(std::ptr::null()).unwrap_err();
        assert_eq!(err.result, SafeconvResult::SAFECONV_NULL_ARGUMENT);
        assert_eq!(err.report.field.as_deref(), Some("nin"));
        let bad = b"\xff\xfe\0";
        let err = required(bad.as_ptr().cast()).unwrap_err();
        assert_eq!(err.result, SafeconvResult::SAFECONV_INVALID_UTF8);
        assert_eq!(text(std::ptr::null()).unwrap(), None);
        assert_eq!(required(c"ok".as_ptr()).unwrap(), "ok");
    }
}
