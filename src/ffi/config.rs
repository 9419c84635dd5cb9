//! `SafeconvConfig`: a client's settings, created with defaults and set field by field, so
//! new options never change the ABI. Also the token callback, wrapped as a core
//! [`TokenProvider`].

use std::ffi::{c_char, c_void};
use std::sync::Arc;
use std::time::Duration;

use super::nin::rules_from_flags;
use super::panic;
use super::result::SafeconvError;
use super::result::SafeconvResult;
use super::strings::{read_opt_str, read_str};
use crate::config::{ClientBuilder, DEFAULT_REQUEST_TIMEOUT};
use crate::error::{Error, Result};
use crate::runtime::BoxFuture;
use crate::secret::redact_nins;
use crate::token::{AccessToken, TokenProvider};

/// Worker threads of a client's runtime unless set.
const DEFAULT_WORKER_THREADS: u32 = 2;
const MAX_WORKER_THREADS: u32 = 64;

/// A client's configuration, to pass to `safeconv_client_new`. Create it with
/// `safeconv_config_new` (defaults: base URL `https://api.signicat.com`, token URL
/// `{base}/auth/open/connect/token`, request timeout 10 s, poll interval 2 s, strict NIN
/// rules, 2 worker threads) and set fields one by one; `safeconv_client_new` checks them all.
///
/// Not thread-safe: set it up on one thread. It can make any number of clients and may be
/// freed (`safeconv_config_free`) as soon as they are made.
pub struct SafeconvConfig {
    pub(crate) builder: ClientBuilder,
    pub(crate) worker_threads: u32,
    pub(crate) request_timeout: Duration,
    pub(crate) shutdown_timeout: Option<Duration>,
}

/// Supplies access tokens instead of a client secret (e.g. fetched from your backend).
///
/// Called with the `user_data` given to `safeconv_config_set_token_callback` and a `request`
/// to answer with `safeconv_token_request_set_token` or `safeconv_token_request_set_error`
/// before returning. `request` is valid only during the call.
///
/// Thread rules: called on a library thread (never the one that made the client), when no
/// cached token is fresh, one call at a time per client (clients made from the same config
/// may call it concurrently). It may block, e.g. on a request to your backend, but should
/// return within the request timeout. Do not make blocking `safeconv_*` calls from it
/// (they return `SAFECONV_WRONG_THREAD`), and never let a C++ exception or `longjmp` leave it.
pub type SafeconvTokenCallback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, request: *mut SafeconvTokenRequest)>;

/// Releases a `user_data` once the library no longer uses it.
pub type SafeconvFreeCallback = Option<unsafe extern "C" fn(user_data: *mut c_void)>;

/// The question a `SafeconvTokenCallback` answers. Valid only during the callback.
#[derive(Default)]
pub struct SafeconvTokenRequest {
    token: Option<(String, u64)>,
    error: Option<(String, Option<String>)>,
}

/// A `user_data` pointer, which the C side promises may be used from any thread.
#[derive(Clone, Copy)]
pub(crate) struct UserData(pub(crate) *mut c_void);
// SAFETY: documented requirement on every user_data: it must be usable from the library's
// threads. The library never dereferences it.
unsafe impl Send for UserData {}
// SAFETY: as above.
unsafe impl Sync for UserData {}

/// The C token callback and what to call when it is no longer needed.
struct CTokenSource {
    callback: unsafe extern "C" fn(*mut c_void, *mut SafeconvTokenRequest),
    user_data: UserData,
    free_user_data: SafeconvFreeCallback,
}

impl CTokenSource {
    /// Asks the C callback for a token (on a blocking thread).
    fn fetch(&self) -> Result<AccessToken> {
        let mut request = SafeconvTokenRequest::default();
        // SAFETY: the callback and user_data were given together by the C side, which
        // promises the callback can be called with them from any thread.
        unsafe { (self.callback)(self.user_data.0, &mut request) };
        match request {
            SafeconvTokenRequest {
                token: Some((token, lifetime)),
                ..
            } => {
                let token = AccessToken::new(token);
                Ok(if lifetime > 0 {
                    token.expires_in(Duration::from_secs(lifetime))
                } else {
                    token
                })
            }
            SafeconvTokenRequest {
                error: Some((error, description)),
                ..
            } => Err(Error::Authentication {
                error,
                description,
                http_status: None,
            }),
            _ => Err(Error::Authentication {
                error: "no_token".to_owned(),
                description: Some("the token callback set neither a token nor an error".to_owned()),
                http_status: None,
            }),
        }
    }
}

