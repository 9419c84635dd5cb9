//! The facade: Signicat's three endpoints, answered with Signicat's own ids and bodies, the
//! poll cache, ownership, and every safeconv client working against the relay unchanged.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Harness, Options, nin};
use reqwest::StatusCode;
use safeconv::{AccessToken, BoxFuture, Outcome, TokenProvider, WaitOptions};
use safeconv_emulator::Behaviour;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_answers_with_signicats_own_session() {
    let h = Harness::start().await;
    let session = h.created("alice", &nin(0)).await;
    let id = session["id"].as_str().unwrap();
    // Signicat's id and body: the emulator knows the session, and its unknown field is kept.
    let view = h
        .emulator
        .session(id)
        .expect("the emulator has the session");
    assert_eq!(view.status, "CREATED");
    assert_eq!(session["emulator"]["version"], 1);
    assert!(
        session["idpData"]["bindingMessage"]
            .as_str()
            .unwrap()
            .contains(' ')
    );
    assert_eq!(session["allowedProviders"], serde_json::json!(["nbid"]));
    // The relay built the request: headless, nbid, PHONE.
    assert_eq!(session["flow"], "headless");
    assert_eq!(h.emulator.counters().create_requests, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polls_within_the_interval_and_ended_sessions_cost_signicat_nothing() {
    let h = Harness::with(Options {
        min_poll_interval_ms: 400,
        ..Options::default()
    })
    .await;
    let caller = nin(1);
    h.emulator.set_behaviour(
        &caller,
        Behaviour::Approve {
            after: Duration::from_millis(600),
        },
    );
    let id = h.created("alice", &caller).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = h.emulator.counters().get_requests;
    // Right after the create: answered from the create's answer.
    for _ in 0..5 {
        assert_eq!(h.get("alice", &id).await.status(), StatusCode::OK);
    }
    assert_eq!(h.emulator.counters().get_requests, before);
    // After the interval: one upstream read.
    tokio::time::sleep(Duration::from_millis(450)).await;
    h.get("alice", &id).await;
    assert_eq!(h.emulator.counters().get_requests, before + 1);

    // Poll until SUCCESS, then read it many times: no more upstream reads.
    let mut last = Value::Null;
    for _ in 0..40 {
        last = h.get("alice", &id).await.json().await.unwrap();
        if last["status"] == "SUCCESS" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(last["status"], "SUCCESS");
    assert_eq!(last["subject"]["nin"]["value"], caller.as_str());
    let reads = h.emulator.counters().get_requests;
    for _ in 0..10 {
        let again: Value = h.get("alice", &id).await.json().await.unwrap();
        assert_eq!(again["status"], "SUCCESS");
    }
    // A cancel of an ended session is answered with how it ended, also without Signicat.
    let cancelled: Value = h.cancel("alice", &id).await.json().await.unwrap();
    assert_eq!(cancelled["status"], "SUCCESS");
    assert_eq!(h.emulator.counters().get_requests, reads);
    assert_eq!(h.emulator.counters().cancel_requests, 0);

    let metrics = h.metrics().await;
    assert!(metrics.contains("safeconv_relay_session_reads_total{source=\"cache\"}"));
    assert!(metrics.contains("safeconv_relay_session_outcomes_total{status=\"SUCCESS\"} 1"));
    let audit = h.audit();
    assert!(audit.iter().any(|r| r["action"] == "outcome"
        && r["status"] == "SUCCESS"
        && r["sessionId"] == id.as_str()));
    h.assert_chain_intact();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_goes_to_signicat_and_is_audited() {
    let h = Harness::start().await;
    let id = h.created("bob", &nin(2)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let response = h.cancel("bob", &id).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "CANCELLED");
    assert_eq!(h.emulator.session(&id).unwrap().status, "CANCELLED");
    let audit = h.audit();
    let cancel = audit.iter().find(|r| r["action"] == "cancel").unwrap();
    assert_eq!(cancel["agentId"], "bob");
    assert_eq!(cancel["status"], "CANCELLED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_agent_gets_404_and_nothing_is_forwarded() {
    let h = Harness::start().await;
    let id = h.created("alice", &nin(3)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let counters = h.emulator.counters();
    let read = h.get("bob", &id).await;
    assert_eq!(read.status(), StatusCode::NOT_FOUND);
    let body: Value = read.json().await.unwrap();
    assert_eq!(body["code"], "session_not_found");
    let cancel = h.cancel("bob", &id).await;
    assert_eq!(cancel.status(), StatusCode::NOT_FOUND);
    // Same answer as for an id that does not exist: existence is not leaked.
    let unknown: Value = h.get("bob", "no-such-session").await.json().await.unwrap();
    assert_eq!(unknown["code"], "session_not_found");
    assert_eq!(unknown["title"], body["title"]);
    let after = h.emulator.counters();
    assert_eq!(after.get_requests, counters.get_requests);
    assert_eq!(after.cancel_requests, counters.cancel_requests);
    assert_eq!(h.emulator.session(&id).unwrap().status, "CREATED");
    // Alice still can.
    assert_eq!(h.get("alice", &id).await.status(), StatusCode::OK);
    let refusals: Vec<_> = h
        .audit()
        .into_iter()
        .filter(|r| r["action"] == "refused")
        .collect();
    assert_eq!(refusals.len(), 3);
    assert!(refusals.iter().all(|r| r["agentId"] == "bob"));
    assert_eq!(refusals[0]["reason"], "not_owner");
    assert_eq!(refusals[2]["reason"], "unknown_session");
}

/// The agent's credential, handed to the core as its token provider: what a mobile or
/// browser app does.
struct AgentCredential(String);

impl TokenProvider for AgentCredential {
    fn access_token(&self) -> BoxFuture<'_, Result<AccessToken, safeconv::Error>> {
        let token = self.0.clone();
        Box::pin(async move { Ok(AccessToken::new(token)) })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_safeconv_client_works_against_the_relay_unchanged() {
    let h = Harness::start().await;
    let caller = nin(4);
    h.emulator.set_behaviour(
        &caller,
        Behaviour::Approve {
            after: Duration::from_millis(500),
        },
    );
    let client = safeconv::Client::builder()
        .base_url(&h.url)
        .account_id("ignored-by-the-relay")
        .token_provider(Arc::new(AgentCredential(h.key("carol").to_owned())))
        .poll_interval(Duration::from_millis(200))
        .build()
        .unwrap();
    let session = client.start_safe_conversation_for(&caller).await.unwrap();
    assert!(session.binding_message().is_some());
    match client.wait(&session, WaitOptions::new()).await.unwrap() {
        Outcome::Success(subject) => {
            assert_eq!(subject.nin.unwrap().value, caller);
        }
        other => panic!("expected success, got {other:?}"),
    }
    // A refusal reaches the client as a typed API error with the relay's trace id.
    let refused = client
        .start_safe_conversation(
            &safeconv::SafeConversation::new(safeconv::Nin::parse(&caller).unwrap())
                .attributes(["email"]),
        )
        .await
        .unwrap_err();
    match refused {
        safeconv::Error::Api(api) => {
            assert_eq!(api.http_status, 400);
            assert_eq!(api.code.as_deref(), Some("invalid_request_parameter"));
            assert!(api.trace_id.is_some());
        }
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_readiness_and_metrics_need_no_credential() {
    let h = Harness::start().await;
    let health = h
        .http
        .get(format!("{}/healthz", h.url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let ready = h
        .http
        .get(format!("{}/readyz", h.url))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    h.created("alice", &nin(5)).await;
    let metrics = h.metrics().await;
    for expected in [
        "safeconv_relay_session_creates_total{outcome=\"created\"} 1",
        "safeconv_relay_active_sessions 1",
        "safeconv_relay_upstream_request_duration_seconds_bucket{operation=\"create\",result=\"ok\",le=\"0.005\"}",
        "# TYPE safeconv_relay_upstream_request_duration_seconds histogram",
    ] {
        assert!(metrics.contains(expected), "{expected} in\n{metrics}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_says_so_when_signicat_refuses_the_relay() {
    let h = Harness::with(Options {
        upstream_secret: Some("not-the-secret".to_owned()),
        ..Options::default()
    })
    .await;
    let ready = h
        .http
        .get(format!("{}/readyz", h.url))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = ready.json().await.unwrap();
    assert!(body["reason"].as_str().unwrap().contains("Signicat token"));
    assert!(!body.to_string().contains("not-the-secret"));
}
