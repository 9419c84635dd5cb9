//! The client object, its configuration record, and the foreign callback interfaces. Each
//! method awaits the core and converts its answer; nothing else.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use safeconv::{
    AccessToken as CoreAccessToken, BoxFuture, CancelToken, Client, ClientOptions, Error, NinRules,
    Secret, StartOptions, TokenProvider as CoreTokenProvider, TrustRoots, WaitOptions,
};

use crate::error::SafeconvError;
use crate::types::{Outcome, Session};

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
    pub client_secret: Option<Secret>,
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
    /// Which root certificates HTTPS trusts (default: the bundled Mozilla roots).
    #[uniffi(default = None)]
    pub trust_roots: Option<TrustRoots>,
    /// Extra CAs to trust, as PEM text (a bank's TLS-inspecting proxy, say).
    #[uniffi(default = [])]
    pub ca_pems: Vec<String>,
    /// Files of extra CAs to trust (PEM or DER).
    #[uniffi(default = [])]
    pub ca_files: Vec<String>,
    /// An explicit proxy, `http://host:port` (default: the system's proxy variables).
    #[uniffi(default = None)]
    pub proxy_url: Option<String>,
    /// The proxy's user name, with `proxy_password`.
    #[uniffi(default = None)]
    pub proxy_username: Option<String>,
    /// The proxy's password, with `proxy_username`. Never logged or printed.
    #[uniffi(default = None)]
    pub proxy_password: Option<Secret>,
    /// Hosts that bypass the proxy (`NO_PROXY` syntax; default: the `NO_PROXY` variable).
    #[uniffi(default = None)]
    pub no_proxy: Option<String>,
}

/// The core's masked form of the same settings: no secret, no proxy password.
impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&ClientOptions::from(self.clone()), f)
    }
}

impl From<ClientConfig> for ClientOptions {
    fn from(config: ClientConfig) -> Self {
        ClientOptions {
            account_id: config.account_id,
            base_url: config.base_url,
            token_url: config.token_url,
            client_id: config.client_id,
            client_secret: config.client_secret,
            request_timeout: config.request_timeout,
            poll_interval: config.poll_interval,
            user_agent: config.user_agent,
            nin_rules: config.nin_rules.unwrap_or_default(),
            trust_roots: config.trust_roots.unwrap_or_default(),
            ca_pems: config.ca_pems.into_iter().map(String::into_bytes).collect(),
            ca_files: config.ca_files.into_iter().map(Into::into).collect(),
            proxy_url: config.proxy_url,
            proxy_username: config.proxy_username,
            proxy_password: config.proxy_password,
            no_proxy: config.no_proxy,
        }
    }
}

/// An access token handed over by a [`TokenProvider`]. `toString()`/`description`/`repr` never
/// show the token.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
#[uniffi::export(Debug, Display)]
pub struct AccessToken {
    /// The bearer token.
    pub token: Secret,
    /// How long it lives, if known: the SDK renews it shortly before it ends. Without it, the
    /// token is used until the API rejects it.
    #[uniffi(default = None)]
    pub expires_in: Option<Duration>,
}

impl From<AccessToken> for CoreAccessToken {
    fn from(token: AccessToken) -> Self {
        let core = CoreAccessToken::new(token.token);
        match token.expires_in {
            Some(lifetime) => core.expires_in(lifetime),
            None => core,
        }
    }
}

/// Supplies access tokens from your own code (your backend, a secrets store), so that no client
/// secret lives in the app: a `suspend fun` in Kotlin, an `async` function in Swift. Called only
/// when no cached token is fresh, one call at a time; when the call that needs the token is
/// given up, the provider's coroutine or task is cancelled.
#[uniffi::export(foreign)]
#[async_trait::async_trait]
pub trait TokenProvider: Send + Sync {
    /// A fresh token. Throw `SafeconvException.Authentication` when none can be had; anything
    /// else thrown becomes `Authentication` with the error `token_provider_failed`.
    async fn access_token(&self) -> Result<AccessToken, SafeconvError>;
}

/// Supplies access tokens from your own code (your backend, a secrets store), so that no client
/// secret lives in the app. Called only when no cached token is fresh, one call at a time, on a
/// worker thread: it may block (e.g. on an HTTP call to your backend). Python's
/// `TokenProvider` (see uniffi.toml: asyncio cannot run a coroutine on the SDK's threads, which
/// have no event loop); Kotlin and Swift get the async [`TokenProvider`].
#[uniffi::export(foreign)]
pub trait BlockingTokenProvider: Send + Sync {
    /// A fresh token. Raise `SafeconvError.Authentication` when none can be had; anything else
    /// raised becomes `Authentication` with the error `token_provider_failed`.
    fn access_token(&self) -> Result<AccessToken, SafeconvError>;
}

