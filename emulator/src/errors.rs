//! Error responses: Signicat's generic error body, and the token endpoint's OAuth errors.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

use crate::counters::bump;
use crate::state::Shared;
use crate::wire::{ErrorBody, InvalidParam, OAuthError, json_response};

fn title_for(code: &str) -> String {
    match code {
        "internal_server_error" => "Internal server error".to_owned(),
        "service_unavailable" => "Service unavailable".to_owned(),
        "too_many_requests" => "Too many requests".to_owned(),
        "invalid_token" => "Invalid or missing access token".to_owned(),
        "invalid_request_parameter" => "Invalid request parameter".to_owned(),
        "invalid_request" => "Invalid request".to_owned(),
        "forbidden" => "Forbidden".to_owned(),
        "session_not_found" => "Session not found".to_owned(),
        "session_already_completed" => "Session already completed".to_owned(),
        "not_found" => "Not found".to_owned(),
        "method_not_allowed" => "Method not allowed".to_owned(),
        other => {
            let words = other.replace('_', " ");
            let mut chars = words.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().collect::<String>() + chars.as_str())
                .unwrap_or_default()
        }
    }
}

/// Signicat's generic error body: `{type, title, code, status, traceId, detail, invalidParams?}`.
pub(crate) fn signicat_error(
    shared: &Shared,
    status: StatusCode,
    code: &str,
    detail: impl Into<String>,
    invalid_params: Vec<InvalidParam>,
) -> Response {
    let body = ErrorBody {
        kind: format!("https://api.signicat.com/errors/{code}"),
        title: title_for(code),
        code: code.to_owned(),
        status: status.as_u16(),
        trace_id: shared.trace_id(),
        detail: detail.into(),
        invalid_params,
    };
    json_response(status, &body)
}

/// 401 `invalid_token`, with `WWW-Authenticate: Bearer`; counted in `tokens_rejected`.
pub(crate) fn invalid_token(shared: &Shared, detail: &str) -> Response {
    bump(&shared.counters.tokens_rejected);
    let mut response = signicat_error(
        shared,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
        detail,
        Vec::new(),
    );
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer error=\"invalid_token\""),
    );
    response
}

/// 400 `invalid_request_parameter` listing the offending parameters.
pub(crate) fn invalid_params(shared: &Shared, params: Vec<InvalidParam>) -> Response {
    let detail = format!(
        "Invalid request parameter(s): {}",
        params
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    signicat_error(
        shared,
        StatusCode::BAD_REQUEST,
        "invalid_request_parameter",
        detail,
        params,
    )
}

/// The token endpoint's `{error, error_description}` body, with `Cache-Control: no-store`.
pub(crate) fn oauth_error(
    status: StatusCode,
    error: &'static str,
    description: impl Into<String>,
) -> Response {
    let mut response = json_response(
        status,
        &OAuthError {
            error,
            error_description: description.into(),
        },
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
