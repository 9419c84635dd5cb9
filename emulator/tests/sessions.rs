//! Sessions: the JSON shapes, the status progression of every behaviour, cancel, 404 and validation.

mod common;

use std::time::{Duration, Instant};

use common::{
    assert_error_body, cancel, client, create, create_body, create_with, get, poll_until_final,
    quick_config, start, token,
};
use reqwest::StatusCode;
use safeconv_emulator::{Behaviour, Emulator, EmulatorConfig};
use serde_json::{Value, json};

const NIN: &str = "17029012345"; // the guide's example number (fails the check digits: accepted)

fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    keys
}

/// `2026-06-29T11:08:34.9495067+00:00`: RFC 3339, exactly 7 fractional digits, `+00:00`.
fn assert_signicat_timestamp(s: &str) {
    let b = s.as_bytes();
    assert_eq!(b.len(), 33, "{s}");
    for (i, c) in b.iter().enumerate() {
        match i {
            4 | 7 => assert_eq!(*c, b'-', "{s}"),
            10 => assert_eq!(*c, b'T', "{s}"),
            13 | 16 => assert_eq!(*c, b':', "{s}"),
            19 => assert_eq!(*c, b'.', "{s}"),
            27 => assert_eq!(*c, b'+', "{s}"),
            30 => assert_eq!(*c, b':', "{s}"),
            _ => assert!(c.is_ascii_digit(), "{s}"),
        }
    }
    assert!(s.ends_with("+00:00"));
}

