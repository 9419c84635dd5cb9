//! The JavaScript API (wasm-bindgen): `SafeconvClient`, `Session`, `checkNin` and
//! `SafeconvError`. A thin bridge: it reads JavaScript options into core types and writes core
//! results back as plain objects; everything else (tokens, polling, cancelling) is the core's.
//!
//! The TypeScript declarations are written by hand in `bindings/js/index.d.ts`.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;

use futures_util::FutureExt;
use futures_util::future::{LocalBoxFuture, Shared};
use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use safeconv::{
    CancelToken, Client, Error, Nin, NinRules, Outcome, SafeConversation, Session, WaitOptions,
};

mod convert;
mod token;

use convert::{Fields, invalid};

fn install_panic_hook() {
    console_error_panic_hook::set_once();
}

/// A Signicat Authentication API client for the browser. Tokens come from the page's
/// `tokenProvider()`; no client secret is ever held here.
#[wasm_bindgen(js_name = SafeconvClient)]
pub struct JsClient {
    client: Client,
}

#[wasm_bindgen(js_class = SafeconvClient)]
impl JsClient {
    /// `new SafeconvClient({ baseUrl, accountId, tokenProvider, pollIntervalMs, requestTimeoutMs,
    /// allowSyntheticNin })`. Throws a `SafeconvError` (`invalid-input`) for a bad option.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<JsClient, JsValue> {
        install_panic_hook();
        client_from_options(&options)
            .map(|client| JsClient { client })
            .map_err(convert::error)
    }

    /// Starts a Safe Conversation; resolves to a [`JsSession`] with the binding message.
    #[wasm_bindgen(js_name = startSafeConversation)]
    pub fn start_safe_conversation(&self, options: JsValue) -> Promise {
        let client = self.client.clone();
        let conversation = conversation_from_options(&options, client.config().nin_rules());
        future_to_promise(async move {
            let conversation = conversation.map_err(convert::error)?;
            let session = client
                .start_safe_conversation(&conversation)
                .await
                .map_err(convert::error)?;
            Ok(JsSession::new(client, session).into())
        })
    }

    /// Reads a session by id; resolves to a [`JsSession`] that can be waited for (to resume
    /// after a page reload) or cancelled.
    #[wasm_bindgen(js_name = getSession)]
    pub fn get_session(&self, id: JsValue) -> Promise {
        let client = self.client.clone();
        future_to_promise(async move {
            let id = id
                .as_string()
                .ok_or_else(|| convert::error(invalid("id", "must be a string")))?;
            let session = client.get_session(&id).await.map_err(convert::error)?;
            Ok(JsSession::new(client, session).into())
        })
    }
}

fn client_from_options(options: &JsValue) -> Result<Client, Error> {
    let fields = Fields::new(options, "options")?;
    if !fields.present() {
        return Err(invalid(
            fields.name(),
            "are required: { accountId, tokenProvider }",
        ));
    }
    let provider = fields.function("tokenProvider")?.ok_or_else(|| {
        invalid(
            "tokenProvider",
            "is required: an async function that returns an access token",
        )
    })?;
    // `TokenProvider` has no `Send`/`Sync` bound on wasm32, and wasm32 here is single-threaded.
    #[allow(clippy::arc_with_non_send_sync)]
    let provider = Arc::new(token::JsTokenProvider::new(provider));
    let mut builder = Client::builder().token_provider(provider);
    if let Some(base_url) = fields.string("baseUrl")? {
        builder = builder.base_url(base_url);
    }
    if let Some(account_id) = fields.string("accountId")? {
        builder = builder.account_id(account_id);
    }
    if let Some(interval) = fields.millis("pollIntervalMs")? {
        builder = builder.poll_interval(interval);
    }
    if let Some(timeout) = fields.millis("requestTimeoutMs")? {
        builder = builder.request_timeout(timeout);
    }
    if let Some(allow) = fields.boolean("allowSyntheticNin")? {
        builder = builder.nin_rules(NinRules::strict().allow_synthetic(allow));
    }
    builder.build()
}

