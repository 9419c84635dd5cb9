//! `SafeconvConfig`: the core's `ClientOptions` (plus the settings of the client's threads),
//! created with defaults and set field by field, so new options never change the ABI. Also
//! the token callback, wrapped as a core [`TokenProvider`].

use std::ffi::{c_char, c_void};
use std::sync::Arc;
use std::time::Duration;

use super::boundary::ffi_boundary;
use super::error::SafeconvResult;
use super::handle::{CCallback, arg, free, give, handle, lend_mut, opt_arg};
use super::nin::rules_from_flags;
use crate::{
    AccessToken, BoxFuture, ClientOptions, DEFAULT_REQUEST_TIMEOUT, Error, Result, Secret,
    TokenProvider, TrustRoots, redact_nins,
};

/// Worker threads of a client's runtime unless set.
const DEFAULT_WORKER_THREADS: u32 = 2;
const MAX_WORKER_THREADS: u32 = 64;

/// A client's configuration, to pass to `safeconv_client_new`. Create it with
/// `safeconv_config_new` (defaults: base URL `https://api.signicat.com`, token URL
/// `{base}/auth/open/connect/token`, request timeout 10 s, poll interval 2 s, strict NIN
/// rules, 2 worker threads, the bundled root CAs, the system's proxy settings) and set fields
/// one by one; `safeconv_client_new` checks them all.
///
/// Not thread-safe: set it up on one thread. It can make any number of clients and may be
/// freed (`safeconv_config_free`) as soon as they are made.
pub struct SafeconvConfig {
    _private: [u8; 0],
}

handle!(SafeconvConfig => ClientSettings, Owned);

/// What a `SafeconvConfig` holds: the core's options and the C client's own settings.
pub(crate) struct ClientSettings {
    pub(crate) options: ClientOptions,
    pub(crate) token_provider: Option<Arc<dyn TokenProvider>>,
    pub(crate) worker_threads: u32,
    shutdown_timeout: Option<Duration>,
}

impl ClientSettings {
    /// How long freeing a client waits for its operations and their clean-up.
    pub(crate) fn shutdown_timeout(&self) -> Duration {
        self.shutdown_timeout.unwrap_or_else(|| {
            let request = self
                .options
                .request_timeout
                .unwrap_or(DEFAULT_REQUEST_TIMEOUT);
            request
                .saturating_mul(3)
                .saturating_add(Duration::from_secs(5))
        })
    }
}

/// Supplies access tokens instead of a client secret (e.g. fetched from your backend).
///
/// Called with the `user_data` given to `safeconv_config_set_token_callback` and a `request`
/// to answer with `safeconv_token_request_set_token` or `safeconv_token_request_set_error`
/// before returning. `request` is valid only during the call. Answering neither fails the
/// operation that needed the token with `SAFECONV_AUTHENTICATION`, code
/// `"token_provider_failed"`.
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
pub struct SafeconvTokenRequest {
    _private: [u8; 0],
}

handle!(SafeconvTokenRequest => TokenAnswer, Borrowed);

/// The token callback's answer.
pub(crate) enum TokenAnswer {
    Nothing,
    Token(AccessToken),
    Refused {
        error: String,
        description: Option<String>,
    },
}

type TokenCallback = unsafe extern "C" fn(*mut c_void, *mut SafeconvTokenRequest);

impl CCallback<TokenCallback> {
    /// Asks the C callback for a token (on a blocking thread).
    fn fetch(&self) -> Result<AccessToken> {
        let mut answer = TokenAnswer::Nothing;
        // SAFETY: the callback and user_data were given together by the C side, which
        // promises the callback can be called with them from any thread.
        unsafe { (self.callback)(self.user_data.get(), lend_mut(&mut answer)) };
        match answer {
            TokenAnswer::Token(token) => Ok(token),
            TokenAnswer::Refused { error, description } => Err(Error::Authentication {
                error,
                description,
                http_status: None,
            }),
            TokenAnswer::Nothing => Err(Error::token_provider_failed(
                "the token callback set neither a token nor an error",
            )),
        }
    }
}

