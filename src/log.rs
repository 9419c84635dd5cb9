//! The core's log events for code outside Rust: one sink that receives each event as plain
//! data (level, target, message, fields), with NINs masked, so that a binding can hand it to
//! the logging its users already have (a C callback, Python's `logging`, SLF4J, `os.Logger`,
//! the browser console).
//!
//! Rust applications do not need this: the core logs through [`tracing`], so any `tracing`
//! subscriber sees the same events.

use std::fmt;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Once, RwLock};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Metadata, Subscriber};

use crate::error::{Error, Result};
use crate::secret::redact_nins;

/// How important a log record is. Ordered: `Error` is the most important.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    /// Something failed that the caller will hear about.
    Error = 1,
    /// Something went wrong and was handled (a retry, a cancel that failed).
    Warn = 2,
    /// The main steps: a session created, cancelled, ended.
    Info = 3,
    /// Details: token fetches, status changes.
    Debug = 4,
    /// Everything.
    Trace = 5,
}

impl LogLevel {
    /// `error`, `warn`, `info`, `debug` or `trace`.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace",
        }
    }

    fn from_tracing(level: &tracing::Level) -> LogLevel {
        match *level {
            tracing::Level::ERROR => LogLevel::Error,
            tracing::Level::WARN => LogLevel::Warn,
            tracing::Level::INFO => LogLevel::Info,
            tracing::Level::DEBUG => LogLevel::Debug,
            tracing::Level::TRACE => LogLevel::Trace,
        }
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One log event of the core.
#[derive(Clone, Debug, PartialEq)]
pub struct LogRecord {
    /// How important it is.
    pub level: LogLevel,
    /// Where it comes from, e.g. `safeconv::wait`.
    pub target: String,
    /// What happened, e.g. `poll failed; will retry`.
    pub message: String,
    /// The event's structured fields, e.g. `("session_id", "3d07…")`, in order.
    pub fields: Vec<(String, String)>,
}

impl fmt::Display for LogRecord {
    /// `message key=value key=value`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        for (name, value) in &self.fields {
            write!(f, " {name}={value}")?;
        }
        Ok(())
    }
}

/// Receives the core's log records. Called on whichever thread logs, possibly several at once;
/// return quickly.
///
/// ```
/// use std::sync::Arc;
/// use safeconv::{LogLevel, LogRecord, LogSink};
/// struct Stderr;
/// impl LogSink for Stderr {
///     fn log(&self, record: &LogRecord) {
///         eprintln!("[{}] {}: {record}", record.level, record.target);
///     }
/// }
/// safeconv::set_log_sink(Some(Arc::new(Stderr)), LogLevel::Info).unwrap();
/// ```
pub trait LogSink: Send + Sync + 'static {
    /// One record, NINs masked.
    fn log(&self, record: &LogRecord);
}

static SINK: RwLock<Option<Arc<dyn LogSink>>> = RwLock::new(None);
/// The most detailed level forwarded; 0 when nothing is.
static MAX_LEVEL: AtomicU8 = AtomicU8::new(0);
static INSTALL: Once = Once::new();

/// Sends the core's log records at `level` and above to `sink` (`None`: to nobody), replacing
/// any sink set before. The first call installs the forwarding as the process's global
/// `tracing` subscriber; it fails with [`Error::InvalidInput`] (`log_sink`) if the application
/// installed another one first (then use that one: it sees the same events).
pub fn set_log_sink(sink: Option<Arc<dyn LogSink>>, level: LogLevel) -> Result<()> {
    let mut installed = Ok(());
    INSTALL.call_once(|| {
        installed = tracing::subscriber::set_global_default(Forwarder);
    });
    if installed.is_err() || !forwarder_is_global() {
        return Err(Error::invalid_input(
            "log_sink",
            "another tracing subscriber is already the global default; it receives the SDK's events",
        ));
    }
    let max = if sink.is_some() { level as u8 } else { 0 };
    *SINK.write().unwrap_or_else(|p| p.into_inner()) = sink;
    MAX_LEVEL.store(max, Ordering::SeqCst);
    tracing::callsite::rebuild_interest_cache();
    Ok(())
}

fn forwarder_is_global() -> bool {
    tracing::dispatcher::get_default(|dispatch| dispatch.is::<Forwarder>())
}

/// The global subscriber: forwards the core's own events (target `safeconv…`) to the sink.
struct Forwarder;

impl Forwarder {
    fn wants(metadata: &Metadata<'_>) -> bool {
        metadata.target().starts_with("safeconv")
            && LogLevel::from_tracing(metadata.level()) as u8 <= MAX_LEVEL.load(Ordering::Relaxed)
    }
}

impl Subscriber for Forwarder {
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        if metadata.target().starts_with("safeconv") {
            // Asked again on every event, since the level can change.
            Interest::sometimes()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        Forwarder::wants(metadata)
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        // The core opens no spans; any span is the same to us.
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let metadata = event.metadata();
        if !Forwarder::wants(metadata) {
            return;
        }
        let sink = SINK.read().unwrap_or_else(|p| p.into_inner()).clone();
        let Some(sink) = sink else { return };
        let mut fields = Fields::default();
        event.record(&mut fields);
        sink.log(&LogRecord {
            level: LogLevel::from_tracing(metadata.level()),
            target: metadata.target().to_owned(),
            message: redact_nins(&fields.message),
            fields: fields.others,
        });
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

#[derive(Default)]
struct Fields {
    message: String,
    others: Vec<(String, String)>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.push(field, value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.push(field, format!("{value:?}"));
    }
}

impl Fields {
    fn push(&mut self, field: &Field, value: String) {
        if field.name() == "message" {
            self.message = value;
        } else {
            self.others
                .push((field.name().to_owned(), redact_nins(&value)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Collect(Mutex<Vec<LogRecord>>);
    impl LogSink for Collect {
        fn log(&self, record: &LogRecord) {
            self.0.lock().unwrap().push(record.clone());
        }
    }

    // The one test of the process-wide sink in the unit tests (they share the process).
    #[test]
    fn records_reach_the_sink_masked_and_filtered_by_level() {
        let sink = Arc::new(Collect::default());
        set_log_sink(Some(sink.clone()), LogLevel::Info).unwrap();
        tracing::info!(target: "safeconv::test", session_id = "s-1", detail = "nin 17029012345", "session created for 17029012345");
        tracing::debug!(target: "safeconv::test", "too detailed");
        tracing::info!(target: "somebody_else", "not ours");
        let records = sink.0.lock().unwrap().clone();
        assert_eq!(records.len(), 1, "{records:?}");
        let record = &records[0];
        assert_eq!(record.level, LogLevel::Info);
        assert_eq!(record.target, "safeconv::test");
        assert_eq!(record.message, "session created for 170290*****");
        assert_eq!(
            record.fields,
            [
                ("session_id".to_owned(), "s-1".to_owned()),
                ("detail".to_owned(), "nin 170290*****".to_owned())
            ]
        );
        assert_eq!(
            record.to_string(),
            "session created for 170290***** session_id=s-1 detail=nin 170290*****"
        );

        set_log_sink(Some(sink.clone()), LogLevel::Debug).unwrap();
        tracing::debug!(target: "safeconv::test", "now wanted");
        set_log_sink(None, LogLevel::Trace).unwrap();
        tracing::error!(target: "safeconv::test", "nobody listens");
        assert_eq!(sink.0.lock().unwrap().len(), 2);
    }
}
