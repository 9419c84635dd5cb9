//! `setLogger(logger, { level })`: the core's log records (NINs masked) to a JavaScript
//! function or to a console-like object (`console`, or any logger with `error`/`warn`/`info`/
//! `debug` methods).

use std::sync::Arc;

use js_sys::{Function, Reflect};
use safeconv::{Error, LogLevel, LogRecord, LogSink, Result};
use serde_json::{Map, json};
use wasm_bindgen::prelude::*;

use crate::{convert, options};

enum Logger {
    /// Called with `{ level, target, message, fields }`.
    Function(Function),
    /// Its method for the level is called with `"target: message"` and the fields.
    Console(JsValue),
}

struct JsLogSink(Logger);

// SAFETY: this crate is built for wasm32-unknown-unknown without the `atomics` feature (see the
// compile_error! in lib.rs): one thread, so the JavaScript values are only ever used from the
// thread that made them, and no two calls can overlap.
unsafe impl Send for JsLogSink {}
// SAFETY: as above.
unsafe impl Sync for JsLogSink {}

impl LogSink for JsLogSink {
    fn log(&self, record: &LogRecord) {
        let fields: Map<_, _> = record
            .fields
            .iter()
            .map(|(name, value)| (name.clone(), value.as_str().into()))
            .collect();
        // A logger that throws loses its record; there is nobody else to tell.
        let _ = match &self.0 {
            Logger::Function(function) => {
                let value = json!({
                    "level": record.level.as_str(),
                    "target": record.target,
                    "message": record.message,
                    "fields": fields,
                });
                function.call1(&JsValue::UNDEFINED, &convert::parse(&value))
            }
            Logger::Console(console) => {
                let method = match record.level {
                    LogLevel::Error => "error",
                    LogLevel::Warn => "warn",
                    LogLevel::Info => "info",
                    _ => "debug",
                };
                let text = JsValue::from_str(&format!("{}: {}", record.target, record.message));
                match Reflect::get(console, &method.into()).map(JsCast::dyn_into::<Function>) {
                    Ok(Ok(method)) if fields.is_empty() => method.call1(console, &text),
                    Ok(Ok(method)) => method.call2(console, &text, &convert::parse(&fields.into())),
                    _ => Ok(JsValue::UNDEFINED),
                }
            }
        };
    }
}

/// `setLogger(logger, { level })`; `setLogger(null)` stops logging.
pub(crate) fn set(logger: &JsValue, options: &JsValue) -> Result<()> {
    let mut level = LogLevel::Info;
    options::each(options, "setLogger()", |key, value| {
        match key {
            "level" => level = log_level(&value.string()?)?,
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    let logger = if logger.is_undefined() || logger.is_null() {
        None
    } else if let Some(function) = logger.dyn_ref::<Function>() {
        Some(Logger::Function(function.clone()))
    } else if logger.is_object()
        && Reflect::get(logger, &"warn".into()).is_ok_and(|warn| warn.is_function())
    {
        Some(Logger::Console(logger.clone()))
    } else {
        return Err(Error::invalid_input(
            "logger",
            "must be a function, a console-like object (e.g. console) or null",
        ));
    };
    let sink = logger.map(|logger| Arc::new(JsLogSink(logger)) as Arc<dyn LogSink>);
    safeconv::set_log_sink(sink, level)
}

fn log_level(name: &str) -> Result<LogLevel> {
    Ok(match name {
        "error" => LogLevel::Error,
        "warn" => LogLevel::Warn,
        "info" => LogLevel::Info,
        "debug" => LogLevel::Debug,
        "trace" => LogLevel::Trace,
        _ => {
            return Err(Error::invalid_input(
                "level",
                "must be 'error', 'warn', 'info', 'debug' or 'trace'",
            ));
        }
    })
}