/// The C token callback as the core's [`TokenProvider`].
struct CTokenProvider(Arc<CCallback<TokenCallback>>);

impl TokenProvider for CTokenProvider {
    fn access_token(&self) -> BoxFuture<'_, Result<AccessToken>> {
        let source = self.0.clone();
        Box::pin(async move {
            match tokio::task::spawn_blocking(move || source.fetch()).await {
                Ok(result) => result,
                Err(e) if e.is_cancelled() => Err(Error::token_provider_failed(
                    "the token callback was not run: the client is shutting down",
                )),
                Err(_) => Err(Error::token_provider_failed(
                    "the token callback did not return",
                )),
            }
        })
    }
}

/// A new configuration with the defaults (see `SafeconvConfig`).
///
/// Ownership: the caller frees it with `safeconv_config_free`. Returns NULL only if a panic
/// was caught (then see the last error).
/// Threads: any thread.
#[unsafe(no_mangle)]
pub extern "C" fn safeconv_config_new() -> *mut SafeconvConfig {
    ffi_boundary! {
        Ok(give(ClientSettings {
            options: ClientOptions::default(),
            token_provider: None,
            worker_threads: DEFAULT_WORKER_THREADS,
            shutdown_timeout: None,
        }))
    }
}

/// Frees a configuration. NULL is accepted and ignored. Clients made from it are not
/// affected.
///
/// # Safety
/// `config` is NULL or a live config, not used by another thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_config_free(config: *mut SafeconvConfig) {
    ffi_boundary! {
        // SAFETY: the caller hands back a handle this library gave out, not yet freed.
        unsafe { free(config) };
        Ok(())
    }
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
    ffi_boundary! {
        let (config, url) = (arg!(config), arg!(url));
        config.options.base_url = Some(url.to_owned());
        Ok(())
    }
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
    ffi_boundary! {
        let (config, url) = (arg!(config), arg!(url));
        config.options.token_url = Some(url.to_owned());
        Ok(())
    }
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
    ffi_boundary! {
        let (config, account_id) = (arg!(config), arg!(account_id));
        config.options.account_id = account_id.to_owned();
        Ok(())
    }
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
    ffi_boundary! {
        let config = arg!(config);
        let (client_id, client_secret) = (arg!(client_id), arg!(client_secret));
        config.options.client_id = Some(client_id.to_owned());
        config.options.client_secret = Some(client_secret.into());
        config.token_provider = None;
        Ok(())
    }
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
    ffi_boundary! {
        let (config, callback) = (arg!(config), arg!(callback));
        let source = CCallback::new(callback, user_data, free_user_data);
        config.token_provider = Some(Arc::new(CTokenProvider(Arc::new(source))));
        (config.options.client_id, config.options.client_secret) = (None, None);
        Ok(())
    }
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
    ffi_boundary! {
        let (request, token) = (arg!(request), arg!(token));
        if token.trim().is_empty() {
            return Err(Error::invalid_input("token", "must not be empty").into());
        }
        let token = AccessToken::new(token);
        *request = TokenAnswer::Token(match expires_in_secs {
            0 => token,
            secs => token.expires_in(Duration::from_secs(secs)),
        });
        Ok(())
    }
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
    ffi_boundary! {
        let (request, error) = (arg!(request), arg!(error));
        let description = opt_arg!(description);
        *request = TokenAnswer::Refused {
            error: redact_nins(error),
            description: description.map(redact_nins),
        };
        Ok(())
    }
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
    ffi_boundary! {
        arg!(config).options.request_timeout = Some(Duration::from_millis(timeout_ms));
        Ok(())
    }
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
    ffi_boundary! {
        arg!(config).options.poll_interval = Some(Duration::from_millis(interval_ms));
        Ok(())
    }
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
    ffi_boundary! {
        let (config, user_agent) = (arg!(config), arg!(user_agent));
        config.options.user_agent = Some(user_agent.to_owned());
        Ok(())
    }
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
    ffi_boundary! {
        let config = arg!(config);
        config.options.nin_rules = rules_from_flags(rules, "nin_rules")?;
        Ok(())
    }
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
    ffi_boundary! {
        let config = arg!(config);
        if !(1..=MAX_WORKER_THREADS).contains(&threads) {
            let reason = format!("must be 1 to {MAX_WORKER_THREADS}");
            return Err(Error::invalid_input("worker_threads", reason).into());
        }
        config.worker_threads = threads;
        Ok(())
    }
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
    ffi_boundary! {
        arg!(config).shutdown_timeout = Some(Duration::from_millis(timeout_ms));
        Ok(())
    }
}

