//! Strings handed to C: owned copies that C frees with `safeconv_string_free`, and statics.
//! (Reading string arguments is `arg!`, in `handle.rs`.)

use std::ffi::{CString, c_char};
use std::sync::OnceLock;

use super::boundary::ffi_boundary;

/// `text` as a C string. A NUL inside (which C cannot represent) becomes U+FFFD.
pub(crate) fn c_string(text: &str) -> CString {
    CString::new(text.replace('\0', "\u{fffd}")).unwrap_or_default()
}

/// An owned C copy of `text`, for C to free with `safeconv_string_free`.
pub(crate) fn to_c(text: &str) -> *mut c_char {
    c_string(text).into_raw()
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

/// A `const char *` look-up: entry `index` of a table of names made once (from the core's own
/// spellings) and kept for the life of the process; NULL when there is no such entry.
pub(crate) fn look_up<T>(
    table: &'static OnceLock<Vec<CString>>,
    entries: &[T],
    name: impl Fn(&T) -> String,
    index: Option<usize>,
) -> *const c_char {
    let names = table.get_or_init(|| entries.iter().map(|e| c_string(&name(e))).collect());
    index
        .and_then(|i| names.get(i))
        .map_or(std::ptr::null(), |n| n.as_ptr())
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
    ffi_boundary! {
        if !string.is_null() {
            // SAFETY: the caller hands back a pointer made by CString::into_raw.
            drop(unsafe { CString::from_raw(string) });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn inner_nuls_do_not_lose_the_string() {
        let s = to_c("a\0b");
        let back = unsafe { CStr::from_ptr(s) }.to_str().unwrap().to_owned();
        unsafe { safeconv_string_free(s) };
        assert_eq!(back, "a\u{fffd}b");
        unsafe { safeconv_string_free(std::ptr::null_mut()) };
    }
}
