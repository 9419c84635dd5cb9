//! Reaching the HTTPS emulator through a loopback HTTP proxy, as a call centre reaches Signicat
//! through its bank's egress proxy: tunnels the proxy counts, credentials, exceptions, and the
//! errors that name the proxy (never its password).
//!
//! Every client here gives `no_proxy` explicitly, so that a `NO_PROXY` in the environment of
//! the test run cannot change what is tested (the CLI tests cover the variable, in a child
//! process).

mod common;

use common::*;
use safeconv::{ClientBuilder, Error, Outcome, TransportErrorKind, WaitOptions};
use safeconv_emulator::{Emulator, ServerCertificate, TestProxy, TestProxyConfig};

const PROXY_USER: &str = "agent-4711";
const PROXY_PASSWORD: &str = "pr0xy-hunter2";

async fn https_emulator() -> Emulator {
    emulator_with(|config| config.tls = Some(ServerCertificate::Loopback)).await
}

async fn proxy(configure: impl FnOnce(&mut TestProxyConfig)) -> TestProxy {
    let mut config = TestProxyConfig::default();
    configure(&mut config);
    TestProxy::start(config).await.expect("proxy starts")
}

async fn proxy_with_credentials() -> TestProxy {
    proxy(|c| c.credentials = Some((PROXY_USER.into(), PROXY_PASSWORD.into()))).await
}

/// A client for the HTTPS emulator (its CA added) through `proxy`.
fn through(emulator: &Emulator, proxy: &TestProxy) -> ClientBuilder {
    builder(emulator)
        .add_ca_pem(emulator.ca_pem().unwrap())
        .proxy_url(proxy.url())
        .no_proxy("")
}

async fn verify(client: &safeconv::Client) -> Result<Outcome, Error> {
    let session = client.start_safe_conversation_for(APPROVER).await?;
    client.wait(&session, WaitOptions::new()).await
}

fn transport(error: &Error) -> (TransportErrorKind, &str) {
    match error {
        Error::Transport { kind, message } => (*kind, message.as_str()),
        other => panic!("expected a transport error, got {other:?}"),
    }
}

#[tokio::test]
async fn https_goes_through_the_proxy_when_configured() {
    let emulator = https_emulator().await;
    let proxy = proxy(|_| {}).await;
    let client = through(&emulator, &proxy).build().unwrap();
    assert_eq!(
        client.config().proxy_url(),
        Some(format!("{}/", proxy.url()).as_str())
    );
    let outcome = verify(&client).await.unwrap();
    assert!(matches!(outcome, Outcome::Success(_)), "{outcome:?}");
    let counters = proxy.counters();
    assert!(counters.tunnels_opened >= 1, "{counters:?}");
    assert_eq!(counters.requests_forwarded, 0);
    assert_eq!(emulator.counters().sessions_created, 1);
}

#[tokio::test]
async fn proxy_credentials_given_apart_or_in_the_url() {
    let emulator = https_emulator().await;
    let proxy = proxy_with_credentials().await;
    let client = through(&emulator, &proxy)
        .proxy_credentials(PROXY_USER, PROXY_PASSWORD)
        .build()
        .unwrap();
    assert!(matches!(verify(&client).await, Ok(Outcome::Success(_))));

    let in_url = proxy
        .url()
        .replace("http://", &format!("http://{PROXY_USER}:{PROXY_PASSWORD}@"));
    let client = through(&emulator, &proxy)
        .proxy_url(in_url)
        .build()
        .unwrap();
    assert!(!format!("{client:?}").contains(PROXY_PASSWORD));
    assert_eq!(
        client.config().proxy_url(),
        Some(format!("{}/", proxy.url()).as_str())
    );
    assert!(matches!(verify(&client).await, Ok(Outcome::Success(_))));
    assert_eq!(proxy.counters().auth_failures, 0);
    assert!(proxy.counters().tunnels_opened >= 2);
}