/// The core's token provider over a foreign one.
struct ForeignTokenProvider(Arc<dyn TokenProvider>);

impl CoreTokenProvider for ForeignTokenProvider {
    fn access_token(&self) -> BoxFuture<'_, safeconv::Result<CoreAccessToken>> {
        Box::pin(async move { Ok(self.0.access_token().await?.into()) })
    }
}

/// The core's token provider over a blocking foreign one: its call runs on tokio's blocking
/// pool.
struct ForeignBlockingTokenProvider(Arc<dyn BlockingTokenProvider>);

impl CoreTokenProvider for ForeignBlockingTokenProvider {
    fn access_token(&self) -> BoxFuture<'_, safeconv::Result<CoreAccessToken>> {
        let provider = Arc::clone(&self.0);
        Box::pin(async move {
            let answer = tokio::task::spawn_blocking(move || provider.access_token())
                .await
                .map_err(|e| Error::token_provider_failed(format!("it did not return: {e}")))?;
            Ok(answer?.into())
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

/// Stops a call from elsewhere (a button, another task): a start, a [`SafeconvClient::wait`], a
/// [`SafeconvClient::resume`], a get or a cancel. A wait then cancels the session at Signicat
/// and returns how it really ended: `Cancelled`, or `Success` if the caller confirmed first. A
/// start throws `Cancelled`, and a session it had created is cancelled; a get or a cancel
/// throws `Cancelled`. One handle may serve many calls; [`CancelHandle::child`] gives one of
/// them a handle of its own.
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

    /// Cancels every call using this handle. Idempotent.
    pub fn cancel(&self) {
        self.token.cancel();
    }

    /// Whether [`CancelHandle::cancel`] was called (on this handle or on its parent).
    pub fn is_cancelled(&self) -> bool {
        self.token.is_cancelled()
    }

    /// A new handle that this one's `cancel` also cancels, and whose own `cancel` leaves this
    /// one alone: for giving up one call among several that share this handle.
    pub fn child(&self) -> Arc<Self> {
        Arc::new(CancelHandle {
            token: self.token.child(),
        })
    }
}

display_as_debug!(ClientConfig, AccessToken);

/// The core token behind an optional handle (a fresh one that nobody cancels without).
fn cancel_token(handle: Option<Arc<CancelHandle>>) -> CancelToken {
    handle.map(|h| h.token.clone()).unwrap_or_default()
}

/// A Signicat client for Safe Conversation. Thread-safe; share one per app.
#[derive(Debug, uniffi::Object)]
pub struct SafeconvClient {
    client: Client,
}

impl SafeconvClient {
    fn build(
        config: ClientConfig,
        provider: Option<Arc<dyn CoreTokenProvider>>,
    ) -> Result<Arc<Self>, SafeconvError> {
        let client = ClientOptions::from(config).build(provider)?;
        Ok(Arc::new(SafeconvClient { client }))
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl SafeconvClient {
    /// A client that authenticates with `config.client_id` and `config.client_secret`.
    #[uniffi::constructor]
    pub fn new(config: ClientConfig) -> Result<Arc<Self>, SafeconvError> {
        SafeconvClient::build(config, None)
    }

    /// A client that gets its access tokens from `provider` instead of holding a secret.
    /// `config.client_id` and `config.client_secret` must be left empty.
    #[uniffi::constructor]
    pub fn with_token_provider(
        config: ClientConfig,
        provider: Arc<dyn TokenProvider>,
    ) -> Result<Arc<Self>, SafeconvError> {
        SafeconvClient::build(config, Some(Arc::new(ForeignTokenProvider(provider))))
    }

    /// A client that gets its access tokens from a `provider` whose call blocks, instead of
    /// holding a secret (Python's `with_token_provider`). `config.client_id` and
    /// `config.client_secret` must be left empty.
    #[uniffi::constructor]
    pub fn with_blocking_token_provider(
        config: ClientConfig,
        provider: Arc<dyn BlockingTokenProvider>,
    ) -> Result<Arc<Self>, SafeconvError> {
        let provider = ForeignBlockingTokenProvider(provider);
        SafeconvClient::build(config, Some(Arc::new(provider)))
    }

    /// The Signicat account id in use.
    pub fn account_id(&self) -> String {
        self.client.config().account_id().to_owned()
    }

    /// The API base URL in use.
    pub fn base_url(&self) -> String {
        self.client.config().base_url().to_owned()
    }

    /// Starts a Safe Conversation for `nin` (checked, with `options`, before anything is
    /// sent): BankID pushes a request to the caller's phone, and the session's
    /// `binding_message` is what the agent reads aloud. Not retried when it is unknown whether
    /// Signicat created the session. Stopped by `cancel`, or by cancelling the calling
    /// coroutine or task: once the request went out, the session it creates is cancelled.
    #[uniffi::method(default(options = None, cancel = None))]
    pub async fn start_safe_conversation(
        &self,
        nin: String,
        options: Option<StartOptions>,
        cancel: Option<Arc<CancelHandle>>,
    ) -> Result<Session, SafeconvError> {
        let conversation = self
            .client
            .conversation(&nin, &options.unwrap_or_default())?;
        let session = (self.client)
            .start_safe_conversation_with(&conversation, &cancel_token(cancel))
            .await?;
        Ok(Session::from(&session))
    }

    /// Reads a session's current state. `cancel` (or cancelling the calling coroutine or task)
    /// stops the read: it throws `Cancelled`.
    #[uniffi::method(default(cancel = None))]
    pub async fn get_session(
        &self,
        session_id: String,
        cancel: Option<Arc<CancelHandle>>,
    ) -> Result<Session, SafeconvError> {
        let read = self.client.get_session(&session_id);
        Ok(Session::from(
            &cancel_token(cancel).run_until_cancelled(read).await?,
        ))
    }

    /// Cancels a session, and stops every wait on it. Idempotent: a session that had already
    /// ended comes back in its final state (which may be `SUCCESS`). `cancel` stops the call
    /// itself (it throws `Cancelled`; the session may or may not be cancelled by then).
    #[uniffi::method(default(cancel = None))]
    pub async fn cancel_session(
        &self,
        session_id: String,
        cancel: Option<Arc<CancelHandle>>,
    ) -> Result<Session, SafeconvError> {
        let cancelling = self.client.cancel_session(&session_id);
        Ok(Session::from(
            &cancel_token(cancel).run_until_cancelled(cancelling).await?,
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
        let options = wait_options(listener, timeout, cancel);
        Ok(self.client.wait(&(&session).into(), options).await?.into())
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
        let options = wait_options(listener, timeout, cancel);
        Ok(self.client.resume(&session_id, options).await?.into())
    }

    /// Lets the cancels that given-up starts and waits left running finish, at most `timeout`;
    /// true if none is left. Call it before a script or app exits right after giving one up.
    pub async fn wait_for_cleanup(&self, timeout: Duration) -> bool {
        self.client.wait_for_cleanup(timeout).await
    }
}

fn wait_options(
    listener: Option<Arc<dyn StatusListener>>,
    timeout: Option<Duration>,
    cancel: Option<Arc<CancelHandle>>,
) -> WaitOptions {
    let mut options = WaitOptions::new().cancel_token(cancel_token(cancel));
    if let Some(listener) = listener {
        options = options.on_status(move |session| listener.on_status(Session::from(session)));
    }
    if let Some(timeout) = timeout {
        options = options.timeout(timeout);
    }
    options
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> Arc<SafeconvClient> {
        // Loopback and a port nothing listens on: a request that went out would fail with
        // `Transport`, not `Cancelled`.
        SafeconvClient::new(client_config()).unwrap()
    }

    #[test]
    fn the_config_prints_without_secrets_or_proxy_passwords() {
        let config = ClientConfig {
            proxy_url: Some("http://agent:url-secret@127.0.0.1:3128".into()),
            proxy_username: Some("agent".into()),
            proxy_password: Some(Secret::new("pass-secret")),
            ..client_config()
        };
        let text = format!("{config}");
        for secret in ["url-secret", "pass-secret", "client-secret-1"] {
            assert!(!text.contains(secret), "{text}");
        }
        assert!(text.contains("127.0.0.1:3128"), "{text}");
    }

    fn client_config() -> ClientConfig {
        ClientConfig {
            account_id: "a-1".into(),
            client_id: Some("id".into()),
            client_secret: Some(Secret::new("client-secret-1")),
            base_url: Some("http://127.0.0.1:9".into()),
            token_url: None,
            request_timeout: None,
            poll_interval: None,
            user_agent: None,
            nin_rules: None,
            trust_roots: None,
            ca_pems: Vec::new(),
            ca_files: Vec::new(),
            proxy_url: None,
            proxy_username: None,
            proxy_password: None,
            no_proxy: None,
        }
    }

    #[tokio::test]
    async fn a_cancelled_handle_stops_a_get_and_a_cancel() {
        let client = client();
        let parent = CancelHandle::new();
        let handle = parent.child();
        parent.cancel();
        assert!(handle.is_cancelled());
        for result in [
            client.get_session("s-1".into(), Some(handle.clone())).await,
            client.cancel_session("s-1".into(), Some(handle)).await,
        ] {
            assert!(
                matches!(result, Err(SafeconvError::Cancelled { .. })),
                "{result:?}"
            );
        }
    }

    #[test]
    fn a_child_handle_cancels_alone() {
        let parent = CancelHandle::new();
        parent.child().cancel();
        assert!(!parent.is_cancelled());
    }
}
