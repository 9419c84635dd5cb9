//! The loopback test proxy: tunnels, forwarding, credentials, refusals, its counters, and the
//! binary's `--proxy` contract.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use reqwest::{Client, Proxy};
use safeconv_emulator::{ProxyCounters, ServerCertificate, TestProxy, TestProxyConfig};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn start_proxy(config: TestProxyConfig) -> TestProxy {
    TestProxy::start(config).await.expect("proxy starts")
}

/// A client that goes through `proxy` for everything, trusting `ca_pem` (if any) only.
fn client_via(proxy: Proxy, ca_pem: Option<&str>) -> Client {
    common::client_trusting(ca_pem)
        .proxy(proxy)
        .build()
        .unwrap()
}

async fn health(client: &Client, base: &str) -> Result<Value, reqwest::Error> {
    client
        .get(format!("{base}/emulator/health"))
        .send()
        .await?
        .json()
        .await
}

/// Sends `request` to the proxy on a raw connection and returns the status line it answers.
async fn raw(proxy: &TestProxy, request: &str) -> String {
    let address = proxy.url().trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut buf = vec![0; 1024];
    let n = stream.read(&mut buf).await.unwrap();
    String::from_utf8_lossy(&buf[..n])
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn tunnels_https_and_counts_each_tunnel() {
    let emulator = common::start_https(ServerCertificate::Loopback).await;
    let proxy = start_proxy(TestProxyConfig::default()).await;
    assert!(proxy.url().starts_with("http://127.0.0.1:"));
    let client = client_via(Proxy::all(proxy.url()).unwrap(), emulator.ca_pem());
    assert_eq!(
        health(&client, &emulator.url()).await.unwrap(),
        json!({"ok": true})
    );
    // The whole API goes through (one kept-alive tunnel).
    let token = common::token(&client, &emulator).await;
    common::create(&client, &emulator, &token, "17029012345").await;
    assert_eq!(
        proxy.counters(),
        ProxyCounters {
            tunnels_opened: 1,
            ..Default::default()
        }
    );
    assert_eq!(emulator.counters().sessions_created, 1);
    proxy.reset();
    assert_eq!(proxy.counters(), ProxyCounters::default());
}

#[tokio::test]
async fn forwards_plain_http_requests() {
    let emulator = common::start().await;
    let proxy = start_proxy(TestProxyConfig::default()).await;
    let client = client_via(Proxy::all(proxy.url()).unwrap(), None);
    assert_eq!(
        health(&client, &emulator.url()).await.unwrap(),
        json!({"ok": true})
    );
    let token = common::token(&client, &emulator).await;
    assert!(!token.is_empty());
    assert_eq!(proxy.counters().requests_forwarded, 2);
    assert_eq!(proxy.counters().tunnels_opened, 0);
}

#[tokio::test]
async fn requires_its_credentials() {
    let emulator = common::start_https(ServerCertificate::Loopback).await;
    let proxy = start_proxy(TestProxyConfig {
        credentials: Some(("agent".into(), "proxy-secret".into())),
        ..Default::default()
    })
    .await;
    let ca = emulator.ca_pem();

    let anonymous = client_via(Proxy::all(proxy.url()).unwrap(), ca);
    let error = health(&anonymous, &emulator.url()).await.unwrap_err();
    assert!(
        format!("{error:?}").contains("ProxyAuthRequired"),
        "{error:?}"
    );
    let wrong = client_via(
        Proxy::all(proxy.url())
            .unwrap()
            .basic_auth("agent", "guess"),
        ca,
    );
    assert!(health(&wrong, &emulator.url()).await.is_err());
    assert_eq!(proxy.counters().auth_failures, 2);
    assert_eq!(emulator.counters().tls_handshakes_failed, 0);

    let right = client_via(
        Proxy::all(proxy.url())
            .unwrap()
            .basic_auth("agent", "proxy-secret"),
        ca,
    );
    assert_eq!(
        health(&right, &emulator.url()).await.unwrap(),
        json!({"ok": true})
    );
    assert_eq!(proxy.counters().tunnels_opened, 1);
}

#[tokio::test]
async fn reaches_loopback_only_and_reports_what_it_refused() {
    let proxy = start_proxy(TestProxyConfig::default()).await;
    let status = raw(
        &proxy,
        "CONNECT api.signicat.com:443 HTTP/1.1\r\nHost: api.signicat.com:443\r\n\r\n",
    )
    .await;
    assert_eq!(status, "HTTP/1.1 403 Forbidden");
    // A loopback port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let status = raw(
        &proxy,
        &format!("CONNECT {closed} HTTP/1.1\r\nHost: {closed}\r\n\r\n"),
    )
    .await;
    assert_eq!(status, "HTTP/1.1 502 Bad Gateway");
    assert_eq!(proxy.counters().refused, 2);

    let refusing = start_proxy(TestProxyConfig {
        refuse_with: Some(503),
        ..Default::default()
    })
    .await;
    let emulator = common::start().await;
    let target = emulator.url().trim_start_matches("http://").to_owned();
    let status = raw(
        &refusing,
        &format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n"),
    )
    .await;
    assert_eq!(status, "HTTP/1.1 503 Service Unavailable");
    assert_eq!(refusing.counters().refused, 1);
}

