//! `safeconv demo`: the whole Safe Conversation against the embedded emulator, with a scripted
//! caller, so anyone can see the flow without a Signicat account; with `--relay`, through an
//! embedded safeconv-relay as browser and mobile agents go.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use safeconv::{AccessToken, BoxFuture, Client, Nin, NinRules, SafeConversation, TokenProvider};
use safeconv_emulator::{Emulator, EmulatorConfig};
use safeconv_relay::settings::{FileConfig, Settings};
use safeconv_relay::store::Store;
use safeconv_relay::{ChainVerifier, Relay, Server};

use crate::args::{Caller, DemoArgs};
use crate::report::Reporter;
use crate::{exit, run};

/// The emulator's built-in personas (synthetic Tenor numbers, so they belong to no one).
fn persona(caller: Caller) -> (&'static str, &'static str) {
    match caller {
        Caller::Approve => ("17829040085", "Kari Nordmann, who will confirm"),
        Caller::Decline => ("01818040071", "Ola Nordmann, who will decline"),
        Caller::Fail => ("15858540043", "Per Hansen, whose authentication will fail"),
        Caller::Silent => ("24847540067", "Ingrid Berg, who will never answer"),
        Caller::NoApp => ("31929940019", "Nils Dahl, who has no BankID app"),
    }
}

pub async fn run(args: DemoArgs) -> i32 {
    let reporter = Reporter::new(args.json);
    let emulator = match Emulator::start(EmulatorConfig {
        // Lets the silent caller's session expire in seconds rather than Signicat's 5 minutes.
        min_session_lifetime: Duration::from_secs(5),
        ..EmulatorConfig::default()
    })
    .await
    {
        Ok(emulator) => emulator,
        Err(e) => {
            eprintln!("safeconv: cannot start the embedded emulator: {e}");
            return exit::TRANSPORT;
        }
    };
    let config = emulator.config();
    let rules = NinRules::strict().allow_synthetic(true);
    let relay = if args.relay {
        match DemoRelay::start(&emulator).await {
            Ok(relay) => Some(relay),
            Err(e) => {
                eprintln!("safeconv: cannot start the embedded relay: {e}");
                return exit::TRANSPORT;
            }
        }
    } else {
        None
    };
    let builder = Client::builder()
        .account_id(config.account_id.clone())
        .poll_interval(Duration::from_millis(500))
        .nin_rules(rules);
    let built = match &relay {
        // The agent's side: the relay's URL and the agent's own key, no Signicat secret.
        Some(relay) => builder
            .base_url(relay.server.url())
            .token_provider(Arc::new(AgentKey(relay.agent_key.clone())))
            .build(),
        None => builder
            .base_url(emulator.url())
            .client_credentials(config.client_id.clone(), config.client_secret.clone())
            .build(),
    };
    let client = match built {
        Ok(client) => client,
        Err(e) => {
            reporter.error(&e);
            return exit::for_error(&e);
        }
    };
    let (nin, who) = persona(args.caller);
    let nin = Nin::parse_with(nin, rules).expect("the personas' numbers are valid test numbers");
    let mut conversation = SafeConversation::new(nin.clone());
    if matches!(args.caller, Caller::Silent) {
        conversation = conversation.session_lifetime(5);
    }
    if !args.json {
        println!("safeconv demo — a Safe Conversation against the embedded Signicat emulator");
        println!("  emulator  {}", emulator.url());
        if let Some(relay) = &relay {
            println!(
                "  relay     {} (agent {DEMO_AGENT}, with its own key; the relay holds the Signicat secret)",
                relay.server.url()
            );
        }
        println!("  caller    {who}; national identity number {nin}");
    }
    let code = run::converse(&client, &conversation, None, reporter).await;
    if let Some(relay) = relay {
        let summary = relay.finish().await;
        if !args.json {
            println!("  audit     {summary}");
        }
    }
    emulator.shutdown().await;
    code
}

const DEMO_AGENT: &str = "demo-agent";

/// The agent's credential as the client's token provider, as an agent app does.
struct AgentKey(String);

impl TokenProvider for AgentKey {
    fn access_token(&self) -> BoxFuture<'_, Result<AccessToken, safeconv::Error>> {
        let key = self.0.clone();
        Box::pin(async move { Ok(AccessToken::new(key)) })
    }
}

/// A relay in front of the embedded emulator, on a throwaway SQLite file.
struct DemoRelay {
    server: Server,
    settings: Settings,
    agent_key: String,
    dir: PathBuf,
}

impl DemoRelay {
    async fn start(emulator: &Emulator) -> Result<DemoRelay, String> {
        let dir = std::env::temp_dir().join(format!("safeconv-demo-relay-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let agent_key = safeconv_relay::auth::new_agent_key();
        let hash = safeconv_relay::auth::hash_agent_key(&agent_key)?;
        std::fs::write(dir.join("agents.keys"), format!("{DEMO_AGENT} {hash}\n"))
            .map_err(|e| e.to_string())?;
        let config = emulator.config();
        let mut file = FileConfig {
            database_url: Some(format!("sqlite://{}", dir.join("relay.db").display())),
            agent_keys: Some(dir.join("agents.keys")),
            instance: Some("demo".to_owned()),
            ..FileConfig::default()
        };
        file.upstream.base_url = Some(emulator.url());
        file.upstream.account_id = Some(config.account_id.clone());
        file.upstream.client_id = Some(config.client_id.clone());
        // The personas have synthetic (Tenor) numbers, as sandbox test users do.
        file.policy.allow_synthetic = Some(true);
        file.policy.min_poll_interval_ms = Some(500);
        let settings = Settings {
            file,
            client_secret_env: Some(config.client_secret.clone().into()),
        };
        let relay = Relay::start(settings.relay_config().await?)
            .await
            .map_err(|e| e.to_string())?;
        let server = Server::bind(relay, "127.0.0.1:0".parse().expect("an address"), None)
            .await
            .map_err(|e| e.to_string())?;
        Ok(DemoRelay {
            server,
            settings,
            agent_key,
            dir,
        })
    }

    /// Stops the relay, verifies its audit log and removes its files; says what the log holds.
    async fn finish(self) -> String {
        self.server.shutdown().await;
        let summary = match self.settings.open_store(false).await {
            Ok((store, key)) => {
                let keys = [key];
                let mut verifier = ChainVerifier::new(&keys);
                let mut actions = Vec::new();
                let mut result = Ok(());
                if let Ok(records) = store.audit_page(0, None, 1000).await {
                    for record in &records {
                        actions.push(record.action.clone());
                        if let Err(e) = verifier.check(record) {
                            result = Err(e);
                            break;
                        }
                    }
                }
                let head = store.audit_head().await.ok().flatten();
                store.close().await;
                match result.and_then(|()| verifier.finish(head)) {
                    Ok(report) => format!(
                        "{} records ({}), chain intact",
                        report.records,
                        actions.join(", ")
                    ),
                    Err(e) => format!("chain broken at {e}"),
                }
            }
            Err(e) => format!("cannot be read: {e}"),
        };
        let _ = std::fs::remove_dir_all(&self.dir);
        summary
    }
}
