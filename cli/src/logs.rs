//! `--verbose`: the SDK's own log records on stderr, through the core's log sink.

use std::io::Write;
use std::sync::Arc;

use safeconv::{LogLevel, LogRecord, LogSink};

struct Stderr;

impl LogSink for Stderr {
    fn log(&self, record: &LogRecord) {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "safeconv: {:<5} {record}", record.level.as_str());
    }
}

/// Turns logging on for `-v` (info), `-vv` (debug) and `-vvv` (trace).
pub fn init(verbosity: u8) {
    let level = match verbosity {
        0 => return,
        1 => LogLevel::Info,
        2 => LogLevel::Debug,
        _ => LogLevel::Trace,
    };
    if let Err(e) = safeconv::set_log_sink(Some(Arc::new(Stderr)), level) {
        eprintln!("safeconv: cannot log: {e}");
    }
}
