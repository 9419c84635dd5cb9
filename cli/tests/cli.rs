//! The `safeconv` binary as a user runs it, against an emulator on loopback.

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use safeconv_emulator::{Behaviour, Emulator, EmulatorConfig};
use serde_json::Value;

const APPROVER: &str = "01018010018";
const DECLINER: &str = "17029010021";
const FAILER: &str = "15058510170";
const SILENT: &str = "24047510003";

async fn emulator() -> Emulator {
    let emulator = Emulator::start(EmulatorConfig {
        default_behaviour: Behaviour::Approve {
            after: Duration::from_millis(300),
        },
        min_session_lifetime: Duration::from_secs(1),
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    emulator.set_behaviour(
        DECLINER,
        Behaviour::Decline {
            after: Duration::from_millis(300),
        },
    );
    emulator.set_behaviour(
        FAILER,
        Behaviour::Fail {
            after: Duration::from_millis(300),
            code: "authentication_failed".into(),
        },
    );
    emulator.set_behaviour(SILENT, Behaviour::NeverAnswer);
    emulator
}

fn safeconv(emulator: &Emulator) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_safeconv"));
    let config = emulator.config();
    command
        .env_clear()
        .env("SAFECONV_BASE_URL", emulator.url())
        .env("SAFECONV_ACCOUNT_ID", &config.account_id)
        .env("SAFECONV_CLIENT_ID", &config.client_id)
        .env("SAFECONV_CLIENT_SECRET", &config.client_secret)
        .env("SAFECONV_POLL_INTERVAL_MS", "50")
        .stdin(Stdio::null());
    command
}

async fn run(mut command: Command) -> Output {
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

fn events(output: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON: {line:?}: {e}"))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn authenticate_json_reports_created_status_and_final() {
    let emulator = emulator().await;
    let mut command = safeconv(&emulator);
    command.args(["authenticate", "--nin", APPROVER, "--json"]);
    let output = run(command).await;
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let events = events(&output);
    let names: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["created", "status", "status", "final"]);
    assert!(events[0]["sessionId"].is_string());
    assert_eq!(
        events[0]["bindingMessage"]
            .as_str()
            .unwrap()
            .split(' ')
            .count(),
        2
    );
    assert!(events[0]["expiresAt"].is_string());
    assert_eq!(events[1]["status"], "WAITING_FOR_USER");
    assert_eq!(events[3]["status"], "SUCCESS");
    assert_eq!(events[3]["subject"]["nin"]["value"], APPROVER);
    assert!(events[3]["error"].is_null());
    let line = String::from_utf8_lossy(&output.stdout);
    assert!(
        line.starts_with("{\"event\":\"created\""),
        "event comes first: {line}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn exit_codes_follow_the_final_status() {
    let emulator = emulator().await;
    for (nin, extra, code, status) in [
        (DECLINER, vec![], 3, "ABORT"),
        (SILENT, vec!["--timeout", "1"], 4, "CANCELLED"),
        (FAILER, vec![], 6, "ERROR"),
    ] {
        let mut command = safeconv(&emulator);
        command
            .args(["authenticate", "--nin", nin, "--json"])
            .args(extra);
        let output = run(command).await;
        assert_eq!(
            output.status.code(),
            Some(code),
            "{nin}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let last = events(&output).pop().unwrap();
        assert_eq!(last["status"], status);
        if status == "ERROR" {
            assert_eq!(last["error"]["code"], "authentication_failed");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unanswered_session_expires_with_exit_5() {
    // No per-call lifetime flag: make every session short-lived at the emulator instead.
    let short = Emulator::start(EmulatorConfig {
        default_behaviour: Behaviour::NeverAnswer,
        min_session_lifetime: Duration::from_secs(1),
        default_session_lifetime: Duration::from_secs(1),
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    let mut command = safeconv(&short);
    command.args(["authenticate", "--nin", SILENT]);
    let output = run(command).await;
    assert_eq!(
        output.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("did not answer in time"));
}

#[tokio::test(flavor = "multi_thread")]
async fn input_and_credential_errors() {
    let emulator = emulator().await;

    let mut command = safeconv(&emulator);
    command.args(["authenticate", "--nin", "17029012345"]);
    let output = run(command).await;
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("check digits"));
    assert_eq!(
        emulator.counters().token_requests,
        0,
        "nothing sent for a refused number"
    );

    let mut command = safeconv(&emulator);
    command.args([
        "authenticate",
        "--nin",
        "17029012345",
        "--allow-invalid-nin",
        "--json",
    ]);
    let output = run(command).await;
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let mut command = safeconv(&emulator);
    command
        .args(["authenticate", "--nin", APPROVER])
        .env("SAFECONV_CLIENT_SECRET", "not-the-secret-4711");
    let output = run(command).await;
    assert_eq!(output.status.code(), Some(7));
    assert!(
        !String::from_utf8_lossy(&output.stderr).contains("not-the-secret-4711"),
        "the secret is not echoed"
    );

    let mut command = safeconv(&emulator);
    command
        .args(["authenticate", "--nin", APPROVER])
        .env_remove("SAFECONV_ACCOUNT_ID");
    let output = run(command).await;
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("SAFECONV_ACCOUNT_ID"));

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut command = safeconv(&emulator);
    command
        .args(["authenticate", "--nin", APPROVER, "--json"])
        .env("SAFECONV_BASE_URL", format!("http://127.0.0.1:{port}"));
    let output = run(command).await;
    assert_eq!(output.status.code(), Some(8));
    let error = events(&output).last().unwrap().clone();
    assert_eq!(error["event"], "error");
    assert_eq!(error["kind"], "transport");
    assert_eq!(error["code"], "connect");
    assert_eq!(error["transient"], true);

    let mut command = safeconv(&emulator);
    command
        .args(["authenticate", "--nin", APPROVER])
        .env("SAFECONV_BASE_URL", "http://api.signicat.com");
    assert_eq!(
        run(command).await.status.code(),
        Some(2),
        "plain http is refused"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn verbose_logs_the_sdk_on_stderr_without_the_nin() {
    let emulator = emulator().await;
    let mut command = safeconv(&emulator);
    command.args(["-vv", "authenticate", "--nin", APPROVER, "--json"]);
    let output = run(command).await;
    assert_eq!(output.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("safeconv: info  session created"),
        "{stderr}"
    );
    assert!(stderr.contains("safeconv: debug"), "{stderr}");
    assert!(!stderr.contains(APPROVER), "{stderr}");
    assert!(
        !stderr.contains(&emulator.config().client_secret),
        "{stderr}"
    );
    // Logs never reach stdout, which stays JSON lines.
    assert!(events(&output).iter().all(|e| e.get("event").is_some()));

    let mut quiet = safeconv(&emulator);
    quiet.args(["authenticate", "--nin", APPROVER]);
    let output = run(quiet).await;
    assert!(!String::from_utf8_lossy(&output.stderr).contains("session created"));
}

#[tokio::test(flavor = "multi_thread")]
async fn status_and_cancel() {
    let emulator = emulator().await;

    let mut status = safeconv(&emulator);
    status.args(["status", "no-such-session"]);
    assert_eq!(
        run(status).await.status.code(),
        Some(2),
        "404 is refused input"
    );

    // One run waits for a silent caller; a second run cancels its session by id.
    let mut waiting = safeconv(&emulator);
    waiting
        .args(["authenticate", "--nin", SILENT, "--json"])
        .stdout(Stdio::piped());
    let mut child = waiting.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (id, rest) = tokio::task::spawn_blocking(move || {
        use std::io::{BufRead, BufReader, Read};
        let mut reader = BufReader::new(stdout);
        let mut first = String::new();
        reader.read_line(&mut first).unwrap();
        let created: Value = serde_json::from_str(&first).unwrap();
        let id = created["sessionId"].as_str().unwrap().to_owned();
        (
            id,
            std::thread::spawn(move || {
                let mut rest = String::new();
                reader.read_to_string(&mut rest).unwrap();
                rest
            }),
        )
    })
    .await
    .unwrap();

    let mut cancel = safeconv(&emulator);
    cancel.args(["cancel", &id, "--json"]);
    let cancelled = run(cancel).await;
    assert_eq!(cancelled.status.code(), Some(0));
    assert_eq!(events(&cancelled)[0]["status"], "CANCELLED");

    let code = tokio::task::spawn_blocking(move || child.wait().unwrap().code())
        .await
        .unwrap();
    assert_eq!(code, Some(4), "the waiting run sees the cancel");
    let rest = rest.join().unwrap();
    assert!(
        rest.trim_end()
            .ends_with(r#""status":"CANCELLED","subject":null,"error":null}"#),
        "{rest}"
    );

    let mut status = safeconv(&emulator);
    status.args(["status", &id, "--json"]);
    let shown = run(status).await;
    assert_eq!(shown.status.code(), Some(0));
    assert_eq!(events(&shown)[0]["status"], "CANCELLED");
    assert_eq!(events(&shown)[0]["final"], true);

    // Cancelling again is not an error: the session is shown as it ended.
    let mut again = safeconv(&emulator);
    again.args(["cancel", &id]);
    assert_eq!(run(again).await.status.code(), Some(0));
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_cancels_the_session_at_signicat() {
    let emulator = emulator().await;
    let mut command = safeconv(&emulator);
    command
        .args(["authenticate", "--nin", SILENT, "--json"])
        .stdout(Stdio::piped());
    let child = command.spawn().unwrap();
    let pid = child.id();
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if emulator.counters().get_requests >= 2 {
            break;
        }
    }
    let killed = Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let output = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(4));
    let events = events(&output);
    let id = events[0]["sessionId"].as_str().unwrap();
    assert_eq!(emulator.session(id).unwrap().status, "CANCELLED");
    assert_eq!(events.last().unwrap()["status"], "CANCELLED");
}

#[test]
fn nin_check_lines_and_exit_codes() {
    let output = Command::new(env!("CARGO_BIN_EXE_safeconv"))
        .args(["nin", "check", "01018010018", "57029010015", "10915596784"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "01018010018\tvalid\tfnr\n57029010015\tvalid\tdnr\n10915596784\tinvalid\tsynthetic\n"
    );

    let mut child = Command::new(env!("CARGO_BIN_EXE_safeconv"))
        .args(["nin", "check", "--allow-synthetic", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"10915596784\n\n30108299939\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "10915596784\tvalid\tsynthetic\n30108299939\tvalid\tfnr\n"
    );
}

/// Exit 0, or the run's stderr in the failure.
fn assert_succeeded(output: &Output) {
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// An HTTPS emulator (its test CA in a file) and a loopback proxy that wants credentials.
async fn https_behind_a_proxy() -> (Emulator, safeconv_emulator::TestProxy) {
    let emulator = Emulator::start(EmulatorConfig {
        tls: Some(safeconv_emulator::ServerCertificate::Loopback),
        default_behaviour: Behaviour::Approve {
            after: Duration::from_millis(300),
        },
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    let proxy = safeconv_emulator::TestProxy::start(safeconv_emulator::TestProxyConfig {
        credentials: Some(("agent".into(), "proxy-secret".into())),
        ..Default::default()
    })
    .await
    .unwrap();
    (emulator, proxy)
}

#[tokio::test(flavor = "multi_thread")]
async fn authenticate_over_https_with_a_ca_file_behind_a_proxy() {
    let (emulator, proxy) = https_behind_a_proxy().await;
    let ca_file = emulator.ca_file().unwrap().to_str().unwrap().to_owned();
    let mut command = safeconv(&emulator);
    command
        .args(["authenticate", "--nin", APPROVER, "--json"])
        .args(["--ca-file", &ca_file, "--proxy", &proxy.url()])
        .env("SAFECONV_PROXY_USER", "agent")
        .env("SAFECONV_PROXY_PASSWORD", "proxy-secret");
    let output = run(command).await;
    assert_succeeded(&output);
    assert_eq!(events(&output).last().unwrap()["status"], "SUCCESS");
    assert!(
        proxy.counters().tunnels_opened >= 1,
        "{:?}",
        proxy.counters()
    );

    // status and cancel take the same connection options (here from the environment).
    let id = events(&output)[0]["sessionId"].as_str().unwrap().to_owned();
    let mut status = safeconv(&emulator);
    status
        .args(["status", &id, "--json"])
        .env("SAFECONV_CA_FILE", &ca_file)
        .env(
            "SAFECONV_PROXY",
            proxy.url().replace("http://", "http://agent:proxy-secret@"),
        );
    let shown = run(status).await;
    assert_eq!(shown.status.code(), Some(0));
    assert_eq!(events(&shown)[0]["status"], "SUCCESS");
}

#[tokio::test(flavor = "multi_thread")]
async fn https_failures_through_the_cli() {
    let (emulator, proxy) = https_behind_a_proxy().await;
    let stderr = |output: &Output| String::from_utf8_lossy(&output.stderr).into_owned();

    // No CA: the default bundled roots do not know the test CA.
    let mut command = safeconv(&emulator);
    command.args(["authenticate", "--nin", APPROVER]);
    let output = run(command).await;
    assert_eq!(output.status.code(), Some(8));
    assert!(
        stderr(&output).contains("unknown issuer"),
        "{}",
        stderr(&output)
    );

    // Wrong proxy password: the proxy error names the proxy, never the password.
    let ca_file = emulator.ca_file().unwrap().to_str().unwrap().to_owned();
    let mut command = safeconv(&emulator);
    command
        .args(["authenticate", "--nin", APPROVER, "--json"])
        .args(["--ca-file", &ca_file, "--proxy", &proxy.url()])
        .args(["--proxy-user", "agent"])
        .env("SAFECONV_PROXY_PASSWORD", "wrong-secret");
    let output = run(command).await;
    assert_eq!(output.status.code(), Some(8));
    let text = stderr(&output);
    assert!(
        text.contains("proxy refused") && text.contains(&proxy.url()),
        "{text}"
    );
    assert!(!text.contains("wrong-secret"), "{text}");
    let error = events(&output).pop().unwrap();
    assert_eq!(error["kind"], "transport");
    assert!(!error.to_string().contains("wrong-secret"));
    assert_eq!(emulator.counters().token_requests, 0);

    // A bad CA file and "added-only" without one are refused input.
    let mut command = safeconv(&emulator);
    command.args(["status", "x", "--ca-file", "/nonexistent/bank-ca.pem"]);
    let output = run(command).await;
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("invalid ca_file"),
        "{}",
        stderr(&output)
    );
    let mut command = safeconv(&emulator);
    command.args(["status", "x", "--roots", "added-only"]);
    assert_eq!(run(command).await.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread")]
async fn no_proxy_and_the_system_trust_store_from_the_environment() {
    let (emulator, proxy) = https_behind_a_proxy().await;
    let ca_file = emulator.ca_file().unwrap().to_str().unwrap().to_owned();

    // NO_PROXY bypasses even an explicit --proxy.
    for variable in ["NO_PROXY", "no_proxy"] {
        let mut command = safeconv(&emulator);
        command
            .args(["authenticate", "--nin", APPROVER, "--ca-file", &ca_file])
            .args(["--proxy", &proxy.url()])
            .env(variable, "127.0.0.1");
        let output = run(command).await;
        assert_succeeded(&output);
    }
    assert_eq!(proxy.counters().tunnels_opened, 0);

    // The system proxy variables, as any program reads them, and NO_PROXY with them.
    let system_proxy = proxy.url().replace("http://", "http://agent:proxy-secret@");
    for no_proxy in [None, Some("localhost,127.0.0.1")] {
        let mut command = safeconv(&emulator);
        command
            .args(["authenticate", "--nin", APPROVER, "--ca-file", &ca_file])
            .env("HTTPS_PROXY", &system_proxy);
        if let Some(hosts) = no_proxy {
            command.env("NO_PROXY", hosts);
        }
        let output = run(command).await;
        assert_succeeded(&output);
        assert_eq!(
            proxy.counters().tunnels_opened,
            1,
            "HTTPS_PROXY goes through the proxy, and NO_PROXY bypasses it"
        );
    }

    // The operating system's store, which honours SSL_CERT_FILE.
    let mut command = safeconv(&emulator);
    command
        .args(["authenticate", "--nin", APPROVER, "--roots", "native"])
        .env("SSL_CERT_FILE", &ca_file);
    let output = run(command).await;
    assert_succeeded(&output);
}

#[tokio::test(flavor = "multi_thread")]
async fn demo_through_the_relay_verifies_the_caller_and_audits_it() {
    let mut command = Command::new(env!("CARGO_BIN_EXE_safeconv"));
    command
        .env_clear()
        .args(["demo", "--relay"])
        .stdin(Stdio::null());
    let output = run(command).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("relay     http://127.0.0.1:"), "{stdout}");
    assert!(stdout.contains("Verified: Kari Nordmann"), "{stdout}");
    assert!(
        stdout.contains("audit     3 records (create, created, outcome), chain intact"),
        "{stdout}"
    );

    let mut command = Command::new(env!("CARGO_BIN_EXE_safeconv"));
    command
        .env_clear()
        .args(["demo", "--relay", "--json", "--caller", "decline"])
        .stdin(Stdio::null());
    let output = run(command).await;
    assert_eq!(output.status.code(), Some(3));
    let last = events(&output).pop().unwrap();
    assert_eq!(last["status"], "ABORT");
}

#[test]
fn version_is_the_core_version_from_cargo_toml() {
    let manifest = include_str!("../../Cargo.toml");
    let version = manifest
        .lines()
        .find_map(|line| line.strip_prefix("version = \""))
        .and_then(|rest| rest.strip_suffix('"'))
        .expect("the root Cargo.toml names a version");
    let output = Command::new(env!("CARGO_BIN_EXE_safeconv"))
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        format!("safeconv {version}")
    );
    assert_eq!(safeconv::VERSION, version);
}
