//! `SafeconvClient`: the core client, built from the page's options and `tokenProvider`.

use std::sync::Arc;

use js_sys::Promise;
use safeconv::{Client, Error};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::abort::Abort;
use crate::session::JsSession;
use crate::token::JsTokenProvider;
use crate::{convert, install_panic_hook, options, thrown};

/// What a client and its sessions share: the core client, and the page's token provider (which
/// knows the `cause` of a failed token fetch).
#[derive(Clone)]
pub(crate) struct Bridge {
    pub(crate) client: Client,
    provider: Arc<JsTokenProvider>,
}

impl Bridge {
    /// A core error as a `SafeconvError`.
    pub(crate) fn error(&self, error: &Error) -> JsValue {
        convert::error(error, &self.provider.cause_of(&error.report()))
    }

    /// Why `call` failed: aborted (or timed out) when its signal stopped it, then `then` says
    /// what became of the session; otherwise the core's error.
    pub(crate) fn rejection(
        &self,
        error: &Error,
        abort: &Abort,
        call: &str,
        then: &str,
    ) -> JsValue {
        match (error, abort.reason()) {
            (Error::Cancelled { .. }, Some(reason)) => convert::aborted(call, then, &reason),
            _ => self.error(error),
        }
    }
}

/// A Signicat Authentication API client for the browser. Tokens come from the page's
/// `tokenProvider()`; no client secret is ever held here.
#[wasm_bindgen(js_name = SafeconvClient)]
pub struct JsClient {
    bridge: Bridge,
}

#[wasm_bindgen(js_class = SafeconvClient)]
impl JsClient {
    /// `new SafeconvClient({ baseUrl, accountId, tokenProvider, pollIntervalMs, requestTimeoutMs,
    /// allowSyntheticNin })`. Throws a `SafeconvError` (`invalid-input`) for a bad option.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<JsClient, JsValue> {
        install_panic_hook();
        let (options, provider) = options::client(&options).map_err(thrown)?;
        // `TokenProvider` has no `Send`/`Sync` bound on wasm32, which is single-threaded here.
        #[allow(clippy::arc_with_non_send_sync)]
        let provider = Arc::new(JsTokenProvider::new(provider));
        let client = options.build(Some(provider.clone())).map_err(thrown)?;
        Ok(JsClient {
            bridge: Bridge { client, provider },
        })
    }

    /// Starts a Safe Conversation; resolves to a [`JsSession`] with the binding message.
    /// Aborting `signal` stops the start, and leaves no session running at Signicat.
    #[wasm_bindgen(js_name = startSafeConversation)]
    pub fn start_safe_conversation(&self, options: JsValue) -> Promise {
        let bridge = self.bridge.clone();
        let parsed = options::start(&options, bridge.client.config().nin_rules());
        future_to_promise(async move {
            let (nin, start, signal) = parsed.map_err(thrown)?;
            let conversation = bridge.client.conversation(&nin, &start).map_err(thrown)?;
            let abort = Abort::new(signal);
            let started = bridge
                .client
                .start_safe_conversation_with(&conversation, abort.token())
                .await;
            match started {
                Ok(session) => Ok(JsSession::new(bridge, session).into()),
                Err(e) => Err(bridge.rejection(
                    &e,
                    &abort,
                    "startSafeConversation()",
                    "no session is left running at Signicat",
                )),
            }
        })
    }

    /// Reads a session by id; resolves to a [`JsSession`] that can be waited for (to resume
    /// after a page reload) or cancelled.
    #[wasm_bindgen(js_name = getSession)]
    pub fn get_session(&self, id: JsValue, options: JsValue) -> Promise {
        let bridge = self.bridge.clone();
        let signal = options::signal_only(&options, "getSession()");
        future_to_promise(async move {
            let id = id
                .as_string()
                .ok_or_else(|| thrown(Error::invalid_input("id", "must be a string")))?;
            let abort = Abort::new(signal.map_err(thrown)?);
            match abort.race(bridge.client.get_session(&id)).await {
                Ok(session) => Ok(JsSession::new(bridge, session).into()),
                Err(e) => Err(bridge.rejection(&e, &abort, "getSession()", "nothing changed")),
            }
        })
    }
}
