//! The core's log records for a foreign logger: a callback interface over the core's log sink.
//! Each language adapts it to the logging its users have (Python's `logging`, SLF4J,
//! `os.Logger`); see docs/mobile.md.

use std::sync::Arc;

use safeconv::{LogLevel, LogRecord as CoreLogRecord, LogSink as CoreLogSink};

use crate::error::SafeconvError;

/// One structured field of a log record, e.g. `session_id`.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct LogField {
    /// The field's name.
    pub name: String,
    /// Its value, NINs masked.
    pub value: String,
}

/// One log event of the core, NINs masked.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct LogRecord {
    /// How important it is.
    pub level: LogLevel,
    /// Where it comes from, e.g. `safeconv::wait`.
    pub target: String,
    /// What happened, e.g. `poll failed; will retry`.
    pub message: String,
    /// The event's structured fields, in order.
    pub fields: Vec<LogField>,
}

impl From<&CoreLogRecord> for LogRecord {
    fn from(record: &CoreLogRecord) -> Self {
        LogRecord {
            level: record.level,
            target: record.target.clone(),
            message: record.message.clone(),
            fields: (record.fields.iter())
                .map(|(name, value)| LogField {
                    name: name.clone(),
                    value: value.clone(),
                })
                .collect(),
        }
    }
}

/// Receives the core's log records: retries, token renewals, sessions created and cancelled.
/// Called on whichever thread logs, possibly several at once; return quickly. What it throws
/// is dropped: a logger that fails never fails the call that logged.
#[uniffi::export(foreign)]
pub trait LogSink: Send + Sync {
    /// One record.
    fn log(&self, record: LogRecord) -> Result<(), SafeconvError>;
}

struct ForeignLogSink(Arc<dyn LogSink>);

impl CoreLogSink for ForeignLogSink {
    fn log(&self, record: &CoreLogRecord) {
        // Dropped on purpose (see `LogSink`); there is nowhere left to report it.
        let _ = self.0.log(record.into());
    }
}

/// Sends the core's log records at `level` and above to `sink` (`None`: to nobody), replacing
/// the sink set before. One sink per process.
#[uniffi::export]
pub fn set_log_sink(sink: Option<Arc<dyn LogSink>>, level: LogLevel) -> Result<(), SafeconvError> {
    let sink = sink.map(|sink| Arc::new(ForeignLogSink(sink)) as Arc<dyn CoreLogSink>);
    Ok(safeconv::set_log_sink(sink, level)?)
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[derive(Default)]
    struct Collect(Mutex<Vec<LogRecord>>);

    impl LogSink for Collect {
        fn log(&self, record: LogRecord) -> Result<(), SafeconvError> {
            self.0.lock().unwrap().push(record);
            Ok(())
        }
    }

    struct Failing;

    impl LogSink for Failing {
        fn log(&self, _: LogRecord) -> Result<(), SafeconvError> {
            Err(SafeconvError::Protocol {
                reason: "the logger is broken".into(),
            })
        }
    }

    // The one test of the process-wide sink in this crate's unit tests.
    #[test]
    fn records_reach_a_foreign_sink_and_its_failures_stay_there() {
        let sink = Arc::new(Collect::default());
        set_log_sink(Some(sink.clone()), LogLevel::Info).unwrap();
        tracing::info!(target: "safeconv::test", session_id = "s-1", "created for 01018010018");
        tracing::debug!(target: "safeconv::test", "too detailed");
        let records = sink.0.lock().unwrap().clone();
        assert_eq!(
            records,
            [LogRecord {
                level: LogLevel::Info,
                target: "safeconv::test".into(),
                message: "created for 010180*****".into(),
                fields: vec![LogField {
                    name: "session_id".into(),
                    value: "s-1".into()
                }],
            }]
        );

        set_log_sink(Some(Arc::new(Failing)), LogLevel::Trace).unwrap();
        tracing::error!(target: "safeconv::test", "nobody can take this");
        set_log_sink(None, LogLevel::Trace).unwrap();
    }
}
