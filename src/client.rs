//! The client: create, read and cancel sessions, with tokens, retries and error mapping.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_channel::oneshot;
use futures_util::future::{Either, select};
use reqwest::{Method, Url};

use crate::background::Background;
use crate::backoff::Backoff;
use crate::cancel::CancelToken;
use crate::config::{ClientBuilder, Config, join};
use crate::error::{Error, Result, TransportErrorKind};
use crate::nin::Nin;
use crate::request::{CreateSessionRequest, SafeConversation};
use crate::runtime;
use crate::session::Session;
use crate::token::TokenCache;
use crate::transport::{self, Transport};

/// How many times a read (get or cancel) is tried when it fails transiently.
const READ_ATTEMPTS: u32 = 3;
/// How many times a create is tried when the server certainly did not act on it.
const CREATE_ATTEMPTS: u32 = 2;
/// The longest `Retry-After` waited out outside a wait (inside, the wait's deadline bounds it).
/// A server that asks for longer (a relay's per-NIN limit, say) gets its error returned at
/// once: the agent learns now, not after sitting out a pause that ends in the same refusal.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

/// A Signicat Authentication API client. Cheap to clone; clones share tokens and connections.
///
/// ```no_run
/// # async fn run() -> Result<(), safeconv::Error> {
/// use safeconv::{Client, Outcome, WaitOptions};
/// let client = Client::builder()
///     .account_id("a-spge-4711")
///     .client_credentials("sandbox-client", "secret")
///     .build()?;
/// let session = client.start_safe_conversation_for("01018010018").await?;
/// println!("Read this to the caller: {}", session.binding_message().unwrap_or("?"));
/// match client.wait(&session, WaitOptions::new()).await? {
///     Outcome::Success(subject) => println!("verified: {:?}", subject.name),
///     other => println!("not verified: {}", other.status()),
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    config: Config,
    transport: Transport,
    tokens: TokenCache,
    sessions_url: Url,
    /// The cancels of abandoned starts and waits, still under way.
    pub(crate) background: Background,
    /// The waits running now, by session id, so that a cancel stops them at once.
    waits: Mutex<HashMap<String, Vec<CancelToken>>>,
}

