//! What the core guarantees when a caller gives up, against the emulator: an abandoned start
//! leaves no session running, a cancel stops every wait on the session at once, and the other
//! spelling of the decline ends a wait.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use safeconv::{
    AccessToken, BoxFuture, CancelToken, ClientOptions, Error, LogLevel, LogRecord, LogSink,
    NinRules, Operations, Outcome, StartOptions, TokenProvider, WaitOptions,
};
use safeconv_emulator::{Behaviour, Endpoint, Fault};

/// How long the emulator holds back a create's answer in these tests.
const SLOW_CREATE: Duration = Duration::from_millis(800);

fn slow_create(emulator: &safeconv_emulator::Emulator) {
    emulator.inject(
        Some(Endpoint::CreateSession),
        Fault::Slow { delay: SLOW_CREATE },
        1,
    );
}

/// A token that a task cancels after `delay`.
fn cancelled_after(delay: Duration) -> CancelToken {
    let cancel = CancelToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        trigger.cancel();
    });
    cancel
}

/// The one session the emulator holds, once it is `CANCELLED`.
async fn the_only_session_is_cancelled(emulator: &safeconv_emulator::Emulator) -> bool {
    eventually(|| {
        let ids = emulator.session_ids();
        ids.len() == 1 && emulator.session(&ids[0]).unwrap().status == "CANCELLED"
    })
    .await
}

/// Starts a Safe Conversation whose create the emulator holds back, and gives the start up (a
/// `select!`, a cancelled coroutine) while the create is under way.
async fn give_up_a_start_under_way(
    client: &safeconv::Client,
    emulator: &safeconv_emulator::Emulator,
) {
    slow_create(emulator);
    let conversation = client
        .conversation(SILENT, &StartOptions::default())
        .unwrap();
    let given_up = tokio::time::timeout(
        Duration::from_millis(200),
        client.start_safe_conversation(&conversation),
    )
    .await;
    assert!(given_up.is_err(), "the start should still be running");
}

#[tokio::test]
async fn a_start_dropped_after_its_create_was_sent_cancels_the_session() {
    let emulator = emulator().await;
    let client = client(&emulator);
    give_up_a_start_under_way(&client, &emulator).await;

    assert!(client.wait_for_cleanup(Duration::from_secs(5)).await);
    assert!(the_only_session_is_cancelled(&emulator).await);
    assert_eq!(emulator.counters().create_requests, 1);
}

#[tokio::test]
async fn the_process_wide_wait_covers_the_cancels_of_clients_already_dropped() {
    let emulator = emulator().await;
    let client = client(&emulator);
    give_up_a_start_under_way(&client, &emulator).await;
    // What an exit hook sees: no client left to ask, the cancel still under way.
    drop(client);

    assert!(safeconv::wait_for_background_work(Duration::from_secs(5)).await);
    let ids = emulator.session_ids();
    assert_eq!(ids.len(), 1);
    assert_eq!(emulator.session(&ids[0]).unwrap().status, "CANCELLED");
}

#[tokio::test]
async fn a_start_cancelled_under_way_returns_at_once_and_cancels_what_it_made() {
    let emulator = emulator().await;
    let client = client(&emulator);
    slow_create(&emulator);
    let conversation = client
        .conversation(SILENT, &StartOptions::default())
        .unwrap();
    let cancel = cancelled_after(Duration::from_millis(150));

    let started = Instant::now();
    let result = client
        .start_safe_conversation_with(&conversation, &cancel)
        .await;
    // Back before the create's answer could have arrived.
    assert!(started.elapsed() < SLOW_CREATE, "{:?}", started.elapsed());
    let error = result.unwrap_err();
    assert!(matches!(error, Error::Cancelled { .. }), "{error:?}");
    assert_eq!(error.kind_code(), "cancelled");

    assert!(client.wait_for_cleanup(Duration::from_secs(5)).await);
    assert!(the_only_session_is_cancelled(&emulator).await);
}

#[tokio::test]
async fn a_start_cancelled_beforehand_sends_nothing() {
    let emulator = emulator().await;
    let client = client(&emulator);
    let conversation = client
        .conversation(APPROVER, &StartOptions::default())
        .unwrap();
    let cancel = CancelToken::new();
    cancel.cancel();
    let error = client
        .start_safe_conversation_with(&conversation, &cancel)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Cancelled { .. }), "{error:?}");
    let counters = emulator.counters();
    assert_eq!((counters.token_requests, counters.create_requests), (0, 0));
}