/// Which root certificates HTTPS trusts (`safeconv_config_set_trust_roots`). Stable numbers.
/// CAs added with `safeconv_config_add_ca_pem` or `safeconv_config_add_ca_file` are trusted
/// in addition, whichever is chosen.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum SafeconvTrustRoots {
    /// Mozilla's root store, built into the library: the same on every platform, nothing to
    /// set up. The default.
    SAFECONV_TRUST_ROOTS_BUNDLED = 0,
    /// The operating system's trust store, read by `safeconv_client_new`: the system bundle on
    /// Linux (`SSL_CERT_FILE` and `SSL_CERT_DIR` are honoured), the keychain on macOS, the
    /// certificate store on Windows. Where a bank's IT deploys its CA to every machine, this
    /// trusts it with no file to ship. Not available on Android and iOS.
    SAFECONV_TRUST_ROOTS_NATIVE = 1,
    /// Both the bundled roots and the operating system's store.
    SAFECONV_TRUST_ROOTS_BUNDLED_AND_NATIVE = 2,
    /// Only the CAs you add; `safeconv_client_new` refuses it without one.
    SAFECONV_TRUST_ROOTS_ADDED_ONLY = 3,
}

impl From<SafeconvTrustRoots> for TrustRoots {
    fn from(roots: SafeconvTrustRoots) -> Self {
        match roots {
            SafeconvTrustRoots::SAFECONV_TRUST_ROOTS_BUNDLED => TrustRoots::Bundled,
            SafeconvTrustRoots::SAFECONV_TRUST_ROOTS_NATIVE => TrustRoots::Native,
            SafeconvTrustRoots::SAFECONV_TRUST_ROOTS_BUNDLED_AND_NATIVE => {
                TrustRoots::BundledAndNative
            }
            SafeconvTrustRoots::SAFECONV_TRUST_ROOTS_ADDED_ONLY => TrustRoots::AddedOnly,
        }
    }
}

/// The core's choice for a `SafeconvTrustRoots` number.
fn trust_roots(roots: u32) -> Result<TrustRoots> {
    use SafeconvTrustRoots::*;
    [
        SAFECONV_TRUST_ROOTS_BUNDLED,
        SAFECONV_TRUST_ROOTS_NATIVE,
        SAFECONV_TRUST_ROOTS_BUNDLED_AND_NATIVE,
        SAFECONV_TRUST_ROOTS_ADDED_ONLY,
    ]
    .into_iter()
    .find(|known| *known as u32 == roots)
    .map(TrustRoots::from)
    .ok_or_else(|| {
        let reason = format!("{roots} is not a SafeconvTrustRoots (0 to 3)");
        Error::invalid_input("trust_roots", reason)
    })
}

/// Sets which root certificates HTTPS trusts: a `SafeconvTrustRoots` value (default
/// `SAFECONV_TRUST_ROOTS_BUNDLED`). Returns `SAFECONV_INVALID_INPUT` naming `trust_roots` for
/// a number that is none of them. Whether the operating system's store can be read, and that
/// `SAFECONV_TRUST_ROOTS_ADDED_ONLY` has a CA, is checked by `safeconv_client_new`.
///
/// # Safety
/// `config` is NULL or a live config.
/// Threads: not thread-safe; set a config up on one thread at a time.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_config_set_trust_roots(
    config: *mut SafeconvConfig,
    roots: u32,
) -> SafeconvResult {
    ffi_boundary! {
        arg!(config).options.trust_roots = trust_roots(roots)?;
        Ok(())
    }
}

