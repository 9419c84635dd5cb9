//! `Session`: one Safe Conversation as the page sees it, kept up to date by its waits.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::Promise;
use safeconv::{Error, Outcome, Session, WaitOptions};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::abort::{Abort, AbortSignal};
use crate::client::Bridge;
use crate::{convert, options, thrown};

/// A Safe Conversation session: read `bindingMessage` to the caller, then `wait()`.
#[wasm_bindgen(js_name = Session)]
pub struct JsSession {
    bridge: Bridge,
    seen: Rc<RefCell<Seen>>,
}

/// The last state seen, and the binding message, which the last answers no longer carry.
struct Seen {
    session: Session,
    binding_message: Option<String>,
}

impl Seen {
    fn update(&mut self, session: &Session) {
        if let Some(message) = session.binding_message() {
            self.binding_message = Some(message.to_owned());
        }
        self.session = session.clone();
    }

    fn state(&self) -> JsValue {
        convert::session_state(&self.session, self.binding_message.as_deref())
    }
}

impl JsSession {
    pub(crate) fn new(bridge: Bridge, session: Session) -> Self {
        let binding_message = session.binding_message().map(str::to_owned);
        JsSession {
            bridge,
            seen: Rc::new(RefCell::new(Seen {
                session,
                binding_message,
            })),
        }
    }
}

#[wasm_bindgen(js_class = Session)]
impl JsSession {
    /// The session id (quote it to support; `client.getSession(id)` picks the session up again).
    #[wasm_bindgen(getter)]
    pub fn id(&self) -> String {
        self.seen.borrow().session.id.clone()
    }

    /// The words the agent reads to the caller, who confirms the same words in the BankID app;
    /// still there after the session ended.
    #[wasm_bindgen(getter, js_name = bindingMessage)]
    pub fn binding_message(&self) -> Option<String> {
        self.seen.borrow().binding_message.clone()
    }

    /// When the session expires, as a `Date`.
    #[wasm_bindgen(getter, js_name = expiresAt)]
    pub fn expires_at(&self) -> JsValue {
        match self.seen.borrow().session.expires_at {
            Some(at) => convert::date(at.unix_millis()),
            None => JsValue::UNDEFINED,
        }
    }

    /// The last status seen, e.g. `WAITING_FOR_USER`.
    #[wasm_bindgen(getter)]
    pub fn status(&self) -> String {
        self.seen.borrow().session.status.as_str().to_owned()
    }

    /// Everything last seen of the session, as a plain object.
    #[wasm_bindgen(getter)]
    pub fn state(&self) -> JsValue {
        self.seen.borrow().state()
    }

    /// `JSON.stringify(session)` gives the state.
    #[wasm_bindgen(js_name = toJSON)]
    pub fn to_json(&self) -> JsValue {
        self.state()
    }

    /// Polls until the session ends; resolves to the outcome. `onStatus(state)` is called on each
    /// change. Aborting `signal` (or `timeoutMs` passing) cancels the session at Signicat and
    /// rejects with an `AbortError` (a `TimeoutError`), unless the session had ended otherwise
    /// first: then it resolves to that outcome.
    pub fn wait(&self, options: JsValue) -> Promise {
        let bridge = self.bridge.clone();
        let seen = self.seen.clone();
        let parsed = options::wait(&options);
        future_to_promise(async move {
            let wait = parsed.map_err(thrown)?;
            let timeout = wait
                .timeout
                .map(|timeout| AbortSignal::after(timeout.as_millis() as f64));
            let abort = Abort::new(wait.signal.into_iter().chain(timeout));
            let listener = wait.on_status;
            let updated = seen.clone();
            let options = WaitOptions::new()
                .cancel_token(abort.token().clone())
                .on_status(move |session: &Session| {
                    let state = {
                        let mut seen = updated.borrow_mut();
                        seen.update(session);
                        seen.state()
                    };
                    if let Some(listener) = &listener
                        && let Err(thrown) = listener.call1(&JsValue::UNDEFINED, &state)
                    {
                        convert::report_to_console(
                            "safeconv: onStatus threw; the wait goes on:",
                            &thrown,
                        );
                    }
                });
            let session = seen.borrow().session.clone();
            match (bridge.client.wait(&session, options).await, abort.reason()) {
                (Ok(Outcome::Cancelled), Some(reason)) => Err(convert::aborted(
                    "wait()",
                    "the session is cancelled at Signicat",
                    &reason,
                )),
                (Ok(outcome), _) => Ok(convert::outcome(&outcome)),
                (Err(e), _) => Err(bridge.error(&e)),
            }
        })
    }

    /// Cancels the session at Signicat; resolves to how it ended (`cancelled`, or `success` if
    /// the caller confirmed first). Every `wait()` on the session stops and resolves to the same.
    pub fn cancel(&self, options: JsValue) -> Promise {
        let bridge = self.bridge.clone();
        let seen = self.seen.clone();
        let signal = options::signal_only(&options, "cancel()");
        future_to_promise(async move {
            let abort = Abort::new(signal.map_err(thrown)?);
            let id = seen.borrow().session.id.clone();
            let ended = match abort.race(bridge.client.cancel_session(&id)).await {
                Ok(ended) => ended,
                Err(e) => {
                    let then = "the cancel may still reach Signicat";
                    return Err(bridge.rejection(&e, &abort, "cancel()", then));
                }
            };
            seen.borrow_mut().update(&ended);
            match ended.outcome() {
                Some(outcome) => Ok(convert::outcome(&outcome)),
                None => Err(bridge.error(&Error::protocol(format!(
                    "session {} is still {} after it was cancelled",
                    ended.id, ended.status
                )))),
            }
        })
    }
}
