//! Token caching, renewal, single flight and the one retry after a rejected token, counted by
//! the emulator.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::*;
use safeconv::{AccessToken, BoxFuture, Error, Outcome, TokenProvider, WaitOptions};
use safeconv_emulator::{Endpoint, Fault};

#[tokio::test]
async fn one_token_serves_many_requests() {
    let emulator = emulator().await;
    let client = client(&emulator);
    for _ in 0..3 {
        let session = client.start_safe_conversation_for(APPROVER).await.unwrap();
        client.get_session(&session.id).await.unwrap();
    }
    assert_eq!(emulator.counters().tokens_issued, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_sessions_share_a_single_token_fetch() {
    let emulator = emulator().await;
    // Slow token answers widen the window in which every session needs a token at once.
    emulator.inject(
        Some(Endpoint::Token),
        Fault::Slow {
            delay: Duration::from_millis(300),
        },
        1,
    );
    let client = client(&emulator);
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                let session = client.start_safe_conversation_for(APPROVER).await?;
                client.wait(&session, WaitOptions::new()).await
            })
        })
        .collect();
    for task in tasks {
        assert!(matches!(task.await.unwrap().unwrap(), Outcome::Success(_)));
    }
    let counters = emulator.counters();
    assert_eq!(counters.token_requests, 1, "{counters:?}");
    assert_eq!(counters.tokens_issued, 1);
    assert_eq!(counters.sessions_created, 50);
}

#[tokio::test]
async fn tokens_are_renewed_before_they_expire() {
    let emulator = emulator_with(|c| c.token_lifetime = Duration::from_secs(2)).await;
    let client = client(&emulator);
    let session = client.start_safe_conversation_for(APPROVER).await.unwrap();
    assert_eq!(emulator.counters().tokens_issued, 1);
    // Renewal happens a fifth of the lifetime early (0.4 s): at 1.7 s a new token is due.
    tokio::time::sleep(Duration::from_millis(1700)).await;
    client.get_session(&session.id).await.unwrap();
    let counters = emulator.counters();
    assert_eq!(counters.tokens_issued, 2);
    assert_eq!(
        counters.tokens_rejected, 0,
        "renewed before the server refused it"
    );
}

#[tokio::test]
async fn a_rejected_token_is_replaced_and_the_request_retried_once() {
    let emulator = emulator().await;
    let client = client(&emulator);
    let session = client.start_safe_conversation_for(APPROVER).await.unwrap();

    emulator.inject(Some(Endpoint::GetSession), Fault::RejectToken, 1);
    client.get_session(&session.id).await.unwrap();
    assert_eq!(emulator.counters().tokens_issued, 2);

    // Rejected twice in a row: the API's 401 error, not an endless loop.
    emulator.inject(Some(Endpoint::GetSession), Fault::RejectToken, 2);
    let err = client.get_session(&session.id).await.unwrap_err();
    assert_eq!(err.http_status(), Some(401), "{err:?}");
    assert_eq!(emulator.counters().tokens_issued, 3);
}

#[tokio::test]
async fn a_create_whose_token_was_rejected_is_sent_again() {
    let emulator = emulator().await;
    let client = client(&emulator);
    emulator.inject(Some(Endpoint::CreateSession), Fault::RejectToken, 1);
    client.start_safe_conversation_for(APPROVER).await.unwrap();
    let counters = emulator.counters();
    assert_eq!(
        (counters.create_requests, counters.sessions_created),
        (2, 1)
    );
}

#[tokio::test]
async fn token_fetches_are_retried_on_transient_failures() {
    let emulator = emulator().await;
    emulator.inject(Some(Endpoint::Token), Fault::InternalError, 1);
    emulator.inject(Some(Endpoint::Token), Fault::DropConnection, 1);
    let client = client(&emulator);
    client.start_safe_conversation_for(APPROVER).await.unwrap();
    assert_eq!(emulator.counters().token_requests, 3);
}

struct CountingProvider {
    token_url: String,
    client_id: String,
    secret: String,
    calls: AtomicUsize,
}

impl TokenProvider for CountingProvider {
    fn access_token(&self) -> BoxFuture<'_, Result<AccessToken, Error>> {
        Box::pin(async move {
            self.calls.fetch_add(1, Ordering::SeqCst);
            // Stands in for the integrator's backend, which holds the secret.
            let _ = rustls::crypto::ring::default_provider().install_default();
            let response: serde_json::Value = reqwest::Client::new()
                .post(&self.token_url)
                .form(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", &self.client_id),
                    ("client_secret", &self.secret),
                ])
                .send()
                .await
                .and_then(|r| r.error_for_status())
                .map_err(|e| Error::Authentication {
                    error: e.to_string(),
                    description: None,
                    http_status: None,
                })?
                .json()
                .await
                .map_err(|e| Error::Authentication {
                    error: e.to_string(),
                    description: None,
                    http_status: None,
                })?;
            Ok(
                AccessToken::new(response["access_token"].as_str().unwrap_or_default()).expires_in(
                    Duration::from_secs(response["expires_in"].as_u64().unwrap_or(60)),
                ),
            )
        })
    }
}

#[tokio::test]
async fn a_token_provider_replaces_the_secret() {
    let emulator = emulator().await;
    let provider = Arc::new(CountingProvider {
        token_url: format!("{}/auth/open/connect/token", emulator.url()),
        client_id: emulator.config().client_id.clone(),
        secret: emulator.config().client_secret.clone(),
        calls: AtomicUsize::new(0),
    });
    let client = builder(&emulator)
        .token_provider(provider.clone())
        .build()
        .unwrap();
    let session = client.start_safe_conversation_for(APPROVER).await.unwrap();
    assert!(matches!(
        client.wait(&session, WaitOptions::new()).await.unwrap(),
        Outcome::Success(_)
    ));
    assert_eq!(provider.calls.load(Ordering::SeqCst), 1);

    emulator.inject(Some(Endpoint::GetSession), Fault::RejectToken, 1);
    client.get_session(&session.id).await.unwrap();
    assert_eq!(
        provider.calls.load(Ordering::SeqCst),
        2,
        "asked again after a rejection"
    );
}
