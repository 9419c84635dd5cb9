//! The client object, its configuration record, and the foreign callback interfaces.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::cancel::CancelToken;
use crate::client::Client;
use crate::config::ClientBuilder;
use crate::nin::{Nin, NinRules};
use crate::request::SafeConversation;
use crate::runtime::BoxFuture;
use crate::token::{AccessToken as CoreAccessToken, TokenProvider as CoreTokenProvider};
use crate::wait::WaitOptions;

use super::error::SafeconvError;
use super::types::{Outcome, Session, StartOptions};

/// How to reach Signicat. Only `account_id` is required here; give `client_id` and
/// `client_secret` to [`SafeconvClient::new`], or neither to
/// [`SafeconvClient::with_token_provider`]. `toString()`/`description`/`repr` mask the secret.
#[derive(Clone, PartialEq, uniffi::Record)]
#[uniffi::export(Debug, Display)]
pub struct ClientConfig {
    /// Your Signicat account id (`signicat-accountId`), from the Signicat Dashboard.
    pub account_id: String,
    /// The API client's id.
    #[uniffi(default = None)]
    pub client_id: Option<String>,
    /// The API client's secret. Prefer a token provider in apps that run on agents' devices.
    #[uniffi(default = None)]
    pub client_secret: Option<String>,
    /// The API base URL (default `https://api.signicat.com`; plain http only for loopback).
    #[uniffi(default = None)]
    pub base_url: Option<String>,
    /// The token endpoint (default `{base_url}/auth/open/connect/token`).
    #[uniffi(default = None)]
    pub token_url: Option<String>,
    /// Time allowed for one HTTP request (default 10 s).
    #[uniffi(default = None)]
    pub request_timeout: Option<Duration>,
    /// Pause between two status polls (default 2 s; under 1 s only for loopback hosts).
    #[uniffi(default = None)]
    pub poll_interval: Option<Duration>,
    /// The `User-Agent` to send (default `safeconv/VERSION`).
    #[uniffi(default = None)]
    pub user_agent: Option<String>,
    /// Which NINs are accepted (default: strict).
    #[uniffi(default = None)]
    pub nin_rules: Option<NinRules>,
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("account_id", &self.account_id)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "***"))
            .field("base_url", &self.base_url)
            .field("token_url", &self.token_url)
            .field("request_timeout", &self.request_timeout)
            .field("poll_interval", &self.poll_interval)
            .field("user_agent", &self.user_agent)
            .field("nin_rules", &self.nin_rules)
            .finish()
    }
}

impl fmt::Display for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl fmt::Display for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl ClientConfig {
    /// Everything but the credentials.
    fn builder(&self) -> ClientBuilder {
        let mut builder = Client::builder().account_id(self.account_id.clone());
        if let Some(url) = &self.base_url {
            builder = builder.base_url(url.clone());
        }
        if let Some(url) = &self.token_url {
            builder = builder.token_url(url.clone());
        }
        if let Some(timeout) = self.request_timeout {
            builder = builder.request_timeout(timeout);
        }
        if let Some(interval) = self.poll_interval {
            builder = builder.poll_interval(interval);
        }
        if let Some(agent) = &self.user_agent {
            builder = builder.user_agent(agent.clone());
        }
        if let Some(rules) = self.nin_rules {
            builder = builder.nin_rules(rules);
        }
        builder
    }
}

