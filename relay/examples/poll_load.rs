//! The relay benchmark's load: N agents' sessions polled concurrently, straight to the emulator
//! or through safeconv-relay (scripts/bench.sh runs both, side by side, and writes the report).
//!
//! Creates N Safe Conversations (distinct NINs, 50 creates at a time), then polls each one every
//! `--interval-ms` for `--seconds`, the N pollers spread evenly over the interval, and measures
//! every poll's latency. With `--relay-pid`, reads the relay's CPU time (over the polling phase
//! only, `--clk-tck` ticks per second) and peak RSS from `/proc`. Prints one JSON object.
//!
//! ```text
//! cargo run --release -p safeconv-relay --example poll_load -- --url http://127.0.0.1:PORT \
//!     --token-url http://127.0.0.1:EMULATOR/auth/open/connect/token --sessions 1000 --seconds 20
//! cargo run --release -p safeconv-relay --example poll_load -- --url http://127.0.0.1:RELAY \
//!     --bearer "$AGENT_KEY" --relay-pid "$RELAY_PID" --sessions 1000 --seconds 20
//! ```
//!
//! Linux only (`/proc`), loopback URLs only, bounded in count and time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

struct Args {
    url: String,
    bearer: Option<String>,
    token_url: Option<String>,
    sessions: usize,
    seconds: u64,
    interval: Duration,
    relay_pid: Option<u32>,
    /// Clock ticks per second of `/proc/PID/stat` (`getconf CLK_TCK`).
    clk_tck: f64,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        url: String::new(),
        bearer: None,
        token_url: None,
        sessions: 1000,
        seconds: 20,
        interval: Duration::from_millis(1000),
        relay_pid: None,
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
            "--url" => args.url = value.trim_end_matches('/').to_owned(),
            "--bearer" => args.bearer = Some(value),
            "--token-url" => args.token_url = Some(value),
            "--sessions" => args.sessions = number(&value)? as usize,
            "--seconds" => args.seconds = number(&value)?,
            "--interval-ms" => args.interval = Duration::from_millis(number(&value)?),
            "--relay-pid" => args.relay_pid = Some(number(&value)? as u32),
            "--clk-tck" => args.clk_tck = number(&value)?.max(1) as f64,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let loopback = |url: &str| {
        ["http://127.0.0.1:", "http://localhost:", "http://[::1]:"]
            .iter()
            .any(|p| url.starts_with(p))
    };
    if !loopback(&args.url) || args.token_url.as_deref().is_some_and(|u| !loopback(u)) {
        return Err("URLs must be loopback http URLs".to_owned());
    }
    if args.sessions == 0 || args.sessions > 20_000 || args.seconds == 0 || args.seconds > 600 {
        return Err("--sessions must be 1..=20000 and --seconds 1..=600".to_owned());
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

/// User + system CPU seconds and peak RSS (KiB) of a process.
fn proc_usage(pid: u32, hz: f64) -> (f64, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks: f64 = fields
        .get(11..13)
        .map(|f| f.iter().filter_map(|v| v.parse::<f64>().ok()).sum())
        .unwrap_or(0.0);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let hwm = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    (ticks / hz, hwm)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
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

    // Creates, 50 at a time.
    let create_url = format!(
        "{}/auth/rest/sessions?signicat-accountId=a-spge-emulator",
        args.url
    );
    let semaphore = Arc::new(tokio::sync::Semaphore::new(50));
    let mut creates = Vec::new();
    for nin in nins(args.sessions) {
        let permit = semaphore.clone().acquire_owned().await.expect("open");
        let request = http.post(&create_url).bearer_auth(&bearer).json(&json!({
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
            body["id"].as_str().map(str::to_owned)
        }));
    }
    let mut ids = Vec::new();
    for create in creates {
        if let Ok(Some(id)) = create.await {
            ids.push(id);
        }
    }
    let create_failures = args.sessions - ids.len();

    // Polling: each session every interval, the pollers spread over the interval.
    let before = args.relay_pid.map(|pid| proc_usage(pid, args.clk_tck));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.seconds);
    let n = ids.len().max(1);
    let mut pollers = Vec::new();
    for (i, id) in ids.into_iter().enumerate() {
        let http = http.clone();
        let url = format!("{}/auth/rest/sessions/{id}", args.url);
        let bearer = bearer.clone();
        let offset = args.interval.mul_f64(i as f64 / n as f64);
        let interval = args.interval;
        pollers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            let mut next = tokio::time::Instant::from_std(started) + offset;
            loop {
                tokio::time::sleep_until(next).await;
                if Instant::now() >= deadline {
                    break;
                }
                let sent = Instant::now();
                match http.get(&url).bearer_auth(&bearer).send().await {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
                    }
                    _ => errors += 1,
                }
                next += interval;
            }
            (latencies, errors)
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    for poller in pollers {
        if let Ok((l, e)) = poller.await {
            latencies.extend(l);
            errors += e;
        }
    }
    let wall = started.elapsed().as_secs_f64();
    let after = args.relay_pid.map(|pid| proc_usage(pid, args.clk_tck));
    latencies.sort_by(f64::total_cmp);
    let relay = match (before, after) {
        (Some((cpu0, _)), Some((cpu1, hwm))) => json!({
            "cpu_s": cpu1 - cpu0,
            "cpu_us_per_poll": (cpu1 - cpu0) * 1e6 / latencies.len().max(1) as f64,
            "peak_rss_kib": hwm,
        }),
        _ => Value::Null,
    };
    println!(
        "{}",
        json!({
            "url": args.url,
            "sessions": args.sessions,
            "create_failures": create_failures,
            "seconds": args.seconds,
            "interval_ms": args.interval.as_millis() as u64,
            "polls": latencies.len(),
            "poll_errors": errors,
            "polls_per_s": latencies.len() as f64 / wall,
            "p50_ms": percentile(&latencies, 50.0),
            "p90_ms": percentile(&latencies, 90.0),
            "p99_ms": percentile(&latencies, 99.0),
            "max_ms": latencies.last().copied().unwrap_or(f64::NAN),
            "relay": relay,
        })
    );
}
