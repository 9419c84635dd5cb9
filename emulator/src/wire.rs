//! The JSON shapes of the Signicat API, exactly as the reference documents them (camelCase,
//! unset fields left out), and the helper that turns one into a response.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde::Serialize;

/// A session object, as returned by create, get and cancel.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SessionObject {
    pub(crate) id: String,
    pub(crate) account_id: String,
    pub(crate) status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) provider: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) subject: Option<Subject>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<ErrorObject>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) loa: Option<&'static str>,
    pub(crate) idp_data: IdpData,
    pub(crate) allowed_providers: Vec<String>,
    pub(crate) flow: String,
    pub(crate) requested_attributes: Vec<String>,
    pub(crate) prefilled_input: serde_json::Map<String, serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) external_reference: Option<String>,
    pub(crate) session_lifetime: u64,
    pub(crate) expires_at: String,
    pub(crate) environment: Environment,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tags: Option<Vec<String>>,
    /// A field no client knows: proves that clients ignore unknown fields.
    pub(crate) emulator: EmulatorInfo,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct IdpData {
    pub(crate) binding_message: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Environment {
    pub(crate) ip_address: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) user_agent: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct EmulatorInfo {
    pub(crate) version: u32,
}

/// The authenticated person, on `SUCCESS`. Only requested attributes are present, except
/// `id` and `idpId` (always) and one flattened provider attribute.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Subject {
    pub(crate) id: String,
    pub(crate) idp_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) last_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) date_of_birth: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) nin: Option<Nin>,
    pub(crate) nbid_serial_number: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Nin {
    pub(crate) value: String,
    pub(crate) issuing_country: &'static str,
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
}

/// The `error` of a session in status `ERROR`.
#[derive(Debug, Serialize)]
pub(crate) struct ErrorObject {
    pub(crate) code: String,
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) title: String,
    pub(crate) detail: String,
}

/// Signicat's generic error body (every non-token error).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ErrorBody {
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) title: String,
    pub(crate) code: String,
    pub(crate) status: u16,
    pub(crate) trace_id: String,
    pub(crate) detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) invalid_params: Vec<InvalidParam>,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct InvalidParam {
    pub(crate) name: String,
    pub(crate) reason: String,
}

impl InvalidParam {
    pub(crate) fn new(name: &str, reason: impl Into<String>) -> Self {
        InvalidParam {
            name: name.to_owned(),
            reason: reason.into(),
        }
    }
}

/// The token endpoint's success body.
#[derive(Debug, Serialize)]
pub(crate) struct TokenResponse {
    pub(crate) access_token: String,
    pub(crate) expires_in: u64,
    pub(crate) token_type: &'static str,
    pub(crate) scope: &'static str,
}

/// The token endpoint's OAuth-style error body.
#[derive(Debug, Serialize)]
pub(crate) struct OAuthError {
    pub(crate) error: &'static str,
    pub(crate) error_description: String,
}

/// `value` as a JSON response with `Content-Type: application/json`.
pub(crate) fn json_response<T: Serialize>(status: StatusCode, value: &T) -> Response {
    let body = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
