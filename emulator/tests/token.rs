//! The token endpoint: issue, wrong credentials, grant types, HTTP Basic, expiry.

mod common;

use std::time::Duration;

use common::{assert_error_body, client, quick_config, start};
use reqwest::StatusCode;
use safeconv_emulator::{Emulator, EmulatorConfig};
use serde_json::Value;

#[tokio::test]
async fn issues_a_bearer_token() {
    let emulator = start().await;
    let client = client();
    let response = client
        .post(format!("{}/auth/open/connect/token", emulator.url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "signicat-api"),
            ("client_id", "safeconv-demo-client"),
            ("client_secret", "safeconv-demo-secret"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
    let body: Value = response.json().await.unwrap();
    let object = body.as_object().unwrap();
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["access_token", "expires_in", "scope", "token_type"]);
    assert!(body["access_token"].as_str().unwrap().len() >= 32);
    assert_eq!(body["expires_in"], 600);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "signicat-api");
    let counters = emulator.counters();
    assert_eq!((counters.token_requests, counters.tokens_issued), (1, 1));
}

#[tokio::test]
async fn accepts_http_basic_credentials() {
    let emulator = start().await;
    let response = client()
        .post(format!("{}/auth/open/connect/token", emulator.url()))
        .basic_auth("safeconv-demo-client", Some("safeconv-demo-secret"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "signicat-api"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn refuses_wrong_credentials_and_grant_types() {
    let emulator = start().await;
    let client = client();
    let url = format!("{}/auth/open/connect/token", emulator.url());
    let post = |form: Vec<(&'static str, &'static str)>| {
        let request = client.post(&url).form(&form);
        async move {
            let response = request.send().await.unwrap();
            let status = response.status();
            let body: Value = response.json().await.unwrap();
            (status, body)
        }
    };

    let (status, body) = post(vec![
        ("grant_type", "client_credentials"),
        ("client_id", "safeconv-demo-client"),
        ("client_secret", "wrong"),
    ])
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "invalid_client");
    assert!(body["error_description"].is_string());

    let (status, body) = post(vec![("grant_type", "client_credentials")]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "invalid_client");

    let (status, body) = post(vec![
        ("grant_type", "password"),
        ("client_id", "safeconv-demo-client"),
        ("client_secret", "safeconv-demo-secret"),
    ])
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "unsupported_grant_type");

    let (status, body) = post(vec![
        ("client_id", "safeconv-demo-client"),
        ("client_secret", "safeconv-demo-secret"),
    ])
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "unsupported_grant_type");

    let (status, body) = post(vec![
        ("grant_type", "client_credentials"),
        ("scope", "other"),
        ("client_id", "safeconv-demo-client"),
        ("client_secret", "safeconv-demo-secret"),
    ])
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_scope");

    let response = client
        .post(&url)
        .body("%zz")
        .header("content-type", "application/x-www-form-urlencoded");
    let response = response.send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");

    let counters = emulator.counters();
    assert_eq!((counters.token_requests, counters.tokens_issued), (6, 0));
}

#[tokio::test]
async fn tokens_expire_after_their_lifetime() {
    let emulator = Emulator::start(EmulatorConfig {
        token_lifetime: Duration::from_secs(1),
        ..quick_config()
    })
    .await
    .unwrap();
    let client = client();
    let response = client
        .post(format!("{}/auth/open/connect/token", emulator.url()))
        .basic_auth("safeconv-demo-client", Some("safeconv-demo-secret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["expires_in"], 1);
    let token = body["access_token"].as_str().unwrap().to_owned();

    let session_url = format!("{}/auth/rest/sessions/no-such-session", emulator.url());
    let response = client
        .get(&session_url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::NOT_FOUND,
        "a fresh token is accepted"
    );

    tokio::time::sleep(Duration::from_millis(1100)).await;
    let response = client
        .get(&session_url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(
        response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    let body: Value = response.json().await.unwrap();
    assert_error_body(&body, StatusCode::UNAUTHORIZED, "invalid_token");
    assert_eq!(emulator.counters().tokens_rejected, 1);

    // A new token works again.
    let fresh = common::token(&client, &emulator).await;
    let response = client
        .get(&session_url)
        .bearer_auth(&fresh)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn missing_and_unknown_tokens_are_rejected() {
    let emulator = start().await;
    let client = client();
    let url = format!("{}/auth/rest/sessions/x", emulator.url());
    let response = client.get(&url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: Value = response.json().await.unwrap();
    assert_error_body(&body, StatusCode::UNAUTHORIZED, "invalid_token");
    let response = client
        .get(&url)
        .bearer_auth("made-up")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(emulator.counters().tokens_rejected, 2);
    assert_eq!(emulator.counters().get_requests, 2);
}
