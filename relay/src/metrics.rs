//! Prometheus metrics, per relay (its own recorder, so that a backend mounting the relay's
//! router keeps its own global recorder, and several relays in one process do not mix).

use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusRecorder};

/// Creates sent to Signicat, by outcome (`created`, `failed`, `unknown`).
pub const CREATES: &str = "safeconv_relay_session_creates_total";
/// Final statuses the relay saw, by status.
pub const OUTCOMES: &str = "safeconv_relay_session_outcomes_total";
/// Requests refused, by reason.
pub const REFUSALS: &str = "safeconv_relay_refusals_total";
/// Session reads, by where the answer came from (`upstream`, `cache`).
pub const READS: &str = "safeconv_relay_session_reads_total";
/// Latency of Signicat requests (retries included), by operation and result.
pub const UPSTREAM_LATENCY: &str = "safeconv_relay_upstream_request_duration_seconds";
/// Sessions active now (across every relay on the database).
pub const ACTIVE_SESSIONS: &str = "safeconv_relay_active_sessions";

const LATENCY_BUCKETS: [f64; 12] = [
    0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

pub(crate) struct Metrics {
    recorder: PrometheusRecorder,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    pub(crate) fn new() -> Metrics {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(UPSTREAM_LATENCY.to_owned()), &LATENCY_BUCKETS)
            .expect("the bucket list is not empty")
            .build_recorder();
        let metrics = Metrics { recorder };
        metrics.with(|| {
            metrics::describe_counter!(CREATES, "Creates sent to Signicat, by outcome");
            metrics::describe_counter!(OUTCOMES, "Final session statuses seen, by status");
            metrics::describe_counter!(REFUSALS, "Requests refused by the relay, by reason");
            metrics::describe_counter!(READS, "Session reads, by source (upstream or cache)");
            metrics::describe_histogram!(
                UPSTREAM_LATENCY,
                metrics::Unit::Seconds,
                "Latency of requests to Signicat, retries included"
            );
            metrics::describe_gauge!(ACTIVE_SESSIONS, "Sessions active now");
        });
        metrics
    }

    fn with<T>(&self, f: impl FnOnce() -> T) -> T {
        metrics::with_local_recorder(&self.recorder, f)
    }

    pub(crate) fn create(&self, outcome: &'static str) {
        self.with(|| metrics::counter!(CREATES, "outcome" => outcome).increment(1));
    }

    pub(crate) fn outcome(&self, status: &str) {
        let status = status.to_owned();
        self.with(|| metrics::counter!(OUTCOMES, "status" => status).increment(1));
    }

    pub(crate) fn refusal(&self, reason: &str) {
        // Policy reasons name a field; keep the label set small and fixed.
        let reason = match reason.split_once(':') {
            Some(("policy", _)) => "policy".to_owned(),
            _ => reason.to_owned(),
        };
        self.with(|| metrics::counter!(REFUSALS, "reason" => reason).increment(1));
    }

    pub(crate) fn read(&self, source: &'static str) {
        self.with(|| metrics::counter!(READS, "source" => source).increment(1));
    }

    pub(crate) fn upstream(&self, operation: &'static str, ok: bool, took: Duration) {
        let result = if ok { "ok" } else { "error" };
        self.with(|| {
            metrics::histogram!(UPSTREAM_LATENCY, "operation" => operation, "result" => result)
                .record(took.as_secs_f64());
        });
    }

    /// Folds the latency samples recorded since the last upkeep into the histograms. The
    /// recorder keeps every sample until then, so without it a relay nobody scrapes would grow
    /// by 8 bytes per upstream request, without end.
    pub(crate) fn upkeep(&self) {
        self.recorder.handle().run_upkeep();
    }

    pub(crate) fn render(&self, active_sessions: Option<u64>) -> String {
        if let Some(active) = active_sessions {
            self.with(|| metrics::gauge!(ACTIVE_SESSIONS).set(active as f64));
        }
        self.upkeep();
        self.recorder.handle().render()
    }
}
