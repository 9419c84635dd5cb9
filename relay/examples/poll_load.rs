//! The relay benchmark's load: N agents' sessions polled concurrently, straight to the emulator
//! or through one or more safeconv-relay instances (scripts/bench.sh runs them side by side and
//! writes the report).
//!
//! Creates N Safe Conversations (distinct NINs, 50 creates at a time); with several URLs, polls
//! each session once on every instance that did not create it (50 at a time: the first contact,
//! when that instance reads the owner from the database); then two phases:
//!
//! - **paced**: each session polled every `--interval-ms` for `--seconds`, the N pollers spread
//!   evenly over the interval; every poll's latency is measured;
//! - **saturation** (with `--saturate-seconds`): `--concurrency` pollers in a closed loop, each
//!   sending its next poll as soon as the last one is answered, cycling through the sessions:
//!   the most polls per second the path can answer.
//!
//! `--url` may be given several times (several relays behind a load balancer that spreads
//! requests evenly): creates go round-robin, and each session's polls alternate between the
//! URLs, so every instance also answers sessions another one created. With `--relay-pid` (as
//! many as relays), reads each relay's CPU time over each phase (`--clk-tck` ticks per second)
//! and peak RSS from `/proc`; with `--watch-pid` (the emulator, PostgreSQL's postmaster), the
//! load side's CPU, so that what the rest of the machine used meanwhile is known too. Prints
//! one JSON object.
//!
//! ```text
//! cargo run --release -p safeconv-relay --example poll_load -- --url http://127.0.0.1:PORT \
//!     --token-url http://127.0.0.1:EMULATOR/auth/open/connect/token --sessions 1000 --seconds 20
//! cargo run --release -p safeconv-relay --example poll_load -- --url http://127.0.0.1:RELAY1 \
//!     --url http://127.0.0.1:RELAY2 --bearer "$AGENT_KEY" --relay-pid "$PID1" --relay-pid "$PID2" \
//!     --sessions 1000 --seconds 20 --saturate-seconds 10 --concurrency 64
//! ```
//!
//! Linux only (`/proc`), loopback URLs only, bounded in count and time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

struct Args {
    urls: Vec<String>,
    bearer: Option<String>,
    token_url: Option<String>,
    sessions: usize,
    seconds: u64,
    interval: Duration,
    saturate_seconds: u64,
    concurrency: usize,
    relay_pids: Vec<u32>,
    /// Processes on the load side (the emulator, PostgreSQL), each with its descendants.
    watch_pids: Vec<u32>,
    /// Clock ticks per second of `/proc/PID/stat` (`getconf CLK_TCK`).
    clk_tck: f64,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        urls: Vec::new(),
        bearer: None,
        token_url: None,
        sessions: 1000,
        seconds: 20,
        interval: Duration::from_millis(1000),
        saturate_seconds: 0,
        concurrency: 64,
        relay_pids: Vec::new(),
        watch_pids: Vec::new(),
        clk_tck: 100.0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = |text: &str| {
            text.parse::<u64>()
                .map_err(|_| format!("not a number: {text}"))
        };
        match flag.as_str() {
            "--url" => args.urls.push(value.trim_end_matches('/').to_owned()),
            "--bearer" => args.bearer = Some(value),
            "--token-url" => args.token_url = Some(value),
            "--sessions" => args.sessions = number(&value)? as usize,
            "--seconds" => args.seconds = number(&value)?,
            "--interval-ms" => args.interval = Duration::from_millis(number(&value)?),
            "--saturate-seconds" => args.saturate_seconds = number(&value)?,
            "--concurrency" => args.concurrency = number(&value)? as usize,
            "--relay-pid" => args.relay_pids.push(number(&value)? as u32),
            "--watch-pid" => args.watch_pids.push(number(&value)? as u32),
            "--clk-tck" => args.clk_tck = number(&value)?.max(1) as f64,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let loopback = |url: &str| {
        ["http://127.0.0.1:", "http://localhost:", "http://[::1]:"]
            .iter()
            .any(|p| url.starts_with(p))
    };
    if args.urls.is_empty() {
        return Err("give --url (once per relay, or the emulator's)".to_owned());
    }
    if !args.urls.iter().all(|u| loopback(u))
        || args.token_url.as_deref().is_some_and(|u| !loopback(u))
    {
        return Err("URLs must be loopback http URLs".to_owned());
    }
    if args.sessions == 0 || args.sessions > 20_000 || args.seconds > 600 {
        return Err("--sessions must be 1..=20000 and --seconds at most 600".to_owned());
    }
    if args.saturate_seconds > 600 || !(1..=1024).contains(&args.concurrency) {
        return Err("--saturate-seconds must be at most 600, --concurrency 1..=1024".to_owned());
    }
    if args.interval.is_zero() {
        return Err("--interval-ms must be at least 1".to_owned());
    }
    if args.bearer.is_none() && args.token_url.is_none() {
        return Err("give --bearer (an agent key) or --token-url (Signicat's token)".to_owned());
    }
    Ok(args)
}

/// Valid fødselsnummer, all different.
fn nins(n: usize) -> Vec<String> {
    let mut out = Vec::with_capacity(n);
    'days: for day in 1..=28u32 {
        for month in 1..=12u32 {
            for individual in 0..1000u32 {
                let base = format!("{day:02}{month:02}80{individual:03}");
                if let Some(nin) = (0..100u32)
                    .map(|k| format!("{base}{k:02}"))
                    .find(|c| safeconv::Nin::parse(c).is_ok())
                {
                    out.push(nin);
                    if out.len() == n {
                        break 'days;
                    }
                }
            }
        }
    }
    out
}

