//! The client: create, read and cancel sessions, with tokens, retries and error mapping.

use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, Url};

use crate::backoff::Backoff;
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
/// The longest `Retry-After` honoured outside a wait (inside, the wait's deadline bounds it).
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
}

/// The requests that carry a bearer token.
enum Call<'a> {
    Create(&'a [u8]),
    Get(&'a str),
    Cancel(&'a str),
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
    pub async fn create_session(&self, request: &CreateSessionRequest) -> Result<Session> {
        request.validate()?;
        let body = serde_json::to_vec(request)
            .map_err(|e| Error::invalid_input("request", format!("cannot be encoded: {e}")))?;
        // Boxed so that the futures of callers that start a session and then wait for it stay
        // small while they wait (see `Client::wait`).
        let session = Box::pin(self.call(Call::Create(&body), Retry::NotReceived)).await?;
        if session.id.is_empty() {
            return Err(Error::protocol("the created session has no id"));
        }
        tracing::info!(session_id = %session.id, status = %session.status, "session created");
        Ok(session)
    }

    /// Starts a Safe Conversation: BankID pushes a request to the caller's phone, and the
    /// returned session carries the binding message for the agent to read aloud.
    pub async fn start_safe_conversation(
        &self,
        conversation: &SafeConversation,
    ) -> Result<Session> {
        tracing::debug!(nin = %conversation.nin(), "starting a Safe Conversation");
        let session = self.create_session(conversation.to_request()).await?;
        if session.binding_message().is_none() && !session.status.is_final() {
            return Err(Error::protocol(format!(
                "session {} has no idpData.bindingMessage to read to the caller",
                session.id
            )));
        }
        Ok(session)
    }

    /// Starts a Safe Conversation for a NIN given as text, validated with the client's
    /// [`NinRules`](crate::NinRules) and the default attributes.
    pub async fn start_safe_conversation_for(&self, nin: &str) -> Result<Session> {
        let nin = Nin::parse_with(nin, self.inner.config.nin_rules)?;
        self.start_safe_conversation(&SafeConversation::new(nin))
            .await
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
    pub async fn cancel_session(&self, id: &str) -> Result<Session> {
        check_session_id(id)?;
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
            let pause = error.retry_after().unwrap_or_else(|| backoff.next_delay());
            tracing::warn!(attempt, error = %error, "request failed; retrying");
            runtime::sleep(pause.min(MAX_RETRY_AFTER)).await;
            attempt += 1;
        }
    }

    /// One request, plus one more with a fresh token if the first token was rejected.
    async fn call_once(&self, call: &Call<'_>) -> Result<Session> {
        let inner = &*self.inner;
        let mut bearer = inner.tokens.get(&inner.transport).await?;
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
                    bearer = inner.tokens.get(&inner.transport).await?;
                    token_rejected_once = true;
                }
                _ => return Err(Error::Api(Box::new(transport::api_error(&response)))),
            }
        }
    }

    fn build(&self, call: &Call<'_>, token: &str) -> reqwest::RequestBuilder {
        let inner = &*self.inner;
        let (method, mut url) = match call {
            Call::Create(_) => (Method::POST, inner.sessions_url.clone()),
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
            Call::Create(body) => request
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
