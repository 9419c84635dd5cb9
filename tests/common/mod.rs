//! Shared set-up for the integration tests: a real emulator on loopback and a client for it.
#![allow(dead_code)]

use std::time::Duration;

use safeconv::{Client, ClientBuilder, NinRules};
use safeconv_emulator::{Behaviour, Emulator, EmulatorConfig};

/// Approves after 300 ms (a valid fødselsnummer, not one of the emulator's personas).
pub const APPROVER: &str = "01018010018";
pub const DECLINER: &str = "17029010021";
pub const FAILER: &str = "15058510170";
pub const SILENT: &str = "24047510003";
pub const NO_APP: &str = "31129910065";

pub const POLL: Duration = Duration::from_millis(50);

pub async fn emulator() -> Emulator {
    emulator_with(|_| {}).await
}

pub async fn emulator_with(configure: impl FnOnce(&mut EmulatorConfig)) -> Emulator {
    let mut config = EmulatorConfig {
        default_behaviour: Behaviour::Approve {
            after: Duration::from_millis(300),
        },
        min_session_lifetime: Duration::from_secs(1),
        ..EmulatorConfig::default()
    };
    configure(&mut config);
    let emulator = Emulator::start(config).await.expect("emulator starts");
    emulator.set_behaviour(
        DECLINER,
        Behaviour::Decline {
            after: Duration::from_millis(300),
        },
    );
    emulator.set_behaviour(
        FAILER,
        Behaviour::Fail {
            after: Duration::from_millis(300),
            code: "authentication_failed".into(),
        },
    );
    emulator.set_behaviour(SILENT, Behaviour::NeverAnswer);
    emulator.set_behaviour(NO_APP, Behaviour::NoApp);
    emulator
}

pub fn builder(emulator: &Emulator) -> ClientBuilder {
    let config = emulator.config();
    Client::builder()
        .base_url(emulator.url())
        .account_id(config.account_id.clone())
        .client_credentials(config.client_id.clone(), config.client_secret.clone())
        .poll_interval(POLL)
        .request_timeout(Duration::from_secs(2))
        .nin_rules(NinRules::strict().allow_synthetic(true))
}

pub fn client(emulator: &Emulator) -> Client {
    builder(emulator).build().expect("client builds")
}

/// Polls `check` until it is true or 5 s pass.
pub async fn eventually(mut check: impl FnMut() -> bool) -> bool {
    for _ in 0..100 {
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}