/// What `/proc` says about one process.
#[derive(Clone, Copy)]
struct Usage {
    /// User + system CPU seconds.
    cpu_s: f64,
    /// Peak RSS (KiB).
    hwm_kib: u64,
}

/// The fields of `/proc/PID/stat` after the command name (which may hold spaces).
fn stat_fields(pid: &str) -> Vec<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default()
}

/// Clock ticks in fields `range` of a `/proc/PID/stat` (after the name: 11..13 are utime and
/// stime, 13..15 cutime and cstime).
fn ticks(fields: &[String], range: std::ops::Range<usize>) -> f64 {
    fields
        .get(range)
        .map(|f| f.iter().filter_map(|v| v.parse::<f64>().ok()).sum())
        .unwrap_or(0.0)
}

fn proc_usage(pid: u32, hz: f64) -> Usage {
    let cpu_s = ticks(&stat_fields(&pid.to_string()), 11..13) / hz;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let hwm_kib = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    Usage { cpu_s, hwm_kib }
}

/// CPU seconds of a process and all its descendants (PostgreSQL's backends): each live one's
/// own time plus what the children it has reaped used.
fn tree_cpu_s(root: u32, hz: f64) -> f64 {
    let mut parents = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Ok(pid) = name.parse::<u32>() {
            let fields = stat_fields(&name);
            if let Some(ppid) = fields.get(1).and_then(|p| p.parse::<u32>().ok()) {
                parents.push((pid, ppid, ticks(&fields, 11..15)));
            }
        }
    }
    let mut tree = vec![root];
    let mut total = 0.0;
    while let Some(pid) = tree.pop() {
        for (child, ppid, t) in &parents {
            if *child == pid {
                total += t;
            }
            if *ppid == pid {
                tree.push(*child);
            }
        }
    }
    total / hz
}

/// Seconds the threads of a process have spent ready to run but waiting for a CPU
/// (`/proc/PID/task/*/schedstat`, second field, nanoseconds).
fn run_queue_wait_s(pid: u32) -> f64 {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten();
    let nanos: f64 = tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("schedstat")).ok())
        .filter_map(|stat| stat.split_whitespace().nth(1)?.parse::<f64>().ok())
        .sum();
    nanos / 1e9
}

/// Busy CPU seconds of the whole machine, every core (`/proc/stat`).
fn machine_busy_s(hz: f64) -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let cpu: Vec<f64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is inside user).
    let busy: f64 = cpu
        .iter()
        .take(8)
        .enumerate()
        .filter(|(i, _)| *i != 3 && *i != 4)
        .map(|(_, v)| v)
        .sum();
    busy / hz
}

/// Where the CPU went, at one moment.
struct Snapshot {
    at: Instant,
    relays: Vec<Usage>,
    relays_wait_s: f64,
    watched_s: f64,
    client_s: f64,
    client_wait_s: f64,
    machine_s: f64,
}

