//! Agent authentication and the HTTP edge: forged JWTs, Signicat credentials offered as agent
//! credentials, key algorithms, the JWKS refetch floor, oversized bodies and CORS.

mod common;

use base64::Engine;
use common::{Harness, Options, claims, nin, now_secs, sdk_body};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
}

async fn jwt_harness() -> Harness {
    Harness::with(Options {
        jwt: true,
        allowed_origins: vec!["https://softphone.test".to_owned()],
        ..Options::default()
    })
    .await
}

/// The create is refused with 401 in Signicat's shape, and nothing reached Signicat.
async fn assert_refused(h: &Harness, credential: &str, what: &str) {
    let before = h.emulator.counters();
    let response = h.create_as(credential, &sdk_body(&nin(40))).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{what}");
    assert!(
        response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer"),
        "{what}"
    );
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "invalid_token", "{what}");
    assert_eq!(problem["status"], 401);
    assert!(problem["traceId"].is_string());
    let after = h.emulator.counters();
    assert_eq!(after.create_requests, before.create_requests, "{what}");
    assert_eq!(after.token_requests, before.token_requests, "{what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rsa_ec_and_ed25519_agent_tokens_work() {
    let h = jwt_harness().await;
    for (i, kid) in ["rsa-1", "ec-1", "ed-1"].into_iter().enumerate() {
        let agent = format!("agent-{kid}");
        let token = h.jwt(kid, claims(&agent));
        let response = h.create_as(&token, &sdk_body(&nin(41 + i))).await;
        assert_eq!(response.status(), StatusCode::OK, "{kid}");
        let id = response.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        // The agent is the `sub` claim: the same token reads it, another agent's cannot.
        assert_eq!(h.get_as(&token, &id).await.status(), StatusCode::OK);
        let other = h.jwt(kid, claims("someone-else"));
        assert_eq!(h.get_as(&other, &id).await.status(), StatusCode::NOT_FOUND);
    }
    let audit = h.audit();
    assert!(
        audit
            .iter()
            .any(|r| r["agentId"] == "agent-ed-1" && r["action"] == "created")
    );
    // Three keys, one fetch.
    assert_eq!(h.jwks.as_ref().unwrap().fetches(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_and_invalid_tokens_are_refused() {
    let h = jwt_harness().await;
    let jwks = h.jwks.as_ref().unwrap();
    // Warm the key cache with a good token first.
    assert_eq!(
        h.create_as(&h.jwt("rsa-1", claims("alice")), &sdk_body(&nin(44)))
            .await
            .status(),
        StatusCode::OK
    );
    let now = now_secs();

    // alg "none", with and without a signature part.
    let unsigned_header = b64(br#"{"alg":"none","typ":"JWT","kid":"rsa-1"}"#);
    let body = b64(claims("mallory").to_string().as_bytes());
    assert_refused(&h, &format!("{unsigned_header}.{body}."), "alg none").await;
    assert_refused(
        &h,
        &format!("{unsigned_header}.{body}.c2ln"),
        "alg none, signed",
    )
    .await;

    // Signed by a key the relay does not trust, claiming a trusted kid.
    assert_refused(
        &h,
        &jwks.sign_as("stranger", "ed-1", claims("mallory")),
        "wrong key",
    )
    .await;

    // HS256 "signed" with the RSA public key as the HMAC secret.
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("rsa-1".to_owned());
    let forged = jsonwebtoken::encode(
        &header,
        &claims("mallory"),
        &EncodingKey::from_secret(&jwks.rsa_public_der).unwrap(),
    )
    .unwrap();
    assert_refused(&h, &forged, "HS256 with the public key").await;

    // An algorithm that does not match the key's kind (ES256 header on the RSA key id).
    assert_refused(
        &h,
        &jwks.sign_as("ec-1", "rsa-1", claims("mallory")),
        "alg/key mismatch",
    )
    .await;

    let mut c = claims("mallory");
    c["exp"] = json!(now - 120);
    assert_refused(&h, &h.jwt("rsa-1", c), "expired beyond the leeway").await;

    let mut c = claims("mallory");
    c["nbf"] = json!(now + 600);
    assert_refused(&h, &h.jwt("ec-1", c), "nbf in the future").await;

    let mut c = claims("mallory");
    c["aud"] = json!("another-service");
    assert_refused(&h, &h.jwt("rsa-1", c), "wrong aud").await;

    let mut c = claims("mallory");
    c["iss"] = json!("https://evil.example");
    assert_refused(&h, &h.jwt("rsa-1", c), "wrong iss").await;

    let mut c = claims("mallory");
    c.as_object_mut().unwrap().remove("exp");
    assert_refused(&h, &h.jwt("rsa-1", c), "no exp").await;

    let mut c = claims("mallory");
    c.as_object_mut().unwrap().remove("sub");
    assert_refused(&h, &h.jwt("rsa-1", c), "no agent claim").await;

    // A token carrying Signicat's scope is never an agent credential.
    let mut c = claims("mallory");
    c["scope"] = json!("signicat-api");
    assert_refused(&h, &h.jwt("rsa-1", c), "Signicat-scoped token").await;

    assert_refused(
        &h,
        &jwks.sign_as("stranger", "kid-nobody-has", claims("mallory")),
        "unknown kid",
    )
    .await;
    assert_refused(&h, "not-a-token", "garbage").await;

    let audit = h.audit();
    assert!(audit.iter().all(|r| r["agentId"] != "mallory"));
    assert_eq!(audit.iter().filter(|r| r["action"] == "created").count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiry_within_the_leeway_is_accepted() {
    let h = jwt_harness().await;
    let mut c = claims("alice");
    c["exp"] = json!(now_secs() - 10);
    assert_eq!(
        h.create_as(&h.jwt("ed-1", c), &sdk_body(&nin(45)))
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_key_ids_refetch_the_jwks_at_most_once_a_minute_in_all() {
    let h = jwt_harness().await;
    let jwks = h.jwks.as_ref().unwrap();
    assert_eq!(
        h.create_as(&h.jwt("rsa-1", claims("alice")), &sdk_body(&nin(46)))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(jwks.fetches(), 1);
    // A burst of tokens naming different unknown kids: no fetch at all within the minute
    // (the floor is for the whole key set, not per kid).
    for i in 0..20 {
        let token = jwks.sign_as("stranger", &format!("rotated-{i}"), claims("alice"));
        assert_eq!(
            h.get_as(&token, "any").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(jwks.fetches(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_without_kid_is_accepted_only_when_the_key_is_unambiguous() {
    let h = jwt_harness().await;
    let jwks = h.jwks.as_ref().unwrap();
    // One Ed25519 key in the set: a token without `kid` can only mean it.
    jwks.keys.lock().unwrap().retain(|k| k["kid"] != "rsa-1");
    let token = jwks.sign_without_kid("ed-1", claims("alice"));
    assert_eq!(
        h.create_as(&token, &sdk_body(&nin(47))).await.status(),
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signicat_credentials_are_never_agent_credentials() {
    let h = Harness::start().await;
    let config = h.emulator.config().clone();
    // A real Signicat access token, fetched from the (emulated) token endpoint.
    let token: Value = h
        .http
        .post(format!("{}/auth/open/connect/token", h.emulator.url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "signicat-api"),
            ("client_id", &config.client_id),
            ("client_secret", &config.client_secret),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access_token = token["access_token"].as_str().unwrap();
    assert_refused(&h, access_token, "a Signicat access token").await;
    assert_refused(&h, &config.client_secret, "the Signicat client secret").await;
    assert_refused(&h, &config.client_id, "the Signicat client id").await;
    // HTTP Basic with the client id and secret.
    let basic = h
        .http
        .post(format!("{}/auth/rest/sessions", h.url))
        .basic_auth(&config.client_id, Some(&config.client_secret))
        .json(&sdk_body(&nin(48)))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), StatusCode::UNAUTHORIZED);
    // No credential at all.
    let none = h
        .http
        .post(format!("{}/auth/rest/sessions", h.url))
        .json(&sdk_body(&nin(48)))
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(h.emulator.counters().create_requests, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_file_holding_the_signicat_secret_is_refused_at_start() {
    let dir = common::TempDir::new();
    let emulator = safeconv_emulator::Emulator::start(safeconv_emulator::EmulatorConfig {
        client_secret: "a-signicat-client-secret-of-some-length".to_owned(),
        ..Default::default()
    })
    .await
    .unwrap();
    let secret = emulator.config().client_secret.clone();
    std::fs::write(
        dir.0.join("agents.keys"),
        format!(
            "oops {}\n",
            safeconv_relay::auth::hash_agent_key(&secret).unwrap()
        ),
    )
    .unwrap();
    let settings = common::settings_for(&dir.0, &emulator, &Options::default(), None);
    let error = settings.relay_config().await.err().expect("refused");
    assert!(error.contains("Signicat client id or secret"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_body_is_413_and_not_forwarded() {
    let h = Harness::with(Options {
        max_body_bytes: Some(4096),
        ..Options::default()
    })
    .await;
    let mut body = sdk_body(&nin(49));
    body["externalReference"] = json!("x".repeat(10_000));
    let response = h.create_as(h.key("alice"), &body).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "payload_too_large");
    assert_eq!(problem["status"], 413);
    assert_eq!(h.emulator.counters().create_requests, 0);
    let audit = h.audit();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0]["reason"], "body_too_large");
    // Not JSON: 415.
    let text = h
        .http
        .post(format!("{}/auth/rest/sessions", h.url))
        .bearer_auth(h.key("alice"))
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(text.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_allows_only_the_listed_origins() {
    let h = jwt_harness().await;
    let preflight = |origin: &'static str| {
        h.http
            .request(
                reqwest::Method::OPTIONS,
                format!("{}/auth/rest/sessions", h.url),
            )
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type",
            )
            .send()
    };
    let allowed = preflight("https://softphone.test").await.unwrap();
    assert!(allowed.status().is_success());
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://softphone.test"
    );
    let headers = allowed.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(headers.contains("authorization") && headers.contains("content-type"));
    assert!(!headers.contains('*'));

    let foreign = preflight("https://evil.example").await.unwrap();
    assert!(
        foreign
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );

    // A 401 carries the CORS headers, so the page can read it.
    let unauthorized = h
        .http
        .post(format!("{}/auth/rest/sessions", h.url))
        .header("origin", "https://softphone.test")
        .json(&sdk_body(&nin(50)))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthorized.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        unauthorized.headers()["access-control-allow-origin"],
        "https://softphone.test"
    );
    let foreign_call = h
        .http
        .post(format!("{}/auth/rest/sessions", h.url))
        .header("origin", "https://evil.example")
        .json(&sdk_body(&nin(50)))
        .send()
        .await
        .unwrap();
    assert!(
        foreign_call
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    assert_eq!(h.emulator.counters().create_requests, 0);
}