/// An access token handed over by a [`TokenProvider`]. `toString()`/`description`/`repr` never
/// show the token.
#[derive(Clone, PartialEq, uniffi::Record)]
#[uniffi::export(Debug, Display)]
pub struct AccessToken {
    /// The bearer token.
    pub token: String,
    /// How long it lives, if known: the SDK renews it shortly before it ends. Without it, the
    /// token is used until the API rejects it.
    #[uniffi(default = None)]
    pub expires_in: Option<Duration>,
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("token", &"***")
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// Supplies access tokens from your own code (your backend, a secrets store), so that no client
/// secret lives in the app. Called only when no cached token is fresh, one call at a time, on
/// a worker thread: it may block (e.g. on an HTTP call to your backend).
#[uniffi::export(foreign)]
pub trait TokenProvider: Send + Sync {
    /// A fresh token. Throw `SafeconvException.Authentication` when none can be had.
    fn access_token(&self) -> Result<AccessToken, SafeconvError>;
}

/// Adapts a foreign [`TokenProvider`] to the core's async one: the foreign call may block, so
/// it runs on tokio's blocking pool.
struct ForeignTokenProvider(Arc<dyn TokenProvider>);

impl CoreTokenProvider for ForeignTokenProvider {
    fn access_token(&self) -> BoxFuture<'_, crate::Result<CoreAccessToken>> {
        let provider = Arc::clone(&self.0);
        Box::pin(async move {
            let answer = match tokio::runtime::Handle::try_current() {
                Ok(handle) => handle
                    .spawn_blocking(move || provider.access_token())
                    .await
                    .map_err(|e| crate::Error::Authentication {
                        error: "token_provider_failed".to_owned(),
                        description: Some(format!("the token provider did not return: {e}")),
                        http_status: None,
                    })?,
                Err(_) => provider.access_token(),
            };
            let token = answer?;
            let core = CoreAccessToken::new(token.token);
            Ok(match token.expires_in {
                Some(lifetime) => core.expires_in(lifetime),
                None => core,
            })
        })
    }
}

/// Told about each status change while [`SafeconvClient::wait`] runs, the final status
/// included. Called on a worker thread, in order; return quickly and do not throw.
#[uniffi::export(foreign)]
pub trait StatusListener: Send + Sync {
    /// The session's new state.
    fn on_status(&self, session: Session);
}

/// Stops a [`SafeconvClient::wait`] or [`SafeconvClient::resume`] from elsewhere (a button, another
/// task). The session is then cancelled at Signicat and the wait returns how it really ended:
/// `Cancelled`, or `Success` if the caller confirmed first. One handle may serve many waits.
#[derive(Debug, Default, uniffi::Object)]
pub struct CancelHandle {
    token: CancelToken,
}

#[uniffi::export]
impl CancelHandle {
    /// A handle that is not cancelled.
    #[uniffi::constructor]
    pub fn new() -> Arc<Self> {
        Arc::new(CancelHandle::default())
    }

    /// Cancels every wait using this handle. Idempotent.
    pub fn cancel(&self) {
        self.token.cancel();
    }

    /// Whether [`CancelHandle::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.token.is_cancelled()
    }
}

/// A Signicat client for Safe Conversation. Thread-safe; share one per app.
#[derive(uniffi::Object)]
pub struct SafeconvClient {
    client: Client,
}