impl Drop for CTokenSource {
    fn drop(&mut self) {
        if let Some(free) = self.free_user_data {
            // SAFETY: called once, when the last config or client using the callback is gone.
            unsafe { free(self.user_data.0) };
        }
    }
}

/// The C token callback as the core's [`TokenProvider`].
struct CTokenProvider(Arc<CTokenSource>);

impl TokenProvider for CTokenProvider {
    fn access_token(&self) -> BoxFuture<'_, Result<AccessToken>> {
        let source = self.0.clone();
        Box::pin(async move {
            match tokio::task::spawn_blocking(move || source.fetch()).await {
                Ok(result) => result,
                Err(e) => Err(Error::Authentication {
                    error: "token_callback_failed".to_owned(),
                    description: Some(if e.is_cancelled() {
                        "the token callback was not run: the client is shutting down".to_owned()
                    } else {
                        "the token callback did not return".to_owned()
                    }),
                    http_status: None,
                }),
            }
        })
    }
}

/// Runs a setter: checks `config`, then applies `set`.
fn with_config(
    config: *mut SafeconvConfig,
    set: impl FnOnce(&mut SafeconvConfig) -> std::result::Result<(), SafeconvError>,
) -> SafeconvResult {
    panic::call(|| {
        // SAFETY: the caller promises NULL or a live config used by this thread only.
        let config =
            unsafe { config.as_mut() }.ok_or_else(|| SafeconvError::null_argument("config"))?;
        set(config)
    })
}

fn update(config: &mut SafeconvConfig, change: impl FnOnce(ClientBuilder) -> ClientBuilder) {
    config.builder = change(std::mem::take(&mut config.builder));
}

/// A new configuration with the defaults (see `SafeconvConfig`).
///
/// Ownership: the caller frees it with `safeconv_config_free`. Returns NULL only if a panic
/// was caught (then see the last error).
/// Threads: any thread.
#[unsafe(no_mangle)]
pub extern "C" fn safeconv_config_new() -> *mut SafeconvConfig {
    panic::value(std::ptr::null_mut(), || {
        Box::into_raw(Box::new(SafeconvConfig {
            builder: ClientBuilder::default(),
            worker_threads: DEFAULT_WORKER_THREADS,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            shutdown_timeout: None,
        }))
    })
}

/// Frees a configuration. NULL is accepted and ignored. Clients made from it are not
/// affected.
///
/// # Safety
/// `config` is NULL or a live config, not used by another thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_config_free(config: *mut SafeconvConfig) {
    if config.is_null() {
        return;
    }
    // SAFETY: the caller hands back ownership of a handle made by Box::into_raw.
    panic::value((), || drop(unsafe { Box::from_raw(config) }));
}

/// Sets the API base URL (default `https://api.signicat.com`). HTTPS only, except loopback
/// addresses such as `http://127.0.0.1:PORT` (the emulator). Checked by `safeconv_client_new`.
///
/// # Safety
/// `config` is NULL or a live config; `url` is NULL or a NUL-terminated string, copied.
/// Threads: not thread-safe; set a config up on one thread at a time.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_config_set_base_url(
    config: *mut SafeconvConfig,
    url: *const c_char,
) -> SafeconvResult {
    with_config(config, |config| {
        // SAFETY: forwarded from the caller.
        let url = unsafe { read_str(url, "url") }?.to_owned();
        update(config, |b| b.base_url(url));
        Ok(())
    })
}

/// Sets the token endpoint (default `{base_url}/auth/open/connect/token`). Same rules as the
/// base URL.
///
/// # Safety
/// `config` is NULL or a live config; `url` is NULL or a NUL-terminated string, copied.
/// Threads: not thread-safe; set a config up on one thread at a time.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_config_set_token_url(
    config: *mut SafeconvConfig,
    url: *const c_char,
) -> SafeconvResult {
    with_config(config, |config| {
        // SAFETY: forwarded from the caller.
        let url = unsafe { read_str(url, "url") }?.to_owned();
        update(config, |b| b.token_url(url));
        Ok(())
    })
}

