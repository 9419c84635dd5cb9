//! Policy (only Safe Conversation, allowlisted attributes, valid NINs), one active session per
//! NIN (replace and refuse), and the per-NIN and per-agent limits, under load too.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::{AGENTS, Harness, Options, nin, sdk_body};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_policy_rule_refuses_with_400_and_sends_nothing() {
    let h = Harness::start().await;
    let n = nin(10);
    let with = |field: &str, value: Value| {
        let mut body = sdk_body(&n);
        body[field] = value;
        body
    };
    let cases = vec![
        (with("flow", json!("redirect")), "flow"),
        (
            with("allowedProviders", json!(["sbid"])),
            "allowedProviders",
        ),
        (
            with("allowedProviders", json!(["nbid", "mitid"])),
            "allowedProviders",
        ),
        (
            with("requestedAttributes", json!(["name", "email"])),
            "requestedAttributes",
        ),
        (
            with("additionalParameters", json!({"nbid_auth_type": "APP"})),
            "additionalParameters",
        ),
        (
            with(
                "callbackUrls",
                json!({"success": "https://x", "abort": "https://x", "error": "https://x"}),
            ),
            "callbackUrls",
        ),
        (
            with("returnUrl", json!("https://evil.example")),
            "returnUrl",
        ),
        (
            with("embeddedParentDomains", json!(["evil.example"])),
            "embeddedParentDomains",
        ),
        (
            with("encryptionPublicKey", json!({"kty": "RSA"})),
            "encryptionPublicKey",
        ),
        (with("sessionLifetime", json!(7200)), "sessionLifetime"),
        (with("themeId", json!("t")), "themeId"),
        (
            with("prefilledInput", json!({"nin": n, "mobile": "+4799999999"})),
            "prefilledInput.mobile",
        ),
        (
            with("prefilledInput", json!({"nin": "17029012345"})),
            "prefilledInput.nin",
        ),
        (
            with("prefilledInput", json!({"nin": "1234"})),
            "prefilledInput.nin",
        ),
        (with("prefilledInput", json!({})), "prefilledInput.nin"),
        (with("language", json!("norsk")), "language"),
    ];
    for (body, field) in &cases {
        let response = h.create_as(h.key("alice"), body).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{field}");
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["code"], "invalid_request_parameter", "{field}");
        assert_eq!(problem["status"], 400);
        assert!(problem["traceId"].as_str().unwrap().len() == 32);
        assert_eq!(problem["invalidParams"][0]["name"], *field, "{problem}");
        assert!(!problem.to_string().contains("17029012345"));
    }
    assert_eq!(
        h.emulator.counters().create_requests,
        0,
        "nothing was forwarded"
    );
    let refusals = h
        .audit()
        .into_iter()
        .filter(|r| {
            r["action"] == "refused" && r["reason"].as_str().unwrap().starts_with("policy:")
        })
        .count();
    assert_eq!(refusals, cases.len());
    h.assert_chain_intact();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn optional_fields_pass_through_and_the_default_attributes_are_nbids() {
    let h = Harness::start().await;
    let n = nin(11);
    let mut body = sdk_body(&n);
    body["language"] = json!("nb");
    body["externalReference"] = json!("call-4711");
    body["tags"] = json!(["queue-3"]);
    body["requestedLoa"] = json!("substantial");
    body["sessionLifetime"] = json!(600);
    body["requestedAttributes"] = json!(["name", "nin", "idpId"]);
    body["signicatAccountId"] = Value::Null; // nulls are unset
    let response = h.create_as(h.key("alice"), &body).await;
    assert_eq!(response.status(), StatusCode::OK);
    let session: Value = response.json().await.unwrap();
    assert_eq!(session["externalReference"], "call-4711");
    assert_eq!(session["tags"], json!(["queue-3"]));
    assert_eq!(session["sessionLifetime"], 600);

    // A bare body gets the default attributes, all from nbid's list.
    let bare = h
        .create_as(h.key("bob"), &json!({"prefilledInput": {"nin": nin(12)}}))
        .await;
    assert_eq!(bare.status(), StatusCode::OK);
    let session: Value = bare.json().await.unwrap();
    let attributes: HashSet<&str> = session["requestedAttributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    for a in &attributes {
        assert!(safeconv_relay::NBID_ATTRIBUTES.contains(a), "{a}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_create_for_a_nin_cancels_the_first_at_signicat() {
    let h = Harness::start().await;
    let n = nin(13);
    let first = h.created("alice", &n).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let second = h.created("bob", &n).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(first, second);
    assert_eq!(h.emulator.session(&first).unwrap().status, "CANCELLED");
    assert_eq!(h.emulator.session(&second).unwrap().status, "CREATED");
    // Alice still owns hers (now cancelled), and reads how it ended.
    let read: Value = h.get("alice", &first).await.json().await.unwrap();
    assert_eq!(read["status"], "CANCELLED");
    let audit = h.audit();
    let replaced = audit
        .iter()
        .find(|r| r["action"] == "cancel" && r["reason"] == "replaced")
        .expect("the replacement is audited");
    assert_eq!(replaced["sessionId"], first.as_str());
    assert_eq!(replaced["agentId"], "bob");
    h.assert_chain_intact();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuse_mode_answers_409_while_a_session_is_active() {
    let h = Harness::with(Options {
        on_active_session: Some("refuse"),
        ..Options::default()
    })
    .await;
    let n = nin(14);
    let first = h.created("alice", &n).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let refused = h.create("bob", &n).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let problem: Value = refused.json().await.unwrap();
    assert_eq!(problem["code"], "active_session_exists");
    assert_eq!(h.emulator.counters().create_requests, 1);
    // Once it has ended, a new one may start.
    h.cancel("alice", &first).await;
    assert_eq!(h.create("bob", &n).await.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_creates_for_one_nin_in_a_loop_push_three_times() {
    let h = Harness::with(Options {
        allowed_origins: vec!["https://softphone.test".to_owned()],
        ..Options::default()
    })
    .await;
    let n = nin(15);
    let mut statuses = Vec::new();
    for _ in 0..100 {
        let response = h
            .http
            .post(format!("{}/auth/rest/sessions", h.url))
            .bearer_auth(h.key("alice"))
            .header("origin", "https://softphone.test")
            .json(&sdk_body(&n))
            .send()
            .await
            .unwrap();
        statuses.push(response.status());
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            // A page can read the limit's answer.
            assert_eq!(
                response.headers()["access-control-allow-origin"],
                "https://softphone.test"
            );
            let exposed = response.headers()["access-control-expose-headers"]
                .to_str()
                .unwrap()
                .to_ascii_lowercase();
            assert!(exposed.contains("retry-after"));
            let retry: u64 = response.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!(retry > 800 && retry <= 900, "{retry}");
            let problem: Value = response.json().await.unwrap();
            assert_eq!(problem["code"], "too_many_requests");
            assert!(problem["detail"].as_str().unwrap().contains("per person"));
        }
    }
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 3);
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
            .count(),
        97
    );
    let counters = h.emulator.counters();
    assert_eq!(counters.create_requests, 3);
    // Each of the two later creates first cancelled the one before.
    assert_eq!(counters.cancel_requests, 2);
    let audit = h.audit();
    let count = |action: &str| audit.iter().filter(|r| r["action"] == action).count();
    assert_eq!(count("create"), 3);
    assert_eq!(count("created"), 3);
    assert_eq!(count("refused"), 97);
    assert!(
        audit
            .iter()
            .filter(|r| r["action"] == "refused")
            .all(|r| r["reason"] == "nin_rate_limit"
                && r["ninMasked"] == format!("{}*****", &n[..6]))
    );
    assert!(audit.iter().all(|r| !r.to_string().contains(&n)));
    h.assert_chain_intact();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_limit_counts_creates_sent_not_refusals() {
    let h = Harness::with(Options {
        per_agent: (4, 3600),
        ..Options::default()
    })
    .await;
    // Refused attempts do not use up the agent's allowance.
    for _ in 0..5 {
        let bad = h
            .create_as(
                h.key("dave"),
                &json!({"prefilledInput": {"nin": "17029012345"}}),
            )
            .await;
        assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    }
    for i in 0..4 {
        assert_eq!(
            h.create("dave", &nin(20 + i)).await.status(),
            StatusCode::OK
        );
    }
    let over = h.create("dave", &nin(30)).await;
    assert_eq!(over.status(), StatusCode::TOO_MANY_REQUESTS);
    let problem: Value = over.json().await.unwrap();
    assert!(problem["detail"].as_str().unwrap().contains("per agent"));
    // Another agent is not affected.
    assert_eq!(h.create("carol", &nin(30)).await.status(), StatusCode::OK);
    assert_eq!(h.emulator.counters().create_requests, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_window_slides() {
    let h = Harness::with(Options {
        per_nin: (1, 2),
        ..Options::default()
    })
    .await;
    let n = nin(31);
    assert_eq!(h.create("alice", &n).await.status(), StatusCode::OK);
    let refused = h.create("alice", &n).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(
        refused.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            <= 2
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(h.create("alice", &n).await.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_creates_for_one_nin_leave_exactly_one_active() {
    let h = Harness::start().await;
    let n = nin(32);
    let creates = (0..50)
        .map(|i| {
            let agent = AGENTS[i % AGENTS.len()];
            h.http
                .post(format!("{}/auth/rest/sessions", h.url))
                .bearer_auth(h.key(agent))
                .json(&sdk_body(&n))
        })
        .collect();
    let created = common::race_creates(creates).await;
    common::assert_one_running_of(&h.emulator, &created);
    let metrics = h.metrics().await;
    assert!(
        metrics.contains("safeconv_relay_active_sessions 1"),
        "{metrics}"
    );
    let audit = h.audit();
    let attempts = audit
        .iter()
        .filter(|r| r["action"] == "create" || r["action"] == "refused")
        .count();
    assert_eq!(attempts, 50, "every attempt is in the audit log");
    h.assert_chain_intact();
}
