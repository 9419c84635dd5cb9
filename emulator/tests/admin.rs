//! The admin API under /emulator/, CORS, reset and counters.

mod common;

use std::time::Duration;

use common::{client, create, get, poll_until_final, start, token};
use reqwest::StatusCode;
use serde_json::{Value, json};

const NIN: &str = "17029012345";

async fn admin(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = client.request(method, url);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn health_counters_and_reset() {
    let emulator = start().await;
    let client = client();
    let base = format!("{}/emulator", emulator.url());
    let (status, body) = admin(
        &client,
        reqwest::Method::GET,
        format!("{base}/health"),
        None,
    )
    .await;
    assert_eq!((status, body), (StatusCode::OK, json!({"ok": true})));

    let token = token(&client, &emulator).await;
    let id = create(&client, &emulator, &token, NIN).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    get(&client, &emulator, &token, &id).await;
    let (_, counters) = admin(
        &client,
        reqwest::Method::GET,
        format!("{base}/counters"),
        None,
    )
    .await;
    assert_eq!(
        counters,
        json!({
            "tokenRequests": 1, "tokensIssued": 1, "createRequests": 1, "sessionsCreated": 1,
            "getRequests": 1, "cancelRequests": 0, "faultsInjected": 0, "tokensRejected": 0,
            "tlsHandshakesFailed": 0
        })
    );

    let (_, view) = admin(
        &client,
        reqwest::Method::GET,
        format!("{base}/sessions/{id}"),
        None,
    )
    .await;
    assert_eq!(view["id"], id.as_str());
    assert!(view["status"].is_string());
    assert!(view["createdAtUnixMs"].is_u64() && view["expiresAtUnixMs"].is_u64());
    assert_eq!(view["cancelRequests"], 0);
    let (status, _) = admin(
        &client,
        reqwest::Method::GET,
        format!("{base}/sessions/nope"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, _) = admin(
        &client,
        reqwest::Method::POST,
        format!("{base}/reset"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(emulator.counters(), Default::default());
    assert!(emulator.session(&id).is_none());
    // Tokens survive a reset.
    let (status, _) = get(&client, &emulator, &token, &id).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Admin requests are never counted.
    assert_eq!(emulator.counters().get_requests, 1);
    assert_eq!(emulator.counters().token_requests, 0);
}

#[tokio::test]
async fn users_can_be_scripted_over_http() {
    let emulator = start().await;
    let client = client();
    let base = format!("{}/emulator", emulator.url());
    let token = token(&client, &emulator).await;

    let scripted = [
        (
            json!({"behaviour": "decline", "afterMs": 100}),
            "ABORT",
            None,
        ),
        (
            json!({"behaviour": "fail", "afterMs": 100, "code": "x_failed"}),
            "ERROR",
            Some("x_failed"),
        ),
        (
            json!({"behaviour": "no-app"}),
            "ERROR",
            Some("no_bankid_app"),
        ),
        (
            json!({"behaviour": "approve", "afterMs": 100}),
            "SUCCESS",
            None,
        ),
    ];
    for (behaviour, expected, code) in scripted {
        let (status, _) = admin(
            &client,
            reqwest::Method::PUT,
            format!("{base}/users/{NIN}"),
            Some(behaviour.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let id = create(&client, &emulator, &token, NIN).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let (done, _) =
            poll_until_final(&client, &emulator, &token, &id, Duration::from_secs(2)).await;
        assert_eq!(done["status"], expected, "{behaviour}");
        if let Some(code) = code {
            assert_eq!(done["error"]["code"], code);
        }
    }

    let (status, _) = admin(
        &client,
        reqwest::Method::PUT,
        format!("{base}/users/{NIN}"),
        Some(json!({"behaviour": "never-answer"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let id = create(&client, &emulator, &token, NIN).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(emulator.session(&id).unwrap().status, "WAITING_FOR_USER");

    // Bad input: 400 with a message.
    for (path, body) in [
        (format!("{base}/users/{NIN}"), json!({"behaviour": "maybe"})),
        (
            format!("{base}/users/{NIN}"),
            json!({"behaviour": "approve", "after": 5}),
        ),
        (format!("{base}/users/123"), json!({"behaviour": "approve"})),
    ] {
        let (status, error) = admin(&client, reqwest::Method::PUT, path, Some(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            error["error"].as_str().is_some_and(|m| !m.is_empty()),
            "{error}"
        );
    }
}

#[tokio::test]
async fn faults_over_http() {
    let emulator = start().await;
    let client = client();
    let base = format!("{}/emulator", emulator.url());
    let token = token(&client, &emulator).await;
    let session_url = format!("{}/auth/rest/sessions/x", emulator.url());

    let (status, _) = admin(
        &client,
        reqwest::Method::POST,
        format!("{base}/faults"),
        Some(json!({"endpoint": "get-session", "fault": {"kind": "too-many-requests", "retryAfterSecs": 3}, "times": 2})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    for _ in 0..2 {
        let response = client
            .get(&session_url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()["retry-after"], "3");
    }
    // Admin requests never get faults, even "any endpoint" ones.
    admin(
        &client,
        reqwest::Method::POST,
        format!("{base}/faults"),
        Some(json!({"endpoint": "any", "fault": {"kind": "drop-connection"}})),
    )
    .await;
    let (status, _) = admin(
        &client,
        reqwest::Method::GET,
        format!("{base}/health"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = admin(
        &client,
        reqwest::Method::DELETE,
        format!("{base}/faults"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let response = client
        .get(&session_url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    let (status, _) = admin(
        &client,
        reqwest::Method::PUT,
        format!("{base}/fault-rate"),
        Some(json!({"rate": 1.0, "faults": [{"kind": "internal-error"}], "endpoints": ["get-session"]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let response = client
        .get(&session_url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    common::token(&client, &emulator).await; // the token endpoint is not in the list

    for (path, method, body) in [
        (
            "faults",
            reqwest::Method::POST,
            json!({"endpoint": "nowhere", "fault": {"kind": "internal-error"}}),
        ),
        (
            "faults",
            reqwest::Method::POST,
            json!({"fault": {"kind": "lightning"}}),
        ),
        (
            "faults",
            reqwest::Method::POST,
            json!({"fault": {"kind": "slow", "delay": 3}}),
        ),
        ("fault-rate", reqwest::Method::PUT, json!({"rate": 1.5})),
        (
            "fault-rate",
            reqwest::Method::PUT,
            json!({"rate": 0.5, "endpoints": ["somewhere"]}),
        ),
    ] {
        let (status, error) = admin(
            &client,
            method,
            format!("{base}/{path}"),
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(error["error"].is_string());
    }
    let response = client
        .post(format!("{base}/faults"))
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn config_over_http() {
    let emulator = start().await;
    let client = client();
    let base = format!("{}/emulator", emulator.url());
    let (status, config) = admin(
        &client,
        reqwest::Method::PUT,
        format!("{base}/config"),
        Some(json!({"tokenLifetimeSecs": 5, "minSessionLifetimeSecs": 2, "defaultBehaviour": {"behaviour": "decline", "afterMs": 50}})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(config["tokenLifetimeSecs"], 5);
    assert_eq!(config["minSessionLifetimeSecs"], 2);
    assert_eq!(
        config["defaultBehaviour"],
        json!({"behaviour": "decline", "afterMs": 50})
    );
    let (_, read) = admin(
        &client,
        reqwest::Method::GET,
        format!("{base}/config"),
        None,
    )
    .await;
    assert_eq!(read, config);

    let response = client
        .post(format!("{}/auth/open/connect/token", emulator.url()))
        .basic_auth("safeconv-demo-client", Some("safeconv-demo-secret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["expires_in"], 5);
    let token = body["access_token"].as_str().unwrap().to_owned();
    let mut create_body = common::create_body("12345678901");
    create_body["sessionLifetime"] = json!(1);
    let created: Value = common::create_with(&client, &emulator, &token, &create_body)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(created["sessionLifetime"], 2);
    let (done, _) = poll_until_final(
        &client,
        &emulator,
        &token,
        created["id"].as_str().unwrap(),
        Duration::from_secs(1),
    )
    .await;
    assert_eq!(done["status"], "ABORT");

    let (status, _) = admin(
        &client,
        reqwest::Method::PUT,
        format!("{base}/config"),
        Some(json!({"tokenLifetime": 5})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn cors_preflight_and_headers() {
    let emulator = start().await;
    let client = client();
    for path in [
        "/auth/rest/sessions",
        "/auth/open/connect/token",
        "/auth/rest/sessions/x/cancel",
        "/emulator/reset",
    ] {
        let response = client
            .request(
                reqwest::Method::OPTIONS,
                format!("{}{path}", emulator.url()),
            )
            .header("Origin", "http://localhost:8000")
            .header("Access-Control-Request-Method", "POST")
            .header(
                "Access-Control-Request-Headers",
                "authorization, content-type",
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        let h = response.headers();
        assert_eq!(h["access-control-allow-origin"], "*");
        assert_eq!(
            h["access-control-allow-methods"],
            "GET, POST, PUT, DELETE, OPTIONS"
        );
        let allowed = h["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .to_ascii_lowercase();
        assert!(
            allowed.contains('*') && allowed.contains("authorization"),
            "{allowed}"
        );
        assert_eq!(h["access-control-max-age"], "600");
    }
    // Preflights are neither counted nor faulted.
    emulator.inject(None, safeconv_emulator::Fault::DropConnection, 1);
    let response = client
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/auth/rest/sessions", emulator.url()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(emulator.counters(), Default::default());
    emulator.clear_faults();

    // Errors carry the CORS headers too.
    let response = client
        .get(format!("{}/auth/rest/sessions/x", emulator.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
    assert_eq!(
        response.headers()["access-control-expose-headers"],
        "Retry-After"
    );
    let response = client
        .get(format!("{}/nowhere", emulator.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
}

/// Whether an emulator started with `client_id` still answers at `url` (another test's
/// emulator may get the same port later, so the client id tells them apart).
async fn answers(url: &str, client_id: &str) -> bool {
    let fresh = common::client();
    match fresh.get(format!("{url}/emulator/config")).send().await {
        Err(_) => false,
        Ok(response) => match response.json::<Value>().await {
            Ok(config) => config["clientId"] == client_id,
            Err(_) => false,
        },
    }
}

#[tokio::test]
async fn shutdown_closes_the_port() {
    let config = || safeconv_emulator::EmulatorConfig {
        client_id: "shutdown-test-client".to_owned(),
        ..common::quick_config()
    };
    let emulator = safeconv_emulator::Emulator::start(config()).await.unwrap();
    let url = emulator.url();
    assert!(answers(&url, "shutdown-test-client").await);
    emulator.shutdown().await;
    assert!(!answers(&url, "shutdown-test-client").await);

    // Dropping works too, from inside a runtime (without waiting).
    let emulator = safeconv_emulator::Emulator::start(config()).await.unwrap();
    let url = emulator.url();
    drop(emulator);
    let started = std::time::Instant::now();
    while answers(&url, "shutdown-test-client").await {
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "still serving after drop"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
