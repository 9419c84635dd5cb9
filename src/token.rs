//! Access tokens: fetched with the client-credentials grant (or from the caller's provider),
//! cached, renewed before they expire, one fetch at a time however many sessions need one.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Deserialize;

use crate::backoff::Backoff;
use crate::config::Credentials;
use crate::error::{Error, Result};
use crate::runtime::{self, BoxFuture, MaybeSend, MaybeSync};
use crate::secret::Secret;
use crate::transport::Transport;

/// How many times a token fetch is tried when it fails transiently.
const TOKEN_ATTEMPTS: u32 = 3;
/// Renew this long before expiry at most (less for short-lived tokens: a fifth of the lifetime).
const MAX_RENEW_MARGIN: Duration = Duration::from_secs(30);

/// An access token and how long it lives.
///
/// ```
/// use std::time::Duration;
/// let token = safeconv::AccessToken::new("eyJ...").expires_in(Duration::from_secs(600));
/// assert_eq!(format!("{token:?}"), "AccessToken { token: Secret(***), expires_in: Some(600s) }");
/// ```
#[derive(Clone, Debug)]
pub struct AccessToken {
    token: Secret,
    expires_in: Option<Duration>,
}

impl AccessToken {
    /// A token with no known lifetime: it is used until the API rejects it, then fetched anew.
    pub fn new(token: impl Into<Secret>) -> Self {
        AccessToken {
            token: token.into(),
            expires_in: None,
        }
    }

    /// Sets the lifetime (`expires_in`), so the SDK renews it shortly before it ends.
    pub fn expires_in(mut self, lifetime: Duration) -> Self {
        self.expires_in = Some(lifetime);
        self
    }
}

/// Supplies access tokens from your own code: a backend that holds the client secret, a relay,
/// a secrets manager. Called only when no cached token is fresh, one call at a time.
///
/// ```
/// use safeconv::{AccessToken, BoxFuture, Error, TokenProvider};
/// struct FromBackend;
/// impl TokenProvider for FromBackend {
///     fn access_token(&self) -> BoxFuture<'_, Result<AccessToken, Error>> {
///         Box::pin(async { Ok(AccessToken::new("token-from-my-backend")) })
///     }
/// }
/// ```
pub trait TokenProvider: MaybeSend + MaybeSync {
    /// A fresh token. Return [`Error::Authentication`] when none can be had.
    fn access_token(&self) -> BoxFuture<'_, Result<AccessToken>>;
}

/// A token as handed to a request; `generation` tells which fetch it came from.
#[derive(Clone)]
pub(crate) struct Bearer {
    pub(crate) token: Secret,
    generation: u64,
}

struct Cached {
    bearer: Bearer,
    renew_at_unix_ms: Option<i64>,
}

pub(crate) struct TokenCache {
    credentials: Credentials,
    current: Mutex<Option<Cached>>,
    // Held while fetching, so concurrent requests wait for one fetch instead of starting their own.
    fetching: futures_util::lock::Mutex<()>,
    generation: AtomicU64,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct OAuthError {
    error: Option<String>,
    error_description: Option<String>,
}

impl TokenCache {
    pub(crate) fn new(credentials: Credentials) -> Self {
        TokenCache {
            credentials,
            current: Mutex::new(None),
            fetching: futures_util::lock::Mutex::new(()),
            generation: AtomicU64::new(0),
        }
    }

    /// A token that is not about to expire, fetching one if needed.
    pub(crate) async fn get(&self, transport: &Transport) -> Result<Bearer> {
        if let Some(bearer) = self.fresh() {
            return Ok(bearer);
        }
        let _fetching = self.fetching.lock().await;
        if let Some(bearer) = self.fresh() {
            return Ok(bearer);
        }
        let token = self.fetch(transport).await?;
        let bearer = Bearer {
            token: token.token,
            generation: self.generation.fetch_add(1, Ordering::Relaxed) + 1,
        };
        let renew_at_unix_ms = token.expires_in.map(|lifetime| {
            let margin = MAX_RENEW_MARGIN.min(lifetime / 5);
            runtime::now_unix_ms()
                + i64::try_from((lifetime - margin).as_millis()).unwrap_or(i64::MAX / 2)
        });
        *self.lock() = Some(Cached {
            bearer: bearer.clone(),
            renew_at_unix_ms,
        });
        Ok(bearer)
    }

    /// Forgets `rejected` (the API answered 401 to it), unless a newer token already replaced it.
    pub(crate) fn invalidate(&self, rejected: &Bearer) {
        let mut current = self.lock();
        if current
            .as_ref()
            .is_some_and(|c| c.bearer.generation == rejected.generation)
        {
            *current = None;
        }
    }

    fn fresh(&self) -> Option<Bearer> {
        let current = self.lock();
        let cached = current.as_ref()?;
        match cached.renew_at_unix_ms {
            Some(renew_at) if runtime::now_unix_ms() >= renew_at => None,
            _ => Some(cached.bearer.clone()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Cached>> {
        // The guarded value is replaced whole, so a panic elsewhere cannot leave it half-written.
        self.current
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    async fn fetch(&self, transport: &Transport) -> Result<AccessToken> {
        match &self.credentials {
            Credentials::Provider(provider) => provider.access_token().await,
            Credentials::ClientSecret {
                client_id,
                client_secret,
            } => {
                let mut backoff = Backoff::new(Duration::from_millis(250), Duration::from_secs(5));
                let mut attempt = 1;
                loop {
                    match fetch_client_credentials(transport, client_id, client_secret).await {
                        Err(e) if e.is_transient() && attempt < TOKEN_ATTEMPTS => {
                            let pause = e.retry_after().unwrap_or_else(|| backoff.next_delay());
                            tracing::warn!(attempt, error = %e, "token fetch failed; retrying");
                            runtime::sleep(pause.min(Duration::from_secs(30))).await;
                            attempt += 1;
                        }
                        result => return result,
                    }
                }
            }
        }
    }
}

async fn fetch_client_credentials(
    transport: &Transport,
    client_id: &str,
    secret: &Secret,
) -> Result<AccessToken> {
    let form = [
        ("grant_type", "client_credentials"),
        ("scope", "signicat-api"),
        ("client_id", client_id),
        ("client_secret", secret.expose()),
    ];
    let request = transport
        .http()
        .post(transport.token_url().clone())
        .form(&form);
    let response = transport.send(request).await?;
    tracing::debug!(status = response.status, "token endpoint answered");
    match response.status {
        200..=299 => {
            let body: TokenResponse =
                crate::transport::parse_json(&response.body, "token response")?;
            if body.access_token.is_empty() {
                return Err(Error::protocol("token response has an empty access_token"));
            }
            let token = AccessToken::new(body.access_token);
            Ok(match body.expires_in {
                Some(seconds) => token.expires_in(Duration::from_secs(seconds)),
                None => token,
            })
        }
        400 | 401 | 403 => {
            let body: OAuthError = serde_json::from_slice(&response.body).unwrap_or_default();
            Err(Error::Authentication {
                error: body
                    .error
                    .unwrap_or_else(|| format!("HTTP {}", response.status)),
                description: body
                    .error_description
                    .map(|d| crate::secret::redact_nins(&d)),
                http_status: Some(response.status),
            })
        }
        _ => Err(Error::Api(Box::new(crate::transport::api_error(&response)))),
    }
}
