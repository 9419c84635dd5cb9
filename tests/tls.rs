//! The production TLS path (rustls on `ring`, certificate and host-name checks) against the
//! emulator over real HTTPS on loopback, with its test CA added, missing, or the wrong one.

mod common;

use common::*;
use safeconv::{Error, Outcome, TransportErrorKind, TrustRoots, WaitOptions};
use safeconv_emulator::{Emulator, ServerCertificate};

async fn https_emulator(certificate: ServerCertificate) -> Emulator {
    emulator_with(|config| config.tls = Some(certificate)).await
}

/// The emulator's CA, as a bank's CA would be handed to the SDK.
fn ca_pem(emulator: &Emulator) -> String {
    emulator.ca_pem().expect("an HTTPS emulator").to_owned()
}

/// The refused handshakes the emulator counted, once it has read every client's alert (the
/// client returns first; all its attempts were made by then).
async fn refused_handshakes(emulator: &Emulator) -> u64 {
    assert!(
        eventually(|| emulator.counters().tls_handshakes_failed > 0).await,
        "the emulator saw no refused handshake"
    );
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    emulator.counters().tls_handshakes_failed
}

async fn verify(client: &safeconv::Client) -> Result<Outcome, Error> {
    let session = client.start_safe_conversation_for(APPROVER).await?;
    client.wait(&session, WaitOptions::new()).await
}

/// The TLS failure's message, after checking it is one, that it is not transient, and that the
/// emulator saw a refused handshake and not a single request.
fn tls_message(result: Result<Outcome, Error>, emulator: &Emulator) -> String {
    let error = result.expect_err("the handshake must fail");
    let message = match &error {
        Error::Transport {
            kind: TransportErrorKind::Tls,
            message,
        } => message.clone(),
        other => panic!("expected a TLS error, got {other:?}"),
    };
    assert!(!error.is_transient(), "{error}");
    assert_eq!(error.kind_code(), "transport");
    assert!(error.to_string().starts_with("TLS failed: "), "{error}");
    assert!(!message.contains("BEGIN CERTIFICATE"), "{message}");
    let counters = emulator.counters();
    assert_eq!(
        (counters.token_requests, counters.create_requests),
        (0, 0),
        "nothing may be sent over a refused handshake"
    );
    message
}

#[tokio::test]
async fn a_whole_flow_over_https_with_the_emulator_ca_added() {
    let emulator = https_emulator(ServerCertificate::Loopback).await;
    assert!(emulator.url().starts_with("https://"));
    let client = builder(&emulator)
        .add_ca_pem(ca_pem(&emulator))
        .build()
        .unwrap();
    assert_eq!(client.config().added_ca_count(), 1);
    assert_eq!(client.config().trust_roots(), TrustRoots::Bundled);
    let outcome = verify(&client).await.unwrap();
    assert!(matches!(outcome, Outcome::Success(_)), "{outcome:?}");
    assert_eq!(emulator.counters().tls_handshakes_failed, 0);
    assert_eq!(emulator.counters().sessions_created, 1);
}

#[tokio::test]
async fn the_ca_from_a_file_by_name_and_as_the_only_root() {
    let emulator = https_emulator(ServerCertificate::Loopback).await;
    let file = emulator.ca_file().unwrap().to_owned();
    let by_name = emulator.url().replace("127.0.0.1", "localhost");
    let client = builder(&emulator)
        .base_url(by_name)
        .add_ca_file(&file)
        .trust_roots(TrustRoots::AddedOnly)
        .build()
        .unwrap();
    let outcome = verify(&client).await.unwrap();
    assert!(matches!(outcome, Outcome::Success(_)), "{outcome:?}");
}

#[tokio::test]
async fn without_the_ca_the_issuer_is_unknown_and_nothing_is_sent() {
    let emulator = https_emulator(ServerCertificate::Loopback).await;
    // The default: Mozilla's roots, which do not include a test CA.
    let client = client(&emulator);
    let message = tls_message(verify(&client).await, &emulator);
    assert!(message.contains("unknown issuer"), "{message}");
    assert!(message.contains("127.0.0.1"), "{message}");
    // One handshake, not retried: the token fetch retries only transient failures.
    assert_eq!(refused_handshakes(&emulator).await, 1);

    // Another emulator's CA is no better.
    let other = https_emulator(ServerCertificate::Loopback).await;
    let client = builder(&emulator)
        .add_ca_pem(ca_pem(&other))
        .trust_roots(TrustRoots::AddedOnly)
        .build()
        .unwrap();
    let message = tls_message(verify(&client).await, &emulator);
    assert!(message.contains("unknown issuer"), "{message}");
}

#[tokio::test]
async fn a_certificate_for_another_host_fails_the_host_name_check() {
    let emulator = https_emulator(ServerCertificate::OtherHost).await;
    let client = builder(&emulator)
        .add_ca_pem(ca_pem(&emulator))
        .build()
        .unwrap();
    let message = tls_message(verify(&client).await, &emulator);
    assert!(
        message.contains("not valid for that host name"),
        "{message}"
    );
}

#[tokio::test]
async fn an_expired_certificate_fails_the_expiry_check() {
    let emulator = https_emulator(ServerCertificate::Expired).await;
    let client = builder(&emulator)
        .add_ca_pem(ca_pem(&emulator))
        .build()
        .unwrap();
    let message = tls_message(verify(&client).await, &emulator);
    assert!(message.contains("has expired"), "{message}");
}

#[tokio::test]
async fn reads_fail_once_and_are_not_retried() {
    let emulator = https_emulator(ServerCertificate::Loopback).await;
    let client = client(&emulator);
    let error = client.get_session("some-session").await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::Transport {
                kind: TransportErrorKind::Tls,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(refused_handshakes(&emulator).await, 1);
}

#[test]
fn bad_ca_input_is_refused_before_anything_is_sent() {
    let base = || {
        safeconv::Client::builder()
            .account_id("a-1")
            .client_credentials("id", "secret")
    };
    let field = |result: Result<safeconv::Client, Error>| match result {
        Err(Error::InvalidInput { field, .. }) => field,
        other => panic!("expected invalid input, got {other:?}"),
    };
    assert_eq!(field(base().add_ca_pem("garbage").build()), "ca_pem");
    assert_eq!(
        field(base().add_ca_file("/nonexistent/ca.pem").build()),
        "ca_file"
    );
    assert_eq!(
        field(base().trust_roots(TrustRoots::AddedOnly).build()),
        "trust_roots"
    );
}
