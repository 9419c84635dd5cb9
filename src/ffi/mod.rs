//! The C ABI (feature `c-api`, native targets only). The header is `include/safeconv.h`,
//! generated from this module by cbindgen in `build.rs`; docs/c-api.md is the guide. Private to
//! the crate: the functions are exported for C, not offered to Rust.
//!
//! A translation layer with no logic of its own: every exported function's body runs inside
//! [`ffi_boundary!`](boundary) (panics caught, failures turned into the return type's value,
//! the thread's last error kept), reads its arguments with `arg!` (pointers checked for NULL,
//! strings for UTF-8, each handle type cast to the Rust value it stands for, see `handle`),
//! and is otherwise one call into the core, which runs on a tokio runtime owned by each client.
//!
//! Conventions, the same in every function:
//!
//! * Fallible functions return a `SafeconvResult`; anything they produce comes through an
//!   out-pointer, which is set to NULL (or zero) first, so it is never left dangling on failure.
//! * Every function that returns a `SafeconvResult` sets the calling thread's *last error*:
//!   cleared on `SAFECONV_OK`, filled with the details on failure (see
//!   `safeconv_last_error`). Getters, `*_free` and the static lookups leave it alone.
//! * `char *` results are the caller's, freed with `safeconv_string_free`; `const char *`
//!   results are static and never freed. Handles (`SafeconvClient *`, `SafeconvSession *`, …)
//!   returned or handed to a callback as non-`const` pointers are the receiver's, freed with
//!   their `*_free` function, which accepts NULL; `const` pointers handed to a callback are
//!   borrowed for the duration of the call.
//! * No panic crosses the boundary: it becomes `SAFECONV_PANIC` (or NULL / 0 from a getter).

mod boundary;
mod client;
mod config;
mod error;
mod handle;
mod log;
mod nin;
mod options;
mod session;
mod strings;

use std::ffi::c_char;

use boundary::ffi_boundary;
use strings::static_c;

/// `SAFECONV_ABI_VERSION`, from `[package.metadata.safeconv] abi-version` in Cargo.toml (by
/// build.rs, which also writes it into the header).
const ABI_VERSION: u32 = match u32::from_str_radix(env!("SAFECONV_ABI_VERSION"), 10) {
    Ok(version) => version,
    Err(_) => panic!("SAFECONV_ABI_VERSION is not a number"),
};

/// The library's version, e.g. `"0.1.0"` (the package version in Cargo.toml).
///
/// Ownership: a static string; never free it. Thread-safe; never fails.
#[unsafe(no_mangle)]
pub extern "C" fn safeconv_version() -> *const c_char {
    ffi_boundary! { Ok(static_c(concat!(env!("CARGO_PKG_VERSION"), "\0"))) }
}

/// The C ABI version of the library loaded: compare it with `SAFECONV_ABI_VERSION` to check
/// that the library is the one the program was compiled against.
///
/// Thread-safe; never fails.
#[unsafe(no_mangle)]
pub extern "C" fn safeconv_abi_version() -> u32 {
    ffi_boundary! { Ok(ABI_VERSION) }
}