fn conversation_from_options(
    options: &JsValue,
    rules: NinRules,
) -> Result<SafeConversation, Error> {
    if let Some(nin) = options.as_string() {
        // `startSafeConversation("01018010018")` is short for `{ nin }`.
        return Ok(SafeConversation::new(Nin::parse_with(&nin, rules)?));
    }
    let fields = Fields::new(options, "options")?;
    let nin = fields
        .string("nin")?
        .ok_or_else(|| invalid("nin", "is required: the caller's national identity number"))?;
    let rules = match fields.boolean("allowInvalidNin")? {
        Some(allow) => rules.allow_invalid_check_digits(allow),
        None => rules,
    };
    let mut conversation = SafeConversation::new(Nin::parse_with(&nin, rules)?);
    if let Some(attributes) = fields.strings("attributes")? {
        conversation = conversation.attributes(attributes);
    }
    if let Some(language) = fields.string("language")? {
        conversation = conversation.language(language);
    }
    if let Some(reference) = fields.string("externalReference")? {
        conversation = conversation.external_reference(reference);
    }
    if let Some(tags) = fields.strings("tags")? {
        conversation = conversation.tags(tags);
    }
    if let Some(loa) = fields.string("requestedLoa")? {
        conversation = conversation.requested_loa(loa);
    }
    if let Some(seconds) = fields.whole_number("sessionLifetime")? {
        let seconds =
            u32::try_from(seconds).map_err(|_| invalid("sessionLifetime", "is too large"))?;
        conversation = conversation.session_lifetime(seconds);
    }
    Ok(conversation)
}

type WaitResult = Result<Outcome, Error>;

/// A wait in progress, so that `cancel()` can stop it and answer with its outcome.
struct RunningWait {
    id: u64,
    cancel: CancelToken,
    result: Shared<LocalBoxFuture<'static, WaitResult>>,
}

#[derive(Default)]
struct Waits {
    next_id: Cell<u64>,
    running: RefCell<Vec<RunningWait>>,
}

/// A Safe Conversation session: read `bindingMessage` to the caller, then `wait()`.
#[wasm_bindgen(js_name = Session)]
pub struct JsSession {
    client: Client,
    state: Rc<RefCell<Session>>,
    waits: Rc<Waits>,
}

impl JsSession {
    fn new(client: Client, session: Session) -> Self {
        JsSession {
            client,
            state: Rc::new(RefCell::new(session)),
            waits: Rc::default(),
        }
    }
}

#[wasm_bindgen(js_class = Session)]
impl JsSession {
    /// The session id (quote it to support; `client.getSession(id)` picks the session up again).
    #[wasm_bindgen(getter)]
    pub fn id(&self) -> String {
        self.state.borrow().id.clone()
    }

    /// The words the agent reads to the caller, who confirms the same words in the BankID app.
    #[wasm_bindgen(getter, js_name = bindingMessage)]
    pub fn binding_message(&self) -> Option<String> {
        self.state.borrow().binding_message().map(str::to_owned)
    }

    /// When the session expires, as a `Date`.
    #[wasm_bindgen(getter, js_name = expiresAt)]
    pub fn expires_at(&self) -> JsValue {
        match self.state.borrow().expires_at {
            Some(at) => convert::date(at.unix_millis()),
            None => JsValue::UNDEFINED,
        }
    }

    /// The last status seen, e.g. `WAITING_FOR_USER`.
    #[wasm_bindgen(getter)]
    pub fn status(&self) -> String {
        self.state.borrow().status.as_str().to_owned()
    }

    /// Everything last seen of the session, as a plain object.
    #[wasm_bindgen(getter)]
    pub fn state(&self) -> JsValue {
        convert::session_state(&self.state.borrow())
    }

    /// `JSON.stringify(session)` gives the state.
    #[wasm_bindgen(js_name = toJSON)]
    pub fn to_json(&self) -> JsValue {
        self.state()
    }

    /// Polls until the session ends; resolves to the outcome. `onStatus(state)` is called on each
    /// change; aborting `signal` (or passing `timeoutMs`) cancels the session at Signicat, and the
    /// promise then resolves to what really happened (`cancelled`, or `success` if the caller
    /// confirmed first). Rejects only when the outcome could not be learned.
    pub fn wait(&self, options: JsValue) -> Promise {
        let client = self.client.clone();
        let state = self.state.clone();
        let waits = self.waits.clone();
        let options = wait_options(&options, &state);
        future_to_promise(async move {
            let (options, cancel, signal) = options.map_err(convert::error)?;
            let _abort = signal.map(|signal| AbortLink::new(signal, cancel.clone()));
            let session = state.borrow().clone();
            let result = async move { client.wait(&session, options).await }
                .boxed_local()
                .shared();
            let id = waits.next_id.get();
            waits.next_id.set(id + 1);
            waits.running.borrow_mut().push(RunningWait {
                id,
                cancel,
                result: result.clone(),
            });
            let outcome = result.await;
            waits.running.borrow_mut().retain(|w| w.id != id);
            outcome
                .map(|o| convert::outcome(&o))
                .map_err(convert::error)
        })
    }

