//! Load benchmark of the SDK: N concurrent Safe Conversations against an emulator that runs in
//! another process (see scripts/bench.sh, which starts it and pins each side to its own core).
//!
//! One thread: a `current_thread` Tokio runtime. Sessions start evenly over one poll interval
//! (so their polls spread over the interval, as calls arriving at a call centre would), each
//! one creates a Safe Conversation and waits for its outcome with the SDK's own poll loop.
//!
//! Prints one JSON object to stdout: CPU time and peak RSS of this process, and for every
//! session its id and when the caller was told (wall clock, ms). scripts/bench.sh hands that
//! to bench/collect.py, which asks the emulator for request counters and when each session
//! really ended, so the SDK and the Python baseline are scored by the same code.
//!
//! ```text
//! cargo run --release --example bench -- --url http://127.0.0.1:PORT --sessions 1000 \
//!     --interval-ms 1000
//! ```
//!
//! Linux only (it reads `/proc/self/status` and calls `getrusage`). Only loopback URLs.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use safeconv::{Client, Nin, Outcome, SafeConversation, WaitOptions};

struct Args {
    url: String,
    sessions: usize,
    interval: Duration,
    ramp: Option<Duration>,
    nin: String,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        url: String::new(),
        sessions: 100,
        interval: Duration::from_millis(1000),
        ramp: None,
        nin: "01018010018".to_owned(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        let number = |text: String| {
            text.parse::<u64>()
                .map_err(|_| format!("not a number: {text}"))
        };
        match flag.as_str() {
            "--url" => args.url = value()?,
            "--sessions" => args.sessions = number(value()?)? as usize,
            "--interval-ms" => args.interval = Duration::from_millis(number(value()?)?),
            "--ramp-ms" => args.ramp = Some(Duration::from_millis(number(value()?)?)),
            "--nin" => args.nin = value()?,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let host_ok = ["http://127.0.0.1:", "http://localhost:", "http://[::1]:"]
        .iter()
        .any(|prefix| args.url.starts_with(prefix));
    if !host_ok {
        return Err("--url must be a loopback http URL (the emulator)".to_owned());
    }
    if args.sessions == 0 || args.sessions > 100_000 {
        return Err("--sessions must be 1..=100000".to_owned());
    }
    Ok(args)
}

fn now_unix_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

/// `VmRSS` and `VmHWM` (peak) of this process, in KiB.
fn rss_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// User + system CPU time of this process so far.
fn cpu_time() -> Duration {
    #[repr(C)]
    struct Timeval {
        sec: i64,
        usec: i64,
    }
    #[repr(C)]
    struct Rusage {
        utime: Timeval,
        stime: Timeval,
        rest: [i64; 14],
    }
    unsafe extern "C" {
        fn getrusage(who: i32, usage: *mut Rusage) -> i32;
    }
    let mut usage = Rusage {
        utime: Timeval { sec: 0, usec: 0 },
        stime: Timeval { sec: 0, usec: 0 },
        rest: [0; 14],
    };
    // SAFETY: `usage` is a valid, writable `struct rusage` (x86_64/aarch64 Linux layout);
    // RUSAGE_SELF is 0.
    let rc = unsafe { getrusage(0, &mut usage) };
    if rc != 0 {
        return Duration::ZERO;
    }
    let micros = |t: &Timeval| t.sec as u64 * 1_000_000 + t.usec as u64;
    Duration::from_micros(micros(&usage.utime) + micros(&usage.stime))
}

struct Done {
    id: String,
    told_at_ms: f64,
    ok: bool,
}

async fn one_session(client: Client, nin: Nin, delay: Duration) -> Result<Done, String> {
    tokio::time::sleep(delay).await;
    let session = client
        .start_safe_conversation(&SafeConversation::new(nin))
        .await
        .map_err(|e| format!("create: {e}"))?;
    let outcome = client
        .wait(&session, WaitOptions::new())
        .await
        .map_err(|e| format!("wait: {e}"))?;
    Ok(Done {
        told_at_ms: now_unix_ms(),
        ok: matches!(outcome, Outcome::Success(_)),
        id: session.id,
    })
}

async fn run(args: Args) -> Result<serde_json::Value, String> {
    let client = Client::builder()
        .base_url(args.url.clone())
        .account_id("a-spge-emulator")
        .client_credentials("safeconv-demo-client", "safeconv-demo-secret")
        .poll_interval(args.interval)
        // Loopback under load: no request should time out here.
        .request_timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| e.to_string())?;
    let nin = Nin::parse(&args.nin).map_err(|e| e.to_string())?;
    let n = args.sessions;
    let ramp = args.ramp.unwrap_or(args.interval);

    let (rss_before, _) = rss_kib();
    let cpu_before = cpu_time();
    let started = Instant::now();
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let delay = ramp.mul_f64(i as f64 / n as f64);
            tokio::spawn(one_session(client.clone(), nin.clone(), delay))
        })
        .collect();
    let mut done = Vec::with_capacity(n);
    let mut errors: Vec<String> = Vec::new();
    for task in tasks {
        match task.await {
            Ok(Ok(d)) => done.push(d),
            Ok(Err(e)) => errors.push(e),
            Err(e) => errors.push(format!("task: {e}")),
        }
    }
    let wall = started.elapsed();
    let cpu = cpu_time() - cpu_before;
    let (rss_after, hwm) = rss_kib();

    let sessions: Vec<_> = done
        .iter()
        .map(|d| serde_json::json!([d.id, d.told_at_ms]))
        .collect();
    errors.sort();
    errors.dedup();
    Ok(serde_json::json!({
        "client": "sdk",
        "sessions_requested": n,
        "completed": done.len(),
        "succeeded": done.iter().filter(|d| d.ok).count(),
        "errors": n - done.len(),
        "error_kinds": errors.into_iter().take(5).collect::<Vec<_>>(),
        "interval_ms": args.interval.as_millis() as u64,
        "ramp_ms": ramp.as_millis() as u64,
        "wall_s": wall.as_secs_f64(),
        "cpu_s": cpu.as_secs_f64(),
        "rss_before_kib": rss_before,
        "rss_after_kib": rss_after,
        "hwm_kib": hwm,
        "sessions": sessions,
    }))
}

fn main() {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("bench: {message}");
            std::process::exit(2);
        }
    };
    // One thread for everything: the "one core" of the target.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a Tokio runtime");
    match runtime.block_on(run(args)) {
        Ok(report) => println!("{report}"),
        Err(message) => {
            eprintln!("bench: {message}");
            std::process::exit(1);
        }
    }
}
