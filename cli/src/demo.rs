//! `safeconv demo`: the whole Safe Conversation against the embedded emulator, with a scripted
//! caller, so anyone can see the flow without a Signicat account.

use std::time::Duration;

use safeconv::{Client, Nin, NinRules, SafeConversation};
use safeconv_emulator::{Emulator, EmulatorConfig};

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
    let built = Client::builder()
        .base_url(emulator.url())
        .account_id(config.account_id.clone())
        .client_credentials(config.client_id.clone(), config.client_secret.clone())
        .poll_interval(Duration::from_millis(500))
        .nin_rules(rules)
        .build();
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
        println!("  caller    {who}; national identity number {nin}");
    }
    let code = run::converse(&client, &conversation, None, reporter).await;
    emulator.shutdown().await;
    code
}