/// A token provider that never answers and notes when its fetch is dropped.
struct StalledProvider {
    dropped: Arc<AtomicBool>,
}

struct SetOnDrop(Arc<AtomicBool>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

impl TokenProvider for StalledProvider {
    fn access_token(&self) -> BoxFuture<'_, Result<AccessToken, Error>> {
        let noted = SetOnDrop(self.dropped.clone());
        Box::pin(async move {
            let _noted = noted;
            std::future::pending().await
        })
    }
}

#[tokio::test]
async fn a_start_given_up_while_its_token_is_fetched_sends_nothing() {
    let emulator = emulator().await;
    let dropped = Arc::new(AtomicBool::new(false));
    let stalled = ClientOptions {
        account_id: emulator.config().account_id.clone(),
        base_url: Some(emulator.url()),
        ..ClientOptions::default()
    }
    .build(Some(Arc::new(StalledProvider {
        dropped: dropped.clone(),
    })))
    .unwrap();
    let conversation = stalled
        .conversation(SILENT, &StartOptions::default())
        .unwrap();
    let cancel = cancelled_after(Duration::from_millis(150));

    let error = stalled
        .start_safe_conversation_with(&conversation, &cancel)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Cancelled { .. }), "{error:?}");
    assert!(stalled.wait_for_cleanup(Duration::from_secs(5)).await);
    assert!(
        dropped.load(Ordering::SeqCst),
        "the token fetch was dropped"
    );
    assert_eq!(emulator.counters().create_requests, 0);

    // The same when the start's future is dropped, with a slow token endpoint.
    let client = client(&emulator);
    emulator.inject(Some(Endpoint::Token), Fault::Slow { delay: SLOW_CREATE }, 1);
    let given_up = tokio::time::timeout(
        Duration::from_millis(150),
        client.start_safe_conversation(&conversation),
    )
    .await;
    assert!(
        given_up.is_err(),
        "the start should still be fetching its token"
    );
    assert!(client.wait_for_cleanup(Duration::from_secs(5)).await);
    tokio::time::sleep(SLOW_CREATE).await;
    let counters = emulator.counters();
    assert_eq!((counters.token_requests, counters.create_requests), (1, 0));
}

#[tokio::test]
async fn a_start_that_is_not_given_up_hands_over_its_session() {
    let emulator = emulator().await;
    let client = client(&emulator);
    slow_create(&emulator);
    let conversation = client
        .conversation(APPROVER, &StartOptions::default())
        .unwrap();
    let cancel = CancelToken::new();
    let session = client
        .start_safe_conversation_with(&conversation, &cancel)
        .await
        .unwrap();
    assert!(session.binding_message().is_some());
    assert!(client.wait_for_cleanup(Duration::from_secs(1)).await);
    let outcome = client.wait(&session, WaitOptions::new()).await.unwrap();
    assert!(matches!(outcome, Outcome::Success(_)), "{outcome:?}");
    assert_eq!(emulator.session(&session.id).unwrap().cancel_requests, 0);
}

