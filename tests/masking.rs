//! No NIN, client secret or access token in log output, errors or Debug, with every log level
//! on through a whole flow, a failure and a cancel.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use safeconv::{Client, NinRules, WaitOptions};
use safeconv_emulator::{Endpoint, Fault, ServerCertificate, TestProxy, TestProxyConfig};

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

impl Captured {
    /// Everything logged so far, after checking that the flow's logging was captured at all.
    fn log(&self) -> String {
        let log = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
        assert!(
            log.contains("session created"),
            "logging was captured:\n{log}"
        );
        log
    }
}

/// Captures every log event of this thread, at every level, until the guard is dropped.
fn capture_logs() -> (Captured, tracing::subscriber::DefaultGuard) {
    let captured = Captured::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .finish();
    (captured, tracing::subscriber::set_default(subscriber))
}

#[tokio::test]
async fn nothing_secret_reaches_the_logs() {
    let (captured, _guard) = capture_logs();

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

    texts.push(captured.log());
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

#[tokio::test]
async fn the_proxy_password_never_reaches_debug_errors_or_logs() {
    const PASSWORD: &str = "pr0xy-hunter2";
    let (captured, _guard) = capture_logs();
    let emulator = emulator_with(|c| c.tls = Some(ServerCertificate::Loopback)).await;
    let proxy = TestProxy::start(TestProxyConfig {
        credentials: Some(("agent".into(), PASSWORD.into())),
        ..Default::default()
    })
    .await
    .unwrap();
    let https = || {
        builder(&emulator)
            .add_ca_pem(emulator.ca_pem().unwrap())
            .no_proxy("")
    };
    let mut texts = Vec::new();

    let good = https()
        .proxy_url(proxy.url())
        .proxy_credentials("agent", PASSWORD);
    texts.push(format!("{good:?}"));
    let client = good.build().unwrap();
    texts.push(format!("{client:?}"));
    let session = client.start_safe_conversation_for(APPROVER).await.unwrap();
    let outcome = client.wait(&session, WaitOptions::new()).await.unwrap();
    texts.push(format!("{outcome:?}"));

    // A wrong password, given in the URL: refused by the proxy.
    let wrong = https().proxy_url(
        proxy
            .url()
            .replace("http://", &format!("http://agent:{PASSWORD}x@")),
    );
    texts.push(format!("{wrong:?}"));
    let client = wrong.build().unwrap();
    texts.push(format!("{client:?}"));
    let err = client
        .start_safe_conversation_for(APPROVER)
        .await
        .unwrap_err();
    texts.push(format!("{err:?} {err}"));
    assert_eq!(proxy.counters().auth_failures, 1, "{err}");

    texts.push(captured.log());
    let all = texts.join("\n");
    assert!(!all.contains(PASSWORD), "the proxy password leaked:\n{all}");
}