    /// Cancels the session at Signicat; resolves to how it ended (`cancelled`, or `success` if
    /// the caller confirmed first). A `wait()` in progress stops and resolves to the same.
    pub fn cancel(&self) -> Promise {
        let running: Vec<_> = self
            .waits
            .running
            .borrow()
            .iter()
            .map(|w| (w.cancel.clone(), w.result.clone()))
            .collect();
        for (cancel, _) in &running {
            cancel.cancel();
        }
        let client = self.client.clone();
        let state = self.state.clone();
        future_to_promise(async move {
            let outcome = match running.into_iter().next() {
                // The wait cancels the session itself and learns the real outcome.
                Some((_, result)) => result.await,
                None => cancel_now(&client, &state).await,
            };
            outcome
                .map(|o| convert::outcome(&o))
                .map_err(convert::error)
        })
    }
}

async fn cancel_now(client: &Client, state: &Rc<RefCell<Session>>) -> WaitResult {
    let id = state.borrow().id.clone();
    let ended = client.cancel_session(&id).await?;
    *state.borrow_mut() = ended.clone();
    ended.outcome().ok_or_else(|| {
        Error::protocol(format!(
            "session {} is still {} after it was cancelled",
            ended.id, ended.status
        ))
    })
}

type ParsedWait = (WaitOptions, CancelToken, Option<Object>);

fn wait_options(options: &JsValue, state: &Rc<RefCell<Session>>) -> Result<ParsedWait, Error> {
    let fields = Fields::new(options, "options")?;
    let cancel = CancelToken::new();
    let mut wait = WaitOptions::new().cancel_token(cancel.clone());
    if let Some(timeout) = fields.millis("timeoutMs")? {
        wait = wait.timeout(timeout);
    }
    let listener = fields.function("onStatus")?;
    let state = state.clone();
    wait = wait.on_status(move |session: &Session| {
        *state.borrow_mut() = session.clone();
        if let Some(listener) = &listener
            && let Err(thrown) =
                listener.call1(&JsValue::UNDEFINED, &convert::session_state(session))
        {
            convert::report_to_console("safeconv: onStatus threw; the wait goes on:", &thrown);
        }
    });
    let signal = match fields.get("signal") {
        None => None,
        Some(_) => Some(
            fields
                .object("signal")
                .filter(is_abort_signal)
                .ok_or_else(|| invalid("signal", "must be an AbortSignal"))?,
        ),
    };
    Ok((wait, cancel, signal))
}

fn is_abort_signal(object: &Object) -> bool {
    let has = |name: &str| Reflect::has(object, &JsValue::from_str(name)).unwrap_or(false);
    has("aborted") && has("addEventListener") && has("removeEventListener")
}

/// Cancels the token when the `AbortSignal` fires; stops listening when dropped.
struct AbortLink {
    signal: Object,
    listener: Closure<dyn FnMut()>,
}

impl AbortLink {
    fn new(signal: Object, cancel: CancelToken) -> Self {
        let aborted = Reflect::get(&signal, &"aborted".into())
            .ok()
            .and_then(|a| a.as_bool())
            == Some(true);
        if aborted {
            cancel.cancel();
        }
        let listener = Closure::<dyn FnMut()>::new(move || cancel.cancel());
        call_method(&signal, "addEventListener", listener.as_ref());
        AbortLink { signal, listener }
    }
}

impl Drop for AbortLink {
    fn drop(&mut self) {
        call_method(&self.signal, "removeEventListener", self.listener.as_ref());
    }
}

fn call_method(signal: &Object, method: &str, listener: &JsValue) {
    let function = Reflect::get(signal, &JsValue::from_str(method))
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok());
    if let Some(function) = function {
        let _ = function.call2(signal, &JsValue::from_str("abort"), listener);
    }
}

/// `checkNin(nin, { allowSynthetic, allowInvalidCheckDigits })`: validates a national identity
/// number without sending it anywhere, e.g. while the agent types it.
#[wasm_bindgen(js_name = checkNin)]
pub fn check_nin(nin: JsValue, rules: JsValue) -> Result<JsValue, JsValue> {
    install_panic_hook();
    let nin = nin
        .as_string()
        .ok_or_else(|| convert::error(invalid("nin", "must be a string")))?;
    let fields = Fields::new(&rules, "rules").map_err(convert::error)?;
    let rules = NinRules::strict()
        .allow_synthetic(
            fields
                .boolean("allowSynthetic")
                .map_err(convert::error)?
                .unwrap_or(false),
        )
        .allow_invalid_check_digits(
            fields
                .boolean("allowInvalidCheckDigits")
                .map_err(convert::error)?
                .unwrap_or(false),
        );
    Ok(convert::nin_check(Nin::parse_with(&nin, rules)))
}
