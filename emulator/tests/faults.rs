//! Fault injection, as a client observes it: each kind, scripted and at a seeded rate.

mod common;

use std::time::{Duration, Instant};

use common::{assert_error_body, client, create, create_body, get, start, token};
use reqwest::StatusCode;
use safeconv_emulator::{Emulator, Endpoint, Fault};
use serde_json::Value;

async fn get_raw(
    client: &reqwest::Client,
    emulator: &Emulator,
    token: &str,
    id: &str,
) -> reqwest::Result<reqwest::Response> {
    client
        .get(format!("{}/auth/rest/sessions/{id}", emulator.url()))
        .bearer_auth(token)
        .send()
        .await
}

#[tokio::test]
async fn internal_error_unavailable_and_too_many_requests() {
    let emulator = start().await;
    let client = client();
    let token = token(&client, &emulator).await;
    let id = create(&client, &emulator, &token, "17029012345").await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    emulator.inject(Some(Endpoint::GetSession), Fault::InternalError, 1);
    emulator.inject(
        Some(Endpoint::GetSession),
        Fault::Unavailable {
            retry_after: Some(Duration::from_secs(2)),
        },
        1,
    );
    emulator.inject(
        Some(Endpoint::GetSession),
        Fault::Unavailable { retry_after: None },
        1,
    );
    emulator.inject(
        Some(Endpoint::GetSession),
        Fault::TooManyRequests {
            retry_after: Duration::from_millis(1500),
        },
        1,
    );

    let response = get_raw(&client, &emulator, &token, &id).await.unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
    assert_error_body(
        &response.json().await.unwrap(),
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal_server_error",
    );

    let response = get_raw(&client, &emulator, &token, &id).await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()["retry-after"], "2");
    assert_error_body(
        &response.json().await.unwrap(),
        StatusCode::SERVICE_UNAVAILABLE,
        "service_unavailable",
    );

    let response = get_raw(&client, &emulator, &token, &id).await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().get("retry-after").is_none());

    let response = get_raw(&client, &emulator, &token, &id).await.unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        response.headers()["retry-after"],
        "2",
        "rounded up to whole seconds"
    );
    assert_eq!(
        response.headers()["access-control-expose-headers"],
        "Retry-After"
    );
    assert_error_body(
        &response.json().await.unwrap(),
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_requests",
    );

    // The queue is used up: back to normal.
    let (status, _) = get(&client, &emulator, &token, &id).await;
    assert_eq!(status, StatusCode::OK);
    let counters = emulator.counters();
    assert_eq!((counters.get_requests, counters.faults_injected), (5, 4));
}

#[tokio::test]
async fn dropped_connection_is_a_transport_error() {
    let emulator = start().await;
    let client = client();
    let token = token(&client, &emulator).await;
    emulator.inject(Some(Endpoint::CreateSession), Fault::DropConnection, 1);
    let error = client
        .post(common::sessions_url(&emulator))
        .bearer_auth(&token)
        .json(&create_body("17029012345"))
        .send()
        .await
        .expect_err("the connection is dropped");
    assert!(error.status().is_none());
    assert!(error.is_request() || error.is_connect(), "{error:?}");
    let counters = emulator.counters();
    assert_eq!(
        (
            counters.create_requests,
            counters.sessions_created,
            counters.faults_injected
        ),
        (1, 0, 1)
    );
    // The next request works.
    create(&client, &emulator, &token, "17029012345").await;
}

#[tokio::test]
async fn truncated_json_breaks_the_body() {
    let emulator = start().await;
    let client = client();
    emulator.inject(Some(Endpoint::Token), Fault::TruncatedJson, 1);
    let response = client
        .post(format!("{}/auth/open/connect/token", emulator.url()))
        .basic_auth("safeconv-demo-client", Some("safeconv-demo-secret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("headers arrive");
    assert_eq!(response.status(), StatusCode::OK);
    let full: usize = response.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(full > 50);
    let error = response.bytes().await.expect_err("the body stops half way");
    assert!(
        error.is_body() || error.is_decode() || error.is_request(),
        "{error:?}"
    );
    // The request itself was carried out.
    assert_eq!(emulator.counters().tokens_issued, 1);
}

/// On the wire: the headers announce the full length, half of it arrives, then EOF.
#[tokio::test]
async fn truncated_body_is_half_the_content_length() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let emulator = start().await;
    emulator.inject(None, Fault::TruncatedJson, 1);
    let address = emulator.url().trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let body = "grant_type=client_credentials&client_id=safeconv-demo-client&client_secret=safeconv-demo-secret";
    let request = format!(
        "POST /auth/open/connect/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut received = Vec::new();
    tokio::time::timeout(Duration::from_secs(3), stream.read_to_end(&mut received))
        .await
        .expect("the server closes the connection")
        .ok();
    let text = String::from_utf8_lossy(&received);
    let (head, rest) = text.split_once("\r\n\r\n").expect("headers");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length: ")
                .map(|v| v.trim().parse().unwrap())
        })
        .expect("content-length");
    assert_eq!(rest.len(), length / 2, "{text}");
}

#[tokio::test]
async fn malformed_json_is_a_complete_but_broken_200() {
    let emulator = start().await;
    let client = client();
    let token = token(&client, &emulator).await;
    let id = create(&client, &emulator, &token, "17029012345").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    emulator.inject(None, Fault::MalformedJson, 1);
    let response = get_raw(&client, &emulator, &token, &id).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/json");
    let text = response.text().await.expect("complete body");
    assert!(text.starts_with('{'));
    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");
}

