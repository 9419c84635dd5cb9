//! The fault soak: many Safe Conversations while the emulator answers 20 % of the requests to
//! every endpoint with a fault of every kind (500, 503 and 429 with `Retry-After`, dropped
//! connections, slow answers past the request timeout, truncated and malformed JSON, rejected
//! tokens).
//!
//! Every session that was created must end in the status its scripted caller chose: none lost,
//! none left polling, none created twice by the SDK. A create that fails reaches the caller as
//! a typed error and is not retried blindly; the soak then starts a new session, as a caller
//! would, and counts these. Afterwards the emulator's own list of sessions is reconciled with
//! what the callers were told, session by session (through `externalReference`).
//!
//! 100 sessions by default (CI); 1 000 with `SAFECONV_SOAK=full` (see scripts/soak.sh). The
//! test asserts counts and outcomes, never times: the only clock is a generous hang guard.
//! Run with `--nocapture` to see the report.

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{builder, eventually};
use safeconv::{
    AccessToken, BoxFuture, Client, Error, Nin, SafeConversation, Status, TokenProvider,
    TransportErrorKind, WaitOptions,
};
use safeconv_emulator::{Behaviour, Emulator, EmulatorConfig, Fault};

/// The share of requests that get a fault.
const FAULT_RATE: f64 = 0.2;
/// How long a slow answer is held back; the request timeout is shorter, so it times out.
const SLOW_DELAY: Duration = Duration::from_millis(1_000);
const REQUEST_TIMEOUT: Duration = Duration::from_millis(500);
const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// Callers arrive this far apart (a call centre does not take all its calls in the same
/// millisecond; a burst of 1 000 creates at once would time out on load, not on faults).
const ARRIVAL_GAP: Duration = Duration::from_millis(2);
/// How many sessions one caller may start before the soak calls it a failure.
const MAX_ATTEMPTS: u32 = 25;
/// A wait that has not returned after this long counts as "left polling" (a hang guard, not a
/// speed assertion: a normal wait here takes well under two seconds even with faults).
const HANG_GUARD: Duration = Duration::from_secs(120);

fn soak_size() -> usize {
    match std::env::var("SAFECONV_SOAK").as_deref() {
        Ok("full") => 1_000,
        _ => 100,
    }
}

/// Every fault kind the emulator has, with `Slow` longer than the request timeout.
fn every_fault() -> Vec<Fault> {
    vec![
        Fault::InternalError,
        Fault::Unavailable {
            retry_after: Some(Duration::from_secs(1)),
        },
        Fault::TooManyRequests {
            retry_after: Duration::from_secs(1),
        },
        Fault::DropConnection,
        Fault::Slow { delay: SLOW_DELAY },
        Fault::TruncatedJson,
        Fault::MalformedJson,
        Fault::RejectToken,
    ]
}

/// What caller `i` does in the app, and the final status that must come of it.
fn script(i: usize) -> (Behaviour, Status) {
    let after = Duration::from_millis(200 + (i as u64 * 37) % 300);
    match i % 10 {
        7 => (Behaviour::Decline { after }, Status::Abort),
        8 => (
            Behaviour::Fail {
                after,
                code: "authentication_failed".into(),
            },
            Status::Error,
        ),
        9 => (Behaviour::NoApp, Status::Error),
        _ => (Behaviour::Approve { after }, Status::Success),
    }
}

/// A distinct valid fødselsnummer for caller `i` (classic check digits).
fn nin_for(i: usize) -> String {
    let day = 1 + i % 28;
    let month = 1 + (i / 28) % 12;
    let year = 40 + (i / 336) % 50;
    (100..1000)
        .map(|individual| format!("{day:02}{month:02}{year:02}{individual:03}"))
        .find_map(|first9| {
            let d: Vec<u32> = first9.bytes().map(|b| u32::from(b - b'0')).collect();
            let k1 = check_digit(&d, &[3, 7, 6, 1, 8, 9, 4, 5, 2])?;
            let mut d10 = d.clone();
            d10.push(k1);
            let k2 = check_digit(&d10, &[5, 4, 3, 2, 7, 6, 5, 4, 3, 2])?;
            Some(format!("{first9}{k1}{k2}"))
        })
        .expect("some individual number gives valid check digits")
}

