//! # safeconv-relay
//!
//! The backend that browser softphones and mobile agent apps talk to instead of Signicat. It
//! serves Signicat's three session endpoints at the same paths with the same JSON, so every
//! safeconv client works against it unchanged (`baseUrl` = the relay, token provider = the
//! agent's own credential), and in between it:
//!
//! - authenticates every agent (JWT via JWKS, or a static API key stored hashed);
//! - builds the upstream request itself: only headless Norwegian BankID Safe Conversation,
//!   allowlisted attributes, the NIN validated with the core's rules;
//! - keeps one active session per NIN and limits creates per NIN and per agent, in the
//!   database;
//! - lets only the creating agent read or cancel a session;
//! - answers fast polls and ended sessions from the last upstream answer;
//! - writes an append-only, hash-chained audit log (NINs as keyed hashes, masked).
//!
//! Upstream it uses the safeconv core [`Client`](safeconv::Client): token cache, retries of
//! reads, never a blind re-create.
//!
//! ```no_run
//! # async fn run() -> Result<(), String> {
//! use safeconv_relay::settings::{FileConfig, Settings};
//! let settings = Settings {
//!     file: FileConfig::read(std::path::Path::new("relay.toml"))?,
//!     client_secret_env: std::env::var("SAFECONV_CLIENT_SECRET").ok().map(Into::into),
//! };
//! let relay = safeconv_relay::Relay::start(settings.relay_config().await?)
//!     .await
//!     .map_err(|e| e.to_string())?;
//! let server = safeconv_relay::Server::bind(relay, settings.listen()?, None)
//!     .await
//!     .map_err(|e| e.to_string())?;
//! println!("SAFECONV_RELAY_URL={}", server.url());
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

pub mod audit;
pub mod auth;
mod http;
mod keys;
pub mod metrics;
mod policy;
mod poll_cache;
mod problem;
mod server;
mod service;
pub mod settings;
pub mod store;
mod upstream;

pub use audit::{AuditKey, AuditRecord, ChainBreak, ChainVerifier, NinTag};
pub use policy::{AllowedCreate, CreatePolicy, NBID_ATTRIBUTES, PolicyRefusal};
pub use problem::Problem;
pub use server::{SHUTDOWN_GRACE, Server};
pub use service::{Caller, HttpSettings, Limits, Relay, RelayConfig};
pub use upstream::UpstreamSettings;