#[tokio::test]
async fn answers_its_own_admin_paths() {
    let proxy = start_proxy(TestProxyConfig {
        credentials: Some(("agent".into(), "proxy-secret".into())),
        ..Default::default()
    })
    .await;
    let direct = common::client();
    let status = raw(
        &proxy,
        "CONNECT 127.0.0.1:9 HTTP/1.1\r\nHost: 127.0.0.1:9\r\n\r\n",
    )
    .await;
    assert_eq!(status, "HTTP/1.1 407 Proxy Authentication Required");
    let counters: Value = direct
        .get(format!("{}/proxy/counters", proxy.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        counters,
        json!({"tunnelsOpened": 0, "requestsForwarded": 0, "authFailures": 1, "refused": 0})
    );
    let reset = direct
        .post(format!("{}/proxy/reset", proxy.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), 200);
    assert_eq!(proxy.counters(), ProxyCounters::default());
    let other = direct.get(proxy.url()).send().await.unwrap();
    assert_eq!(other.status(), 404);
}

#[tokio::test]
async fn the_binary_prints_the_proxy_url_before_the_emulator_url() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_safeconv-emulator"))
        .args([
            "--tls",
            "--proxy-credentials",
            "agent:proxy-secret",
            "--exit-on-stdin-close",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    for _ in 0..3 {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        lines.push(line.trim_end().to_owned());
    }
    let value = |line: &str, key: &str| {
        line.strip_prefix(key)
            .unwrap_or_else(|| panic!("expected {key}…, got {line:?}"))
            .to_owned()
    };
    let ca_path = value(&lines[0], "SAFECONV_EMULATOR_CA=");
    let proxy_url = value(&lines[1], "SAFECONV_PROXY_URL=");
    let url = value(&lines[2], "SAFECONV_EMULATOR_URL=");
    assert!(proxy_url.starts_with("http://127.0.0.1:"), "{proxy_url}");
    assert!(!proxy_url.contains("proxy-secret"));

    let pem = std::fs::read_to_string(&ca_path).unwrap();
    let client = client_via(
        Proxy::all(&proxy_url)
            .unwrap()
            .basic_auth("agent", "proxy-secret"),
        Some(&pem),
    );
    assert_eq!(health(&client, &url).await.unwrap(), json!({"ok": true}));
    let counters: Value = common::client()
        .get(format!("{proxy_url}/proxy/counters"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(counters["tunnelsOpened"], 1);

    drop(child.stdin.take());
    assert!(child.wait().unwrap().success());
}
