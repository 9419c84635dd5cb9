//! The Safe Conversation flow end to end against the emulator, over HTTP.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use safeconv::{CancelToken, Outcome, SafeConversation, Status, WaitOptions};

fn recorder() -> (
    Arc<Mutex<Vec<Status>>>,
    impl FnMut(&safeconv::Session) + Send + 'static,
) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    (seen, move |s: &safeconv::Session| {
        sink.lock().unwrap().push(s.status.clone())
    })
}

#[tokio::test]
async fn happy_path_reports_each_change_and_the_identity() {
    let emulator = emulator().await;
    let client = client(&emulator);

    let session = client.start_safe_conversation_for(APPROVER).await.unwrap();
    assert_eq!(session.status, Status::Created);
    let words = session.binding_message().expect("binding message");
    assert_eq!(words.split_whitespace().count(), 2, "{words}");
    assert!(session.expires_at.is_some());

    let (seen, listener) = recorder();
    let outcome = client
        .wait(&session, WaitOptions::new().on_status(listener))
        .await
        .unwrap();

    assert_eq!(
        *seen.lock().unwrap(),
        vec![Status::WaitingForUser, Status::Success]
    );
    let Outcome::Success(subject) = outcome else {
        panic!("expected success, got {outcome:?}")
    };
    assert_eq!(subject.nin.as_ref().unwrap().value, APPROVER);
    assert_eq!(
        subject.nin.as_ref().unwrap().issuing_country.as_deref(),
        Some("NO")
    );
    assert_eq!(subject.date_of_birth.as_deref(), Some("1980-01-01"));
    assert!(subject.name.is_some() && subject.first_name.is_some() && subject.last_name.is_some());
    assert!(!subject.extra.is_empty(), "provider attributes are kept");
    assert_eq!(emulator.session(&session.id).unwrap().status, "SUCCESS");
}

#[tokio::test]
async fn every_final_status_is_an_outcome() {
    let emulator = emulator_with(|c| c.min_session_lifetime = Duration::from_secs(1)).await;
    let client = client(&emulator);

    let declined = client.start_safe_conversation_for(DECLINER).await.unwrap();
    assert_eq!(
        client.wait(&declined, WaitOptions::new()).await.unwrap(),
        Outcome::Aborted
    );

    let failed = client.start_safe_conversation_for(FAILER).await.unwrap();
    match client.wait(&failed, WaitOptions::new()).await.unwrap() {
        Outcome::Failed { status, error } => {
            assert_eq!(status, Status::Error);
            assert_eq!(
                error.unwrap().code.as_deref(),
                Some("authentication_failed")
            );
        }
        other => panic!("expected failure, got {other:?}"),
    }

    let no_app = client.start_safe_conversation_for(NO_APP).await.unwrap();
    assert!(matches!(
        client.wait(&no_app, WaitOptions::new()).await.unwrap(),
        Outcome::Failed {
            status: Status::Error,
            ..
        }
    ));

    let silent = client
        .start_safe_conversation(
            &SafeConversation::parse(SILENT, Default::default())
                .unwrap()
                .session_lifetime(1),
        )
        .await
        .unwrap();
    assert_eq!(
        client.wait(&silent, WaitOptions::new()).await.unwrap(),
        Outcome::Expired
    );
    assert_eq!(emulator.session(&silent.id).unwrap().status, "EXPIRED");
}

#[tokio::test]
async fn cancel_token_cancels_the_session_at_signicat() {
    let emulator = emulator().await;
    let client = client(&emulator);
    let session = client.start_safe_conversation_for(SILENT).await.unwrap();

    let token = CancelToken::new();
    let trigger = token.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        trigger.cancel();
    });
    let (seen, listener) = recorder();
    let outcome = client
        .wait(
            &session,
            WaitOptions::new().cancel_token(token).on_status(listener),
        )
        .await
        .unwrap();
    assert_eq!(outcome, Outcome::Cancelled);
    assert_eq!(seen.lock().unwrap().last(), Some(&Status::Cancelled));
    assert_eq!(emulator.session(&session.id).unwrap().status, "CANCELLED");
}

#[tokio::test]
async fn dropping_the_wait_cancels_the_session() {
    let emulator = emulator().await;
    let client = client(&emulator);
    let session = client.start_safe_conversation_for(SILENT).await.unwrap();

    let wait = client.wait(&session, WaitOptions::new());
    assert!(
        tokio::time::timeout(Duration::from_millis(200), wait)
            .await
            .is_err()
    );

    let id = session.id.clone();
    assert!(eventually(|| emulator.session(&id).unwrap().status == "CANCELLED").await);
}

#[tokio::test]
async fn a_timeout_cancels_and_reports_the_real_end() {
    let emulator = emulator().await;
    let client = client(&emulator);
    let session = client.start_safe_conversation_for(SILENT).await.unwrap();
    let outcome = client
        .wait(
            &session,
            WaitOptions::new().timeout(Duration::from_millis(300)),
        )
        .await
        .unwrap();
    assert_eq!(outcome, Outcome::Cancelled);
    assert_eq!(emulator.session(&session.id).unwrap().status, "CANCELLED");
}