fn snapshot(args: &Args) -> Snapshot {
    let hz = args.clk_tck;
    Snapshot {
        at: Instant::now(),
        relays: args
            .relay_pids
            .iter()
            .map(|pid| proc_usage(*pid, hz))
            .collect(),
        relays_wait_s: args
            .relay_pids
            .iter()
            .map(|pid| run_queue_wait_s(*pid))
            .sum(),
        watched_s: args.watch_pids.iter().map(|pid| tree_cpu_s(*pid, hz)).sum(),
        client_s: proc_usage(std::process::id(), hz).cpu_s,
        client_wait_s: run_queue_wait_s(std::process::id()),
        machine_s: machine_busy_s(hz),
    }
}

/// CPU over a phase: the relays' (summed over the instances; their peak RSS, the largest), the
/// load side's (this client, the emulator, PostgreSQL) and the rest of the machine's, in cores.
fn cpu_figures(before: &Snapshot, after: &Snapshot, polls: usize) -> Value {
    let wall = after.at.duration_since(before.at).as_secs_f64();
    let per_instance: Vec<f64> = before
        .relays
        .iter()
        .zip(&after.relays)
        .map(|(b, a)| a.cpu_s - b.cpu_s)
        .collect();
    let relay_s: f64 = per_instance.iter().sum();
    let watched_s = after.watched_s - before.watched_s;
    let client_s = after.client_s - before.client_s;
    let machine_s = after.machine_s - before.machine_s;
    let relay = (!after.relays.is_empty()).then(|| {
        json!({
            "cpu_s": relay_s,
            "cpu_s_per_instance": per_instance,
            "cpu_us_per_poll": relay_s * 1e6 / polls.max(1) as f64,
            "cores_busy": relay_s / wall,
            // Time the relays were ready to run but another process had their CPU.
            "run_queue_wait_us_per_poll": (after.relays_wait_s - before.relays_wait_s) * 1e6
                / polls.max(1) as f64,
            "peak_rss_kib": after.relays.iter().map(|u| u.hwm_kib).max(),
        })
    });
    json!({
        "relay": relay,
        "load_side_cores_busy": (client_s + watched_s) / wall,
        "client_cores_busy": client_s / wall,
        "client_run_queue_wait_us_per_poll": (after.client_wait_s - before.client_wait_s) * 1e6
            / polls.max(1) as f64,
        "watched_cores_busy": watched_s / wall,
        "machine_cores_busy": machine_s / wall,
        "others_cores_busy": (machine_s - relay_s - client_s - watched_s).max(0.0) / wall,
    })
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// A poll slower than this is listed by when it was sent, to tell stalls (many at one moment)
/// from a spread-out tail.
const SLOW_MS: f64 = 10.0;

/// One phase's polls, latencies in milliseconds.
#[derive(Default)]
struct Polls {
    latencies: Vec<f64>,
    /// Polls slower than [`SLOW_MS`]: seconds into the phase when sent.
    slow_at_s: Vec<f64>,
    errors: u64,
    /// Failed polls by HTTP status, or `transport`.
    error_kinds: std::collections::BTreeMap<String, u64>,
}

impl Polls {
    fn add(&mut self, other: Polls) {
        self.latencies.extend(other.latencies);
        self.slow_at_s.extend(other.slow_at_s);
        self.errors += other.errors;
        for (kind, count) in other.error_kinds {
            *self.error_kinds.entry(kind).or_default() += count;
        }
    }

    fn failed(&mut self, kind: String) {
        self.errors += 1;
        *self.error_kinds.entry(kind).or_default() += 1;
    }

    fn summary(mut self, wall_s: f64, cpu: Value) -> Value {
        self.latencies.sort_by(f64::total_cmp);
        let l = &self.latencies;
        let mut slow_by_second = vec![0u64; wall_s.ceil().max(1.0) as usize];
        for at in &self.slow_at_s {
            let second = (*at as usize).min(slow_by_second.len() - 1);
            slow_by_second[second] += 1;
        }
        json!({
            "polls": l.len(),
            "poll_errors": self.errors,
            "poll_error_kinds": self.error_kinds,
            "wall_s": wall_s,
            "polls_per_s": l.len() as f64 / wall_s,
            "p50_ms": percentile(l, 50.0),
            "p90_ms": percentile(l, 90.0),
            "p99_ms": percentile(l, 99.0),
            "max_ms": l.last().copied().unwrap_or(f64::NAN),
            "slow_ms": SLOW_MS,
            "slow_by_second": slow_by_second,
            "relay": cpu["relay"],
            "cpu": cpu,
        })
    }
}

/// One poll of `url`, its latency recorded (`phase`: when the phase started).
async fn poll(http: &reqwest::Client, url: &str, bearer: &str, phase: Instant, polls: &mut Polls) {
    let sent = Instant::now();
    match http.get(url).bearer_auth(bearer).send().await {
        Ok(r) if r.status().is_success() => {
            let _ = r.bytes().await;
            let ms = sent.elapsed().as_secs_f64() * 1000.0;
            polls.latencies.push(ms);
            if ms > SLOW_MS {
                polls
                    .slow_at_s
                    .push(sent.duration_since(phase).as_secs_f64());
            }
        }
        Ok(r) => polls.failed(r.status().as_u16().to_string()),
        Err(_) => polls.failed("transport".to_owned()),
    }
}

/// Session `i`'s URL on its `k`-th poll: the session alternates over the instances.
fn poll_url(session_urls: &[Vec<String>], i: usize, k: usize) -> &str {
    let urls = &session_urls[i];
    &urls[k % urls.len()]
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("poll_load: {e}");
            std::process::exit(2);
        }
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(args.sessions)
        .build()
        .expect("HTTP client");
    let bearer = match (&args.bearer, &args.token_url) {
        (Some(key), _) => key.clone(),
        (None, Some(token_url)) => {
            let answer: Value = http
                .post(token_url)
                .form(&[
                    ("grant_type", "client_credentials"),
                    ("scope", "signicat-api"),
                    ("client_id", "safeconv-demo-client"),
                    ("client_secret", "safeconv-demo-secret"),
                ])
                .send()
                .await
                .and_then(|r| r.error_for_status())
                .expect("a token")
                .json()
                .await
                .expect("token JSON");
            answer["access_token"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        }
        (None, None) => unreachable!(),
    };
    let bearer: Arc<str> = Arc::from(bearer);

    // Creates, 50 at a time, round-robin over the URLs.
    let creates_started = Instant::now();
    let semaphore = Arc::new(tokio::sync::Semaphore::new(50));
    let mut creates = Vec::new();
    for (i, nin) in nins(args.sessions).into_iter().enumerate() {
        let permit = semaphore.clone().acquire_owned().await.expect("open");
        let base = args.urls[i % args.urls.len()].clone();
        let request = http
            .post(format!(
                "{base}/auth/rest/sessions?signicat-accountId=a-spge-emulator"
            ))
            .bearer_auth(&bearer)
            .json(&json!({
                "flow": "headless",
                "allowedProviders": ["nbid"],
                "prefilledInput": {"nin": nin},
                "additionalParameters": {"nbid_auth_type": "PHONE"},
            }));
        creates.push(tokio::spawn(async move {
            let _permit = permit;
            let response = request.send().await.ok()?;
            if !response.status().is_success() {
                return None;
            }
            let body: Value = response.json().await.ok()?;
            body["id"].as_str().map(|id| (i, id.to_owned()))
        }));
    }
    // For each session, the URLs its polls go to in turn: the creating instance first.
    let mut session_urls: Vec<Vec<String>> = Vec::new();
    for create in creates {
        if let Ok(Some((i, id))) = create.await {
            let n = args.urls.len();
            session_urls.push(
                (0..n)
                    .map(|k| format!("{}/auth/rest/sessions/{id}", args.urls[(i + k) % n]))
                    .collect(),
            );
        }
    }
    let create_s = creates_started.elapsed().as_secs_f64();
    let create_failures = args.sessions - session_urls.len();
    let session_urls = Arc::new(session_urls);
    let n = session_urls.len().max(1);

    // With several relays: each session's first poll on every instance that did not create it
    // (that instance reads the session's owner from the database once), 50 at a time, so that
    // the phases below measure the steady state; its latencies are reported on their own.
    let first_contact = if args.urls.len() > 1 {
        let before = snapshot(&args);
        let started = Instant::now();
        let semaphore = Arc::new(tokio::sync::Semaphore::new(50));
        let mut tasks = Vec::new();
        for i in 0..session_urls.len() {
            for k in 1..args.urls.len() {
                let permit = semaphore.clone().acquire_owned().await.expect("open");
                let (http, bearer, urls) = (http.clone(), bearer.clone(), session_urls.clone());
                tasks.push(tokio::spawn(async move {
                    let _permit = permit;
                    let mut polls = Polls::default();
                    poll(&http, poll_url(&urls, i, k), &bearer, started, &mut polls).await;
                    polls
                }));
            }
        }
        let mut polls = Polls::default();
        for task in tasks {
            if let Ok(p) = task.await {
                polls.add(p);
            }
        }
        let wall = started.elapsed().as_secs_f64();
        let cpu = cpu_figures(&before, &snapshot(&args), polls.latencies.len());
        polls.summary(wall, cpu)
    } else {
        Value::Null
    };

    // Paced: each session every interval, the pollers spread over the interval.
    let paced = if args.seconds > 0 && !session_urls.is_empty() {
        let before = snapshot(&args);
        let started = Instant::now();
        let deadline = started + Duration::from_secs(args.seconds);
        let mut pollers = Vec::new();
        for i in 0..session_urls.len() {
            let (http, bearer, urls) = (http.clone(), bearer.clone(), session_urls.clone());
            let offset = args.interval.mul_f64(i as f64 / n as f64);
            let interval = args.interval;
            pollers.push(tokio::spawn(async move {
                let mut polls = Polls::default();
                let mut next = tokio::time::Instant::from_std(started) + offset;
                for k in 0.. {
                    tokio::time::sleep_until(next).await;
                    if Instant::now() >= deadline {
                        break;
                    }
                    poll(&http, poll_url(&urls, i, k), &bearer, started, &mut polls).await;
                    next += interval;
                }
                polls
            }));
        }
        let mut polls = Polls::default();
        for poller in pollers {
            if let Ok(p) = poller.await {
                polls.add(p);
            }
        }
        let wall = started.elapsed().as_secs_f64();
        let cpu = cpu_figures(&before, &snapshot(&args), polls.latencies.len());
        polls.summary(wall, cpu)
    } else {
        Value::Null
    };

    // Saturation: a fixed number of polls under way, each followed at once by the next.
    let saturation = if args.saturate_seconds > 0 && !session_urls.is_empty() {
        let before = snapshot(&args);
        let started = Instant::now();
        let deadline = started + Duration::from_secs(args.saturate_seconds);
        let workers = args.concurrency.min(session_urls.len());
        let mut pollers = Vec::new();
        for w in 0..workers {
            let (http, bearer, urls) = (http.clone(), bearer.clone(), session_urls.clone());
            pollers.push(tokio::spawn(async move {
                let mut polls = Polls::default();
                // Worker w takes sessions w, w + workers, …; each session's URLs in turn.
                let mine: Vec<usize> = (w..urls.len()).step_by(workers).collect();
                'rounds: for k in 0.. {
                    for &i in &mine {
                        if Instant::now() >= deadline {
                            break 'rounds;
                        }
                        poll(&http, poll_url(&urls, i, k), &bearer, started, &mut polls).await;
                    }
                }
                polls
            }));
        }
        let mut polls = Polls::default();
        for poller in pollers {
            if let Ok(p) = poller.await {
                polls.add(p);
            }
        }
        let wall = started.elapsed().as_secs_f64();
        let cpu = cpu_figures(&before, &snapshot(&args), polls.latencies.len());
        let mut summary = polls.summary(wall, cpu);
        summary["concurrency"] = json!(workers);
        summary
    } else {
        Value::Null
    };

    let peak: Vec<Usage> = args
        .relay_pids
        .iter()
        .map(|pid| proc_usage(*pid, args.clk_tck))
        .collect();
    println!(
        "{}",
        json!({
            "urls": args.urls,
            "sessions": args.sessions,
            "create_failures": create_failures,
            "create_s": create_s,
            "seconds": args.seconds,
            "interval_ms": args.interval.as_millis() as u64,
            "first_contact": first_contact,
            "paced": paced,
            "saturation": saturation,
            "peak_rss_kib": peak.iter().map(|u| u.hwm_kib).max(),
            "peak_rss_kib_per_instance": peak.iter().map(|u| u.hwm_kib).collect::<Vec<_>>(),
        })
    );
}
