//! UniFFI bridge for Kotlin, Swift and Python (feature `uniffi`, native targets only).
//!
//! A thin layer over the async core: records and enums that mirror the core types where those
//! cannot cross the FFI as they are, one error enum, and callback interfaces for status
//! listeners and token providers. Async methods run on tokio (`async_runtime = "tokio"`).
//!
//! The foreign API, as Kotlin sees it:
//!
//! ```kotlin
//! val client = SafeconvClient(ClientConfig(accountId = "a-spge-4711",
//!     clientId = "sandbox-client", clientSecret = secret))
//! val session = client.startSafeConversation("01018010018")   // suspend
//! println("Read to the caller: ${session.bindingMessage}")
//! when (val outcome = client.wait(session)) {                   // suspend
//!     is Outcome.Success -> println("verified ${outcome.subject.name}")
//!     else -> println("not verified: $outcome")
//! }
//! ```
//!
//! Nothing here owns logic the core should own: validation, retries, polling, cancellation and
//! the masking rule live in the core; this layer converts types and formats them safely.

// `SafeconvError` crosses the FFI by value (UniFFI lifts enums field by field and has no `Box`),
// so its size is not ours to trim; it is built only on the error path anyway.
#![allow(clippy::result_large_err)]

mod client;
mod error;
mod types;

use error::SafeconvError;
use types::NinInfo;

use crate::nin::{Nin, NinRules};

/// Checks a Norwegian national identity number without sending anything, with `rules` (the
/// strict default when `None`). Returns its kind and masked form, or
/// [`SafeconvError::InvalidNin`] saying why it is refused.
#[uniffi::export(default(rules = None))]
pub fn check_nin(nin: String, rules: Option<NinRules>) -> Result<NinInfo, SafeconvError> {
    let nin = Nin::parse_with(&nin, rules.unwrap_or_default())?;
    Ok(NinInfo::from(&nin))
}

/// Masks a NIN-like string for display or logs, keeping at most the six date digits
/// (`170290*****`).
#[uniffi::export]
pub fn mask_nin(nin: String) -> String {
    crate::nin::mask_nin(nin.trim())
}

/// The version of the safeconv library the bindings were built from.
#[uniffi::export]
pub fn safeconv_version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}
