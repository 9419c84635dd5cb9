//! `SafeconvStartOptions`: optional settings of one Safe Conversation, set field by field.

use std::ffi::c_char;

use super::panic;
use super::result::{SafeconvError, SafeconvResult};
use super::strings::read_str;
use crate::request::SafeConversation;

/// Optional settings for `safeconv_start` / `safeconv_start_async`: requested attributes,
/// language, session lifetime, your reference, tags, level of assurance. Pass NULL to those
/// functions for the defaults. Values are checked when a session is started
/// (`SAFECONV_INVALID_INPUT`, naming the field).
///
/// Not thread-safe while being set up; once set up it may be used by several threads at once
/// (it is only read), and freed with `safeconv_start_options_free` once no call uses it.
#[derive(Clone, Debug, Default)]
pub struct SafeconvStartOptions {
    attributes: Option<Vec<String>>,
    language: Option<String>,
    session_lifetime: Option<u32>,
    external_reference: Option<String>,
    tags: Vec<String>,
    requested_loa: Option<String>,
}

impl SafeconvStartOptions {
    /// Applies the options to a conversation.
    pub(crate) fn apply(&self, mut conversation: SafeConversation) -> SafeConversation {
        if let Some(attributes) = &self.attributes {
            conversation = conversation.attributes(attributes.iter().cloned());
        }
        if let Some(language) = &self.language {
            conversation = conversation.language(language.clone());
        }
        if let Some(seconds) = self.session_lifetime {
            conversation = conversation.session_lifetime(seconds);
        }
        if let Some(reference) = &self.external_reference {
            conversation = conversation.external_reference(reference.clone());
        }
        if !self.tags.is_empty() {
            conversation = conversation.tags(self.tags.iter().cloned());
        }
        if let Some(loa) = &self.requested_loa {
            conversation = conversation.requested_loa(loa.clone());
        }
        conversation
    }
}

/// Runs a setter: checks `options`, then applies `set`.
fn with_options(
    options: *mut SafeconvStartOptions,
    set: impl FnOnce(&mut SafeconvStartOptions) -> Result<(), SafeconvError>,
) -> SafeconvResult {
    panic::call(|| {
        // SAFETY: the caller promises NULL or live options used by this thread only.
        let options =
            unsafe { options.as_mut() }.ok_or_else(|| SafeconvError::null_argument("options"))?;
        set(options)
    })
}

/// New start options with nothing set (the defaults: attributes name, firstName, lastName,
/// nin and dateOfBirth; Signicat's language and lifetime).
///
/// Ownership: the caller frees them with `safeconv_start_options_free`. NULL only if a panic
/// was caught.
/// Threads: any thread.
#[unsafe(no_mangle)]
pub extern "C" fn safeconv_start_options_new() -> *mut SafeconvStartOptions {
    panic::value(std::ptr::null_mut(), || Box::into_raw(Box::default()))
}

/// Frees start options. NULL is accepted and ignored.
///
/// # Safety
/// `options` is NULL or live options that no running call uses.
/// Threads: any thread, once no other thread uses it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_start_options_free(options: *mut SafeconvStartOptions) {
    if options.is_null() {
        return;
    }
    // SAFETY: the caller hands back ownership of a handle made by Box::into_raw.
    panic::value((), || drop(unsafe { Box::from_raw(options) }));
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
    with_options(options, |options| {
        // SAFETY: forwarded from the caller.
        let attribute = unsafe { read_str(attribute, "attribute") }?.to_owned();
        options
            .attributes
            .get_or_insert_with(Vec::new)
            .push(attribute);
        Ok(())
    })
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
    with_options(options, |options| {
        // SAFETY: forwarded from the caller.
        options.language = Some(unsafe { read_str(language, "language") }?.to_owned());
        Ok(())
    })
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
    with_options(options, |options| {
        options.session_lifetime = Some(seconds);
        Ok(())
    })
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
    with_options(options, |options| {
        // SAFETY: forwarded from the caller.
        options.external_reference = Some(unsafe { read_str(reference, "reference") }?.to_owned());
        Ok(())
    })
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
    with_options(options, |options| {
        // SAFETY: forwarded from the caller.
        options
            .tags
            .push(unsafe { read_str(tag, "tag") }?.to_owned());
        Ok(())
    })
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
    with_options(options, |options| {
        // SAFETY: forwarded from the caller.
        options.requested_loa = Some(unsafe { read_str(loa, "loa") }?.to_owned());
        Ok(())
    })
}
