//! Entry points for the fuzz targets in `fuzz/` (feature `fuzzing`). Not a public API: they
//! reach the crate-private parsers exactly as the client uses them.

use std::time::Duration;

use crate::error::{ApiError, Result};
use crate::session::Session;
use crate::transport::{Response, api_error, parse_json, parse_retry_after};

/// Reads an error answer (status, `Retry-After` header, body) as the client does, with the
/// clock reading `now_unix_ms`.
pub fn error_response(
    http_status: u16,
    retry_after: Option<&str>,
    body: &[u8],
    now_unix_ms: i64,
) -> ApiError {
    api_error(&Response {
        status: http_status,
        retry_after: retry_after.and_then(|value| parse_retry_after(value, now_unix_ms)),
        body: bytes::Bytes::copy_from_slice(body),
    })
}

/// Reads a session body as the client does (create, get and cancel answers).
pub fn session_body(body: &[u8]) -> Result<Session> {
    parse_json(body, "session")
}

/// Reads a `Retry-After` header value (seconds or an HTTP-date, against `now_unix_ms`).
pub fn retry_after(value: &str, now_unix_ms: i64) -> Option<Duration> {
    parse_retry_after(value, now_unix_ms)
}

/// Masks NIN-shaped runs of digits in free text from a server.
pub fn redact_nins(text: &str) -> String {
    crate::secret::redact_nins(text)
}