#[tokio::test]
async fn a_cancel_from_elsewhere_stops_every_wait_on_the_session_at_once() {
    let emulator = emulator().await;
    // Polls far apart: only a local stop can end the waits soon after the cancel.
    let client = builder(&emulator)
        .poll_interval(Duration::from_secs(30))
        .build()
        .unwrap();
    let session = client.start_safe_conversation_for(SILENT).await.unwrap();

    let waits: Vec<_> = (0..2)
        .map(|_| {
            let (client, session) = (client.clone(), session.clone());
            tokio::spawn(async move { client.wait(&session, WaitOptions::new()).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;

    let cancelled_at = Instant::now();
    let answer = client.cancel_session(&session.id).await.unwrap();
    assert_eq!(answer.status, safeconv::Status::Cancelled);
    for wait in waits {
        let outcome = wait.await.unwrap().unwrap();
        assert_eq!(outcome, Outcome::Cancelled);
    }
    assert!(
        cancelled_at.elapsed() < Duration::from_secs(10),
        "the waits ran on to their next poll: {:?}",
        cancelled_at.elapsed()
    );
    assert_eq!(emulator.session(&session.id).unwrap().status, "CANCELLED");
}

#[tokio::test]
async fn a_cancel_stops_a_wait_running_on_another_thread() {
    let emulator = emulator().await;
    let client = builder(&emulator)
        .poll_interval(Duration::from_secs(30))
        .build()
        .unwrap();
    let session = client.start_safe_conversation_for(SILENT).await.unwrap();
    // A blocking wait on a thread of its own, with its own runtime (as a C caller has).
    let waiter = {
        let (client, session) = (client.clone(), session.clone());
        std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(client.wait(&session, WaitOptions::new()))
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let cancelled_at = Instant::now();
    client.cancel_session(&session.id).await.unwrap();
    let outcome = tokio::task::spawn_blocking(move || waiter.join().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(outcome, Outcome::Cancelled);
    assert!(
        cancelled_at.elapsed() < Duration::from_secs(10),
        "the wait ran on to its next poll: {:?}",
        cancelled_at.elapsed()
    );
}

#[tokio::test]
async fn aborted_is_read_as_the_decline() {
    let emulator = emulator().await;
    emulator.set_behaviour(
        APPROVER,
        Behaviour::DeclineAborted {
            after: Duration::from_millis(300),
        },
    );
    let client = client(&emulator);
    let session = client.start_safe_conversation_for(APPROVER).await.unwrap();
    let outcome = tokio::time::timeout(
        Duration::from_secs(10),
        client.wait(&session, WaitOptions::new()),
    )
    .await
    .expect("the wait ends at ABORTED instead of polling on to expiresAt")
    .unwrap();
    assert_eq!(outcome, Outcome::Aborted);
    assert_eq!(emulator.session(&session.id).unwrap().status, "ABORTED");
}

#[tokio::test]
async fn an_operation_registry_cancels_the_wait_it_handed_out() {
    let emulator = emulator().await;
    let client = client(&emulator);
    let operations = Operations::new();
    let session = client.start_safe_conversation_for(SILENT).await.unwrap();
    let operation = operations.start().unwrap();
    let id = operation.id();
    let waiting = {
        let (client, session) = (client.clone(), session.clone());
        let cancel = operation.cancel_token().clone();
        tokio::spawn(async move {
            let outcome = client
                .wait(&session, WaitOptions::new().cancel_token(cancel))
                .await;
            drop(operation);
            outcome
        })
    };
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(operations.cancel(id));
    assert_eq!(waiting.await.unwrap().unwrap(), Outcome::Cancelled);
    assert_eq!(operations.running(), 0);
    assert!(!operations.cancel(id));
}

#[derive(Default)]
struct Collect(Mutex<Vec<LogRecord>>);

impl LogSink for Collect {
    fn log(&self, record: &LogRecord) {
        self.0.lock().unwrap().push(record.clone());
    }
}

#[tokio::test]
async fn the_option_records_and_the_log_sink_carry_a_whole_conversation() {
    let logs = Arc::new(Collect::default());
    safeconv::set_log_sink(Some(logs.clone()), LogLevel::Debug).unwrap();

    let emulator = emulator().await;
    let config = emulator.config();
    let client = ClientOptions {
        account_id: config.account_id.clone(),
        base_url: Some(emulator.url()),
        client_id: Some(config.client_id.clone()),
        client_secret: Some(config.client_secret.clone().into()),
        poll_interval: Some(POLL),
        nin_rules: NinRules::strict().allow_synthetic(true),
        ..ClientOptions::default()
    }
    .build(None)
    .unwrap();
    let options = StartOptions {
        attributes: Some(vec!["name".into(), "nin".into()]),
        external_reference: Some("call-4711".into()),
        ..StartOptions::default()
    };
    let session = client
        .start_safe_conversation(&client.conversation(APPROVER, &options).unwrap())
        .await
        .unwrap();
    assert_eq!(session.external_reference.as_deref(), Some("call-4711"));
    let outcome = client.wait(&session, WaitOptions::new()).await.unwrap();
    assert!(matches!(outcome, Outcome::Success(_)));

    let records = logs.0.lock().unwrap().clone();
    let created = records
        .iter()
        .find(|r| r.message == "session created")
        .expect("the create is logged");
    assert_eq!(created.level, LogLevel::Info);
    assert!(created.target.starts_with("safeconv"));
    assert!(
        created
            .fields
            .iter()
            .any(|(name, value)| name == "session_id" && *value == session.id)
    );
    assert!(
        records.iter().any(|r| r.level == LogLevel::Debug),
        "debug records pass at Debug"
    );
    for record in &records {
        let text = format!("{} {record}", record.target);
        assert!(!text.contains(APPROVER), "a NIN in the logs: {text}");
        assert!(
            !text.contains(&config.client_secret),
            "the secret in the logs"
        );
    }
    safeconv::set_log_sink(None, LogLevel::Error).unwrap();
}