/// Sets your Signicat account id (`signicat-accountId`). Required.
///
/// # Safety
/// `config` is NULL or a live config; `account_id` is NULL or a NUL-terminated string, copied.
/// Threads: not thread-safe; set a config up on one thread at a time.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_config_set_account_id(
    config: *mut SafeconvConfig,
    account_id: *const c_char,
) -> SafeconvResult {
    with_config(config, |config| {
        // SAFETY: forwarded from the caller.
        let account_id = unsafe { read_str(account_id, "account_id") }?.to_owned();
        update(config, |b| b.account_id(account_id));
        Ok(())
    })
}

/// Authenticates with an API client's id and secret (replacing any token callback). The
/// secret is copied and never written to logs or error messages.
///
/// # Safety
/// `config` is NULL or a live config; `client_id` and `client_secret` are NULL or
/// NUL-terminated strings, copied.
/// Threads: not thread-safe; set a config up on one thread at a time.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_config_set_client_credentials(
    config: *mut SafeconvConfig,
    client_id: *const c_char,
    client_secret: *const c_char,
) -> SafeconvResult {
    with_config(config, |config| {
        // SAFETY: forwarded from the caller.
        let client_id = unsafe { read_str(client_id, "client_id") }?.to_owned();
        // SAFETY: forwarded from the caller.
        let secret = unsafe { read_str(client_secret, "client_secret") }?.to_owned();
        update(config, |b| b.client_credentials(client_id, secret));
        Ok(())
    })
}

/// Gets access tokens from `callback` instead of holding a client secret (replacing any
/// client credentials). See `SafeconvTokenCallback` for when and where it runs.
///
/// `free_user_data` (may be NULL) is called once with `user_data` when neither this config
/// nor any client made from it uses the callback any more — also if this setting is replaced
/// — on the thread that frees the last of them (which may be a library thread).
///
/// # Safety
/// `config` is NULL or a live config. `user_data` must stay valid until `free_user_data` is
/// called (or, without one, until the config and every client made from it are freed), and
/// must be usable from any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_config_set_token_callback(
    config: *mut SafeconvConfig,
    callback: SafeconvTokenCallback,
    user_data: *mut c_void,
    free_user_data: SafeconvFreeCallback,
) -> SafeconvResult {
    with_config(config, |config| {
        let callback = callback.ok_or_else(|| SafeconvError::null_argument("callback"))?;
        let source = CTokenSource {
            callback,
            user_data: UserData(user_data),
            free_user_data,
        };
        update(config, |b| {
            b.token_provider(Arc::new(CTokenProvider(Arc::new(source))))
        });
        Ok(())
    })
}

/// Gives the token callback its answer: `token` (copied; never logged) and its lifetime in
/// seconds (`0`: unknown, it is then used until the API rejects it). Replaces an earlier
/// answer.
///
/// Returns `SAFECONV_INVALID_INPUT` for an empty token.
///
/// # Safety
/// `request` is NULL or the request handed to the running callback; `token` is NULL or a
/// NUL-terminated string.
/// Threads: only inside the running token callback, on its thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_token_request_set_token(
    request: *mut SafeconvTokenRequest,
    token: *const c_char,
    expires_in_secs: u64,
) -> SafeconvResult {
    panic::call(|| {
        // SAFETY: the caller promises NULL or the live request of the running callback.
        let request =
            unsafe { request.as_mut() }.ok_or_else(|| SafeconvError::null_argument("request"))?;
        // SAFETY: forwarded from the caller.
        let token = unsafe { read_str(token, "token") }?;
        if token.trim().is_empty() {
            return Err(Error::invalid_input("token", "must not be empty").into());
        }
        request.token = Some((token.to_owned(), expires_in_secs));
        request.error = None;
        Ok(())
    })
}

/// Answers the token callback with a failure: the operation that needed the token fails with
/// `SAFECONV_AUTHENTICATION`, `error` as its code and `description` (may be NULL) in the
/// message. Replaces an earlier answer.
///
/// # Safety
/// `request` is NULL or the request handed to the running callback; `error` is NULL or a
/// NUL-terminated string; `description` is NULL or a NUL-terminated string.
/// Threads: only inside the running token callback, on its thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_token_request_set_error(
    request: *mut SafeconvTokenRequest,
    error: *const c_char,
    description: *const c_char,
) -> SafeconvResult {
    panic::call(|| {
        // SAFETY: the caller promises NULL or the live request of the running callback.
        let request =
            unsafe { request.as_mut() }.ok_or_else(|| SafeconvError::null_argument("request"))?;
        // SAFETY: forwarded from the caller.
        let error = unsafe { read_str(error, "error") }?;
        // SAFETY: forwarded from the caller.
        let description = unsafe { read_opt_str(description, "description") }?;
        request.error = Some((redact_nins(error), description.map(redact_nins)));
        request.token = None;
        Ok(())
    })
}

