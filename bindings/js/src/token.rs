//! The page's `tokenProvider()` as a core [`TokenProvider`]: a browser never holds a client
//! secret, so the token comes from the integrator's backend.

use std::time::Duration;

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use safeconv::{AccessToken, BoxFuture, Error, Result, TokenProvider, redact_nins};

/// Calls a JavaScript function that returns (a promise of) a token string or
/// `{ accessToken, expiresIn }` (seconds).
pub(crate) struct JsTokenProvider {
    provider: Function,
}

impl JsTokenProvider {
    pub(crate) fn new(provider: Function) -> Self {
        JsTokenProvider { provider }
    }

    async fn fetch(&self) -> Result<AccessToken> {
        let returned = self
            .provider
            .call0(&JsValue::UNDEFINED)
            .map_err(|e| provider_failed("threw", &e))?;
        let resolved = JsFuture::from(Promise::resolve(&returned))
            .await
            .map_err(|e| provider_failed("rejected", &e))?;
        access_token(&resolved)
    }
}

impl TokenProvider for JsTokenProvider {
    fn access_token(&self) -> BoxFuture<'_, Result<AccessToken>> {
        Box::pin(self.fetch())
    }
}

fn access_token(value: &JsValue) -> Result<AccessToken> {
    if let Some(token) = value.as_string() {
        return non_empty(token).map(AccessToken::new);
    }
    if !value.is_object() {
        return Err(bad_result(
            "must resolve to a string or { accessToken, expiresIn }",
        ));
    }
    let field =
        |name: &str| Reflect::get(value, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED);
    let token = field("accessToken")
        .as_string()
        .ok_or_else(|| bad_result("accessToken must be a string"))?;
    let token = AccessToken::new(non_empty(token)?);
    let expires_in = field("expiresIn");
    if expires_in.is_undefined() || expires_in.is_null() {
        return Ok(token);
    }
    match expires_in.as_f64() {
        Some(seconds) if seconds.is_finite() && seconds >= 0.0 => {
            Ok(token.expires_in(Duration::from_millis((seconds * 1000.0) as u64)))
        }
        _ => Err(bad_result("expiresIn must be a number of seconds")),
    }
}

fn non_empty(token: String) -> Result<String> {
    if token.is_empty() {
        Err(bad_result("the access token is empty"))
    } else {
        Ok(token)
    }
}

fn bad_result(why: &str) -> Error {
    Error::Authentication {
        error: "invalid_token_provider_result".to_owned(),
        description: Some(format!("tokenProvider() {why}")),
        http_status: None,
    }
}

/// The provider threw or rejected: keep its message (NINs masked), so the page's own error shows.
fn provider_failed(how: &str, thrown: &JsValue) -> Error {
    let message = thrown
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| thrown.as_string())
        .unwrap_or_else(|| "no message".to_owned());
    Error::Authentication {
        error: "token_provider_failed".to_owned(),
        description: Some(format!("tokenProvider() {how}: {}", redact_nins(&message))),
        http_status: None,
    }
}
