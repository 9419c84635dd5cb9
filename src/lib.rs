//! # safeconv
//!
//! Verify a caller's identity with Norwegian BankID **Safe Conversation** (call-centre
//! authentication) through Signicat's headless Authentication REST API.
//!
//! The agent collects the caller's national identity number; [`Client::start_safe_conversation`]
//! creates a headless session, and BankID pushes a request to the caller's phone; the agent
//! reads the session's [binding message](Session::binding_message) aloud and the caller
//! confirms the same words in the app; [`Client::wait`] polls until the session ends and
//! returns the [`Outcome`], with the verified [`Subject`] on success.
//!
//! ```no_run
//! use std::time::Duration;
//! use safeconv::{Client, Nin, Outcome, SafeConversation, WaitOptions};
//!
//! # async fn run() -> Result<(), safeconv::Error> {
//! let client = Client::builder()
//!     .account_id("a-spge-4711")
//!     .client_credentials("sandbox-client", "secret")
//!     .build()?;
//!
//! let nin = Nin::parse("01018010018")?;
//! let session = client.start_safe_conversation(&SafeConversation::new(nin)).await?;
//! println!("Ask the caller to confirm: {}", session.binding_message().unwrap_or_default());
//!
//! let options = WaitOptions::new()
//!     .timeout(Duration::from_secs(180))
//!     .on_status(|s| println!("status: {}", s.status));
//! match client.wait(&session, options).await? {
//!     Outcome::Success(subject) => println!("verified {}", subject.name.unwrap_or_default()),
//!     Outcome::Aborted => println!("the caller declined"),
//!     other => println!("not verified: {}", other.status()),
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Natively the client runs on tokio; on `wasm32-unknown-unknown` it uses the browser's
//! `fetch` and JavaScript timers. National identity numbers, client secrets and tokens are
//! never written to logs, errors or `Debug` output.

#![warn(missing_docs)]

mod background;
mod backoff;
mod cancel;
mod client;
mod config;
mod error;
mod log;
mod nin;
mod operations;
mod options;
mod proxy;
mod report;
mod request;
mod runtime;
mod secret;
mod session;
mod timestamp;
mod tls;
mod token;
mod transport;
mod wait;

// The C ABI: exported symbols for C, not a Rust API (see docs/c-api.md).
#[cfg(all(feature = "c-api", not(target_arch = "wasm32")))]
mod ffi;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;

pub use background::wait_for_background_work;
pub use cancel::CancelToken;
pub use client::Client;
pub use config::{
    ClientBuilder, Config, Credentials, DEFAULT_BASE_URL, DEFAULT_POLL_INTERVAL,
    DEFAULT_REQUEST_TIMEOUT, MIN_REMOTE_POLL_INTERVAL,
};
pub use error::{ApiError, Error, Result, TOKEN_PROVIDER_FAILED, TransportErrorKind};
pub use log::{LogLevel, LogRecord, LogSink, set_log_sink};
pub use nin::{Nin, NinError, NinKind, NinRules, mask_nin};
pub use operations::{Operation, Operations};
pub use options::{ClientOptions, StartOptions};
pub use report::{ErrorKind, ErrorReport};
pub use request::{
    CallbackUrls, CreateSessionRequest, DEFAULT_ATTRIBUTES, PrefilledInput, SafeConversation,
};
pub use runtime::{BoxFuture, MaybeSend, MaybeSync};
pub use secret::{Secret, redact_nins};
pub use session::{Outcome, Session, SessionError, Status, Subject, SubjectNin};
pub use timestamp::{Timestamp, TimestampError};
pub use tls::TrustRoots;
pub use token::{AccessToken, TokenProvider};
pub use wait::WaitOptions;

/// This SDK's version, from its `Cargo.toml`: every language's package reports the same one.
///
/// ```
/// assert_eq!(safeconv::VERSION.split('.').count(), 3);
/// ```
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

// Compiles (and so checks) the README's Rust example.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
