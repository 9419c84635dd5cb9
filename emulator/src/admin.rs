//! The admin API under `/emulator/`: JSON, no authentication, never counted or faulted.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use bytes::Bytes;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::behaviour::Behaviour;
use crate::faults::{Endpoint, Fault};
use crate::state::{Shared, lock};
use crate::wire::json_response;

type AppState = State<Arc<Shared>>;

/// A behaviour as the admin API writes it: `{"behaviour":"approve","afterMs":500}`.
#[derive(Debug, Deserialize)]
#[serde(
    tag = "behaviour",
    rename_all = "kebab-case",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
pub(crate) enum BehaviourJson {
    Approve {
        after_ms: Option<u64>,
    },
    Decline {
        after_ms: Option<u64>,
    },
    DeclineAborted {
        after_ms: Option<u64>,
    },
    Fail {
        after_ms: Option<u64>,
        code: Option<String>,
    },
    // Empty struct variants (not unit ones) so that deny_unknown_fields applies to them too.
    NeverAnswer {},
    NoApp {},
}

const DEFAULT_AFTER_MS: u64 = 3_000;

impl From<BehaviourJson> for Behaviour {
    fn from(b: BehaviourJson) -> Self {
        let after = |ms: Option<u64>| Duration::from_millis(ms.unwrap_or(DEFAULT_AFTER_MS));
        match b {
            BehaviourJson::Approve { after_ms } => Behaviour::Approve {
                after: after(after_ms),
            },
            BehaviourJson::Decline { after_ms } => Behaviour::Decline {
                after: after(after_ms),
            },
            BehaviourJson::DeclineAborted { after_ms } => Behaviour::DeclineAborted {
                after: after(after_ms),
            },
            BehaviourJson::Fail { after_ms, code } => Behaviour::Fail {
                after: after(after_ms),
                code: code.unwrap_or_else(|| "authentication_failed".to_owned()),
            },
            BehaviourJson::NeverAnswer {} => Behaviour::NeverAnswer,
            BehaviourJson::NoApp {} => Behaviour::NoApp,
        }
    }
}

pub(crate) fn behaviour_to_json(b: &Behaviour) -> Value {
    match b {
        Behaviour::Approve { after } => {
            json!({"behaviour": "approve", "afterMs": after.as_millis() as u64})
        }
        Behaviour::Decline { after } => {
            json!({"behaviour": "decline", "afterMs": after.as_millis() as u64})
        }
        Behaviour::DeclineAborted { after } => {
            json!({"behaviour": "decline-aborted", "afterMs": after.as_millis() as u64})
        }
        Behaviour::Fail { after, code } => {
            json!({"behaviour": "fail", "afterMs": after.as_millis() as u64, "code": code})
        }
        Behaviour::NeverAnswer => json!({"behaviour": "never-answer"}),
        Behaviour::NoApp => json!({"behaviour": "no-app"}),
    }
}

/// A fault as the admin API writes it: `{"kind":"slow","delayMs":300}`.
#[derive(Debug, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "kebab-case",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
pub(crate) enum FaultJson {
    InternalError {},
    Unavailable { retry_after_secs: Option<u64> },
    TooManyRequests { retry_after_secs: Option<u64> },
    DropConnection {},
    Slow { delay_ms: Option<u64> },
    TruncatedJson {},
    MalformedJson {},
    RejectToken {},
}