/// Sets the time one HTTP request may take, connecting included (default 10 000 ms; more
/// than 0 and at most 300 000). Checked by `safeconv_client_new`.
///
/// # Safety
/// `config` is NULL or a live config.
/// Threads: not thread-safe; set a config up on one thread at a time.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_config_set_request_timeout_ms(
    config: *mut SafeconvConfig,
    timeout_ms: u64,
) -> SafeconvResult {
    with_config(config, |config| {
        let timeout = Duration::from_millis(timeout_ms);
        config.request_timeout = timeout;
        update(config, |b| b.request_timeout(timeout));
        Ok(())
    })
}

/// Sets the pause between two status polls (default 2 000 ms; Signicat asks for 1–3 s;
/// under 1 000 only for loopback hosts; at most 60 000). Checked by `safeconv_client_new`.
///
/// # Safety
/// `config` is NULL or a live config.
/// Threads: not thread-safe; set a config up on one thread at a time.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_config_set_poll_interval_ms(
    config: *mut SafeconvConfig,
    interval_ms: u64,
) -> SafeconvResult {
    with_config(config, |config| {
        update(config, |b| {
            b.poll_interval(Duration::from_millis(interval_ms))
        });
        Ok(())
    })
}

/// Sets the `User-Agent` header (default `safeconv/VERSION`).
///
/// # Safety
/// `config` is NULL or a live config; `user_agent` is NULL or a NUL-terminated string, copied.
/// Threads: not thread-safe; set a config up on one thread at a time.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_config_set_user_agent(
    config: *mut SafeconvConfig,
    user_agent: *const c_char,
) -> SafeconvResult {
    with_config(config, |config| {
        // SAFETY: forwarded from the caller.
        let user_agent = unsafe { read_str(user_agent, "user_agent") }?.to_owned();
        update(config, |b| b.user_agent(user_agent));
        Ok(())
    })
}

/// Sets which national identity numbers `safeconv_start` accepts: 0 (strict, the default)
/// or a combination of `SAFECONV_NIN_ALLOW_*` flags. Unknown bits: `SAFECONV_INVALID_INPUT`.
///
/// # Safety
/// `config` is NULL or a live config.
/// Threads: not thread-safe; set a config up on one thread at a time.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_config_set_nin_rules(
    config: *mut SafeconvConfig,
    rules: u32,
) -> SafeconvResult {
    with_config(config, |config| {
        let rules = rules_from_flags(rules, "nin_rules")?;
        update(config, |b| b.nin_rules(rules));
        Ok(())
    })
}

/// Sets how many worker threads each client's runtime has (default 2; 1 to 64). Callbacks
/// run on these threads.
///
/// # Safety
/// `config` is NULL or a live config.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_config_set_worker_threads(
    config: *mut SafeconvConfig,
    threads: u32,
) -> SafeconvResult {
    with_config(config, |config| {
        if !(1..=MAX_WORKER_THREADS).contains(&threads) {
            return Err(Error::invalid_input(
                "worker_threads",
                format!("must be 1 to {MAX_WORKER_THREADS}"),
            )
            .into());
        }
        config.worker_threads = threads;
        Ok(())
    })
}

/// Sets how long `safeconv_client_free` waits for running operations to finish after
/// cancelling them (default: three request timeouts plus 5 s). Past it, what is still
/// running is abandoned (completion callbacks then report `SAFECONV_CANCELLED`).
///
/// # Safety
/// `config` is NULL or a live config.
/// Threads: not thread-safe; set a config up on one thread at a time.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_config_set_shutdown_timeout_ms(
    config: *mut SafeconvConfig,
    timeout_ms: u64,
) -> SafeconvResult {
    with_config(config, |config| {
        config.shutdown_timeout = Some(Duration::from_millis(timeout_ms));
        Ok(())
    })
}

impl SafeconvConfig {
    /// How long freeing a client waits for its operations.
    pub(crate) fn shutdown_timeout(&self) -> Duration {
        self.shutdown_timeout.unwrap_or_else(|| {
            self.request_timeout
                .saturating_mul(3)
                .saturating_add(Duration::from_secs(5))
        })
    }
}