#[tokio::test]
async fn wrong_proxy_credentials_are_the_proxy_error_naming_the_proxy() {
    let emulator = https_emulator().await;
    let proxy = proxy_with_credentials().await;
    for client in [
        through(&emulator, &proxy)
            .proxy_credentials(PROXY_USER, "guess")
            .build()
            .unwrap(),
        through(&emulator, &proxy).build().unwrap(),
    ] {
        let error = verify(&client).await.unwrap_err();
        let (kind, message) = transport(&error);
        assert_eq!(kind, TransportErrorKind::Proxy, "{error}");
        assert!(message.contains(&proxy.url()), "{message}");
        assert!(message.contains("407"), "{message}");
        assert!(!error.is_transient());
        assert!(error.to_string().starts_with("proxy refused: "), "{error}");
        assert!(!format!("{error:?}").contains("guess"));
    }
    // Not retried, and nothing reached the emulator.
    assert_eq!(proxy.counters().auth_failures, 2);
    assert_eq!(emulator.counters().token_requests, 0);
}

#[tokio::test]
async fn no_proxy_bypasses_it() {
    let emulator = https_emulator().await;
    let proxy = proxy(|_| {}).await;
    for exceptions in ["127.0.0.1", "localhost, 127.0.0.0/8", "*"] {
        let client = through(&emulator, &proxy)
            .no_proxy(exceptions)
            .build()
            .unwrap();
        assert_eq!(client.config().no_proxy(), Some(exceptions));
        assert!(matches!(verify(&client).await, Ok(Outcome::Success(_))));
    }
    assert_eq!(proxy.counters(), Default::default());
    assert_eq!(emulator.counters().sessions_created, 3);
}

#[tokio::test]
async fn a_proxy_that_refuses_the_tunnel_is_the_proxy_error() {
    let emulator = https_emulator().await;
    for status in [403, 502] {
        let proxy = proxy(|c| c.refuse_with = Some(status)).await;
        let client = through(&emulator, &proxy).build().unwrap();
        let error = client.get_session("some-session").await.unwrap_err();
        let (kind, message) = transport(&error);
        assert_eq!(kind, TransportErrorKind::Proxy, "{error}");
        assert!(message.contains(&proxy.url()), "{message}");
        assert!(
            message.contains("refused to open a tunnel to 127.0.0.1:"),
            "{message}"
        );
        assert_eq!(proxy.counters().refused, 1, "a refusal is not retried");
    }
    assert_eq!(emulator.counters().token_requests, 0);
}

#[tokio::test]
async fn a_proxy_that_cannot_be_reached_is_a_connect_error_naming_it() {
    let emulator = https_emulator().await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let client = builder(&emulator)
        .add_ca_pem(emulator.ca_pem().unwrap())
        .proxy_url(format!("http://{PROXY_USER}:{PROXY_PASSWORD}@{closed}"))
        .no_proxy("")
        .build()
        .unwrap();
    let error = verify(&client).await.unwrap_err();
    let (kind, message) = transport(&error);
    assert_eq!(kind, TransportErrorKind::Connect, "{error}");
    assert!(
        message.starts_with(&format!("cannot reach the proxy http://{closed}")),
        "{message}"
    );
    assert!(!message.contains(PROXY_PASSWORD), "{message}");
    // Like any refused connection: the request was not sent, and trying again may work.
    assert!(error.is_transient());
    assert_eq!(emulator.counters().token_requests, 0);
}

#[tokio::test]
async fn plain_http_is_forwarded_and_a_407_there_is_the_proxy_error_too() {
    let emulator = emulator().await;
    let open = proxy(|_| {}).await;
    let client = builder(&emulator)
        .proxy_url(open.url())
        .no_proxy("")
        .build()
        .unwrap();
    assert!(matches!(verify(&client).await, Ok(Outcome::Success(_))));
    assert!(open.counters().requests_forwarded >= 3);

    let guarded = proxy_with_credentials().await;
    let client = builder(&emulator)
        .proxy_url(guarded.url())
        .no_proxy("")
        .build()
        .unwrap();
    let error = verify(&client).await.unwrap_err();
    let (kind, message) = transport(&error);
    assert_eq!(kind, TransportErrorKind::Proxy, "{error}");
    assert!(
        message.contains(&guarded.url()) && message.contains("407"),
        "{message}"
    );
}
