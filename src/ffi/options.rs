//! `SafeconvStartOptions`: the core's `StartOptions`, set field by field.

use std::ffi::c_char;

use super::boundary::ffi_boundary;
use super::error::SafeconvResult;
use super::handle::{arg, free, give, handle};
use crate::StartOptions;

/// Optional settings for `safeconv_start` / `safeconv_start_async`: requested attributes,
/// language, session lifetime, your reference, tags, level of assurance. Pass NULL to those
/// functions for the defaults. Values are checked when a session is started
/// (`SAFECONV_INVALID_INPUT`, naming the field).
///
/// Not thread-safe while being set up; once set up it may be used by several threads at once
/// (it is only read), and freed with `safeconv_start_options_free` once no call uses it.
pub struct SafeconvStartOptions {
    _private: [u8; 0],
}

handle!(SafeconvStartOptions => StartOptions, Owned);

/// New start options with nothing set (the defaults: attributes name, firstName, lastName,
/// nin and dateOfBirth; Signicat's language and lifetime).
///
/// Ownership: the caller frees them with `safeconv_start_options_free`. NULL only if a panic
/// was caught.
/// Threads: any thread.
#[unsafe(no_mangle)]
pub extern "C" fn safeconv_start_options_new() -> *mut SafeconvStartOptions {
    ffi_boundary! { Ok(give(StartOptions::default())) }
}

/// Frees start options. NULL is accepted and ignored.
///
/// # Safety
/// `options` is NULL or live options that no running call uses.
/// Threads: any thread, once no other thread uses it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_start_options_free(options: *mut SafeconvStartOptions) {
    ffi_boundary! {
        // SAFETY: the caller hands back a handle this library gave out, not yet freed.
        unsafe { free(options) };
        Ok(())
    }
}

/// Adds an attribute to request (e.g. `"nin"`, `"name"`, `"dateOfBirth"`). The first call
/// replaces the default list.
///
/// # Safety
/// `options` is NULL or live options; `attribute` is NULL or a NUL-terminated string, copied.
/// Threads: not thread-safe; set options up on one thread at a time.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_start_options_add_attribute(
    options: *mut SafeconvStartOptions,
    attribute: *const c_char,
) -> SafeconvResult {
    ffi_boundary! {
        let (options, attribute) = (arg!(options), arg!(attribute));
        options.attributes.get_or_insert_with(Vec::new).push(attribute.to_owned());
        Ok(())
    }
}

/// Sets the language of the texts the caller sees (ISO 639-1, e.g. `"nb"`, `"en"`).
///
/// # Safety
/// `options` is NULL or live options; `language` is NULL or a NUL-terminated string, copied.
/// Threads: not thread-safe; set options up on one thread at a time.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_start_options_set_language(
    options: *mut SafeconvStartOptions,
    language: *const c_char,
) -> SafeconvResult {
    ffi_boundary! {
        let (options, language) = (arg!(options), arg!(language));
        options.language = Some(language.to_owned());
        Ok(())
    }
}

/// Sets the session lifetime in seconds (Signicat raises values under 300 to 300; 0 is
/// refused when starting).
///
/// # Safety
/// `options` is NULL or live options.
/// Threads: not thread-safe; set options up on one thread at a time.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_start_options_set_session_lifetime(
    options: *mut SafeconvStartOptions,
    seconds: u32,
) -> SafeconvResult {
    ffi_boundary! {
        arg!(options).session_lifetime = Some(seconds);
        Ok(())
    }
}

/// Sets your own reference (e.g. the call id), echoed back by Signicat.
///
/// # Safety
/// `options` is NULL or live options; `reference` is NULL or a NUL-terminated string, copied.
/// Threads: not thread-safe; set options up on one thread at a time.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_start_options_set_external_reference(
    options: *mut SafeconvStartOptions,
    reference: *const c_char,
) -> SafeconvResult {
    ffi_boundary! {
        let (options, reference) = (arg!(options), arg!(reference));
        options.external_reference = Some(reference.to_owned());
        Ok(())
    }
}

/// Adds a tag for webhook filtering (at most 100 tags of at most 100 characters).
///
/// # Safety
/// `options` is NULL or live options; `tag` is NULL or a NUL-terminated string, copied.
/// Threads: not thread-safe; set options up on one thread at a time.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_start_options_add_tag(
    options: *mut SafeconvStartOptions,
    tag: *const c_char,
) -> SafeconvResult {
    ffi_boundary! {
        let (options, tag) = (arg!(options), arg!(tag));
        options.tags.get_or_insert_with(Vec::new).push(tag.to_owned());
        Ok(())
    }
}

/// Sets the level of assurance to require: `"low"`, `"substantial"` or `"high"`.
///
/// # Safety
/// `options` is NULL or live options; `loa` is NULL or a NUL-terminated string, copied.
/// Threads: not thread-safe; set options up on one thread at a time.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_start_options_set_requested_loa(
    options: *mut SafeconvStartOptions,
    loa: *const c_char,
) -> SafeconvResult {
    ffi_boundary! {
        let (options, loa) = (arg!(options), arg!(loa));
        options.requested_loa = Some(loa.to_owned());
        Ok(())
    }
}
