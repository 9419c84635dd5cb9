//! Every fault the emulator can inject, and what the SDK makes of it.

mod common;

use std::time::{Duration, Instant};

use common::*;
use safeconv::{Error, Outcome, TransportErrorKind, WaitOptions};
use safeconv_emulator::{Endpoint, Fault};

fn every_fault() -> Vec<Fault> {
    vec![
        Fault::InternalError,
        Fault::Unavailable {
            retry_after: Some(Duration::from_secs(1)),
        },
        Fault::Unavailable { retry_after: None },
        Fault::TooManyRequests {
            retry_after: Duration::from_secs(1),
        },
        Fault::DropConnection,
        Fault::Slow {
            delay: Duration::from_millis(300),
        },
        Fault::TruncatedJson,
        Fault::MalformedJson,
        Fault::RejectToken,
    ]
}

#[tokio::test]
async fn the_wait_rides_out_every_fault_on_polls() {
    let emulator = emulator().await;
    let client = client(&emulator);
    for fault in every_fault() {
        let session = client.start_safe_conversation_for(APPROVER).await.unwrap();
        emulator.inject(Some(Endpoint::GetSession), fault.clone(), 2);
        let outcome = client.wait(&session, WaitOptions::new()).await;
        assert!(
            matches!(outcome, Ok(Outcome::Success(_))),
            "{fault:?}: {outcome:?}"
        );
    }
    assert!(emulator.counters().faults_injected >= 18);
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let emulator = emulator().await;
    let client = client(&emulator);
    let session = client.start_safe_conversation_for(APPROVER).await.unwrap();
    emulator.inject(
        Some(Endpoint::GetSession),
        Fault::TooManyRequests {
            retry_after: Duration::from_secs(1),
        },
        1,
    );
    let gets_before = emulator.counters().get_requests;
    let started = Instant::now();
    let outcome = client.wait(&session, WaitOptions::new()).await.unwrap();
    assert!(matches!(outcome, Outcome::Success(_)));
    // The first poll is refused; the next may come only a second later.
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    // No hammering while told to wait: the refused poll, then polls after the second.
    let gets = emulator.counters().get_requests - gets_before;
    assert!(gets <= 4, "{gets} polls");
}

#[tokio::test]
async fn a_failed_create_is_reported_not_retried() {
    let emulator = emulator().await;
    let client = client(&emulator);
    for fault in [
        Fault::InternalError,
        Fault::Unavailable {
            retry_after: Some(Duration::from_secs(1)),
        },
        Fault::DropConnection,
        Fault::TruncatedJson,
        Fault::MalformedJson,
    ] {
        let before = emulator.counters();
        emulator.inject(Some(Endpoint::CreateSession), fault.clone(), 1);
        let err = client
            .start_safe_conversation_for(APPROVER)
            .await
            .unwrap_err();
        let after = emulator.counters();
        assert_eq!(
            after.create_requests - before.create_requests,
            1,
            "{fault:?} was retried: {err}"
        );
        assert!(err.is_transient(), "{fault:?}: {err:?}");
    }
}

#[tokio::test]
async fn a_rate_limited_create_is_sent_again_after_retry_after() {
    let emulator = emulator().await;
    let client = client(&emulator);
    emulator.inject(
        Some(Endpoint::CreateSession),
        Fault::TooManyRequests {
            retry_after: Duration::from_secs(1),
        },
        1,
    );
    client.start_safe_conversation_for(APPROVER).await.unwrap();
    let counters = emulator.counters();
    assert_eq!(
        (counters.create_requests, counters.sessions_created),
        (2, 1)
    );
}

#[tokio::test]
async fn a_create_told_to_wait_longer_than_30_s_gets_the_error_at_once() {
    let emulator = emulator().await;
    let client = client(&emulator);
    emulator.inject(
        Some(Endpoint::CreateSession),
        Fault::TooManyRequests {
            retry_after: Duration::from_secs(15 * 60),
        },
        1,
    );
    let err = client
        .start_safe_conversation_for(APPROVER)
        .await
        .unwrap_err();
    assert_eq!(
        err.retry_after(),
        Some(Duration::from_secs(15 * 60)),
        "{err:?}"
    );
    // Not sent again after sitting out 30 s of the quarter of an hour.
    assert_eq!(emulator.counters().create_requests, 1);
}

#[tokio::test]
async fn slow_answers_time_out() {
    let emulator = emulator().await;
    let client = builder(&emulator)
        .request_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let session = client.start_safe_conversation_for(APPROVER).await.unwrap();
    emulator.inject(
        Some(Endpoint::GetSession),
        Fault::Slow {
            delay: Duration::from_millis(600),
        },
        3,
    );
    let err = client.get_session(&session.id).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Transport {
                kind: TransportErrorKind::Timeout,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn cut_short_and_malformed_bodies_are_protocol_errors() {
    let emulator = emulator().await;
    let client = client(&emulator);
    let session = client.start_safe_conversation_for(APPROVER).await.unwrap();

    emulator.inject(Some(Endpoint::GetSession), Fault::TruncatedJson, 3);
    let err = client.get_session(&session.id).await.unwrap_err();
    assert!(matches!(err, Error::Protocol { .. }), "{err:?}");

    emulator.inject(Some(Endpoint::GetSession), Fault::MalformedJson, 3);
    let err = client.get_session(&session.id).await.unwrap_err();
    assert!(matches!(err, Error::Protocol { .. }), "{err:?}");

    // Reads are retried: one bad answer is absorbed.
    emulator.inject(Some(Endpoint::GetSession), Fault::MalformedJson, 1);
    client.get_session(&session.id).await.unwrap();
}

#[tokio::test]
async fn cancel_rides_out_a_dropped_connection() {
    let emulator = emulator().await;
    let client = client(&emulator);
    let session = client.start_safe_conversation_for(SILENT).await.unwrap();
    emulator.inject(Some(Endpoint::CancelSession), Fault::DropConnection, 1);
    assert_eq!(
        client.cancel_session(&session.id).await.unwrap().status,
        safeconv::Status::Cancelled
    );
}

#[tokio::test]
async fn an_unreachable_server_is_a_connect_error() {
    // Bind and drop a listener, so the port is (almost certainly) closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = safeconv::Client::builder()
        .base_url(format!("http://127.0.0.1:{port}"))
        .account_id("a")
        .client_credentials("id", "secret")
        .build()
        .unwrap();
    let err = client.get_session("x").await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Transport {
                kind: TransportErrorKind::Connect,
                ..
            }
        ),
        "{err:?}"
    );
}
