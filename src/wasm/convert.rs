//! JavaScript values in and out: option objects read field by field, results and errors written
//! as JSON and parsed by the host (`JSON.parse` is smaller in wasm than a serde bridge).

use std::time::Duration;

use js_sys::{Array, Date, Function, JSON, Object, Reflect};
use serde_json::{Map, Value, json};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use crate::error::{Error, TransportErrorKind};
use crate::nin::NinError;
use crate::session::{Outcome, Session};

#[wasm_bindgen(module = "/src/wasm/error.js")]
extern "C" {
    /// `class SafeconvError extends Error`, defined in error.js and exported with the bindings.
    #[wasm_bindgen(reexport)]
    pub type SafeconvError;

    #[wasm_bindgen(constructor)]
    fn new(kind: &str, message: &str, details: &JsValue) -> SafeconvError;
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

/// A core error as a `SafeconvError`.
pub(crate) fn error(e: Error) -> JsValue {
    let transient = e.is_transient();
    let (message, mut details) = match &e {
        Error::InvalidInput { field, reason } => {
            let field = js_field(field);
            let message = format!("invalid {field}: {reason}");
            (message, json!({ "field": field, "reason": reason }))
        }
        Error::InvalidNin(reason) => (
            e.to_string(),
            json!({ "field": "nin", "reason": reason.code() }),
        ),
        Error::Authentication {
            error,
            description,
            http_status,
        } => (
            e.to_string(),
            json!({ "code": error, "detail": description, "httpStatus": http_status }),
        ),
        Error::Api(api) => (
            e.to_string(),
            json!({
                "httpStatus": api.http_status,
                "code": api.code,
                "title": api.title,
                "detail": api.detail,
                "traceId": api.trace_id,
                "invalidParams": (!api.invalid_params.is_empty()).then(|| {
                    api.invalid_params
                        .iter()
                        .map(|(name, reason)| json!({ "name": name, "reason": reason }))
                        .collect::<Vec<_>>()
                }),
                "retryAfterMs": api.retry_after.map(|d| d.as_millis() as u64),
            }),
        ),
        Error::Transport { kind, .. } => {
            let reason = match kind {
                TransportErrorKind::Timeout => "timeout",
                TransportErrorKind::Connect => "connect",
                TransportErrorKind::Connection => "connection",
                TransportErrorKind::Tls => "tls",
                TransportErrorKind::Proxy => "proxy",
            };
            (e.to_string(), json!({ "reason": reason }))
        }
        Error::Protocol { .. } => (e.to_string(), json!({})),
    };
    details["transient"] = Value::Bool(transient);
    SafeconvError::new(e.kind_code(), &message, &parse(&details)).into()
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

/// A refused option, as the core would report it.
pub(crate) fn invalid(field: &str, reason: &str) -> Error {
    Error::InvalidInput {
        field: field.to_owned(),
        reason: reason.to_owned(),
    }
}

/// `JSON.parse(JSON.stringify(value))` without the stringify on the JavaScript side.
pub(crate) fn parse(value: &Value) -> JsValue {
    let text = value.to_string();
    // serde_json always writes valid JSON.
    JSON::parse(&text).unwrap_or(JsValue::UNDEFINED)
}

/// What the session looks like now, as a plain object: the API's fields (camelCase), plus
/// `bindingMessage`, with `expiresAt` as a `Date`.
pub(crate) fn session_state(session: &Session) -> JsValue {
    let mut value = serde_json::to_value(session).unwrap_or_else(|_| json!({ "id": session.id }));
    if let (Some(message), Some(map)) = (session.binding_message(), value.as_object_mut()) {
        map.insert(
            "bindingMessage".to_owned(),
            Value::String(message.to_owned()),
        );
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

/// An outcome as `{ kind, status, … }`.
pub(crate) fn outcome(outcome: &Outcome) -> JsValue {
    let status = outcome.status();
    let value = match outcome {
        Outcome::Success(subject) => {
            json!({ "kind": "success", "status": status.as_str(), "subject": subject })
        }
        Outcome::Aborted => json!({ "kind": "aborted", "status": status.as_str() }),
        Outcome::Cancelled => json!({ "kind": "cancelled", "status": status.as_str() }),
        Outcome::Expired => json!({ "kind": "expired", "status": status.as_str() }),
        Outcome::Failed { error, .. } => {
            let mut map = Map::new();
            map.insert("kind".to_owned(), "failed".into());
            map.insert("status".to_owned(), status.as_str().into());
            if let Some(error) = error {
                map.insert(
                    "error".to_owned(),
                    serde_json::to_value(error).unwrap_or_default(),
                );
            }
            Value::Object(map)
        }
    };
    parse(&value)
}

/// The result of `checkNin`.
pub(crate) fn nin_check(result: Result<crate::Nin, NinError>) -> JsValue {
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

/// Reads the fields of an options object. `undefined` and `null` stand for `{}`.
pub(crate) struct Fields<'a> {
    object: Option<&'a JsValue>,
    /// The option's name in messages, e.g. `options` or `waitOptions`.
    name: &'static str,
}

impl<'a> Fields<'a> {
    pub(crate) fn new(value: &'a JsValue, name: &'static str) -> Result<Self, Error> {
        if value.is_undefined() || value.is_null() {
            return Ok(Fields { object: None, name });
        }
        if !value.is_object() || value.is_function() || Array::is_array(value) {
            return Err(invalid(name, "must be an object"));
        }
        Ok(Fields {
            object: Some(value),
            name,
        })
    }

    /// Whether the options were given at all.
    pub(crate) fn present(&self) -> bool {
        self.object.is_some()
    }

    pub(crate) fn name(&self) -> &'static str {
        self.name
    }

    /// The field, or `None` when it is missing, `undefined` or `null`.
    pub(crate) fn get(&self, field: &str) -> Option<JsValue> {
        let object = self.object?;
        let value = Reflect::get(object, &JsValue::from_str(field)).ok()?;
        (!value.is_undefined() && !value.is_null()).then_some(value)
    }

    pub(crate) fn string(&self, field: &str) -> Result<Option<String>, Error> {
        match self.get(field) {
            None => Ok(None),
            Some(value) => value
                .as_string()
                .map(Some)
                .ok_or_else(|| invalid(field, "must be a string")),
        }
    }

    pub(crate) fn boolean(&self, field: &str) -> Result<Option<bool>, Error> {
        match self.get(field) {
            None => Ok(None),
            Some(value) => value
                .as_bool()
                .map(Some)
                .ok_or_else(|| invalid(field, "must be a boolean")),
        }
    }

    /// A whole number of at least 0 (milliseconds, seconds).
    pub(crate) fn whole_number(&self, field: &str) -> Result<Option<u64>, Error> {
        match self.get(field) {
            None => Ok(None),
            Some(value) => match value.as_f64() {
                Some(n)
                    if n.is_finite()
                        && n >= 0.0
                        && n.fract() == 0.0
                        && n <= 9_007_199_254_740_991.0 =>
                {
                    Ok(Some(n as u64))
                }
                _ => Err(invalid(field, "must be a whole number of at least 0")),
            },
        }
    }

    pub(crate) fn millis(&self, field: &str) -> Result<Option<Duration>, Error> {
        Ok(self.whole_number(field)?.map(Duration::from_millis))
    }

    pub(crate) fn strings(&self, field: &str) -> Result<Option<Vec<String>>, Error> {
        let Some(value) = self.get(field) else {
            return Ok(None);
        };
        if !Array::is_array(&value) {
            return Err(invalid(field, "must be an array of strings"));
        }
        Array::from(&value)
            .iter()
            .map(|item| {
                item.as_string()
                    .ok_or_else(|| invalid(field, "must be an array of strings"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    pub(crate) fn function(&self, field: &str) -> Result<Option<Function>, Error> {
        match self.get(field) {
            None => Ok(None),
            Some(value) => value
                .dyn_into::<Function>()
                .map(Some)
                .map_err(|_| invalid(field, "must be a function")),
        }
    }

    /// An object field (for `AbortSignal`, checked by the caller).
    pub(crate) fn object(&self, field: &str) -> Option<Object> {
        self.get(field)
            .and_then(|value| value.dyn_into::<Object>().ok())
    }
}
