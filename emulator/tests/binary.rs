//! The `safeconv-emulator` binary, as other languages' test harnesses run it.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const NIN: &str = "17029012345";

fn spawn(args: &[&str]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_safeconv-emulator"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim_end()
        .strip_prefix("SAFECONV_EMULATOR_URL=")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    (child, url)
}

fn wait_for_exit(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("the emulator did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test]
async fn prints_its_url_serves_and_exits_when_stdin_closes() {
    let (mut child, url) = spawn(&[
        "--exit-on-stdin-close",
        "--seed",
        "7",
        "--approve-after-ms",
        "100",
        "--verbose",
    ]);
    let client = common::client();
    let health: Value = client
        .get(format!("{url}/emulator/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health, json!({"ok": true}));
    let config: Value = client
        .get(format!("{url}/emulator/config"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        config["defaultBehaviour"],
        json!({"behaviour": "approve", "afterMs": 100})
    );

    // A full round trip, and a NIN in an admin path: the log must mask both.
    let token: Value = client
        .post(format!("{url}/auth/open/connect/token"))
        .basic_auth("safeconv-demo-client", Some("safeconv-demo-secret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["access_token"].as_str().unwrap();
    let created = client
        .post(format!(
            "{url}/auth/rest/sessions?signicat-accountId=a-spge-emulator"
        ))
        .bearer_auth(token)
        .json(&common::create_body(NIN))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 200);
    let response = client
        .put(format!("{url}/emulator/users/{NIN}"))
        .json(&json!({"behaviour": "no-app"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    drop(child.stdin.take()); // close stdin
    let status = wait_for_exit(&mut child, Duration::from_secs(3));
    assert!(status.success(), "{status:?}");

    let mut rest = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut rest)
        .unwrap();
    assert_eq!(rest, "", "exactly one line on stdout");
    let mut log = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    assert!(log.contains("POST /auth/rest/sessions -> 200"), "{log}");
    assert!(log.contains("170290*****"), "{log}");
    assert!(!log.contains(NIN), "the log shows a NIN unmasked: {log}");
}

#[cfg(unix)]
#[tokio::test]
async fn exits_on_sigterm_and_takes_a_fixed_port() {
    // Find a free port, then ask for it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (mut child, url) = spawn(&["--port", &port.to_string(), "--fault-rate", "1"]);
    assert_eq!(url, format!("http://127.0.0.1:{port}"));
    let client = common::client();
    // --fault-rate 1 faults every API request (admin requests are never faulted).
    let health = client
        .get(format!("{url}/emulator/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let counters: Value = client
        .get(format!("{url}/emulator/counters"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(counters["faultsInjected"], 0);
    let _ = client
        .post(format!("{url}/auth/open/connect/token"))
        .basic_auth("safeconv-demo-client", Some("safeconv-demo-secret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await;
    let counters: Value = client
        .get(format!("{url}/emulator/counters"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            counters["tokenRequests"].as_u64(),
            counters["faultsInjected"].as_u64()
        ),
        (Some(1), Some(1))
    );

    let killed = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(killed.success());
    let status = wait_for_exit(&mut child, Duration::from_secs(3));
    assert!(status.success(), "{status:?}");
}

#[test]
fn rejects_unknown_arguments_and_prints_help() {
    let output = Command::new(env!("CARGO_BIN_EXE_safeconv-emulator"))
        .arg("--nonsense")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--nonsense"));
    let output = Command::new(env!("CARGO_BIN_EXE_safeconv-emulator"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("--exit-on-stdin-close"));
}