#[tokio::test]
async fn approve_progresses_to_success_with_the_reference_shapes() {
    let emulator = start().await;
    let client = client();
    let token = token(&client, &emulator).await;
    emulator.set_behaviour(
        NIN,
        Behaviour::Approve {
            after: Duration::from_millis(300),
        },
    );

    let created = client
        .post(common::sessions_url(&emulator))
        .bearer_auth(&token)
        .header("user-agent", "emulator-test/1.0")
        .json(&json!({
            "allowedProviders": ["nbid"],
            "flow": "headless",
            "additionalParameters": {"nbid_auth_type": "PHONE"},
            "requestedAttributes": ["name", "firstName", "lastName", "nin", "dateOfBirth"],
            "prefilledInput": {"nin": NIN},
            "tags": ["call-centre"],
            "externalReference": "case-42",
            "someFutureField": true
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::OK);
    assert_eq!(created.headers()["content-type"], "application/json");
    let created: Value = created.json().await.unwrap();
    assert_eq!(
        keys(&created),
        [
            "accountId",
            "allowedProviders",
            "emulator",
            "environment",
            "expiresAt",
            "externalReference",
            "flow",
            "id",
            "idpData",
            "prefilledInput",
            "requestedAttributes",
            "sessionLifetime",
            "status",
            "tags"
        ]
    );
    assert_eq!(created["status"], "CREATED");
    assert_eq!(created["accountId"], emulator.config().account_id);
    assert_eq!(created["flow"], "headless");
    assert_eq!(created["allowedProviders"], json!(["nbid"]));
    assert_eq!(
        created["requestedAttributes"],
        json!([
            "dateOfBirth",
            "firstName",
            "lastName",
            "name",
            "nin",
            "idpId"
        ])
    );
    assert_eq!(created["prefilledInput"], json!({"nin": NIN}));
    assert_eq!(created["sessionLifetime"], 1200);
    assert_eq!(created["tags"], json!(["call-centre"]));
    assert_eq!(created["externalReference"], "case-42");
    assert_eq!(
        created["environment"],
        json!({"ipAddress": "127.0.0.1", "userAgent": "emulator-test/1.0"})
    );
    assert_eq!(created["emulator"], json!({"version": 1}));
    assert_signicat_timestamp(created["expiresAt"].as_str().unwrap());
    let id = created["id"].as_str().unwrap();
    assert_eq!(id.len(), 36);
    assert_eq!(id.matches('-').count(), 4);
    let binding = created["idpData"]["bindingMessage"].as_str().unwrap();
    let words: Vec<&str> = binding.split(' ').collect();
    assert_eq!(words.len(), 2, "{binding}");
    assert!(words[0].chars().next().unwrap().is_uppercase(), "{binding}");
    assert!(words[1].chars().all(|c| c.is_lowercase()), "{binding}");

    let (done, seen) =
        poll_until_final(&client, &emulator, &token, id, Duration::from_secs(3)).await;
    // Polling may miss a short phase on a busy machine, but never sees them out of order.
    let order = ["CREATED", "WAITING_FOR_USER", "SUCCESS"];
    let ranks: Vec<usize> = seen
        .iter()
        .map(|s| order.iter().position(|o| o == s).expect("known status"))
        .collect();
    assert!(ranks.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
    assert_eq!(seen.last().map(String::as_str), Some("SUCCESS"));
    assert_eq!(done["provider"], "nbid");
    assert_eq!(done["loa"], "substantial");
    assert_eq!(done["expiresAt"], created["expiresAt"]);
    assert_eq!(done["idpData"], created["idpData"]);
    let subject = &done["subject"];
    assert_eq!(
        keys(subject),
        [
            "dateOfBirth",
            "firstName",
            "id",
            "idpId",
            "lastName",
            "name",
            "nbidSerialNumber",
            "nin"
        ]
    );
    assert_eq!(
        subject["nin"],
        json!({"value": NIN, "issuingCountry": "NO", "type": "BIRTH"})
    );
    assert_eq!(subject["dateOfBirth"], "1990-02-17");
    assert!(
        subject["idpId"]
            .as_str()
            .unwrap()
            .starts_with("9578-6000-4-")
    );
    assert_eq!(
        subject["name"].as_str().unwrap(),
        format!(
            "{} {}",
            subject["firstName"].as_str().unwrap(),
            subject["lastName"].as_str().unwrap()
        )
    );
    assert!(done.get("error").is_none());

    // The server's own view: final exactly `after` past creation.
    let view = emulator.session(id).unwrap();
    assert_eq!(view.status, "SUCCESS");
    let final_at = view.final_at_unix_ms.unwrap();
    assert!(
        (final_at - view.created_at_unix_ms).abs_diff(300) <= 1,
        "{view:?}"
    );
    assert_eq!(view.expires_at_unix_ms - view.created_at_unix_ms, 1_200_000);
}

#[tokio::test]
async fn created_then_waiting_for_user_while_the_app_is_open() {
    let emulator = start().await;
    let client = client();
    let token = token(&client, &emulator).await;
    // WAITING_FOR_USER comes after min(after / 2, 500 ms).
    emulator.set_behaviour(
        NIN,
        Behaviour::Approve {
            after: Duration::from_secs(60),
        },
    );
    let started = Instant::now();
    let id = create(&client, &emulator, &token, NIN).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, early) = get(&client, &emulator, &token, &id).await;
    if started.elapsed() < Duration::from_millis(400) {
        assert_eq!(early["status"], "CREATED");
        assert!(early.get("provider").is_none());
    }
    tokio::time::sleep(Duration::from_millis(550).saturating_sub(started.elapsed())).await;
    let (_, waiting) = get(&client, &emulator, &token, &id).await;
    assert_eq!(waiting["status"], "WAITING_FOR_USER");
    assert_eq!(waiting["provider"], "nbid");
    assert!(waiting.get("subject").is_none() && waiting.get("error").is_none());
    assert!(emulator.session(&id).unwrap().final_at_unix_ms.is_none());
}

#[tokio::test]
async fn only_requested_attributes_are_returned() {
    let emulator = start().await;
    emulator.set_behaviour(
        NIN,
        Behaviour::Approve {
            after: Duration::ZERO,
        },
    );
    let client = client();
    let token = token(&client, &emulator).await;
    let mut body = create_body(NIN);
    body["requestedAttributes"] = json!(["firstName"]);
    let response = create_with(&client, &emulator, &token, &body).await;
    let created: Value = response.json().await.unwrap();
    assert_eq!(
        created["requestedAttributes"],
        json!(["firstName", "idpId"])
    );
    let (_, done) = get(&client, &emulator, &token, created["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "SUCCESS");
    assert_eq!(
        keys(&done["subject"]),
        ["firstName", "id", "idpId", "nbidSerialNumber"]
    );
}

#[tokio::test]
async fn every_behaviour_reaches_its_final_status() {
    let emulator = start().await;
    let client = client();
    let token = token(&client, &emulator).await;
    let cases = [
        (
            "11111111111",
            Behaviour::Decline {
                after: Duration::from_millis(200),
            },
            "ABORT",
        ),
        (
            "22222222222",
            Behaviour::Fail {
                after: Duration::from_millis(200),
                code: "certificate_revoked".into(),
            },
            "ERROR",
        ),
        ("33333333333", Behaviour::NoApp, "ERROR"),
        ("44444444444", Behaviour::NeverAnswer, "EXPIRED"),
        (
            "55555555555",
            Behaviour::Approve {
                after: Duration::from_secs(30),
            },
            "EXPIRED",
        ),
    ];
    let mut ids = Vec::new();
    for (nin, behaviour, _) in &cases {
        emulator.set_behaviour(nin, behaviour.clone());
        let mut body = create_body(nin);
        body["sessionLifetime"] = json!(1); // min_session_lifetime is 1 s in these tests
        let response = create_with(&client, &emulator, &token, &body).await;
        let created: Value = response.json().await.unwrap();
        assert_eq!(created["sessionLifetime"], 1);
        ids.push(created["id"].as_str().unwrap().to_owned());
    }
    for ((_, _, expected), id) in cases.iter().zip(&ids) {
        let (done, seen) =
            poll_until_final(&client, &emulator, &token, id, Duration::from_secs(3)).await;
        assert_eq!(done["status"], *expected, "{seen:?}");
        assert!(done.get("subject").is_none());
    }
    let (_, failed) = get(&client, &emulator, &token, &ids[1]).await;
    assert_eq!(failed["error"]["code"], "certificate_revoked", "{failed}");
    assert_eq!(failed["error"]["type"], "idp_error");
    assert!(failed["error"]["title"].is_string() && failed["error"]["detail"].is_string());
    let (_, no_app) = get(&client, &emulator, &token, &ids[2]).await;
    assert_eq!(no_app["error"]["code"], "no_bankid_app");
    let (_, never) = get(&client, &emulator, &token, &ids[3]).await;
    assert!(never.get("error").is_none());
}

#[tokio::test]
async fn personas_behave_as_documented() {
    let emulator = start().await;
    let client = client();
    let token = token(&client, &emulator).await;
    let kari = create(&client, &emulator, &token, "17829040085").await;
    let ola = create(&client, &emulator, &token, "01818040071").await;
    let per = create(&client, &emulator, &token, "15858540043").await;
    let ingrid = create(&client, &emulator, &token, "24847540067").await;
    let nils = create(&client, &emulator, &token, "31929940019").await;
    let id = |v: &Value| v["id"].as_str().unwrap().to_owned();

    let (nils_done, _) = poll_until_final(
        &client,
        &emulator,
        &token,
        &id(&nils),
        Duration::from_secs(1),
    )
    .await;
    assert_eq!(nils_done["error"]["code"], "no_bankid_app");
    let (per_done, _) = poll_until_final(
        &client,
        &emulator,
        &token,
        &id(&per),
        Duration::from_secs(2),
    )
    .await;
    assert_eq!(per_done["error"]["code"], "authentication_failed");
    let (kari_done, _) = poll_until_final(
        &client,
        &emulator,
        &token,
        &id(&kari),
        Duration::from_secs(3),
    )
    .await;
    assert_eq!(kari_done["status"], "SUCCESS");
    assert_eq!(kari_done["subject"]["name"], "Kari Nordmann");
    assert_eq!(kari_done["subject"]["dateOfBirth"], "1990-02-17");
    let (ola_done, _) = poll_until_final(
        &client,
        &emulator,
        &token,
        &id(&ola),
        Duration::from_secs(3),
    )
    .await;
    assert_eq!(ola_done["status"], "ABORT");
    let (_, ingrid_now) = get(&client, &emulator, &token, &id(&ingrid)).await;
    assert_eq!(ingrid_now["status"], "WAITING_FOR_USER");
}

#[tokio::test]
async fn unknown_people_get_a_name_and_the_birth_date_of_their_number() {
    let emulator = start().await;
    emulator.set_behaviour(
        "10915596784",
        Behaviour::Approve {
            after: Duration::ZERO,
        },
    );
    let client = client();
    let token = token(&client, &emulator).await;
    let created = create(&client, &emulator, &token, "10915596784").await;
    let (_, done) = get(&client, &emulator, &token, created["id"].as_str().unwrap()).await;
    assert_eq!(done["subject"]["dateOfBirth"], "1955-11-10");
    assert!(!done["subject"]["firstName"].as_str().unwrap().is_empty());
}

#[tokio::test]
async fn cancel_stops_a_running_session_and_refuses_a_final_one() {
    let emulator = start().await;
    let client = client();
    let token = token(&client, &emulator).await;
    emulator.set_behaviour(NIN, Behaviour::NeverAnswer);
    let created = create(&client, &emulator, &token, NIN).await;
    let id = created["id"].as_str().unwrap();

    let before = Instant::now();
    let (status, cancelled) = cancel(&client, &emulator, &token, id).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(cancelled["id"], id);
    assert_eq!(cancelled["accountId"], emulator.config().account_id);
    assert_eq!(cancelled["status"], "CANCELLED");
    assert_eq!(cancelled["provider"], "nbid");
    let (_, after) = get(&client, &emulator, &token, id).await;
    assert_eq!(after["status"], "CANCELLED");
    let view = emulator.session(id).unwrap();
    assert_eq!(view.cancel_requests, 1);
    assert!(view.final_at_unix_ms.is_some());
    assert!(before.elapsed() < Duration::from_secs(1));

    // Already final: 400 session_already_completed, status unchanged.
    let (status, refused) = cancel(&client, &emulator, &token, id).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error_body(
        &refused,
        StatusCode::BAD_REQUEST,
        "session_already_completed",
    );
    assert_eq!(emulator.session(id).unwrap().status, "CANCELLED");
    assert_eq!(emulator.session(id).unwrap().cancel_requests, 2);

    emulator.set_behaviour(
        NIN,
        Behaviour::Approve {
            after: Duration::ZERO,
        },
    );
    let approved = create(&client, &emulator, &token, NIN).await;
    let approved_id = approved["id"].as_str().unwrap();
    let (status, refused) = cancel(&client, &emulator, &token, approved_id).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(refused["code"], "session_already_completed");
    let (_, still) = get(&client, &emulator, &token, approved_id).await;
    assert_eq!(still["status"], "SUCCESS");
    assert_eq!(emulator.counters().cancel_requests, 3);
}

#[tokio::test]
async fn unknown_sessions_are_404() {
    let emulator = start().await;
    let client = client();
    let token = token(&client, &emulator).await;
    let (status, body) = get(
        &client,
        &emulator,
        &token,
        "3d07c219-0a88-45be-9cfc-91e9d095a1e9",
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error_body(&body, StatusCode::NOT_FOUND, "session_not_found");
    let (status, body) = cancel(&client, &emulator, &token, "nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error_body(&body, StatusCode::NOT_FOUND, "session_not_found");
    assert!(emulator.session("nope").is_none());
}

#[tokio::test]
async fn create_validates_its_input() {
    let emulator = start().await;
    let client = client();
    let token = token(&client, &emulator).await;

    let invalid_param = |body: &Value| -> Vec<String> {
        body["invalidParams"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                assert!(p["reason"].is_string());
                p["name"].as_str().unwrap().to_owned()
            })
            .collect()
    };

    for (mutate, expected) in [
        (json!({"prefilledInput": {}}), "prefilledInput.nin"),
        (
            json!({"prefilledInput": {"nin": "1234"}}),
            "prefilledInput.nin",
        ),
        (
            json!({"prefilledInput": {"nin": "1702901234x"}}),
            "prefilledInput.nin",
        ),
        (json!({"flow": "redirect"}), "flow"),
        (json!({"flow": null}), "flow"),
        (json!({"allowedProviders": ["sbid"]}), "allowedProviders"),
        (
            json!({"additionalParameters": {"nbid_auth_type": "APP"}}),
            "additionalParameters.nbid_auth_type",
        ),
        (json!({"sessionLifetime": "long"}), "sessionLifetime"),
    ] {
        let mut body = create_body(NIN);
        for (k, v) in mutate.as_object().unwrap() {
            body[k] = v.clone();
        }
        let response = create_with(&client, &emulator, &token, &body).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{mutate}");
        let error: Value = response.json().await.unwrap();
        assert_error_body(&error, StatusCode::BAD_REQUEST, "invalid_request_parameter");
        assert_eq!(invalid_param(&error), [expected], "{mutate}");
    }

    // Not JSON at all.
    let response = client
        .post(common::sessions_url(&emulator))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let error: Value = response.json().await.unwrap();
    assert_error_body(&error, StatusCode::BAD_REQUEST, "invalid_request");

    // Account id: missing → 400 with invalidParams, other → 403.
    let base = format!("{}/auth/rest/sessions", emulator.url());
    let response = client
        .post(&base)
        .bearer_auth(&token)
        .json(&create_body(NIN))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let error: Value = response.json().await.unwrap();
    assert_eq!(invalid_param(&error), ["signicat-accountId"]);
    let response = client
        .post(format!("{base}?signicat-accountId=a-other"))
        .bearer_auth(&token)
        .json(&create_body(NIN))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let error: Value = response.json().await.unwrap();
    assert_error_body(&error, StatusCode::FORBIDDEN, "forbidden");

    let counters = emulator.counters();
    assert_eq!(
        (counters.create_requests, counters.sessions_created),
        (11, 0)
    );
}

#[tokio::test]
async fn session_lifetime_is_raised_to_the_minimum_and_defaults() {
    let emulator = Emulator::start(EmulatorConfig {
        min_session_lifetime: Duration::from_secs(300),
        ..quick_config()
    })
    .await
    .unwrap();
    let client = client();
    let token = token(&client, &emulator).await;
    let mut body = create_body(NIN);
    body["sessionLifetime"] = json!(60);
    let created: Value = create_with(&client, &emulator, &token, &body)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(created["sessionLifetime"], 300);
    body["sessionLifetime"] = json!(900);
    let created: Value = create_with(&client, &emulator, &token, &body)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(created["sessionLifetime"], 900);
    let view = emulator.session(created["id"].as_str().unwrap()).unwrap();
    assert_eq!(view.expires_at_unix_ms - view.created_at_unix_ms, 900_000);
}

#[tokio::test]
async fn get_checks_the_account_when_given() {
    let emulator = start().await;
    let client = client();
    let token = token(&client, &emulator).await;
    let created = create(&client, &emulator, &token, NIN).await;
    let id = created["id"].as_str().unwrap();
    let url = format!("{}/auth/rest/sessions/{id}", emulator.url());
    let ok = client
        .get(format!(
            "{url}?signicat-accountId={}",
            emulator.config().account_id
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    let other = client
        .get(format!("{url}?signicat-accountId=x"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::FORBIDDEN);
}
