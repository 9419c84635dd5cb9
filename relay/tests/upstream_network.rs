//! The relay reaching Signicat as a bank's network has it: HTTPS with the bank's own CA, through
//! an egress proxy that wants credentials (the emulator over HTTPS, the test proxy, loopback
//! only). Set in the configuration and through the binary's options alike.

mod common;

use common::{Harness, Options, RelayProcess, nin, sdk_body};
use reqwest::StatusCode;
use safeconv_emulator::{EmulatorConfig, ServerCertificate, TestProxy, TestProxyConfig};
use serde_json::Value;

const PROXY_USER: &str = "relay-egress";
const PROXY_PASSWORD: &str = "pr0xy-s3cret-4711";

fn https_emulator() -> EmulatorConfig {
    EmulatorConfig {
        tls: Some(ServerCertificate::Loopback),
        ..Options::default().emulator
    }
}

async fn proxy() -> TestProxy {
    TestProxy::start(TestProxyConfig {
        credentials: Some((PROXY_USER.into(), PROXY_PASSWORD.into())),
        ..Default::default()
    })
    .await
    .expect("proxy starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_go_over_https_with_the_banks_ca_through_its_proxy() {
    let proxy = proxy().await;
    let proxy_url = proxy.url();
    let h = Harness::configured(
        Options {
            emulator: https_emulator(),
            ..Options::default()
        },
        |emulator, settings| {
            let up = &mut settings.file.upstream;
            up.ca_files = vec![emulator.ca_file().unwrap().to_owned()];
            up.roots = Some("added-only".to_owned());
            up.proxy = Some(proxy_url.clone());
            up.proxy_user = Some(PROXY_USER.to_owned());
            up.proxy_password = Some(PROXY_PASSWORD.into());
            // Whatever NO_PROXY the test run has, loopback goes through the proxy here.
            up.no_proxy = Some(String::new());
        },
    )
    .await;
    assert!(h.emulator.url().starts_with("https://127.0.0.1:"));

    let session = h.created("alice", &nin(200)).await;
    let id = session["id"].as_str().unwrap();
    assert_eq!(h.get("alice", id).await.status(), StatusCode::OK);
    assert_eq!(h.cancel("alice", id).await.status(), StatusCode::OK);
    let counters = proxy.counters();
    assert!(counters.tunnels_opened >= 1, "{counters:?}");
    assert_eq!(counters.auth_failures, 0);
    assert_eq!(h.emulator.counters().sessions_created, 1);
    assert_eq!(h.emulator.counters().tls_handshakes_failed, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_banks_ca_nothing_is_created_and_the_relay_is_not_ready() {
    let proxy = proxy().await;
    let proxy_url = proxy.url();
    let h = Harness::configured(
        Options {
            emulator: https_emulator(),
            ..Options::default()
        },
        |_, settings| {
            let up = &mut settings.file.upstream;
            up.proxy = Some(proxy_url.clone());
            up.proxy_user = Some(PROXY_USER.to_owned());
            up.proxy_password = Some(PROXY_PASSWORD.into());
            up.no_proxy = Some(String::new());
        },
    )
    .await;
    let response = h.create("alice", &nin(201)).await;
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    let problem: Value = response.json().await.unwrap();
    // The token request already fails the certificate check: Signicat is out of reach.
    assert_eq!(problem["code"], "upstream_unavailable", "{problem}");
    let ready = h
        .http
        .get(format!("{}/readyz", h.url))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(h.emulator.counters().sessions_created, 0);
    assert!(h.emulator.counters().tls_handshakes_failed >= 1);
    assert!(proxy.counters().tunnels_opened >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_takes_the_trust_and_proxy_options() {
    let emulator = safeconv_emulator::Emulator::start(https_emulator())
        .await
        .unwrap();
    let proxy = proxy().await;
    let dir = common::TempDir::new();
    let key = safeconv_relay::auth::new_agent_key();
    std::fs::write(
        dir.0.join("agents.keys"),
        format!(
            "alice {}\n",
            safeconv_relay::auth::hash_agent_key(&key).unwrap()
        ),
    )
    .unwrap();
    let ca_file = emulator.ca_file().unwrap().to_str().unwrap().to_owned();
    let database = format!("sqlite://{}", dir.0.join("relay.db").display());
    let options = [
        "--database-url",
        &database,
        "--ca-file",
        &ca_file,
        "--roots",
        "bundled",
        "--proxy",
        &proxy.url(),
        "--proxy-user",
        PROXY_USER,
        "--no-proxy=",
    ];
    let env = [("SAFECONV_PROXY_PASSWORD", PROXY_PASSWORD)];

    // check-config names the proxy and the trust, never the password.
    let check = std::process::Command::new(common::relay_binary())
        .arg("check-config")
        .arg("--agent-keys")
        .arg(dir.0.join("agents.keys"))
        .args(options)
        .env("SAFECONV_BASE_URL", emulator.url())
        .env("SAFECONV_ACCOUNT_ID", &emulator.config().account_id)
        .env("SAFECONV_CLIENT_ID", &emulator.config().client_id)
        .env("SAFECONV_CLIENT_SECRET", &emulator.config().client_secret)
        .envs(env)
        .output()
        .unwrap();
    let summary = String::from_utf8_lossy(&check.stdout);
    assert!(
        check.status.success(),
        "{summary} {}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert!(
        summary.contains("bundled roots, 1 added CA certificate(s)")
            && summary.contains(&proxy.url())
            && summary.contains("(password: set)"),
        "{summary}"
    );
    assert!(!summary.contains(PROXY_PASSWORD));

    let relay = RelayProcess::spawn(&dir.0, &emulator, &options, &env).unwrap();
    let created = common::http()
        .post(format!("{}/auth/rest/sessions", relay.url))
        .bearer_auth(&key)
        .json(&sdk_body(&nin(202)))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::OK);
    assert!(proxy.counters().tunnels_opened >= 1);
    assert_eq!(emulator.counters().sessions_created, 1);
    let logs = relay.logs();
    assert_eq!(relay.terminate(), Some(0));
    assert!(!logs.contains(PROXY_PASSWORD));
}
