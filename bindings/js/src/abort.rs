//! JavaScript's way of stopping a call (`AbortSignal`) as the core's (`CancelToken`, or a
//! dropped future), and the rejection a web developer expects when a call was aborted.

use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;

use js_sys::Reflect;
use safeconv::{CancelToken, Result};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// The DOM's (and Node's) `AbortSignal`; recognised by its shape, so that a signal from
    /// another realm (an iframe) or a polyfill works too.
    #[wasm_bindgen(is_type_of = is_abort_signal)]
    pub(crate) type AbortSignal;
    #[wasm_bindgen(method, getter)]
    fn aborted(this: &AbortSignal) -> bool;
    #[wasm_bindgen(method, getter)]
    fn reason(this: &AbortSignal) -> JsValue;
    #[wasm_bindgen(method, js_name = addEventListener)]
    fn add_event_listener(this: &AbortSignal, kind: &str, listener: &JsValue);
    #[wasm_bindgen(method, js_name = removeEventListener)]
    fn remove_event_listener(this: &AbortSignal, kind: &str, listener: &JsValue);
    /// `AbortSignal.timeout(ms)`: aborts with a `TimeoutError` `DOMException`.
    #[wasm_bindgen(static_method_of = AbortSignal, js_name = timeout)]
    pub(crate) fn after(millis: f64) -> AbortSignal;

    /// What hands a `tokenProvider` call its signal.
    pub(crate) type AbortController;
    #[wasm_bindgen(constructor)]
    pub(crate) fn new() -> AbortController;
    #[wasm_bindgen(method, getter)]
    pub(crate) fn signal(this: &AbortController) -> AbortSignal;
    #[wasm_bindgen(method)]
    pub(crate) fn abort(this: &AbortController);
}

fn is_abort_signal(value: &JsValue) -> bool {
    let has = |name: &str| Reflect::has(value, &JsValue::from_str(name)).unwrap_or(false);
    value.is_object() && has("aborted") && has("addEventListener") && has("removeEventListener")
}

/// The signals that stop one call (the caller's, and `timeoutMs` as `AbortSignal.timeout()`),
/// tied to one core [`CancelToken`]. Stops listening when dropped.
pub(crate) struct Abort {
    token: CancelToken,
    listening: Vec<(AbortSignal, Closure<dyn FnMut()>)>,
    /// The signal that aborted first, by its index in `listening`.
    first: Rc<Cell<Option<usize>>>,
}

impl Abort {
    pub(crate) fn new(signals: impl IntoIterator<Item = AbortSignal>) -> Abort {
        let token = CancelToken::new();
        let first = Rc::new(Cell::new(None));
        let mut listening = Vec::new();
        for (index, signal) in signals.into_iter().enumerate() {
            let fired = {
                let (token, first) = (token.clone(), first.clone());
                move || {
                    if first.get().is_none() {
                        first.set(Some(index));
                    }
                    token.cancel();
                }
            };
            if signal.aborted() {
                fired();
            }
            let listener = Closure::<dyn FnMut()>::new(fired);
            signal.add_event_listener("abort", listener.as_ref());
            listening.push((signal, listener));
        }
        Abort {
            token,
            listening,
            first,
        }
    }

    /// The token the core watches.
    pub(crate) fn token(&self) -> &CancelToken {
        &self.token
    }

    /// The reason of the signal that aborted first, if one did.
    pub(crate) fn reason(&self) -> Option<JsValue> {
        let (signal, _) = self.listening.get(self.first.get()?)?;
        Some(signal.reason())
    }

    /// Runs `call` (a read, safe to drop half way) unless a signal aborts first.
    pub(crate) async fn race<T>(&self, call: impl Future<Output = Result<T>>) -> Result<T> {
        self.token.run_until_cancelled(call).await
    }
}

impl Drop for Abort {
    fn drop(&mut self) {
        for (signal, listener) in &self.listening {
            signal.remove_event_listener("abort", listener.as_ref());
        }
    }
}

/// Whether an abort reason says the time ran out (`AbortSignal.timeout()` aborts with a
/// `DOMException` named `TimeoutError`).
pub(crate) fn is_timeout(reason: &JsValue) -> bool {
    reason.is_object()
        && Reflect::get(reason, &JsValue::from_str("name"))
            .ok()
            .and_then(|name| name.as_string())
            .is_some_and(|name| name == "TimeoutError")
}