impl From<FaultJson> for Fault {
    fn from(f: FaultJson) -> Self {
        match f {
            FaultJson::InternalError {} => Fault::InternalError,
            FaultJson::Unavailable { retry_after_secs } => Fault::Unavailable {
                retry_after: retry_after_secs.map(Duration::from_secs),
            },
            FaultJson::TooManyRequests { retry_after_secs } => Fault::TooManyRequests {
                retry_after: Duration::from_secs(retry_after_secs.unwrap_or(1)),
            },
            FaultJson::DropConnection {} => Fault::DropConnection,
            FaultJson::Slow { delay_ms } => Fault::Slow {
                delay: Duration::from_millis(delay_ms.unwrap_or(300)),
            },
            FaultJson::TruncatedJson {} => Fault::TruncatedJson,
            FaultJson::MalformedJson {} => Fault::MalformedJson,
            FaultJson::RejectToken {} => Fault::RejectToken,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct InjectJson {
    endpoint: Option<String>,
    fault: FaultJson,
    times: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FaultRateJson {
    rate: f64,
    faults: Option<Vec<FaultJson>>,
    endpoints: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ConfigJson {
    token_lifetime_secs: Option<u64>,
    min_session_lifetime_secs: Option<u64>,
    default_session_lifetime_secs: Option<u64>,
    default_behaviour: Option<BehaviourJson>,
}

fn bad_request(message: impl Into<String>) -> Response {
    json_response(StatusCode::BAD_REQUEST, &json!({ "error": message.into() }))
}

fn ok() -> Response {
    json_response(StatusCode::OK, &json!({ "ok": true }))
}

fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| format!("invalid JSON body: {e}"))
}

/// `"any"` is `None`; otherwise one of the four endpoint names.
fn parse_endpoint(name: &str) -> Result<Option<Endpoint>, String> {
    if name == "any" {
        return Ok(None);
    }
    Endpoint::from_name(name).map(Some).ok_or_else(|| {
        format!(
            "unknown endpoint '{name}': use token, create-session, get-session, cancel-session or any"
        )
    })
}

/// `GET /emulator/health`
pub(crate) async fn health() -> Response {
    ok()
}

/// `GET /emulator/counters`
pub(crate) async fn counters(State(shared): AppState) -> Response {
    json_response(StatusCode::OK, &shared.counters.snapshot())
}

/// `POST /emulator/reset`
pub(crate) async fn reset(State(shared): AppState) -> Response {
    shared.reset();
    ok()
}

/// `PUT /emulator/users/{nin}`
pub(crate) async fn put_user(
    State(shared): AppState,
    Path(nin): Path<String>,
    body: Bytes,
) -> Response {
    if nin.len() != 11 || !nin.bytes().all(|b| b.is_ascii_digit()) {
        return bad_request("the NIN in the path must be 11 digits");
    }
    let behaviour: BehaviourJson = match parse(&body) {
        Ok(b) => b,
        Err(message) => return bad_request(message),
    };
    lock(&shared.overrides).insert(nin, behaviour.into());
    ok()
}

/// `DELETE /emulator/users/{nin}`: back to the persona or default behaviour.
pub(crate) async fn delete_user(State(shared): AppState, Path(nin): Path<String>) -> Response {
    lock(&shared.overrides).remove(&nin);
    ok()
}

/// `POST /emulator/faults`
pub(crate) async fn inject(State(shared): AppState, body: Bytes) -> Response {
    let request: InjectJson = match parse(&body) {
        Ok(r) => r,
        Err(message) => return bad_request(message),
    };
    let endpoint = match parse_endpoint(request.endpoint.as_deref().unwrap_or("any")) {
        Ok(e) => e,
        Err(message) => return bad_request(message),
    };
    let times = request.times.unwrap_or(1);
    if times == 0 {
        return bad_request("times must be at least 1");
    }
    lock(&shared.faults).inject(endpoint, request.fault.into(), times);
    ok()
}

/// `PUT /emulator/fault-rate`
pub(crate) async fn fault_rate(State(shared): AppState, body: Bytes) -> Response {
    let request: FaultRateJson = match parse(&body) {
        Ok(r) => r,
        Err(message) => return bad_request(message),
    };
    if !(0.0..=1.0).contains(&request.rate) {
        return bad_request("rate must be between 0.0 and 1.0");
    }
    let mut endpoints = Vec::new();
    for name in request.endpoints.unwrap_or_default() {
        match parse_endpoint(&name) {
            Ok(Some(e)) => endpoints.push(e),
            Ok(None) => {}
            Err(message) => return bad_request(message),
        }
    }
    let faults = request
        .faults
        .unwrap_or_default()
        .into_iter()
        .map(Fault::from)
        .collect();
    lock(&shared.faults).set_rate(request.rate, faults, endpoints);
    ok()
}

/// `DELETE /emulator/faults`
pub(crate) async fn clear_faults(State(shared): AppState) -> Response {
    lock(&shared.faults).clear();
    ok()
}

/// `GET /emulator/sessions/{id}`
pub(crate) async fn session(State(shared): AppState, Path(id): Path<String>) -> Response {
    let now = shared.clock.now();
    let view = lock(&shared.sessions).get(&id).map(|s| s.view(now));
    match view {
        Some(view) => json_response(StatusCode::OK, &view),
        None => json_response(
            StatusCode::NOT_FOUND,
            &json!({ "error": format!("no session with id '{id}'") }),
        ),
    }
}

fn config_json(shared: &Shared) -> Value {
    let settings = shared.settings();
    json!({
        "clientId": shared.config.client_id,
        "accountId": shared.config.account_id,
        "tokenLifetimeSecs": settings.token_lifetime.as_secs(),
        "minSessionLifetimeSecs": settings.min_session_lifetime.as_secs(),
        "defaultSessionLifetimeSecs": settings.default_session_lifetime.as_secs(),
        "defaultBehaviour": behaviour_to_json(&settings.default_behaviour),
    })
}

/// `GET /emulator/config`
pub(crate) async fn get_config(State(shared): AppState) -> Response {
    json_response(StatusCode::OK, &config_json(&shared))
}

/// `PUT /emulator/config`: change lifetimes and the default behaviour; answers the new settings.
pub(crate) async fn put_config(State(shared): AppState, body: Bytes) -> Response {
    let request: ConfigJson = match parse(&body) {
        Ok(r) => r,
        Err(message) => return bad_request(message),
    };
    if request.token_lifetime_secs == Some(0) {
        return bad_request("tokenLifetimeSecs must be at least 1");
    }
    {
        let mut settings = lock(&shared.settings);
        if let Some(secs) = request.token_lifetime_secs {
            settings.token_lifetime = Duration::from_secs(secs);
        }
        if let Some(secs) = request.min_session_lifetime_secs {
            settings.min_session_lifetime = Duration::from_secs(secs);
        }
        if let Some(secs) = request.default_session_lifetime_secs {
            settings.default_session_lifetime = Duration::from_secs(secs);
        }
        if let Some(b) = request.default_behaviour {
            settings.default_behaviour = b.into();
        }
    }
    json_response(StatusCode::OK, &config_json(&shared))
}

/// Unknown admin paths.
pub(crate) async fn not_found() -> Response {
    json_response(
        StatusCode::NOT_FOUND,
        &json!({ "error": "no such admin endpoint" }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_behaviours_and_faults() {
        let b: BehaviourJson =
            serde_json::from_str(r#"{"behaviour":"approve","afterMs":500}"#).unwrap();
        assert_eq!(
            Behaviour::from(b),
            Behaviour::Approve {
                after: Duration::from_millis(500)
            }
        );
        let b: BehaviourJson =
            serde_json::from_str(r#"{"behaviour":"decline-aborted","afterMs":20}"#).unwrap();
        assert_eq!(
            Behaviour::from(b),
            Behaviour::DeclineAborted {
                after: Duration::from_millis(20)
            }
        );
        let b: BehaviourJson = serde_json::from_str(r#"{"behaviour":"no-app"}"#).unwrap();
        assert_eq!(Behaviour::from(b), Behaviour::NoApp);
        let b: BehaviourJson =
            serde_json::from_str(r#"{"behaviour":"fail","afterMs":10,"code":"x"}"#).unwrap();
        assert_eq!(
            Behaviour::from(b),
            Behaviour::Fail {
                after: Duration::from_millis(10),
                code: "x".into()
            }
        );
        assert!(
            serde_json::from_str::<BehaviourJson>(r#"{"behaviour":"approve","after":5}"#).is_err()
        );
        assert!(
            serde_json::from_str::<BehaviourJson>(r#"{"behaviour":"never-answer","x":1}"#).is_err()
        );
        assert!(serde_json::from_str::<BehaviourJson>(r#"{"behaviour":"maybe"}"#).is_err());
        let f: FaultJson =
            serde_json::from_str(r#"{"kind":"too-many-requests","retryAfterSecs":2}"#).unwrap();
        assert_eq!(
            Fault::from(f),
            Fault::TooManyRequests {
                retry_after: Duration::from_secs(2)
            }
        );
        let f: FaultJson = serde_json::from_str(r#"{"kind":"slow","delayMs":50}"#).unwrap();
        assert_eq!(
            Fault::from(f),
            Fault::Slow {
                delay: Duration::from_millis(50)
            }
        );
        let f: FaultJson = serde_json::from_str(r#"{"kind":"unavailable"}"#).unwrap();
        assert_eq!(Fault::from(f), Fault::Unavailable { retry_after: None });
    }
}
