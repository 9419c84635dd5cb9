//! Strings across the boundary: reading C arguments (NULL and UTF-8 checked) and handing out
//! owned copies that C frees with `safeconv_string_free`.

use std::ffi::{CStr, CString, c_char};

use super::panic;
use super::result::SafeconvError;

/// Reads a required string argument.
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string that stays valid for `'a`.
pub(crate) unsafe fn read_str<'a>(
    ptr: *const c_char,
    name: &str,
) -> Result<&'a str, SafeconvError> {
    if ptr.is_null() {
        return Err(SafeconvError::null_argument(name));
    }
    // SAFETY: not NULL, and the caller promises a NUL-terminated string.
    let text = unsafe { CStr::from_ptr(ptr) };
    text.to_str().map_err(|_| SafeconvError::invalid_utf8(name))
}

/// Reads an optional string argument (NULL is `None`).
///
/// # Safety
/// As [`read_str`].
pub(crate) unsafe fn read_opt_str<'a>(
    ptr: *const c_char,
    name: &str,
) -> Result<Option<&'a str>, SafeconvError> {
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: forwarded from the caller.
    unsafe { read_str(ptr, name) }.map(Some)
}

/// An owned C copy of `text`. A NUL inside (which C cannot represent) becomes U+FFFD.
pub(crate) fn to_c(text: &str) -> *mut c_char {
    let owned = if text.contains('\0') {
        text.replace('\0', "\u{fffd}")
    } else {
        text.to_owned()
    };
    CString::new(owned).map_or(std::ptr::null_mut(), CString::into_raw)
}

/// [`to_c`], or NULL for `None`.
pub(crate) fn to_c_opt(text: Option<&str>) -> *mut c_char {
    text.map_or(std::ptr::null_mut(), to_c)
}

/// A static, NUL-terminated string as a C pointer.
pub(crate) fn static_c(text: &'static str) -> *const c_char {
    debug_assert!(text.ends_with('\0'));
    text.as_ptr().cast()
}

/// Frees a string returned by this library (any `char *` result). NULL is accepted and
/// ignored.
///
/// # Safety
/// `string` is NULL or a `char *` this library returned, not yet freed. Never pass a
/// `const char *` result (those are static) or memory from `malloc`.
/// Threads: any thread, once no other thread uses it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_string_free(string: *mut c_char) {
    if string.is_null() {
        return;
    }
    // SAFETY: the caller hands back a pointer made by CString::into_raw.
    panic::value((), || drop(unsafe { CString::from_raw(string) }));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::result::SafeconvResult;

    #[test]
    fn arguments_are_checked() {
        let err = unsafe { read_str(std::ptr::null(), "nin") }.unwrap_err();
        assert_eq!(err.result, SafeconvResult::SAFECONV_NULL_ARGUMENT);
        let bad = b"\xff\xfe\0";
        let err = unsafe { read_str(bad.as_ptr().cast(), "nin") }.unwrap_err();
        assert_eq!(err.result, SafeconvResult::SAFECONV_INVALID_UTF8);
        assert_eq!(
            unsafe { read_opt_str(std::ptr::null(), "x") }.unwrap(),
            None
        );
    }

    #[test]
    fn inner_nuls_do_not_lose_the_string() {
        let s = to_c("a\0b");
        let back = unsafe { CStr::from_ptr(s) }.to_str().unwrap().to_owned();
        unsafe { safeconv_string_free(s) };
        assert_eq!(back, "a\u{fffd}b");
        unsafe { safeconv_string_free(std::ptr::null_mut()) };
    }
}
