//! Exit codes: part of the command-line contract.

use safeconv::{Error, Status};

pub const SUCCESS: i32 = 0;
pub const INVALID_INPUT: i32 = 2;
pub const ABORT: i32 = 3;
pub const CANCELLED: i32 = 4;
pub const EXPIRED: i32 = 5;
pub const FAILED: i32 = 6;
pub const AUTHENTICATION: i32 = 7;
pub const TRANSPORT: i32 = 8;

/// The exit code for a final status.
pub fn for_status(status: &Status) -> i32 {
    match status {
        Status::Success => SUCCESS,
        Status::Abort => ABORT,
        Status::Cancelled => CANCELLED,
        Status::Expired => EXPIRED,
        _ => FAILED,
    }
}

/// The exit code for an error: refused input (ours or the API's 4xx) is 2, refused
/// credentials (401/403) are 7, everything that kept us from an answer is 8.
pub fn for_error(error: &Error) -> i32 {
    match error {
        Error::InvalidInput { .. } | Error::InvalidNin(_) => INVALID_INPUT,
        Error::Authentication { .. } => AUTHENTICATION,
        Error::Api(api) => match api.http_status {
            401 | 403 => AUTHENTICATION,
            400..=499 if api.http_status != 408 && api.http_status != 429 => INVALID_INPUT,
            _ => TRANSPORT,
        },
        _ => TRANSPORT,
    }
}