#[tokio::test]
async fn slow_answers_late_but_normally() {
    let emulator = start().await;
    let client = client();
    let token = token(&client, &emulator).await;
    emulator.inject(
        Some(Endpoint::GetSession),
        Fault::Slow {
            delay: Duration::from_millis(400),
        },
        1,
    );
    let started = Instant::now();
    let (status, body) = get(&client, &emulator, &token, "unknown").await;
    assert!(started.elapsed() >= Duration::from_millis(400));
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], "session_not_found");

    // A client timeout shorter than the delay sees a timeout.
    emulator.inject(
        Some(Endpoint::GetSession),
        Fault::Slow {
            delay: Duration::from_millis(500),
        },
        1,
    );
    let error = client
        .get(format!("{}/auth/rest/sessions/x", emulator.url()))
        .bearer_auth(&token)
        .timeout(Duration::from_millis(100))
        .send()
        .await
        .expect_err("times out");
    assert!(error.is_timeout(), "{error:?}");
}

#[tokio::test]
async fn reject_token_forces_a_401() {
    let emulator = start().await;
    let client = client();
    let token = token(&client, &emulator).await;
    emulator.inject(Some(Endpoint::GetSession), Fault::RejectToken, 1);
    let response = get_raw(&client, &emulator, &token, "x").await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_error_body(
        &response.json().await.unwrap(),
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    );
    assert_eq!(emulator.counters().tokens_rejected, 1);

    emulator.inject(Some(Endpoint::Token), Fault::RejectToken, 1);
    let response = client
        .post(format!("{}/auth/open/connect/token", emulator.url()))
        .basic_auth("safeconv-demo-client", Some("safeconv-demo-secret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
}

#[tokio::test]
async fn scripted_faults_are_served_in_order_and_per_endpoint() {
    let emulator = start().await;
    let client = client();
    let token = token(&client, &emulator).await;
    emulator.inject(Some(Endpoint::CancelSession), Fault::InternalError, 2);
    emulator.inject(
        None,
        Fault::TooManyRequests {
            retry_after: Duration::from_secs(1),
        },
        1,
    );
    // GET is not a cancel: it gets the "any endpoint" fault.
    let response = get_raw(&client, &emulator, &token, "x").await.unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let response = get_raw(&client, &emulator, &token, "x").await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    for expected in [500, 500, 404] {
        let response = client
            .post(format!("{}/auth/rest/sessions/x/cancel", emulator.url()))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), expected);
    }
    emulator.inject(None, Fault::InternalError, 5);
    emulator.clear_faults();
    assert_eq!(
        get_raw(&client, &emulator, &token, "x")
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
}

/// The status codes of `n` GETs (0 for a transport error).
async fn statuses(
    client: &reqwest::Client,
    emulator: &Emulator,
    token: &str,
    n: usize,
) -> Vec<u16> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(match get_raw(client, emulator, token, "x").await {
            Ok(response) => response.status().as_u16(),
            Err(_) => 0,
        });
    }
    out
}

#[tokio::test]
async fn fault_rate_is_seeded_and_rate_one_faults_everything() {
    let emulator = start().await;
    let client = client();
    let token = token(&client, &emulator).await;

    emulator.set_fault_rate(1.0, vec![Fault::InternalError], vec![Endpoint::GetSession]);
    assert!(
        statuses(&client, &emulator, &token, 20)
            .await
            .iter()
            .all(|s| *s == 500)
    );
    assert_eq!(emulator.counters().faults_injected, 20);
    // Other endpoints are not affected.
    common::token(&client, &emulator).await;

    // The same seed gives the same sequence.
    let faults = vec![
        Fault::InternalError,
        Fault::TooManyRequests {
            retry_after: Duration::from_secs(1),
        },
    ];
    emulator.set_fault_rate(0.5, faults.clone(), vec![]);
    let first = statuses(&client, &emulator, &token, 40).await;
    emulator.set_fault_rate(0.5, faults, vec![]);
    let second = statuses(&client, &emulator, &token, 40).await;
    assert_eq!(first, second);
    let faulted = first.iter().filter(|s| **s != 404).count();
    assert!((8..=32).contains(&faulted), "{first:?}");
    assert!(
        first.contains(&500) && first.contains(&429) && first.contains(&404),
        "{first:?}"
    );

    emulator.set_fault_rate(0.0, vec![], vec![]);
    assert!(
        statuses(&client, &emulator, &token, 5)
            .await
            .iter()
            .all(|s| *s == 404)
    );
}

#[tokio::test]
async fn default_fault_mix_covers_every_kind() {
    let emulator = start().await;
    let client = client();
    let token = token(&client, &emulator).await;
    emulator.set_fault_rate(1.0, vec![], vec![Endpoint::GetSession]);
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..40 {
        let outcome = match get_raw(&client, &emulator, &token, "x").await {
            Err(_) => "transport".to_owned(),
            Ok(response) => {
                let status = response.status().as_u16();
                match response.text().await {
                    Err(_) => format!("{status}-truncated"),
                    Ok(text) if serde_json::from_str::<Value>(&text).is_err() => {
                        format!("{status}-malformed")
                    }
                    Ok(_) => status.to_string(),
                }
            }
        };
        seen.insert(outcome);
    }
    // 500, 503, 429, dropped, slow (404 after a delay), truncated, malformed, 401.
    for expected in [
        "500",
        "503",
        "429",
        "transport",
        "404",
        "404-truncated",
        "200-malformed",
        "401",
    ] {
        assert!(seen.contains(expected), "{expected} missing from {seen:?}");
    }
}