/// Adds CAs to trust, e.g. the CA of a bank's TLS-inspecting proxy: `len` bytes at `pem`,
/// PEM text with one or more `-----BEGIN CERTIFICATE-----` blocks (other blocks are skipped)
/// or one DER certificate. Copied; may be called several times. `safeconv_client_new` checks
/// it (`SAFECONV_INVALID_INPUT` naming `ca_pem` if it holds no usable CA certificate).
///
/// # Safety
/// `config` is NULL or a live config; `pem` is NULL or points to `len` readable bytes (no NUL
/// needed).
/// Threads: not thread-safe; set a config up on one thread at a time.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_config_add_ca_pem(
    config: *mut SafeconvConfig,
    pem: *const u8,
    len: usize,
) -> SafeconvResult {
    ffi_boundary! {
        let (config, pem) = (arg!(config), arg!(pem, len));
        config.options.ca_pems.push(pem.to_vec());
        Ok(())
    }
}

/// Adds the CAs in a file to trust (PEM or DER, as `safeconv_config_add_ca_pem`); may be
/// called several times. The file is read by `safeconv_client_new`, which fails with
/// `SAFECONV_INVALID_INPUT` naming `ca_file` (and the path) if it cannot be read or holds no
/// usable CA certificate.
///
/// # Safety
/// `config` is NULL or a live config; `path` is NULL or a NUL-terminated UTF-8 string, copied.
/// Threads: not thread-safe; set a config up on one thread at a time.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_config_add_ca_file(
    config: *mut SafeconvConfig,
    path: *const c_char,
) -> SafeconvResult {
    ffi_boundary! {
        let (config, path) = (arg!(config), arg!(path));
        config.options.ca_files.push(path.into());
        Ok(())
    }
}

/// Sends every request through the proxy at `url`, `http://host:port` (default, and for
/// NULL: the system's settings, `HTTPS_PROXY`, `ALL_PROXY` and `NO_PROXY`). An explicit
/// proxy replaces the system's settings, but `NO_PROXY` still applies to it unless
/// `safeconv_config_set_no_proxy` is called. HTTPS runs end to end through a `CONNECT`
/// tunnel. Credentials in the URL (`http://user:password@host:port`) are taken out of it and
/// sent to the proxy only, as `safeconv_config_set_proxy_credentials` does. Checked by
/// `safeconv_client_new` (`SAFECONV_INVALID_INPUT` naming `proxy_url`; the message never
/// repeats the URL).
///
/// # Safety
/// `config` is NULL or a live config; `url` is NULL or a NUL-terminated string, copied.
/// Threads: not thread-safe; set a config up on one thread at a time.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_config_set_proxy(
    config: *mut SafeconvConfig,
    url: *const c_char,
) -> SafeconvResult {
    ffi_boundary! {
        let (config, url) = (arg!(config), opt_arg!(url));
        config.options.proxy_url = url.map(str::to_owned);
        Ok(())
    }
}

/// Authenticates with the proxy set by `safeconv_config_set_proxy` (HTTP Basic, sent to the
/// proxy only). Both NULL removes the credentials; one without the other fails
/// `safeconv_client_new` naming the missing one (`proxy_username` or `proxy_password`), and
/// so do credentials without a proxy (`proxy_credentials`). The password is copied and never
/// written to logs or error messages.
///
/// # Safety
/// `config` is NULL or a live config; `username` and `password` are NULL or NUL-terminated
/// strings, copied.
/// Threads: not thread-safe; set a config up on one thread at a time.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_config_set_proxy_credentials(
    config: *mut SafeconvConfig,
    username: *const c_char,
    password: *const c_char,
) -> SafeconvResult {
    ffi_boundary! {
        let config = arg!(config);
        let (username, password) = (opt_arg!(username), opt_arg!(password));
        config.options.proxy_username = username.map(str::to_owned);
        config.options.proxy_password = password.map(Secret::from);
        Ok(())
    }
}