/// The requests that carry a bearer token.
enum Call<'a> {
    /// The body, and a token tripped when the start is given up: until the request goes out
    /// (while a token is fetched, or between attempts), that stops it.
    Create(&'a [u8], &'a CancelToken),
    Get(&'a str),
    Cancel(&'a str),
}

/// What a create must deliver beyond a session id.
#[derive(Clone, Copy)]
enum Check {
    /// A Safe Conversation: the binding message the agent reads aloud.
    BindingMessage,
}

/// Which failures are worth another try.
#[derive(Clone, Copy)]
enum Retry {
    /// Reads and cancels: any transient failure.
    Transient,
    /// Creates: only when the server certainly did not act (429, or no connection was made),
    /// because a create sent twice would push two requests to the caller's phone.
    NotReceived,
}

impl Client {
    /// Starts building a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    // wasm32 is single-threaded: there the token provider and the fetch-based HTTP client are
    // neither `Send` nor `Sync`, and the `Arc` is only shared between clones on one thread.
    #[cfg_attr(target_arch = "wasm32", allow(clippy::arc_with_non_send_sync))]
    pub(crate) fn from_config(config: Config) -> Result<Client> {
        let transport = Transport::new(&config)?;
        let tokens = TokenCache::new(config.credentials.clone());
        let sessions_url = join(&config.base_url, "auth/rest/sessions");
        Ok(Client {
            inner: Arc::new(Inner {
                config,
                transport,
                tokens,
                sessions_url,
                background: Background::default(),
                waits: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Makes sure an access token can be had: answers from the token cache when its token is
    /// fresh, else fetches one (with the usual retries). For start-up checks and readiness
    /// probes; the session calls fetch tokens by themselves.
    ///
    /// ```no_run
    /// # async fn run(client: safeconv::Client) {
    /// if let Err(e) = client.authenticate().await {
    ///     eprintln!("Signicat is not reachable with these credentials: {e}");
    /// }
    /// # }
    /// ```
    pub async fn authenticate(&self) -> Result<()> {
        let inner = &*self.inner;
        inner.tokens.get(&inner.transport).await.map(drop)
    }

    /// Creates a session from a full request. Not retried on failures that leave it unknown
    /// whether Signicat created the session (timeouts, dropped connections, 5xx): the error says
    /// so, and you decide whether to start again.
    ///
    /// A create is never interrupted half way. If this future is dropped once the request may
    /// have gone out, the request finishes in the background and the session it made is
    /// cancelled, so no BankID request is left on the caller's phone that nobody waits for.
    pub async fn create_session(&self, request: &CreateSessionRequest) -> Result<Session> {
        self.create(request, None, &CancelToken::new()).await
    }

    /// Starts a Safe Conversation: BankID pushes a request to the caller's phone, and the
    /// returned session carries the binding message for the agent to read aloud.
    ///
    /// Dropping this future after the request went out cancels the session at Signicat (see
    /// [`Client::create_session`]).
    pub async fn start_safe_conversation(
        &self,
        conversation: &SafeConversation,
    ) -> Result<Session> {
        self.start_safe_conversation_with(conversation, &CancelToken::new())
            .await
    }

    /// [`Client::start_safe_conversation`] that `cancel` can stop: cancelled before the create
    /// was sent (also while its token is fetched: the fetch is dropped), nothing is sent;
    /// cancelled while the create is under way, it returns [`Error::Cancelled`] at once, and the
    /// session the create makes is cancelled at Signicat.
    ///
    /// ```no_run
    /// # async fn run(client: safeconv::Client, conversation: safeconv::SafeConversation) {
    /// let cancel = safeconv::CancelToken::new();
    /// let hang_up = cancel.clone();               // e.g. the call ended
    /// # hang_up.cancel();
    /// match client.start_safe_conversation_with(&conversation, &cancel).await {
    ///     Err(safeconv::Error::Cancelled { .. }) => println!("nothing left on the caller's phone"),
    ///     other => println!("{other:?}"),
    /// }
    /// # }
    /// ```
    pub async fn start_safe_conversation_with(
        &self,
        conversation: &SafeConversation,
        cancel: &CancelToken,
    ) -> Result<Session> {
        tracing::debug!(nin = %conversation.nin(), "starting a Safe Conversation");
        self.create(
            conversation.to_request(),
            Some(Check::BindingMessage),
            cancel,
        )
        .await
    }

    /// Starts a Safe Conversation for a NIN given as text, validated with the client's
    /// [`NinRules`](crate::NinRules) and the default attributes.
    pub async fn start_safe_conversation_for(&self, nin: &str) -> Result<Session> {
        let nin = Nin::parse_with(nin, self.inner.config.nin_rules)?;
        self.start_safe_conversation(&SafeConversation::new(nin))
            .await
    }

    async fn create(
        &self,
        request: &CreateSessionRequest,
        check: Option<Check>,
        cancel: &CancelToken,
    ) -> Result<Session> {
        if cancel.is_cancelled() {
            return Err(Error::cancelled(
                "the start was stopped before anything was sent",
            ));
        }
        request.validate()?;
        let body = serde_json::to_vec(request)
            .map_err(|e| Error::invalid_input("request", format!("cannot be encoded: {e}")))?;
        // The create runs as a task of its own, so that neither a cancel nor the caller giving
        // up can cut it off half way: whatever it makes is either handed over or cancelled.
        let (answer, answered) = oneshot::channel::<Result<Session>>();
        let client = self.clone();
        let task = async move {
            let mut answer = answer;
            if answer.is_canceled() {
                return; // Given up before anything was sent.
            }
            let unsent = CancelToken::new();
            let create = client.create_once(&body, check, &unsent);
            let mut create = std::pin::pin!(create);
            let result = match select(&mut create, answer.cancellation()).await {
                Either::Left((result, _)) => result,
                // Given up: a create not yet sent stops, one under way finishes (below).
                Either::Right(_) => {
                    unsent.cancel();
                    create.await
                }
            };
            if let Err(Ok(session)) = answer.send(result) {
                client
                    .cancel_abandoned(&session, "its start was given up")
                    .await;
            }
        };
        if !self.inner.background.spawn(task) {
            // No runtime to leave work on (a native caller outside tokio): do it in line.
            return self.create_once_inline(request, check).await;
        }
        let mut answered = answered;
        match select(&mut answered, Box::pin(cancel.cancelled())).await {
            Either::Left((Ok(result), _)) => result,
            Either::Left((Err(oneshot::Canceled), _)) => Err(Error::cancelled(
                "the runtime stopped before the session was created",
            )),
            Either::Right(_) => {
                // No answer may arrive after this; one that already did is ours to cancel.
                answered.close();
                if let Ok(Some(Ok(session))) = answered.try_recv() {
                    let client = self.clone();
                    self.inner.background.spawn(async move {
                        client
                            .cancel_abandoned(&session, "its start was cancelled")
                            .await;
                    });
                }
                Err(Error::cancelled(
                    "the start was stopped; a session it created is cancelled at Signicat",
                ))
            }
        }
    }

    async fn create_once_inline(
        &self,
        request: &CreateSessionRequest,
        check: Option<Check>,
    ) -> Result<Session> {
        let body = serde_json::to_vec(request)
            .map_err(|e| Error::invalid_input("request", format!("cannot be encoded: {e}")))?;
        self.create_once(&body, check, &CancelToken::new()).await
    }

    /// Sends the create (retried only where Signicat certainly did not act) and checks the
    /// answer. A session that came back unusable is cancelled, not left running.
    async fn create_once(
        &self,
        body: &[u8],
        check: Option<Check>,
        unsent: &CancelToken,
    ) -> Result<Session> {
        // Boxed so that the futures of callers that start a session and then wait for it stay
        // small while they wait (see `Client::wait`).
        let session = Box::pin(self.call(Call::Create(body, unsent), Retry::NotReceived)).await?;
        if session.id.is_empty() {
            return Err(Error::protocol("the created session has no id"));
        }
        tracing::info!(session_id = %session.id, status = %session.status, "session created");
        if matches!(check, Some(Check::BindingMessage))
            && session.binding_message().is_none()
            && !session.status.is_final()
        {
            self.cancel_abandoned(&session, "it has no binding message")
                .await;
            return Err(Error::protocol(format!(
                "session {} has no idpData.bindingMessage to read to the caller",
                session.id
            )));
        }
        Ok(session)
    }

    /// Cancels a session nobody will wait for, logging (not returning) a failure.
    pub(crate) async fn cancel_abandoned(&self, session: &Session, why: &str) {
        if session.status.is_final() {
            return;
        }
        tracing::info!(session_id = %session.id, why, "cancelling an abandoned session");
        if let Err(e) = Box::pin(self.cancel_session(&session.id)).await {
            tracing::warn!(session_id = %session.id, error = %e, "could not cancel the abandoned session");
        }
    }

    /// Waits until the cancels this client sends in the background (for starts and waits that
    /// were given up) have finished, at most `timeout`; true if none is left. Call it before
    /// shutting down the runtime the client runs on, so that none is lost.
    ///
    /// ```no_run
    /// # async fn run(client: safeconv::Client) {
    /// client.wait_for_cleanup(std::time::Duration::from_secs(5)).await;
    /// # }
    /// ```
    pub async fn wait_for_cleanup(&self, timeout: Duration) -> bool {
        self.inner.background.idle(timeout).await
    }

    /// Registers a wait on `id`, so that [`Client::cancel_session`] stops it at once.
    pub(crate) fn register_wait(&self, id: &str) -> CancelToken {
        let stop = CancelToken::new();
        self.lock_waits()
            .entry(id.to_owned())
            .or_default()
            .push(stop.clone());
        stop
    }

    pub(crate) fn unregister_wait(&self, id: &str, stop: &CancelToken) {
        let mut waits = self.lock_waits();
        if let Some(tokens) = waits.get_mut(id) {
            tokens.retain(|t| !t.same_as(stop));
            if tokens.is_empty() {
                waits.remove(id);
            }
        }
    }

    fn stop_waits(&self, id: &str) {
        if let Some(tokens) = self.lock_waits().get(id) {
            for token in tokens {
                token.cancel();
            }
        }
    }

    fn lock_waits(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<CancelToken>>> {
        // Only whole insertions and removals happen under the lock.
        self.inner
            .waits
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Reads a session's current state (retried on transient failures).
    pub async fn get_session(&self, id: &str) -> Result<Session> {
        check_session_id(id)?;
        self.call(Call::Get(id), Retry::Transient).await
    }

    /// Reads a session once, without retries (the wait loop has its own).
    pub(crate) async fn get_session_once(&self, id: &str) -> Result<Session> {
        self.call_once(&Call::Get(id)).await
    }

    /// Cancels a session. Idempotent: a session that had already ended is returned in its final
    /// state (which may be `SUCCESS` if the caller confirmed first), not as an error.
    ///
    /// Every [`Client::wait`] on this session (in any task or thread, through this client or a
    /// clone) stops at once and reports how the session really ended.
    pub async fn cancel_session(&self, id: &str) -> Result<Session> {
        check_session_id(id)?;
        self.stop_waits(id);
        match self.call(Call::Cancel(id), Retry::Transient).await {
            Ok(session) => {
                tracing::info!(session_id = %id, status = %session.status, "session cancel answered");
                Ok(session)
            }
            // Signicat refuses to cancel a session that has ended; what it ended as is the answer.
            Err(Error::Api(api)) if matches!(api.http_status, 400 | 409 | 410 | 422) => {
                let session = self.get_session(id).await?;
                if session.status.is_final() {
                    tracing::info!(session_id = %id, status = %session.status, "session had already ended");
                    Ok(session)
                } else {
                    Err(Error::Api(api))
                }
            }
            Err(e) => Err(e),
        }
    }

    async fn call(&self, call: Call<'_>, retry: Retry) -> Result<Session> {
        let (attempts, mut backoff) = match retry {
            Retry::Transient => (
                READ_ATTEMPTS,
                Backoff::new(Duration::from_millis(200), Duration::from_secs(5)),
            ),
            Retry::NotReceived => (
                CREATE_ATTEMPTS,
                Backoff::new(Duration::from_millis(500), Duration::from_secs(5)),
            ),
        };
        let mut attempt = 1;
        loop {
            let error = match self.call_once(&call).await {
                Err(e) if attempt < attempts && retry.allows(&e) => e,
                result => return result,
            };
            let pause = match error.retry_after() {
                Some(asked) if asked > MAX_RETRY_AFTER => return Err(error),
                Some(asked) => asked,
                None => backoff.next_delay(),
            };
            tracing::warn!(attempt, error = %error, "request failed; retrying");
            call.before_sending(runtime::sleep(pause)).await?;
            attempt += 1;
        }
    }

    /// One request, plus one more with a fresh token if the first token was rejected.
    async fn call_once(&self, call: &Call<'_>) -> Result<Session> {
        let inner = &*self.inner;
        let mut bearer = call
            .before_sending(inner.tokens.get(&inner.transport))
            .await??;
        let mut token_rejected_once = false;
        loop {
            let response = inner
                .transport
                .send(self.build(call, bearer.token.expose()))
                .await?;
            match response.status {
                200..=299 => return transport::parse_json(&response.body, "session"),
                401 if !token_rejected_once => {
                    tracing::debug!("access token rejected; fetching a new one");
                    inner.tokens.invalidate(&bearer);
                    bearer = call
                        .before_sending(inner.tokens.get(&inner.transport))
                        .await??;
                    token_rejected_once = true;
                }
                _ => return Err(Error::Api(Box::new(transport::api_error(&response)))),
            }
        }
    }

    fn build(&self, call: &Call<'_>, token: &str) -> reqwest::RequestBuilder {
        let inner = &*self.inner;
        let (method, mut url) = match call {
            Call::Create(..) => (Method::POST, inner.sessions_url.clone()),
            Call::Get(id) => (Method::GET, session_url(&inner.sessions_url, id, None)),
            Call::Cancel(id) => (
                Method::POST,
                session_url(&inner.sessions_url, id, Some("cancel")),
            ),
        };
        // Like Signicat's own SDKs, name the account on every call.
        url.query_pairs_mut()
            .append_pair("signicat-accountId", &inner.config.account_id);
        let request = inner
            .transport
            .http()
            .request(method, url)
            .bearer_auth(token);
        match call {
            Call::Create(body, _) => request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.to_vec()),
            Call::Get(_) | Call::Cancel(_) => request,
        }
    }
}

fn session_url(sessions: &Url, id: &str, action: Option<&str>) -> Url {
    let mut url = sessions.clone();
    if let Ok(mut segments) = url.path_segments_mut() {
        segments.pop_if_empty().push(id);
        if let Some(action) = action {
            segments.push(action);
        }
    }
    url
}

fn check_session_id(id: &str) -> Result<()> {
    if id.trim().is_empty() {
        return Err(Error::invalid_input("session_id", "must not be empty"));
    }
    if id.len() > 256 || id.chars().any(|c| c.is_control() || c == '/') {
        return Err(Error::invalid_input(
            "session_id",
            "must be at most 256 characters, without '/' or control characters",
        ));
    }
    Ok(())
}

impl Call<'_> {
    /// Runs `step`, a step before the request is sent; a create whose start is given up first
    /// stops there with [`Error::Cancelled`] (nothing sent, the step dropped: a token provider
    /// sees its fetch abandoned).
    async fn before_sending<T>(&self, step: impl Future<Output = T>) -> Result<T> {
        let Call::Create(_, unsent) = self else {
            return Ok(step.await);
        };
        if unsent.is_cancelled() {
            return Err(Error::cancelled(
                "the start was given up before its create was sent",
            ));
        }
        match select(std::pin::pin!(step), std::pin::pin!(unsent.cancelled())).await {
            Either::Left((done, _)) => Ok(done),
            Either::Right(_) => Err(Error::cancelled(
                "the start was given up before its create was sent",
            )),
        }
    }
}

impl Retry {
    fn allows(self, error: &Error) -> bool {
        match self {
            Retry::Transient => error.is_transient(),
            // Only where the server certainly did not act on the request.
            Retry::NotReceived => match error {
                Error::Api(api) => api.http_status == 429,
                Error::Transport { kind, .. } => *kind == TransportErrorKind::Connect,
                _ => false,
            },
        }
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.inner.config)
            .finish()
    }
}
