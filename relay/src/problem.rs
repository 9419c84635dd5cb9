//! Error answers in Signicat's own shape (`{type, title, code, status, traceId, detail,
//! invalidParams}`), so that every safeconv client reads a relay refusal like a Signicat one.

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

tokio::task_local! {
    /// The trace id of the request being served (set by the tracing layer in `http`).
    pub(crate) static TRACE_ID: String;
}

/// A refusal or failure, as the agent's client sees it.
///
/// ```
/// use axum::response::IntoResponse;
/// let problem = safeconv_relay::Problem::bad_request("requestedAttributes", "\"email\" is not allowed");
/// assert_eq!(problem.status().as_u16(), 400);
/// assert_eq!(problem.code(), "invalid_request_parameter");
/// let _response = problem.into_response();
/// ```
#[derive(Clone, Debug)]
pub struct Problem(Box<Fields>);

// Boxed: a `Result<_, Problem>` stays small on the happy path.
#[derive(Clone, Debug)]
struct Fields {
    status: StatusCode,
    code: String,
    title: String,
    detail: Option<String>,
    invalid_params: Vec<(String, String)>,
    retry_after: Option<Duration>,
    trace_id: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Body<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    code: &'a str,
    status: u16,
    trace_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    invalid_params: Vec<InvalidParam<'a>>,
}

#[derive(Serialize)]
struct InvalidParam<'a> {
    name: &'a str,
    reason: &'a str,
}

impl Problem {
    /// A problem with this HTTP status, Signicat-style `code` and `title`.
    pub fn new(status: StatusCode, code: impl Into<String>, title: impl Into<String>) -> Self {
        Problem(Box::new(Fields {
            status,
            code: code.into(),
            title: title.into(),
            detail: None,
            invalid_params: Vec::new(),
            retry_after: None,
            trace_id: None,
        }))
    }

    /// 400 `invalid_request_parameter`, naming the refused field.
    pub fn bad_request(field: &str, reason: impl Into<String>) -> Self {
        let reason = reason.into();
        Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid_request_parameter",
            "Invalid request parameter",
        )
        .detail(format!("{field}: {reason}"))
        .invalid_param(field, reason)
    }

    /// 401 `invalid_token`: no usable agent credential.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "Invalid or missing agent credential",
        )
        .detail(detail)
    }

    /// 404 `session_not_found` (also for sessions of other agents: existence is not leaked).
    pub fn session_not_found() -> Self {
        Problem::new(
            StatusCode::NOT_FOUND,
            "session_not_found",
            "Session not found",
        )
        .detail("no session with this id was created by this agent")
    }

    /// 503 `service_unavailable`: the relay's database cannot be used now.
    pub fn store_unavailable() -> Self {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "service_unavailable",
            "Service unavailable",
        )
        .detail("the relay cannot record the request now; nothing was sent to Signicat")
        .retry_after(Duration::from_secs(2))
    }

    /// Adds a human-readable detail (never a NIN, secret or token).
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.0.detail = Some(detail.into());
        self
    }

    /// Adds an entry to `invalidParams`.
    pub fn invalid_param(mut self, name: &str, reason: impl Into<String>) -> Self {
        self.0.invalid_params.push((name.to_owned(), reason.into()));
        self
    }

    /// Sets `Retry-After` (whole seconds, rounded up).
    pub fn retry_after(mut self, after: Duration) -> Self {
        self.0.retry_after = Some(after);
        self
    }

    /// Keeps Signicat's own `traceId` (for errors passed through from upstream).
    pub(crate) fn upstream_trace_id(mut self, trace_id: Option<String>) -> Self {
        self.0.trace_id = trace_id;
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    /// The Signicat-style code, e.g. `invalid_request_parameter`.
    pub fn code(&self) -> &str {
        &self.0.code
    }
}

/// The trace id of the request being served, or a fresh one outside a request.
pub(crate) fn current_trace_id() -> String {
    TRACE_ID
        .try_with(Clone::clone)
        .unwrap_or_else(|_| new_trace_id())
}

/// 32 hex digits, like Signicat's.
pub(crate) fn new_trace_id() -> String {
    crate::keys::random_hex(16)
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let this = *self.0;
        let trace_id = this.trace_id.clone().unwrap_or_else(current_trace_id);
        let body = Body {
            kind: format!("https://api.signicat.com/errors/{}", this.code),
            title: &this.title,
            code: &this.code,
            status: this.status.as_u16(),
            trace_id: &trace_id,
            detail: this.detail.as_deref(),
            invalid_params: this
                .invalid_params
                .iter()
                .map(|(name, reason)| InvalidParam { name, reason })
                .collect(),
        };
        let json = serde_json::to_vec(&body).unwrap_or_default();
        let mut response = (this.status, json).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Some(after) = this.retry_after {
            let seconds = after.as_secs() + u64::from(after.subsec_nanos() > 0);
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
        }
        if this.status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer error=\"invalid_token\""),
            );
        }
        response
    }
}
