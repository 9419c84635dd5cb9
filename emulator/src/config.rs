//! Start-up configuration of an emulator.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::behaviour::Behaviour;
use crate::tls::ServerCertificate;

/// How an [`Emulator`](crate::Emulator) is started. Build it with struct-update syntax:
/// `EmulatorConfig { min_session_lifetime: Duration::from_secs(2), ..Default::default() }`.
#[derive(Clone, Debug, PartialEq)]
pub struct EmulatorConfig {
    /// TCP port on 127.0.0.1; `0` picks a free one (read it back with [`Emulator::url`](crate::Emulator::url)).
    pub port: u16,
    /// The API client's id, checked by the token endpoint.
    pub client_id: String,
    /// The API client's secret, checked by the token endpoint.
    pub client_secret: String,
    /// The account every session belongs to; `signicat-accountId` must equal it.
    pub account_id: String,
    /// How long an access token is valid (`expires_in`).
    pub token_lifetime: Duration,
    /// A requested `sessionLifetime` below this is raised to it (Signicat: 300 s).
    pub min_session_lifetime: Duration,
    /// `sessionLifetime` when the request gives none (Signicat: 1200 s).
    pub default_session_lifetime: Duration,
    /// What a user without a per-NIN override and who is not a built-in persona does.
    pub default_behaviour: Behaviour,
    /// Seed for the fault-rate random numbers, ids and binding messages.
    pub seed: u64,
    /// Log one line per request to stderr (NINs masked).
    pub log_requests: bool,
    /// Serve HTTPS with this certificate instead of plain HTTP (`None`, the default). The
    /// certificate is signed by a test CA made at start-up: see
    /// [`Emulator::ca_pem`](crate::Emulator::ca_pem) and [`Emulator::ca_file`](crate::Emulator::ca_file).
    pub tls: Option<ServerCertificate>,
    /// Where to write the test CA (PEM) when serving HTTPS. `None`: a `ca.pem` in a new
    /// directory under the system temp directory, removed when the emulator stops.
    pub ca_file: Option<PathBuf>,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            port: 0,
            client_id: "safeconv-demo-client".to_owned(),
            client_secret: "safeconv-demo-secret".to_owned(),
            account_id: "a-spge-emulator".to_owned(),
            token_lifetime: Duration::from_secs(600),
            min_session_lifetime: Duration::from_secs(300),
            default_session_lifetime: Duration::from_secs(1200),
            default_behaviour: Behaviour::Approve {
                after: Duration::from_secs(3),
            },
            seed: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0x5afe_c0de),
            log_requests: false,
            tls: None,
            ca_file: None,
        }
    }
}

/// The part of the configuration that `PUT /emulator/config` may change while running.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub(crate) token_lifetime: Duration,
    pub(crate) min_session_lifetime: Duration,
    pub(crate) default_session_lifetime: Duration,
    pub(crate) default_behaviour: Behaviour,
}

impl Settings {
    pub(crate) fn from_config(config: &EmulatorConfig) -> Self {
        Settings {
            token_lifetime: config.token_lifetime,
            min_session_lifetime: config.min_session_lifetime,
            default_session_lifetime: config.default_session_lifetime,
            default_behaviour: config.default_behaviour.clone(),
        }
    }
}