fn check_digit(digits: &[u32], weights: &[u32]) -> Option<u32> {
    let sum: u32 = digits.iter().zip(weights).map(|(d, w)| d * w).sum();
    match 11 - sum % 11 {
        11 => Some(0),
        10 => None,
        k => Some(k),
    }
}

/// A create error's kind, and whether Signicat may have acted on the request anyway (so a
/// session may exist that the caller never heard of).
fn classify(error: &Error) -> (&'static str, bool) {
    match error {
        Error::Transport {
            kind: TransportErrorKind::Timeout,
            ..
        } => ("timeout", true),
        Error::Transport {
            kind: TransportErrorKind::Connection,
            ..
        } => ("connection dropped", true),
        Error::Transport {
            kind: TransportErrorKind::Connect,
            ..
        } => ("could not connect", false),
        Error::Transport { .. } => ("transport (other)", true),
        Error::Protocol { .. } => ("malformed or cut-short answer", true),
        Error::Api(api) if api.http_status == 429 => ("429 after the SDK's retry", false),
        Error::Api(api) if api.http_status == 401 => ("401 after a fresh token", false),
        Error::Api(api) if api.http_status >= 500 => ("5xx", false),
        Error::Api(_) => ("other API error", false),
        Error::Authentication { .. } => ("token endpoint refused", false),
        _ => ("other", false),
    }
}

