//! The core on wasm32 (reqwest over `fetch`, JavaScript timers) against the emulator, over real
//! HTTP on loopback. Runs in Node and in headless Chromium (where every call is a CORS request):
//! see scripts/test-wasm.sh, which sets SAFECONV_EMULATOR_URL at compile time (wasm cannot read
//! the environment at run time).
#![cfg(target_arch = "wasm32")]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use safeconv::{
    AccessToken, BoxFuture, CancelToken, Client, Error, Nin, Outcome, SafeConversation, Status,
    TokenProvider, TransportErrorKind, WaitOptions,
};
use serde_json::{Value, json};
use wasm_bindgen_test::wasm_bindgen_test;

const CLIENT_ID: &str = "safeconv-demo-client";
const CLIENT_SECRET: &str = "safeconv-demo-secret";
const ACCOUNT_ID: &str = "a-spge-emulator";

fn emulator() -> &'static str {
    match option_env!("SAFECONV_EMULATOR_URL") {
        Some(url) => url.trim_end_matches('/'),
        None => panic!(
            "build the wasm tests with SAFECONV_EMULATOR_URL set (scripts/test-wasm.sh does)"
        ),
    }
}

async fn admin(method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
    let http = reqwest::Client::new();
    let mut request = http.request(method, format!("{}{path}", emulator()));
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    let response = request.send().await.expect("admin API reachable");
    assert!(
        response.status().is_success(),
        "admin {path}: HTTP {}",
        response.status()
    );
    let text = response.text().await.expect("admin body");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

async fn behave(nin: &str, behaviour: Value) {
    admin(
        reqwest::Method::PUT,
        &format!("/emulator/users/{nin}"),
        Some(behaviour),
    )
    .await;
}

fn client() -> Client {
    Client::builder()
        .base_url(emulator())
        .account_id(ACCOUNT_ID)
        .client_credentials(CLIENT_ID, CLIENT_SECRET)
        .poll_interval(Duration::from_millis(100))
        .build()
        .expect("valid configuration")
}

fn conversation(nin: &str) -> SafeConversation {
    SafeConversation::new(Nin::parse(nin).expect("valid test NIN"))
}

/// What a browser does: ask "its backend" (here: the emulator's token endpoint, called from
/// wasm) for a token, counting the calls.
struct BackendTokens {
    calls: Arc<Mutex<u32>>,
}

impl TokenProvider for BackendTokens {
    fn access_token(&self) -> BoxFuture<'_, Result<AccessToken, Error>> {
        *self.calls.lock().unwrap() += 1;
        Box::pin(async {
            let form = [
                ("grant_type", "client_credentials"),
                ("scope", "signicat-api"),
                ("client_id", CLIENT_ID),
                ("client_secret", CLIENT_SECRET),
            ];
            let response = reqwest::Client::new()
                .post(format!("{}/auth/open/connect/token", emulator()))
                .form(&form)
                .send()
                .await
                .map_err(|_| auth_error("backend unreachable"))?;
            let body: Value =
                serde_json::from_str(&response.text().await.map_err(|_| auth_error("no body"))?)
                    .map_err(|_| auth_error("not JSON"))?;
            let token = body["access_token"]
                .as_str()
                .ok_or_else(|| auth_error("no token"))?;
            let lifetime = body["expires_in"].as_u64().unwrap_or(60);
            Ok(AccessToken::new(token).expires_in(Duration::from_secs(lifetime)))
        })
    }
}

fn auth_error(why: &str) -> Error {
    Error::Authentication {
        error: "backend".into(),
        description: Some(why.into()),
        http_status: None,
    }
}

#[wasm_bindgen_test]
async fn approve_reports_statuses_and_the_verified_subject() {
    let nin = "01018010018";
    behave(nin, json!({"behaviour": "approve", "afterMs": 600})).await;
    let client = client();
    let session = client
        .start_safe_conversation(&conversation(nin))
        .await
        .unwrap();
    assert!(!session.id.is_empty());
    assert!(session.binding_message().is_some_and(|m| !m.is_empty()));
    assert!(session.expires_at.is_some());

    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let options =
        WaitOptions::new().on_status(move |s| record.lock().unwrap().push(s.status.clone()));
    let outcome = client.wait(&session, options).await.unwrap();
    let Outcome::Success(subject) = outcome else {
        panic!("expected success, got {outcome:?}");
    };
    assert!(subject.name.as_deref().is_some_and(|n| !n.is_empty()));
    assert_eq!(subject.nin.as_ref().map(|n| n.value.as_str()), Some(nin));
    assert_eq!(seen.lock().unwrap().last(), Some(&Status::Success));
}

#[wasm_bindgen_test]
async fn a_token_provider_stands_in_for_the_secret() {
    let nin = "02028110068";
    behave(nin, json!({"behaviour": "approve", "afterMs": 300})).await;
    let calls = Arc::new(Mutex::new(0));
    let client = Client::builder()
        .base_url(emulator())
        .account_id(ACCOUNT_ID)
        .token_provider(Arc::new(BackendTokens {
            calls: calls.clone(),
        }))
        .poll_interval(Duration::from_millis(100))
        .build()
        .unwrap();
    let session = client
        .start_safe_conversation(&conversation(nin))
        .await
        .unwrap();
    let outcome = client.wait(&session, WaitOptions::new()).await.unwrap();
    assert_eq!(outcome.status(), Status::Success);
    // One token for the create and every poll after it.
    assert_eq!(*calls.lock().unwrap(), 1);
}