/// Sets the hosts that bypass the proxy of `safeconv_config_set_proxy`, in `NO_PROXY` syntax:
/// a comma-separated list of names (with their subdomains), IP addresses, CIDR ranges, or `*`
/// for all, e.g. `"relay.bank.example, 10.0.0.0/8"`. `""` bypasses nothing. NULL (the
/// default): the `NO_PROXY` variable applies. Only with an explicit proxy: without one,
/// `safeconv_client_new` refuses it naming `no_proxy` (the system proxy's exceptions are
/// `NO_PROXY`'s).
///
/// # Safety
/// `config` is NULL or a live config; `hosts` is NULL or a NUL-terminated string, copied.
/// Threads: not thread-safe; set a config up on one thread at a time.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_config_set_no_proxy(
    config: *mut SafeconvConfig,
    hosts: *const c_char,
) -> SafeconvResult {
    ffi_boundary! {
        let (config, hosts) = (arg!(config), opt_arg!(hosts));
        config.options.no_proxy = hosts.map(str::to_owned);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::error::SafeconvResult::SAFECONV_OK;

    #[test]
    fn every_trust_roots_number_is_a_choice_and_others_are_refused() {
        let choices: Vec<_> = (0..4).map(|n| trust_roots(n).unwrap()).collect();
        let expected = [
            TrustRoots::Bundled,
            TrustRoots::Native,
            TrustRoots::BundledAndNative,
            TrustRoots::AddedOnly,
        ];
        assert_eq!(choices, expected);
        match trust_roots(4) {
            Err(Error::InvalidInput { field, .. }) => assert_eq!(field, "trust_roots"),
            other => panic!("expected invalid input, got {other:?}"),
        }
    }

    #[test]
    fn trust_and_proxy_settings_reach_the_core_options() {
        let config = safeconv_config_new();
        let options = || &unsafe { &*config.cast::<ClientSettings>() }.options;
        let pem = b"-----BEGIN CERTIFICATE-----";
        unsafe {
            assert_eq!(safeconv_config_set_trust_roots(config, 2), SAFECONV_OK);
            assert_eq!(
                safeconv_config_add_ca_pem(config, pem.as_ptr(), pem.len()),
                SAFECONV_OK
            );
            assert_eq!(
                safeconv_config_add_ca_file(config, c"/etc/bank/ca.pem".as_ptr()),
                SAFECONV_OK
            );
            assert_eq!(
                safeconv_config_set_proxy(config, c"http://proxy:3128".as_ptr()),
                SAFECONV_OK
            );
            let (user, password) = (c"agent".as_ptr(), c"hunter2".as_ptr());
            assert_eq!(
                safeconv_config_set_proxy_credentials(config, user, password),
                SAFECONV_OK
            );
            assert_eq!(
                safeconv_config_set_no_proxy(config, c"".as_ptr()),
                SAFECONV_OK
            );
        }
        let set = options();
        assert_eq!(set.trust_roots, TrustRoots::BundledAndNative);
        assert_eq!(
            (set.ca_pems.len(), set.ca_pems[0].as_slice()),
            (1, &pem[..])
        );
        assert_eq!(set.ca_files, [std::path::PathBuf::from("/etc/bank/ca.pem")]);
        assert_eq!(set.proxy_url.as_deref(), Some("http://proxy:3128"));
        assert_eq!(set.proxy_username.as_deref(), Some("agent"));
        assert_eq!(
            set.proxy_password.as_ref().map(Secret::expose),
            Some("hunter2")
        );
        assert_eq!(set.no_proxy.as_deref(), Some(""));
        assert!(!format!("{set:?}").contains("hunter2"));
        // NULL goes back to the defaults: the system's proxy settings, no credentials.
        let null = std::ptr::null();
        unsafe {
            assert_eq!(safeconv_config_set_proxy(config, null), SAFECONV_OK);
            assert_eq!(
                safeconv_config_set_proxy_credentials(config, null, null),
                SAFECONV_OK
            );
            assert_eq!(safeconv_config_set_no_proxy(config, null), SAFECONV_OK);
        }
        let unset = options();
        assert_eq!(
            (&unset.proxy_url, &unset.proxy_username, &unset.no_proxy),
            (&None, &None, &None)
        );
        assert!(unset.proxy_password.is_none());
        unsafe { safeconv_config_free(config) };
    }
}
