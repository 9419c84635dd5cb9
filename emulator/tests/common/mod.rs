//! Helpers shared by the emulator's integration tests.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode};
use safeconv_emulator::{Behaviour, Emulator, EmulatorConfig, ServerCertificate};
use serde_json::{Value, json};

/// A reqwest client that never goes through a proxy.
///
/// When the whole workspace is built at once, the `safeconv` crate's reqwest features
/// (`rustls-no-provider`) are unified into ours, and building a client then needs a
/// process-wide rustls crypto provider: install one (harmless otherwise).
pub fn client() -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::builder()
        .no_proxy()
        .build()
        .expect("reqwest client")
}

/// A reqwest client builder that never goes through a proxy unless given one, and trusts only
/// `ca_pem` for HTTPS (nothing at all when `None`).
pub fn client_trusting(ca_pem: Option<&str>) -> reqwest::ClientBuilder {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut roots = rustls::RootCertStore::empty();
    for cert in ca_pem
        .map(|pem| CertificateDer::pem_slice_iter(pem.as_bytes()).collect::<Vec<_>>())
        .unwrap_or_default()
    {
        roots.add(cert.expect("PEM")).expect("a CA");
    }
    let tls = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Client::builder().no_proxy().tls_backend_preconfigured(tls)
}

/// An emulator serving HTTPS with `certificate`, with the quick settings.
pub async fn start_https(certificate: ServerCertificate) -> Emulator {
    Emulator::start(EmulatorConfig {
        tls: Some(certificate),
        ..quick_config()
    })
    .await
    .expect("emulator starts")
}

/// Quick settings for tests: sessions may live 1 s, users approve after 300 ms.
pub fn quick_config() -> EmulatorConfig {
    EmulatorConfig {
        seed: 42,
        min_session_lifetime: Duration::from_secs(1),
        default_behaviour: Behaviour::Approve {
            after: Duration::from_millis(300),
        },
        ..Default::default()
    }
}

pub async fn start() -> Emulator {
    Emulator::start(quick_config())
        .await
        .expect("emulator starts")
}

pub async fn token(client: &Client, emulator: &Emulator) -> String {
    let config = emulator.config();
    let response = client
        .post(format!("{}/auth/open/connect/token", emulator.url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "signicat-api"),
            ("client_id", config.client_id.as_str()),
            ("client_secret", config.client_secret.as_str()),
        ])
        .send()
        .await
        .expect("token request");
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("token JSON");
    body["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

/// The create-session body of the reference (examples/create-request.json) for `nin`.
pub fn create_body(nin: &str) -> Value {
    json!({
        "allowedProviders": ["nbid"],
        "flow": "headless",
        "additionalParameters": {"nbid_auth_type": "PHONE"},
        "requestedAttributes": ["name", "firstName", "lastName", "nin", "dateOfBirth"],
        "prefilledInput": {"nin": nin}
    })
}

pub fn sessions_url(emulator: &Emulator) -> String {
    format!(
        "{}/auth/rest/sessions?signicat-accountId={}",
        emulator.url(),
        emulator.config().account_id
    )
}

pub async fn create_with(
    client: &Client,
    emulator: &Emulator,
    token: &str,
    body: &Value,
) -> reqwest::Response {
    client
        .post(sessions_url(emulator))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("create request")
}

/// Create a session for `nin` and return the response body (asserting 200).
pub async fn create(client: &Client, emulator: &Emulator, token: &str, nin: &str) -> Value {
    let response = create_with(client, emulator, token, &create_body(nin)).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("session JSON")
}

pub async fn get(
    client: &Client,
    emulator: &Emulator,
    token: &str,
    id: &str,
) -> (StatusCode, Value) {
    let response = client
        .get(format!("{}/auth/rest/sessions/{id}", emulator.url()))
        .bearer_auth(token)
        .send()
        .await
        .expect("get request");
    let status = response.status();
    (status, response.json().await.expect("JSON body"))
}

pub async fn cancel(
    client: &Client,
    emulator: &Emulator,
    token: &str,
    id: &str,
) -> (StatusCode, Value) {
    let response = client
        .post(format!("{}/auth/rest/sessions/{id}/cancel", emulator.url()))
        .bearer_auth(token)
        .send()
        .await
        .expect("cancel request");
    let status = response.status();
    (status, response.json().await.expect("JSON body"))
}

pub fn is_final(status: &str) -> bool {
    !matches!(status, "CREATED" | "WAITING_FOR_USER")
}

/// Poll every 50 ms until the session is final (or `limit` passes); returns the final body and
/// every status seen on the way.
pub async fn poll_until_final(
    client: &Client,
    emulator: &Emulator,
    token: &str,
    id: &str,
    limit: Duration,
) -> (Value, Vec<String>) {
    let started = Instant::now();
    let mut seen: Vec<String> = Vec::new();
    loop {
        let (status, body) = get(client, emulator, token, id).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let s = body["status"].as_str().expect("status").to_owned();
        if seen.last() != Some(&s) {
            seen.push(s.clone());
        }
        if is_final(&s) {
            return (body, seen);
        }
        assert!(
            started.elapsed() < limit,
            "session {id} not final after {limit:?}: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A Signicat error body: the documented fields, a 32-hex traceId, and the HTTP status echoed.
pub fn assert_error_body(body: &Value, http_status: StatusCode, code: &str) {
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], http_status.as_u16(), "{body}");
    assert!(
        body["title"].as_str().is_some_and(|t| !t.is_empty()),
        "{body}"
    );
    assert!(
        body["detail"].as_str().is_some_and(|t| !t.is_empty()),
        "{body}"
    );
    assert!(body["type"].is_string(), "{body}");
    let trace = body["traceId"].as_str().expect("traceId");
    assert_eq!(trace.len(), 32);
    assert!(trace.bytes().all(|b| b.is_ascii_hexdigit()));
}
