//! The page's `tokenProvider({ signal })` as a core [`TokenProvider`]: a browser never holds a
//! client secret, so the token comes from the integrator's backend.

use std::cell::RefCell;
use std::time::Duration;

use js_sys::{Function, Object, Promise, Reflect};
use safeconv::{
    AccessToken, BoxFuture, Error, ErrorReport, Result, TOKEN_PROVIDER_FAILED, TokenProvider,
};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::abort::AbortController;

/// Calls a JavaScript function with `{ signal }` that returns (a promise of) a token string or
/// `{ accessToken, expiresIn }` (seconds). The signal aborts when the core gives the fetch up
/// (the operation that needed the token was aborted).
pub(crate) struct JsTokenProvider {
    provider: Function,
    /// What the provider threw last, by the failure's description: the `cause` of the error.
    last_failure: RefCell<Option<(String, JsValue)>>,
}

/// Aborts the provider's signal if the fetch is dropped before it finished.
struct AbortUnlessDone(Option<AbortController>);

impl Drop for AbortUnlessDone {
    fn drop(&mut self) {
        if let Some(controller) = self.0.take() {
            controller.abort();
        }
    }
}

impl JsTokenProvider {
    pub(crate) fn new(provider: Function) -> Self {
        JsTokenProvider {
            provider,
            last_failure: RefCell::new(None),
        }
    }

    async fn fetch(&self) -> Result<AccessToken> {
        let controller = AbortController::new();
        let context = Object::new();
        let _ = Reflect::set(&context, &"signal".into(), &controller.signal());
        let mut abort = AbortUnlessDone(Some(controller));
        let returned = self
            .provider
            .call1(&JsValue::UNDEFINED, &context)
            .map_err(|e| self.failed("threw", e))?;
        let resolved = JsFuture::from(Promise::resolve(&returned)).await;
        abort.0 = None;
        access_token(&resolved.map_err(|e| self.failed("rejected", e))?)
    }

    /// The provider threw or rejected: keep its message (the core masks NINs) and what it threw.
    fn failed(&self, how: &str, thrown: JsValue) -> Error {
        let message = thrown
            .dyn_ref::<js_sys::Error>()
            .map(|e| String::from(e.message()))
            .or_else(|| thrown.as_string())
            .unwrap_or_else(|| "no message".to_owned());
        let error = Error::token_provider_failed(format!("tokenProvider() {how}: {message}"));
        if let Some(detail) = error.report().detail {
            *self.last_failure.borrow_mut() = Some((detail, thrown));
        }
        error
    }

    /// What the provider threw for the failure `report` describes, if it is that failure.
    pub(crate) fn cause_of(&self, report: &ErrorReport) -> JsValue {
        let mut last = self.last_failure.borrow_mut();
        match (&*last, report.code.as_deref(), &report.detail) {
            (Some((detail, _)), Some(TOKEN_PROVIDER_FAILED), Some(reported))
                if detail == reported =>
            {
                last.take()
                    .map(|(_, thrown)| thrown)
                    .unwrap_or(JsValue::UNDEFINED)
            }
            _ => JsValue::UNDEFINED,
        }
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
