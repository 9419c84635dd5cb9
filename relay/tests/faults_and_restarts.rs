//! Upstream faults pass through with the core's semantics; a database that cannot be written
//! gives 503 and sends nothing; the binary prints its one line, and after SIGKILL and a restart
//! keeps ownership, limits and the audit log.

mod common;

use std::process::{Command, Stdio};
use std::str::FromStr;
use std::time::Duration;

use common::{Harness, Options, RelayProcess, http, nin, relay_binary, sdk_body};
use reqwest::StatusCode;
use safeconv_emulator::{Emulator, EmulatorConfig, Endpoint, Fault};
use serde_json::Value;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_read_faults_are_retried_by_the_core() {
    let h = Harness::with(Options {
        min_poll_interval_ms: 0,
        ..Options::default()
    })
    .await;
    let id = h.created("alice", &nin(70)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for fault in [
        Fault::InternalError,
        Fault::DropConnection,
        Fault::TruncatedJson,
        Fault::RejectToken,
    ] {
        h.emulator
            .inject(Some(Endpoint::GetSession), fault.clone(), 1);
        let response = h.get("alice", &id).await;
        assert_eq!(response.status(), StatusCode::OK, "{fault:?}");
    }
    // Past the core's retries, Signicat's error passes through with its code and traceId.
    h.emulator
        .inject(Some(Endpoint::GetSession), Fault::InternalError, 3);
    let response = h.get("alice", &id).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "internal_server_error");
    assert!(problem["traceId"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_is_never_sent_twice_when_its_fate_is_unknown() {
    let h = Harness::start().await;
    h.emulator
        .inject(Some(Endpoint::CreateSession), Fault::InternalError, 1);
    let response = h.create("alice", &nin(71)).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(h.emulator.counters().create_requests, 1);

    h.emulator
        .inject(Some(Endpoint::CreateSession), Fault::DropConnection, 1);
    let response = h.create("bob", &nin(72)).await;
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "upstream_unavailable");
    assert_eq!(h.emulator.counters().create_requests, 2);

    let audit = h.audit();
    let failures: Vec<&str> = audit
        .iter()
        .filter(|r| r["action"] == "create_failed")
        .map(|r| r["reason"].as_str().unwrap())
        .collect();
    assert_eq!(failures.len(), 2);
    assert!(failures[0].starts_with("api_500") && failures[0].ends_with("may_exist"));
    assert!(failures[1].ends_with("may_exist"));
    // Each still counts against its NIN: a push may have happened.
    h.assert_chain_intact();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_is_retried_once_by_the_core_then_passed_on() {
    let h = Harness::start().await;
    let fast = Fault::TooManyRequests {
        retry_after: Duration::from_millis(200),
    };
    h.emulator
        .inject(Some(Endpoint::CreateSession), fast.clone(), 1);
    assert_eq!(h.create("alice", &nin(73)).await.status(), StatusCode::OK);
    assert_eq!(h.emulator.counters().sessions_created, 1);

    h.emulator.inject(Some(Endpoint::CreateSession), fast, 2);
    let response = h.create("alice", &nin(74)).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key("retry-after"));
    let audit = h.audit();
    let failed = audit
        .iter()
        .find(|r| r["action"] == "create_failed")
        .unwrap();
    assert!(failed["reason"].as_str().unwrap().ends_with("not_created"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_signicat_is_a_504() {
    let h = Harness::start().await;
    let id = h.created("alice", &nin(75)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    tokio::time::sleep(Duration::from_millis(350)).await;
    // The harness gives each upstream request 2 s; the core tries a read three times.
    h.emulator.inject(
        Some(Endpoint::GetSession),
        Fault::Slow {
            delay: Duration::from_secs(3),
        },
        3,
    );
    let response = h.get("alice", &id).await;
    assert_eq!(response.status(), StatusCode::GATEWAY_TIMEOUT);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "upstream_timeout");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_that_cannot_be_written_gives_503_and_sends_nothing() {
    let h = Harness::with(Options {
        busy_timeout_ms: 300,
        ..Options::default()
    })
    .await;
    let id = h.created("alice", &nin(76)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let audit_before = h.audit().len();
    let counters = h.emulator.counters();

    // Another process holds the write lock (as a backup tool or a stuck writer would).
    let mut blocker = SqliteConnectOptions::from_str(&h.database_url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut blocker)
        .await
        .unwrap();

    let started = std::time::Instant::now();
    let response = h.create("bob", &nin(77)).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(response.headers().contains_key("retry-after"));
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "service_unavailable");
    assert_eq!(
        h.emulator.counters().create_requests,
        counters.create_requests
    );
    // A known session can still be read (from memory).
    assert_eq!(h.get("alice", &id).await.status(), StatusCode::OK);

    sqlx::query("ROLLBACK").execute(&mut blocker).await.unwrap();
    blocker.close().await.unwrap();
    // The relay recovers by itself.
    assert_eq!(h.create("bob", &nin(77)).await.status(), StatusCode::OK);
    let audit = h.audit();
    assert_eq!(
        audit.len(),
        audit_before + 2,
        "create + created, nothing else"
    );
    h.assert_chain_intact();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_and_restart_keep_ownership_limits_and_audit() {
    let emulator = Emulator::start(EmulatorConfig {
        default_behaviour: safeconv_emulator::Behaviour::NeverAnswer,
        ..Default::default()
    })
    .await
    .unwrap();
    let dir = common::TempDir::new();
    let alice = safeconv_relay::auth::new_agent_key();
    let bob = safeconv_relay::auth::new_agent_key();
    std::fs::write(
        dir.0.join("agents.keys"),
        format!(
            "alice {}\nbob {}\n",
            safeconv_relay::auth::hash_agent_key(&alice).unwrap(),
            safeconv_relay::auth::hash_agent_key(&bob).unwrap()
        ),
    )
    .unwrap();
    let client = http();
    let n = nin(80);
    let create = |url: String, key: String| {
        let client = client.clone();
        let body = sdk_body(&n);
        async move {
            client
                .post(format!("{url}/auth/rest/sessions"))
                .bearer_auth(key)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };

    let first = RelayProcess::start(&dir.0, &emulator);
    let first_session: Value = create(first.url.clone(), alice.clone())
        .await
        .json()
        .await
        .unwrap();
    let id = first_session["id"].as_str().unwrap().to_owned();
    assert_eq!(
        create(first.url.clone(), alice.clone()).await.status(),
        StatusCode::OK
    );
    assert_eq!(first.kill(), "", "nothing but the one line on stdout");

    let second = RelayProcess::start(&dir.0, &emulator);
    // Ownership survived: alice reads her first session (cancelled by her second), bob cannot.
    let read = client
        .get(format!("{}/auth/rest/sessions/{id}", second.url))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), StatusCode::OK);
    assert_eq!(read.json::<Value>().await.unwrap()["status"], "CANCELLED");
    let stolen = client
        .get(format!("{}/auth/rest/sessions/{id}", second.url))
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap();
    assert_eq!(stolen.status(), StatusCode::NOT_FOUND);
    // Limits survived: two of the NIN's three creates are used.
    assert_eq!(
        create(second.url.clone(), bob.clone()).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        create(second.url.clone(), bob.clone()).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(emulator.counters().create_requests, 3);
    assert_eq!(second.kill(), "");

    // The audit log survived, as one chain.
    let db = format!("sqlite://{}", dir.0.join("relay.db").display());
    let verify = Command::new(relay_binary())
        .args(["audit", "verify", "--database-url", &db])
        .current_dir(&dir.0)
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
    let export = Command::new(relay_binary())
        .args(["audit", "export", "--database-url", &db])
        .current_dir(&dir.0)
        .output()
        .unwrap();
    let records: Vec<Value> = String::from_utf8(export.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let count = |action: &str| records.iter().filter(|r| r["action"] == action).count();
    assert_eq!(count("created"), 3);
    // bob's read of alice's session, and the create over the limit.
    assert_eq!(count("refused"), 2);
}

#[test]
fn the_command_line_helpers() {
    let out = Command::new(relay_binary())
        .args(["new-agent-key", "alice@example"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[0].starts_with("scr_"));
    assert!(lines[1].starts_with("alice@example sha256:"));

    let mut hash = Command::new(relay_binary())
        .arg("hash-key")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    writeln!(hash.stdin.take().unwrap(), "{}", lines[0]).unwrap();
    let hashed = hash.wait_with_output().unwrap();
    assert_eq!(
        String::from_utf8(hashed.stdout).unwrap().trim(),
        lines[1].split(' ').nth(1).unwrap()
    );

    // check-config names what is missing, exit 2.
    let out = Command::new(relay_binary())
        .args(["check-config", "--account-id", "a", "--client-id", "c"])
        .env_remove("SAFECONV_CLIENT_SECRET")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("SAFECONV_CLIENT_SECRET"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_cut_short_by_sigkill_is_audited_as_interrupted() {
    let emulator = Emulator::start(EmulatorConfig {
        default_behaviour: safeconv_emulator::Behaviour::NeverAnswer,
        ..Default::default()
    })
    .await
    .unwrap();
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
    let n = nin(81);
    // Signicat takes its time answering the create; the relay is killed meanwhile.
    emulator.inject(
        Some(Endpoint::CreateSession),
        Fault::Slow {
            delay: Duration::from_millis(1500),
        },
        1,
    );
    let first = RelayProcess::start(&dir.0, &emulator);
    let request = http()
        .post(format!("{}/auth/rest/sessions", first.url))
        .bearer_auth(&key)
        .json(&sdk_body(&n))
        .send();
    let pending = tokio::spawn(request);
    tokio::time::sleep(Duration::from_millis(500)).await;
    first.kill();
    assert!(
        pending.await.unwrap().is_err(),
        "the connection died with the relay"
    );

    // After the restart the NIN is not blocked by the interrupted create (it counts in the
    // NIN's window: a push may have happened), and the audit log says what is known.
    let second = RelayProcess::start(&dir.0, &emulator);
    let response = http()
        .post(format!("{}/auth/rest/sessions", second.url))
        .bearer_auth(&key)
        .json(&sdk_body(&n))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    second.kill();
    let db = format!("sqlite://{}", dir.0.join("relay.db").display());
    let export = Command::new(relay_binary())
        .args(["audit", "export", "--database-url", &db])
        .current_dir(&dir.0)
        .output()
        .unwrap();
    let actions: Vec<String> = String::from_utf8(export.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["action"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(actions, ["create", "interrupted", "create", "created"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relative_sqlite_url_creates_the_file_in_the_working_directory() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let dir = common::TempDir::new();
    std::fs::write(dir.0.join("agents.keys"), "").unwrap();
    let relay = RelayProcess::start_on(&dir.0, &emulator, "sqlite://relative.db");
    assert!(dir.0.join("relative.db").exists());
    assert!(dir.0.join("relative.db.audit-key").exists());
    let ready = http()
        .get(format!("{}/readyz", relay.url))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    assert_eq!(
        relay.terminate(),
        Some(0),
        "SIGTERM stops it gracefully, exit 0"
    );
}
