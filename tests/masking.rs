//! No NIN, client secret or access token in log output, errors or Debug, with every log level
//! on through a whole flow, a failure and a cancel.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use safeconv::{Client, NinRules, WaitOptions};
use safeconv_emulator::{Endpoint, Fault};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn nothing_secret_reaches_the_logs() {
    let captured = Captured::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let emulator = emulator().await;
    let secret = emulator.config().client_secret.clone();
    let client: Client = builder(&emulator)
        .nin_rules(NinRules::strict())
        .build()
        .unwrap();
    let mut texts = vec![format!("{client:?}")];

    let session = client.start_safe_conversation_for(APPROVER).await.unwrap();
    texts.push(format!("{session:?}"));
    emulator.inject(Some(Endpoint::GetSession), Fault::RejectToken, 1);
    emulator.inject(Some(Endpoint::GetSession), Fault::InternalError, 1);
    let outcome = client.wait(&session, WaitOptions::new()).await.unwrap();
    texts.push(format!("{outcome:?}"));

    let silent = client.start_safe_conversation_for(SILENT).await.unwrap();
    drop(
        client
            .wait(
                &silent,
                WaitOptions::new().timeout(Duration::from_millis(100)),
            )
            .await,
    );
    texts.push(format!(
        "{:?}",
        client
            .start_safe_conversation_for("17029012345")
            .await
            .unwrap_err()
    ));
    texts.push(
        client
            .start_safe_conversation_for("17029012345")
            .await
            .unwrap_err()
            .to_string(),
    );

    let bad = builder(&emulator)
        .client_credentials("id", "not-the-secret-4711")
        .build()
        .unwrap();
    let err = bad.start_safe_conversation_for(APPROVER).await.unwrap_err();
    texts.push(format!("{err:?} {err}"));
    texts.push(format!("{bad:?}"));

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        log.contains("session created"),
        "logging was captured:\n{log}"
    );
    texts.push(log);
    let all = texts.join("\n");
    for forbidden in [
        APPROVER,
        SILENT,
        "17029012345",
        secret.as_str(),
        "not-the-secret-4711",
        "Bearer ",
    ] {
        assert!(!all.contains(forbidden), "{forbidden:?} leaked:\n{all}");
    }
}