impl fmt::Debug for SafeconvClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.client, f)
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl SafeconvClient {
    /// A client that authenticates with `config.client_id` and `config.client_secret`.
    #[uniffi::constructor]
    pub fn new(config: ClientConfig) -> Result<Arc<Self>, SafeconvError> {
        let mut builder = config.builder();
        if config.client_id.is_some() || config.client_secret.is_some() {
            builder = builder.client_credentials(
                config.client_id.clone().unwrap_or_default(),
                config.client_secret.clone().unwrap_or_default(),
            );
        }
        Ok(Arc::new(SafeconvClient {
            client: builder.build()?,
        }))
    }

    /// A client that gets its access tokens from `provider` instead of holding a secret.
    /// `config.client_id` and `config.client_secret` must be left empty.
    #[uniffi::constructor]
    pub fn with_token_provider(
        config: ClientConfig,
        provider: Arc<dyn TokenProvider>,
    ) -> Result<Arc<Self>, SafeconvError> {
        if config.client_id.is_some() || config.client_secret.is_some() {
            return Err(SafeconvError::InvalidInput {
                field: "credentials".to_owned(),
                reason: "give a client id and secret, or a token provider, not both".to_owned(),
            });
        }
        let client = config
            .builder()
            .token_provider(Arc::new(ForeignTokenProvider(provider)))
            .build()?;
        Ok(Arc::new(SafeconvClient { client }))
    }

    /// The Signicat account id in use.
    pub fn account_id(&self) -> String {
        self.client.config().account_id().to_owned()
    }

    /// The API base URL in use.
    pub fn base_url(&self) -> String {
        self.client.config().base_url().to_owned()
    }

    /// Starts a Safe Conversation for `nin` (checked with the config's NIN rules): BankID pushes
    /// a request to the caller's phone, and the session's `binding_message` is what the agent
    /// reads aloud. Not retried when it is unknown whether Signicat created the session.
    #[uniffi::method(default(options = None))]
    pub async fn start_safe_conversation(
        &self,
        nin: String,
        options: Option<StartOptions>,
    ) -> Result<Session, SafeconvError> {
        let nin = Nin::parse_with(&nin, self.client.config().nin_rules())?;
        let conversation = options
            .unwrap_or_default()
            .apply(SafeConversation::new(nin));
        let session = self.client.start_safe_conversation(&conversation).await?;
        Ok(Session::from(&session))
    }

    /// Reads a session's current state.
    pub async fn get_session(&self, session_id: String) -> Result<Session, SafeconvError> {
        Ok(Session::from(&self.client.get_session(&session_id).await?))
    }

    /// Cancels a session. Idempotent: a session that had already ended comes back in its final
    /// state (which may be `SUCCESS`).
    pub async fn cancel_session(&self, session_id: String) -> Result<Session, SafeconvError> {
        Ok(Session::from(
            &self.client.cancel_session(&session_id).await?,
        ))
    }

    /// Polls `session` until it ends and returns how it ended, telling `listener` about each
    /// status change. Gives up after `timeout` (or at the session's `expiresAt`), or when
    /// `cancel` is cancelled: the session is then cancelled at Signicat and the real outcome
    /// returned. Cancelling the calling coroutine or task also cancels the session.
    #[uniffi::method(default(listener = None, timeout = None, cancel = None))]
    pub async fn wait(
        &self,
        session: Session,
        listener: Option<Arc<dyn StatusListener>>,
        timeout: Option<Duration>,
        cancel: Option<Arc<CancelHandle>>,
    ) -> Result<Outcome, SafeconvError> {
        let session = crate::Session::from(&session);
        let outcome = self
            .client
            .wait(&session, wait_options(listener, timeout, cancel))
            .await?;
        Ok(Outcome::from(outcome))
    }

    /// Picks up a session by id (after a restart, or from another device) and waits for it,
    /// like [`SafeconvClient::wait`].
    #[uniffi::method(default(listener = None, timeout = None, cancel = None))]
    pub async fn resume(
        &self,
        session_id: String,
        listener: Option<Arc<dyn StatusListener>>,
        timeout: Option<Duration>,
        cancel: Option<Arc<CancelHandle>>,
    ) -> Result<Outcome, SafeconvError> {
        let outcome = self
            .client
            .resume(&session_id, wait_options(listener, timeout, cancel))
            .await?;
        Ok(Outcome::from(outcome))
    }
}

fn wait_options(
    listener: Option<Arc<dyn StatusListener>>,
    timeout: Option<Duration>,
    cancel: Option<Arc<CancelHandle>>,
) -> WaitOptions {
    let mut options = WaitOptions::new();
    if let Some(listener) = listener {
        options = options.on_status(move |session| listener.on_status(Session::from(session)));
    }
    if let Some(timeout) = timeout {
        options = options.timeout(timeout);
    }
    if let Some(cancel) = cancel {
        options = options.cancel_token(cancel.token.clone());
    }
    options
}
