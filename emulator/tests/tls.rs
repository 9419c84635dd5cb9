//! The emulator over HTTPS: its test CA, its three server certificates, and the binary's
//! `--tls` contract.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use reqwest::Client;
use safeconv_emulator::{Emulator, EmulatorConfig, OTHER_HOST_NAME, ServerCertificate};
use serde_json::{Value, json};

async fn health(client: &Client, base: &str) -> Result<Value, reqwest::Error> {
    client
        .get(format!("{base}/emulator/health"))
        .send()
        .await?
        .json()
        .await
}

/// The error's causes, as text.
fn causes(error: &reqwest::Error) -> String {
    format!("{error:?}")
}

#[tokio::test]
async fn serves_https_with_a_certificate_from_its_own_ca() {
    let emulator = common::start_https(ServerCertificate::Loopback).await;
    let url = emulator.url();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let pem = emulator.ca_pem().expect("a CA").to_owned();
    let file = emulator.ca_file().expect("a CA file").to_owned();
    assert_eq!(std::fs::read_to_string(&file).unwrap(), pem);

    let client = common::client_trusting(Some(&pem)).build().unwrap();
    assert_eq!(health(&client, &url).await.unwrap(), json!({"ok": true}));
    let localhost = url.replace("127.0.0.1", "localhost");
    assert_eq!(
        health(&client, &localhost).await.unwrap(),
        json!({"ok": true})
    );
    // The whole API answers over TLS.
    let token = common::token(&client, &emulator).await;
    let session = common::create(&client, &emulator, &token, "17029012345").await;
    assert_eq!(session["status"], "CREATED");
    assert_eq!(emulator.counters().tls_handshakes_failed, 0);

    emulator.shutdown().await;
    assert!(!file.exists(), "the CA file outlived the emulator");
}

#[tokio::test]
async fn a_client_without_the_ca_refuses_it_and_sends_nothing() {
    let emulator = common::start_https(ServerCertificate::Loopback).await;
    let client = common::client_trusting(None).build().unwrap();
    let error = health(&client, &emulator.url()).await.unwrap_err();
    assert!(causes(&error).contains("UnknownIssuer"), "{error:?}");
    // The server counts the handshake once it has read the client's alert.
    let mut counted = false;
    for _ in 0..100 {
        counted = emulator.counters().tls_handshakes_failed == 1;
        if counted {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(counted, "{:?}", emulator.counters());
    assert_eq!(emulator.counters().token_requests, 0);
    // Each emulator has a CA of its own.
    let other = common::start_https(ServerCertificate::Loopback).await;
    let trusting_other = common::client_trusting(other.ca_pem()).build().unwrap();
    let error = health(&trusting_other, &emulator.url()).await.unwrap_err();
    assert!(causes(&error).contains("UnknownIssuer"), "{error:?}");
}

#[tokio::test]
async fn the_other_host_certificate_fails_the_host_name_check_only() {
    let emulator = common::start_https(ServerCertificate::OtherHost).await;
    let pem = emulator.ca_pem().unwrap().to_owned();
    let client = common::client_trusting(Some(&pem)).build().unwrap();
    let error = health(&client, &emulator.url()).await.unwrap_err();
    assert!(causes(&error).contains("NotValidForName"), "{error:?}");

    // The same certificate is fine for the name it was made for.
    let port = emulator.config().port;
    let by_name = common::client_trusting(Some(&pem))
        .resolve(OTHER_HOST_NAME, ([127, 0, 0, 1], port).into())
        .build()
        .unwrap();
    let url = format!("https://{OTHER_HOST_NAME}:{port}");
    assert_eq!(health(&by_name, &url).await.unwrap(), json!({"ok": true}));
}

#[tokio::test]
async fn the_expired_certificate_fails_the_expiry_check() {
    let emulator = common::start_https(ServerCertificate::Expired).await;
    let client = common::client_trusting(emulator.ca_pem()).build().unwrap();
    let error = health(&client, &emulator.url()).await.unwrap_err();
    assert!(causes(&error).contains("Expired"), "{error:?}");
}

#[tokio::test]
async fn writes_the_ca_where_asked_and_leaves_it_there() {
    let dir = std::env::temp_dir().join(format!("safeconv-emulator-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bank-ca.pem");
    let emulator = Emulator::start(EmulatorConfig {
        tls: Some(ServerCertificate::Loopback),
        ca_file: Some(path.clone()),
        ..common::quick_config()
    })
    .await
    .unwrap();
    assert_eq!(emulator.ca_file(), Some(path.as_path()));
    let pem = emulator.ca_pem().unwrap().to_owned();
    emulator.shutdown().await;
    assert_eq!(std::fs::read_to_string(&path).unwrap(), pem);
    std::fs::remove_dir_all(&dir).unwrap();

    let plain = common::start().await;
    assert_eq!((plain.ca_pem(), plain.ca_file()), (None, None));
    assert!(plain.url().starts_with("http://"));
}

#[tokio::test]
async fn the_binary_prints_the_ca_path_before_the_https_url() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_safeconv-emulator"))
        .args(["--tls", "--exit-on-stdin-close"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let mut second = String::new();
    stdout.read_line(&mut second).unwrap();
    let ca_path = first
        .trim_end()
        .strip_prefix("SAFECONV_EMULATOR_CA=")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_owned();
    let url = second
        .trim_end()
        .strip_prefix("SAFECONV_EMULATOR_URL=")
        .unwrap_or_else(|| panic!("unexpected second line {second:?}"))
        .to_owned();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");

    let pem = std::fs::read_to_string(&ca_path).unwrap();
    let client = common::client_trusting(Some(&pem)).build().unwrap();
    assert_eq!(health(&client, &url).await.unwrap(), json!({"ok": true}));

    drop(child.stdin.take());
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    assert_eq!(rest, "", "nothing after the URL line");
    assert!(
        !std::path::Path::new(&ca_path).exists(),
        "the CA file outlived the emulator"
    );
}