#[derive(Default)]
struct CallerReport {
    /// Create calls that failed: (external reference, kind, server may have acted).
    failed_creates: Vec<(String, &'static str, bool)>,
    /// The session the caller got, with its external reference.
    session: Option<(String, String)>,
    outcome: Option<Status>,
    wait_error: Option<String>,
    left_polling: bool,
}

async fn caller(client: safeconv::Client, i: usize, nin: Nin) -> CallerReport {
    let mut report = CallerReport::default();
    tokio::time::sleep(ARRIVAL_GAP * i as u32).await;
    for attempt in 0..MAX_ATTEMPTS {
        let reference = format!("soak-{i}-{attempt}");
        let conversation = SafeConversation::new(nin.clone()).external_reference(reference.clone());
        let session = match client.start_safe_conversation(&conversation).await {
            Ok(session) => session,
            Err(e) => {
                let (kind, maybe_acted) = classify(&e);
                report.failed_creates.push((reference, kind, maybe_acted));
                // A caller (or the agent) starts again after a moment.
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        report.session = Some((session.id.clone(), reference));
        match tokio::time::timeout(HANG_GUARD, client.wait(&session, WaitOptions::new())).await {
            Ok(Ok(outcome)) => report.outcome = Some(outcome.status()),
            Ok(Err(e)) => report.wait_error = Some(e.to_string()),
            Err(_) => report.left_polling = true,
        }
        break;
    }
    report
}

/// Caller index of an external reference `soak-{i}-{attempt}`.
fn caller_of(reference: &str) -> Option<usize> {
    reference
        .strip_prefix("soak-")?
        .split('-')
        .next()?
        .parse()
        .ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_created_session_ends_as_its_caller_chose_despite_faults() {
    let n = soak_size();
    let emulator = Arc::new(
        Emulator::start(EmulatorConfig {
            seed: 0x50a4,
            ..EmulatorConfig::default()
        })
        .await
        .expect("emulator starts"),
    );
    let nins: Vec<String> = (0..n).map(nin_for).collect();
    assert_eq!(
        nins.iter().collect::<HashSet<_>>().len(),
        n,
        "NINs distinct"
    );
    for (i, nin) in nins.iter().enumerate() {
        emulator.set_behaviour(nin, script(i).0);
    }
    let client = builder(&emulator)
        .poll_interval(POLL_INTERVAL)
        .request_timeout(REQUEST_TIMEOUT)
        .build()
        .unwrap();

    emulator.set_fault_rate(FAULT_RATE, every_fault(), Vec::new());
    let tasks: Vec<_> = nins
        .iter()
        .enumerate()
        .map(|(i, nin)| {
            let nin = Nin::parse(nin).expect("generated NINs are valid");
            tokio::spawn(caller(client.clone(), i, nin))
        })
        .collect();
    let mut reports = Vec::with_capacity(n);
    for task in tasks {
        reports.push(task.await.expect("caller task"));
    }
    emulator.clear_faults();
    let counters = emulator.counters();

    // What the callers were told.
    let mut problems = Vec::new();
    let mut create_errors: BTreeMap<&str, usize> = BTreeMap::new();
    let mut failed_refs: HashMap<String, bool> = HashMap::new();
    let mut known: HashMap<String, usize> = HashMap::new();
    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
    let (mut left_polling, mut wait_errors, mut gave_up) = (0, 0, 0);
    for (i, report) in reports.iter().enumerate() {
        let expected = script(i).1;
        for (reference, kind, maybe_acted) in &report.failed_creates {
            *create_errors.entry(kind).or_default() += 1;
            failed_refs.insert(reference.clone(), *maybe_acted);
        }
        match &report.session {
            None => {
                gave_up += 1;
                problems.push(format!("caller {i}: no session in {MAX_ATTEMPTS} attempts"));
            }
            Some((id, _)) => {
                known.insert(id.clone(), i);
            }
        }
        if report.left_polling {
            left_polling += 1;
            problems.push(format!("caller {i}: still polling after {HANG_GUARD:?}"));
        }
        if let Some(e) = &report.wait_error {
            wait_errors += 1;
            problems.push(format!("caller {i}: the wait failed: {e}"));
        }
        if let Some(status) = &report.outcome {
            *outcomes.entry(status.to_string()).or_default() += 1;
            if *status != expected {
                problems.push(format!("caller {i}: told {status}, scripted {expected}"));
            }
        }
    }
    let create_calls: usize = reports
        .iter()
        .map(|r| r.failed_creates.len() + usize::from(r.session.is_some()))
        .sum();
    let failed_creates: usize = create_errors.values().sum();

    // What the server has: every session, reconciled with the callers by externalReference.
    let ids = emulator.session_ids();
    let mut refs_seen: HashMap<String, usize> = HashMap::new();
    let mut orphans = 0;
    let mut orphan_statuses: BTreeMap<String, usize> = BTreeMap::new();
    for id in &ids {
        let session = client
            .get_session(id)
            .await
            .expect("faults are cleared: the session can be read");
        let reference = session.external_reference.clone().unwrap_or_default();
        *refs_seen.entry(reference.clone()).or_default() += 1;
        let Some(i) = caller_of(&reference) else {
            problems.push(format!("session {id} has no soak reference"));
            continue;
        };
        let expected = script(i).1;
        match known.get(id) {
            Some(&owner) if owner == i => {}
            Some(&owner) => problems.push(format!("session {id}: caller {owner} vs {reference}")),
            None => {
                // Created, but the answer never reached the caller.
                orphans += 1;
                match failed_refs.get(&reference) {
                    Some(true) => {}
                    Some(false) => problems.push(format!(
                        "session {id} exists although its create failed with an error that says \
                         the server did not act"
                    )),
                    None => {
                        problems.push(format!("session {id} ({reference}) was never asked for"))
                    }
                }
            }
        }
        // Each session reaches its scripted status at the server (orphans created late may
        // need a moment more).
        let final_status = |emulator: &Emulator| {
            emulator
                .session(id)
                .filter(|view| view.final_at_unix_ms.is_some())
                .map(|view| view.status)
        };
        let _ = eventually(|| final_status(&emulator).is_some()).await;
        match final_status(&emulator) {
            Some(status) if status == expected.as_str() => {
                if !known.contains_key(id) {
                    *orphan_statuses.entry(status).or_default() += 1;
                }
            }
            other => problems.push(format!(
                "session {id}: {other:?} at the server, scripted {expected}"
            )),
        }
    }
    let created_twice = refs_seen.values().filter(|&&count| count > 1).count();
    if created_twice > 0 {
        problems.push(format!(
            "{created_twice} create calls made more than one session"
        ));
    }
    for id in known.keys() {
        if !ids.contains(id) {
            problems.push(format!(
                "session {id} was reported created but the server has none"
            ));
        }
    }

    println!("== fault soak: {n} callers, {FAULT_RATE} fault rate on every endpoint ==");
    println!("faults: {:?}", every_fault());
    println!(
        "poll interval {POLL_INTERVAL:?}, request timeout {REQUEST_TIMEOUT:?}, slow answers \
         {SLOW_DELAY:?}, a caller every {ARRIVAL_GAP:?}"
    );
    println!("create calls by callers:          {create_calls}");
    println!("  failed, told as typed errors:   {failed_creates}  (started again by the caller)");
    for (kind, count) in &create_errors {
        println!("    {kind:<32} {count}");
    }
    println!("  succeeded:                      {}", known.len());
    println!("callers with no session at all:   {gave_up}");
    println!("outcomes the callers were told:   {outcomes:?}");
    println!("waits that failed (lost):         {wait_errors}");
    println!("waits left polling:               {left_polling}");
    println!("sessions at the emulator:         {}", ids.len());
    println!("  known to their caller:          {}", ids.len() - orphans);
    println!(
        "  orphans (answer lost in a fault): {orphans}, final at the server: {orphan_statuses:?}"
    );
    println!("  created twice by one create call: {created_twice}");
    println!("emulator counters: {counters:?}");
    println!(
        "  create requests at the emulator: {} for {create_calls} create calls (a call whose token \
         fetch failed sends none; 429, a rejected token or no connection are sent again)",
        counters.create_requests
    );
    println!("problems: {}", problems.len());
    for problem in problems.iter().take(30) {
        println!("  {problem}");
    }

    assert!(
        problems.is_empty(),
        "{} problems (see the report above)",
        problems.len()
    );
    assert_eq!(known.len(), n, "every caller got a session");
    assert_eq!(counters.sessions_created as usize, ids.len());
    assert_eq!(ids.len(), known.len() + orphans);
    assert!(counters.faults_injected > 0);
}

struct FixedToken;

impl TokenProvider for FixedToken {
    fn access_token(&self) -> BoxFuture<'_, safeconv::Result<AccessToken>> {
        Box::pin(async { Ok(AccessToken::new("fixed")) })
    }
}

/// A burst of requests to a server that stops answering opens at most 256 connections (the
/// SDK's cap on requests under way); the rest wait for a turn instead of each opening a socket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_against_a_stalled_server_opens_a_bounded_number_of_connections() {
    const CAP: usize = 256;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    // Accepts and never answers; the thread ends with the test process.
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            counter.fetch_add(1, Ordering::SeqCst);
            held.push(stream);
        }
    });
    let client = Client::builder()
        .base_url(url)
        .account_id("a-1")
        .token_provider(Arc::new(FixedToken))
        .request_timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let calls: Vec<_> = (0..CAP + 100)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move { client.get_session(&format!("s-{i}")).await })
        })
        .collect();
    assert!(eventually(|| accepted.load(Ordering::SeqCst) >= CAP).await);
    // Give any request past the cap the chance to connect (it must not).
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(accepted.load(Ordering::SeqCst), CAP);
    for call in calls {
        call.abort();
    }
}
