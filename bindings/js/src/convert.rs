//! Core values out to JavaScript: results written as JSON and parsed by the host (`JSON.parse`
//! is smaller in wasm than a serde bridge), errors as `SafeconvError`s from the core's report.

use js_sys::{Date, JSON, Reflect};
use safeconv::{Error, ErrorKind, Nin, NinError, Outcome, Session};
use serde_json::{Value, json};
use wasm_bindgen::prelude::*;

use crate::abort;

#[wasm_bindgen(module = "/src/error.js")]
extern "C" {
    /// `class SafeconvError extends Error`, defined in error.js and exported with the bindings.
    #[wasm_bindgen(reexport)]
    pub type SafeconvError;

    #[wasm_bindgen(constructor)]
    fn new(kind: &str, message: &str, details: &JsValue, cause: &JsValue) -> SafeconvError;
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = console, js_name = error)]
    fn console_error(message: &str, value: &JsValue);
}

/// Writes to the console (for callbacks that threw: there is nobody else to tell).
pub(crate) fn report_to_console(message: &str, value: &JsValue) {
    console_error(message, value);
}

/// A core error as a `SafeconvError`, with `cause` (or `undefined`).
pub(crate) fn error(e: &Error, cause: &JsValue) -> JsValue {
    let report = e.report();
    let field = report.field.as_deref().map(js_field);
    let (message, reason, code) = match (e, report.kind) {
        (Error::InvalidInput { reason, .. }, _) => (
            format!("invalid {}: {reason}", field.as_deref().unwrap_or("input")),
            Some(reason.clone()),
            None,
        ),
        // The JavaScript API calls these codes reasons.
        (_, ErrorKind::InvalidNin | ErrorKind::Transport(_)) => (report.message, report.code, None),
        _ => (report.message, None, report.code),
    };
    let details = json!({
        "field": field,
        "reason": reason,
        "code": code,
        "httpStatus": report.http_status,
        "title": report.title,
        "detail": report.detail,
        "traceId": report.trace_id,
        "invalidParams": (!report.invalid_params.is_empty()).then(|| {
            report.invalid_params
                .iter()
                .map(|(name, reason)| json!({ "name": name, "reason": reason }))
                .collect::<Vec<_>>()
        }),
        "retryAfterMs": report.retry_after.map(|d| d.as_millis() as u64),
        "transient": report.transient,
    });
    SafeconvError::new(report.kind.code(), &message, &parse(&details), cause).into()
}

/// `call` given up through its `AbortSignal`: kind `timeout` (name `TimeoutError`) when the
/// signal's reason says the time ran out, else `aborted` (name `AbortError`); the reason is the
/// `cause`, and `then` says what became of the session.
pub(crate) fn aborted(call: &str, then: &str, reason: &JsValue) -> JsValue {
    let (kind, how) = if abort::is_timeout(reason) {
        ("timeout", "timed out")
    } else {
        ("aborted", "was aborted")
    };
    let details = parse(&json!({ "transient": false }));
    SafeconvError::new(kind, &format!("{call} {how}; {then}"), &details, reason).into()
}

/// The JavaScript name of an option the core refused (the core speaks snake_case).
pub(crate) fn js_field(core: &str) -> String {
    match core {
        "credentials" => "tokenProvider".to_owned(),
        "poll_interval" => "pollIntervalMs".to_owned(),
        "request_timeout" => "requestTimeoutMs".to_owned(),
        "session_id" => "id".to_owned(),
        "requested_attributes" => "attributes".to_owned(),
        other => {
            let mut out = String::with_capacity(other.len());
            let mut upper = false;
            for c in other.chars() {
                if c == '_' {
                    upper = true;
                } else if upper {
                    out.extend(c.to_uppercase());
                    upper = false;
                } else {
                    out.push(c);
                }
            }
            out
        }
    }
}

/// `JSON.parse(JSON.stringify(value))` without the stringify on the JavaScript side.
pub(crate) fn parse(value: &Value) -> JsValue {
    // serde_json always writes valid JSON.
    JSON::parse(&value.to_string()).unwrap_or(JsValue::UNDEFINED)
}

/// What the session looks like now, as a plain object: the API's fields (camelCase), plus
/// `bindingMessage` (the one given, when the last answer no longer carries it), with
/// `expiresAt` as a `Date`.
pub(crate) fn session_state(session: &Session, binding_message: Option<&str>) -> JsValue {
    let mut value = serde_json::to_value(session).unwrap_or_else(|_| json!({ "id": session.id }));
    if let (Some(message), Some(map)) = (binding_message, value.as_object_mut()) {
        map.insert("bindingMessage".to_owned(), message.into());
    }
    let state = parse(&value);
    if let Some(expires_at) = session.expires_at {
        let _ = Reflect::set(&state, &"expiresAt".into(), &date(expires_at.unix_millis()));
    }
    state
}

pub(crate) fn date(unix_millis: i64) -> JsValue {
    Date::new(&JsValue::from_f64(unix_millis as f64)).into()
}

/// An outcome as `{ kind, status, … }`. The caller's no is `declined`: in JavaScript, "aborted"
/// is what an `AbortSignal` does.
pub(crate) fn outcome(outcome: &Outcome) -> JsValue {
    let status = outcome.status();
    let mut value = json!({ "status": status.as_str() });
    let kind = match outcome {
        Outcome::Success(subject) => {
            value["subject"] = json!(subject);
            "success"
        }
        Outcome::Aborted => "declined",
        Outcome::Cancelled => "cancelled",
        Outcome::Expired => "expired",
        Outcome::Failed { error, .. } => {
            if let Some(error) = error {
                value["error"] = json!(error);
            }
            "failed"
        }
        // An ending this version does not know yet.
        _ => "failed",
    };
    value["kind"] = kind.into();
    parse(&value)
}

/// The result of `checkNin`.
pub(crate) fn nin_check(result: Result<Nin, NinError>) -> JsValue {
    let value = match result {
        Ok(nin) => json!({
            "valid": true,
            "kind": nin.kind().code(),
            "masked": nin.masked(),
            "checkDigitsValid": nin.check_digits_valid(),
        }),
        Err(e) => json!({ "valid": false, "reason": e.code(), "message": e.to_string() }),
    };
    parse(&value)
}
