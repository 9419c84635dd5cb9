//! The JavaScript API of safeconv (wasm-bindgen): `SafeconvClient`, `Session`, `checkNin`,
//! `setLogger`, `version` and `SafeconvError`. A thin bridge over the core's public API: it
//! reads JavaScript options into the core's records, turns `AbortSignal`s into cancel tokens,
//! and writes core results back as plain objects; tokens, polling, cancelling and every rule
//! are the core's.
//!
//! The TypeScript declarations are written by hand in `index.d.ts`; `index.js` loads the module.

#[cfg(not(all(target_arch = "wasm32", not(target_feature = "atomics"))))]
compile_error!(
    "safeconv-js is built for wasm32-unknown-unknown without threads (scripts/build-js.sh): \
     its JavaScript values are used as if Send + Sync"
);

use safeconv::{Error, Nin};
use wasm_bindgen::prelude::*;

mod abort;
mod client;
mod convert;
mod log;
mod options;
mod session;
mod token;

pub use client::JsClient;
pub use session::JsSession;

fn install_panic_hook() {
    console_error_panic_hook::set_once();
}

/// A core error thrown from a synchronous call (there is no token provider to ask for a cause).
fn thrown(error: Error) -> JsValue {
    convert::error(&error, &JsValue::UNDEFINED)
}

/// `checkNin(nin, { allowSynthetic, allowInvalidCheckDigits })`: validates a national identity
/// number without sending it anywhere, e.g. while the agent types it.
#[wasm_bindgen(js_name = checkNin)]
pub fn check_nin(nin: JsValue, rules: JsValue) -> Result<JsValue, JsValue> {
    install_panic_hook();
    let nin = nin
        .as_string()
        .ok_or_else(|| thrown(Error::invalid_input("nin", "must be a string")))?;
    let rules = options::nin_rules(&rules).map_err(thrown)?;
    Ok(convert::nin_check(Nin::parse_with(&nin, rules)))
}

/// `setLogger(logger, { level })`: the SDK's log records (retries, token renewals, cancels; NINs
/// masked) go to `logger`, a function or a console-like object, from `level` up (default
/// `info`). One logger for the whole module; `setLogger(null)` stops logging.
#[wasm_bindgen(js_name = setLogger)]
pub fn set_logger(logger: JsValue, options: JsValue) -> Result<(), JsValue> {
    install_panic_hook();
    log::set(&logger, &options).map_err(thrown)
}

/// The SDK's version, the one in its Cargo.toml and the npm package's `package.json`.
#[wasm_bindgen(js_name = version)]
pub fn version() -> String {
    safeconv::VERSION.to_owned()
}
