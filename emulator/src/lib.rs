//! A faithful local emulator of Signicat's headless Authentication REST API for Norwegian
//! BankID "Safe Conversation", for testing clients without the real service.
//!
//! It is a real HTTP/1.1 server on 127.0.0.1 with scripted end-users ([`Behaviour`]) and
//! fault injection ([`Fault`]). Rust tests use it in-process:
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use std::time::Duration;
//! use safeconv_emulator::{Behaviour, Emulator, EmulatorConfig, Endpoint, Fault};
//!
//! let emulator = Emulator::start(EmulatorConfig::default()).await?;
//! emulator.set_behaviour("17029012345", Behaviour::Approve { after: Duration::from_millis(300) });
//! emulator.inject(Some(Endpoint::GetSession), Fault::InternalError, 1);
//! let base_url = emulator.url(); // "http://127.0.0.1:PORT"
//! # let _ = base_url;
//! emulator.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! With [`EmulatorConfig::tls`] it serves HTTPS instead, with a certificate signed by a test CA
//! made at start-up ([`Emulator::ca_pem`]), so that clients run their real certificate checks:
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use safeconv_emulator::{Emulator, EmulatorConfig, ServerCertificate};
//!
//! let emulator = Emulator::start(EmulatorConfig {
//!     tls: Some(ServerCertificate::Loopback),
//!     ..Default::default()
//! })
//! .await?;
//! assert!(emulator.url().starts_with("https://127.0.0.1:"));
//! let ca_pem = emulator.ca_pem().unwrap(); // trust this, or fail with "unknown issuer"
//! # let _ = ca_pem;
//! # Ok(()) }
//! ```
//!
//! [`TestProxy`] is a loopback HTTP proxy (`CONNECT` tunnels, optional Basic credentials,
//! counters) for tests of proxy support.
//!
//! Other languages run the `safeconv-emulator` binary (with `--tls`, `--proxy` for the same)
//! and drive it through the admin API under `/emulator/` (see the README).
//!
//! The server runs on its own thread with its own single-threaded Tokio runtime, so it works
//! the same from any runtime flavour (or none, with [`Emulator::start_blocking`]) and keeps
//! serving while a test blocks.

#![warn(missing_docs)]

mod admin;
mod api;
mod behaviour;
mod clock;
mod config;
mod cors;
mod counters;
mod errors;
mod faults;
mod personas;
mod proxy;
mod rng;
mod routes;
mod server;
mod sessions;
mod state;
mod tls;
mod tokens;
mod urlenc;
mod wire;
mod words;

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;

pub use behaviour::Behaviour;
pub use config::EmulatorConfig;
pub use counters::Counters;
pub use faults::{Endpoint, Fault};
pub use proxy::{ProxyCounters, TestProxy, TestProxyConfig};
pub use sessions::SessionView;
pub use tls::{OTHER_HOST_NAME, ServerCertificate};

use server::ServerHandle;
use state::{Shared, lock};
use tls::{CaFile, TestPki};

/// A running emulator. Dropping it shuts the server down (without waiting); prefer
/// [`Emulator::shutdown`] in async code to wait until every connection is closed.
#[derive(Debug)]
pub struct Emulator {
    shared: Arc<Shared>,
    url: String,
    server: ServerHandle,
    /// With HTTPS: the test CA, in PEM and on disk.
    ca: Option<(String, CaFile)>,
}

impl Emulator {
    /// Bind 127.0.0.1 on `config.port` (0: any free port) and start serving.
    pub async fn start(config: EmulatorConfig) -> io::Result<Emulator> {
        Self::start_blocking(config)
    }

    /// [`Emulator::start`] for code without an async runtime (the server has its own thread).
    pub fn start_blocking(mut config: EmulatorConfig) -> io::Result<Emulator> {
        let listener =
            std::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, config.port)))?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        config.port = port;
        let label = format!("{}-{port}", std::process::id());
        let pki = config
            .tls
            .map(|certificate| TestPki::generate(certificate, &label))
            .transpose()?;
        let ca = match &pki {
            Some(pki) => {
                let file = CaFile::write(&pki.ca_pem, config.ca_file.as_deref(), port)?;
                Some((pki.ca_pem.clone(), file))
            }
            None => None,
        };
        let scheme = if pki.is_some() { "https" } else { "http" };
        let shared = Arc::new(Shared::new(config));
        let server = server::spawn(listener, shared.clone(), pki.map(|p| p.acceptor))?;
        Ok(Emulator {
            shared,
            url: format!("{scheme}://127.0.0.1:{port}"),
            server,
            ca,
        })
    }

    /// The base URL without a trailing slash: `http://127.0.0.1:PORT`, or
    /// `https://127.0.0.1:PORT` when serving HTTPS (`https://localhost:PORT` works too).
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The test CA that signed the server certificate, in PEM, when serving HTTPS. It is made
    /// at start-up and its key never leaves the process.
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca.as_ref().map(|(pem, _)| pem.as_str())
    }

    /// The file holding [`Emulator::ca_pem`], when serving HTTPS (see [`EmulatorConfig::ca_file`]).
    pub fn ca_file(&self) -> Option<&Path> {
        self.ca.as_ref().map(|(_, file)| file.path())
    }

    /// The configuration as started, with `port` set to the port actually bound. Changes made
    /// later through `PUT /emulator/config` are not reflected here.
    pub fn config(&self) -> &EmulatorConfig {
        &self.shared.config
    }

    /// Script the user behind `nin` for sessions created from now on (overrides personas and
    /// the default behaviour).
    pub fn set_behaviour(&self, nin: &str, behaviour: Behaviour) {
        lock(&self.shared.overrides).insert(nin.to_owned(), behaviour);
    }

    /// Make the next `times` requests to `endpoint` (`None`: to any API endpoint) fail with
    /// `fault`. Scripted faults are served first-in first-out, before the fault rate.
    pub fn inject(&self, endpoint: Option<Endpoint>, fault: Fault, times: u32) {
        lock(&self.shared.faults).inject(endpoint, fault, times);
    }

    /// Give each request to one of `endpoints` (empty: all four) a fault with probability
    /// `rate` (clamped to 0..=1), chosen uniformly from `faults` (empty: one of every kind, see
    /// [`Fault::all_kinds`]). The random sequence restarts from the configured seed.
    pub fn set_fault_rate(&self, rate: f64, faults: Vec<Fault>, endpoints: Vec<Endpoint>) {
        lock(&self.shared.faults).set_rate(rate, faults, endpoints);
    }

    /// Forget scripted faults and the fault rate.
    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// The request counters now.
    pub fn counters(&self) -> Counters {
        self.shared.counters.snapshot()
    }

    /// The server's own view of a session, with its status now.
    pub fn session(&self, id: &str) -> Option<SessionView> {
        let now = self.shared.clock.now();
        lock(&self.shared.sessions).get(id).map(|s| s.view(now))
    }

    /// The ids of every session the emulator holds now, in no particular order (for tests that
    /// reconcile what a client created with what the server has).
    pub fn session_ids(&self) -> Vec<String> {
        lock(&self.shared.sessions).ids()
    }

    /// Forget sessions, counters, faults and behaviour overrides. Issued tokens and settings
    /// changed through `PUT /emulator/config` are kept.
    pub fn reset(&self) {
        self.shared.reset();
    }

    /// Stop serving and wait until the server thread has closed every connection.
    pub async fn shutdown(mut self) {
        self.server.stop().await;
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.server.signal_stop();
    }
}