#[tokio::test]
async fn cancel_is_idempotent_and_a_lost_race_reports_success() {
    let emulator = emulator().await;
    let client = client(&emulator);

    let running = client.start_safe_conversation_for(SILENT).await.unwrap();
    assert_eq!(
        client.cancel_session(&running.id).await.unwrap().status,
        Status::Cancelled
    );
    assert_eq!(
        client.cancel_session(&running.id).await.unwrap().status,
        Status::Cancelled
    );

    let approved = client.start_safe_conversation_for(APPROVER).await.unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let after = client.cancel_session(&approved.id).await.unwrap();
    assert_eq!(
        after.status,
        Status::Success,
        "the caller confirmed before the cancel"
    );
    assert!(after.subject.is_some());
}

#[tokio::test]
async fn cancel_racing_success_reports_what_really_happened() {
    let emulator = emulator().await;
    let client = client(&emulator);
    // Cancel at moments around the approval (300 ms); each outcome must match the server.
    for delay_ms in [250u64, 290, 300, 310, 350] {
        let session = client.start_safe_conversation_for(APPROVER).await.unwrap();
        let token = CancelToken::new();
        let trigger = token.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(delay_ms)).await;
            trigger.cancel();
        });
        let outcome = client
            .wait(&session, WaitOptions::new().cancel_token(token))
            .await
            .unwrap();
        let server = emulator.session(&session.id).unwrap().status;
        assert_eq!(
            outcome.status().as_str(),
            server,
            "cancel after {delay_ms} ms"
        );
        assert!(matches!(outcome, Outcome::Success(_) | Outcome::Cancelled));
    }
}

#[tokio::test]
async fn resume_by_id_after_a_restart() {
    let emulator = emulator().await;
    let id = {
        let first = client(&emulator);
        first
            .start_safe_conversation_for(APPROVER)
            .await
            .unwrap()
            .id
    };
    // A new client, as after a restart, with nothing but the id.
    let second = client(&emulator);
    let outcome = second.resume(&id, WaitOptions::new()).await.unwrap();
    assert!(matches!(outcome, Outcome::Success(_)));
    // Resuming a finished session returns at once.
    assert!(matches!(
        second.resume(&id, WaitOptions::new()).await.unwrap(),
        Outcome::Success(_)
    ));
}

#[tokio::test]
async fn unknown_session_is_a_typed_api_error() {
    let emulator = emulator().await;
    let client = client(&emulator);
    let err = client.get_session("no-such-session").await.unwrap_err();
    assert_eq!(err.http_status(), Some(404));
    assert!(err.trace_id().is_some(), "{err}");
    let err = client
        .resume("no-such-session", WaitOptions::new())
        .await
        .unwrap_err();
    assert_eq!(err.http_status(), Some(404));
    assert!(client.get_session("").await.is_err());
    assert!(client.get_session("a/b").await.is_err());
}

#[tokio::test]
async fn invalid_nin_is_refused_before_anything_is_sent() {
    let emulator = emulator().await;
    let client = client(&emulator);
    let err = client
        .start_safe_conversation_for("17029012345")
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        safeconv::Error::InvalidNin(safeconv::NinError::CheckDigits)
    ));
    assert_eq!(emulator.counters().create_requests, 0);
    assert_eq!(emulator.counters().token_requests, 0);

    // The deliberate opt-out sends the guide's example number.
    let lenient = builder(&emulator)
        .nin_rules(safeconv::NinRules::strict().allow_invalid_check_digits(true))
        .build()
        .unwrap();
    let session = lenient
        .start_safe_conversation_for("17029012345")
        .await
        .unwrap();
    assert!(session.binding_message().is_some());
}

#[tokio::test]
async fn api_errors_keep_code_and_trace_id() {
    let emulator = emulator().await;
    let client = builder(&emulator).account_id("a-not-mine").build().unwrap();
    let err = client
        .start_safe_conversation_for(APPROVER)
        .await
        .unwrap_err();
    match &err {
        safeconv::Error::Api(api) => {
            assert_eq!(api.http_status, 403);
            assert!(api.code.is_some() && api.trace_id.is_some(), "{api:?}");
        }
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test]
async fn wrong_secret_is_an_authentication_error() {
    let emulator = emulator().await;
    let client = builder(&emulator)
        .client_credentials(emulator.config().client_id.clone(), "wrong")
        .build()
        .unwrap();
    let err = client
        .start_safe_conversation_for(APPROVER)
        .await
        .unwrap_err();
    match err {
        safeconv::Error::Authentication {
            error, http_status, ..
        } => {
            assert_eq!(error, "invalid_client");
            assert_eq!(http_status, Some(401));
        }
        other => panic!("expected an authentication error, got {other:?}"),
    }
    assert_eq!(
        emulator.counters().token_requests,
        1,
        "a refused secret is not retried"
    );
}

#[tokio::test]
async fn a_cancel_does_not_wait_for_a_slow_poll() {
    let emulator = emulator().await;
    let client = builder(&emulator)
        .request_timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let session = client.start_safe_conversation_for(SILENT).await.unwrap();
    emulator.inject(
        Some(safeconv_emulator::Endpoint::GetSession),
        safeconv_emulator::Fault::Slow {
            delay: Duration::from_secs(8),
        },
        1,
    );
    let token = CancelToken::new();
    let trigger = token.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        trigger.cancel();
    });
    let wait = client.wait(&session, WaitOptions::new().cancel_token(token));
    // Bounded well below the slow poll's 8 s, so a wait that sat out the poll fails here.
    let outcome = tokio::time::timeout(Duration::from_secs(4), wait).await;
    assert_eq!(
        outcome
            .expect("the cancel cut the slow poll short")
            .unwrap(),
        Outcome::Cancelled
    );
    assert_eq!(emulator.session(&session.id).unwrap().status, "CANCELLED");
}