#[wasm_bindgen_test]
async fn decline_and_failures_are_outcomes() {
    let client = client();
    behave(
        "03038210008",
        json!({"behaviour": "decline", "afterMs": 300}),
    )
    .await;
    let session = client
        .start_safe_conversation(&conversation("03038210008"))
        .await
        .unwrap();
    assert_eq!(
        client.wait(&session, WaitOptions::new()).await.unwrap(),
        Outcome::Aborted
    );

    behave("04048310058", json!({"behaviour": "no-app"})).await;
    let session = client
        .start_safe_conversation(&conversation("04048310058"))
        .await
        .unwrap();
    match client.wait(&session, WaitOptions::new()).await.unwrap() {
        Outcome::Failed { status, error } => {
            assert_eq!(status, Status::Error);
            assert_eq!(error.and_then(|e| e.code).as_deref(), Some("no_bankid_app"));
        }
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[wasm_bindgen_test]
async fn a_cancel_token_cancels_the_session_at_signicat() {
    let nin = "05058410774";
    behave(nin, json!({"behaviour": "never-answer"})).await;
    let client = client();
    let session = client
        .start_safe_conversation(&conversation(nin))
        .await
        .unwrap();
    let cancel = CancelToken::new();
    let trigger = cancel.clone();
    wasm_bindgen_futures::spawn_local(async move {
        sleep(Duration::from_millis(300)).await;
        trigger.cancel();
    });
    let started = js_sys::Date::now();
    let outcome = client
        .wait(&session, WaitOptions::new().cancel_token(cancel))
        .await
        .unwrap();
    assert_eq!(outcome, Outcome::Cancelled);
    assert!(
        js_sys::Date::now() - started < 5_000.0,
        "the cancel took effect promptly"
    );
    let view = admin(
        reqwest::Method::GET,
        &format!("/emulator/sessions/{}", session.id),
        None,
    )
    .await;
    assert_eq!(view["status"], "CANCELLED", "{view}");
}

#[wasm_bindgen_test]
async fn a_wait_timeout_cancels_the_session() {
    let nin = "06068510048";
    behave(nin, json!({"behaviour": "never-answer"})).await;
    let client = client();
    let session = client
        .start_safe_conversation(&conversation(nin))
        .await
        .unwrap();
    let outcome = client
        .wait(
            &session,
            WaitOptions::new().timeout(Duration::from_millis(400)),
        )
        .await
        .unwrap();
    assert_eq!(outcome, Outcome::Cancelled);
}

#[wasm_bindgen_test]
async fn transient_faults_are_retried_with_js_timers() {
    let nin = "07078610098";
    behave(nin, json!({"behaviour": "approve", "afterMs": 500})).await;
    admin(
        reqwest::Method::POST,
        "/emulator/faults",
        Some(json!({"endpoint": "get-session", "fault": {"kind": "internal-error"}, "times": 2})),
    )
    .await;
    let client = client();
    let session = client
        .start_safe_conversation(&conversation(nin))
        .await
        .unwrap();
    let outcome = client.wait(&session, WaitOptions::new()).await.unwrap();
    assert_eq!(outcome.status(), Status::Success);
}

#[wasm_bindgen_test]
async fn a_wrong_secret_is_an_authentication_error() {
    let client = Client::builder()
        .base_url(emulator())
        .account_id(ACCOUNT_ID)
        .client_credentials(CLIENT_ID, "not-the-secret")
        .build()
        .unwrap();
    match client
        .start_safe_conversation(&conversation("08088710038"))
        .await
    {
        Err(Error::Authentication {
            error, http_status, ..
        }) => {
            assert_eq!(error, "invalid_client");
            assert_eq!(http_status, Some(401));
        }
        other => panic!("expected an authentication error, got {other:?}"),
    }
}

#[wasm_bindgen_test]
async fn api_errors_carry_the_status() {
    match client().get_session("no-such-session").await {
        Err(Error::Api(api)) => assert_eq!(api.http_status, 404),
        other => panic!("expected a 404, got {other:?}"),
    }
}

#[wasm_bindgen_test]
async fn no_server_is_a_transport_error() {
    // Port 9 (discard) on loopback: nothing listens there.
    let client = Client::builder()
        .base_url("http://127.0.0.1:9")
        .account_id(ACCOUNT_ID)
        .client_credentials(CLIENT_ID, CLIENT_SECRET)
        .build()
        .unwrap();
    match client.get_session("any").await {
        Err(Error::Transport { kind, .. }) => assert_ne!(kind, TransportErrorKind::Timeout),
        other => panic!("expected a transport error, got {other:?}"),
    }
}

async fn sleep(duration: Duration) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let global = js_sys::global();
        let set_timeout = js_sys::Reflect::get(&global, &"setTimeout".into()).unwrap();
        let set_timeout: js_sys::Function = set_timeout.into();
        set_timeout
            .call2(&global, &resolve, &(duration.as_millis() as f64).into())
            .unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.unwrap();
}
