//! How a [`Client`](crate::Client) is configured, and the checks that keep a bad configuration
//! from ever sending a request.

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;

use crate::error::{Error, Result};
use crate::nin::NinRules;
use crate::proxy::{ProxyOptions, ProxySettings};
use crate::secret::Secret;
use crate::tls::{CaSource, Trust, TrustRoots};
use crate::token::TokenProvider;

/// Signicat's API host, shared by sandbox and production accounts.
pub const DEFAULT_BASE_URL: &str = "https://api.signicat.com";
/// Default time one HTTP request may take, connection included.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Default pause between two status polls (Signicat recommends 1–3 s).
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(2);
/// The shortest poll interval allowed against a remote host.
pub const MIN_REMOTE_POLL_INTERVAL: Duration = Duration::from_secs(1);

/// How the SDK gets access tokens.
#[derive(Clone)]
pub enum Credentials {
    /// OAuth client credentials: the SDK fetches and caches tokens itself.
    ClientSecret {
        /// The API client's id.
        client_id: String,
        /// The API client's secret.
        client_secret: Secret,
    },
    /// Tokens come from your code, e.g. your backend, so no secret lives here (browsers, relays).
    Provider(Arc<dyn TokenProvider>),
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::ClientSecret {
                client_id,
                client_secret,
            } => f
                .debug_struct("ClientSecret")
                .field("client_id", client_id)
                .field("client_secret", client_secret)
                .finish(),
            Credentials::Provider(_) => f.write_str("Provider(..)"),
        }
    }
}

/// A checked configuration. Build one with [`ClientBuilder`](crate::ClientBuilder).
#[derive(Clone, Debug)]
pub struct Config {
    pub(crate) base_url: Url,
    pub(crate) token_url: Url,
    pub(crate) account_id: String,
    pub(crate) credentials: Credentials,
    pub(crate) request_timeout: Duration,
    pub(crate) poll_interval: Duration,
    pub(crate) user_agent: String,
    pub(crate) nin_rules: NinRules,
    pub(crate) trust: Trust,
    pub(crate) proxy: ProxySettings,
}

impl Config {
    /// The API base URL.
    pub fn base_url(&self) -> &str {
        self.base_url.as_str()
    }

    /// The token endpoint.
    pub fn token_url(&self) -> &str {
        self.token_url.as_str()
    }

    /// The Signicat account id.
    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    /// Time allowed for one HTTP request.
    pub fn request_timeout(&self) -> Duration {
        self.request_timeout
    }

    /// Pause between two status polls.
    pub fn poll_interval(&self) -> Duration {
        self.poll_interval
    }

    /// Which NINs [`Client::start_safe_conversation_for`](crate::Client::start_safe_conversation_for) accepts.
    pub fn nin_rules(&self) -> NinRules {
        self.nin_rules
    }

    /// Which root certificates HTTPS trusts, besides the added CAs.
    pub fn trust_roots(&self) -> TrustRoots {
        self.trust.roots
    }

    /// How many CA certificates were added with [`ClientBuilder::add_ca_pem`] and
    /// [`ClientBuilder::add_ca_file`].
    pub fn added_ca_count(&self) -> usize {
        self.trust.added.len()
    }

    /// The explicit proxy, without its credentials (`None`: the system's proxy settings).
    pub fn proxy_url(&self) -> Option<&str> {
        self.proxy.url.as_ref().map(Url::as_str)
    }

    /// The explicit proxy's exceptions, if given (`None`: `NO_PROXY` from the environment).
    pub fn no_proxy(&self) -> Option<&str> {
        self.proxy.no_proxy.as_deref()
    }
}

/// Builds a [`Client`](crate::Client).
///
/// ```
/// use std::time::Duration;
/// let client = safeconv::Client::builder()
///     .account_id("a-spge-4711")
///     .client_credentials("sandbox-client", "secret")
///     .poll_interval(Duration::from_secs(2))
///     .build()
///     .unwrap();
/// assert_eq!(client.config().token_url(), "https://api.signicat.com/auth/open/connect/token");
/// ```
#[derive(Clone, Debug)]
pub struct ClientBuilder {
    base_url: String,
    token_url: Option<String>,
    account_id: Option<String>,
    credentials: Option<Credentials>,
    request_timeout: Duration,
    poll_interval: Duration,
    user_agent: Option<String>,
    nin_rules: NinRules,
    trust_roots: TrustRoots,
    cas: Vec<CaSource>,
    proxy: ProxyOptions,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            base_url: DEFAULT_BASE_URL.to_owned(),
            token_url: None,
            account_id: None,
            credentials: None,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            poll_interval: DEFAULT_POLL_INTERVAL,
            user_agent: None,
            nin_rules: NinRules::strict(),
            trust_roots: TrustRoots::Bundled,
            cas: Vec::new(),
            proxy: ProxyOptions::default(),
        }
    }
}

impl ClientBuilder {
    /// The API base URL (default `https://api.signicat.com`). HTTPS only, except loopback
    /// addresses (`http://127.0.0.1:…` for the emulator).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// The token endpoint (default: `{base_url}/auth/open/connect/token`).
    pub fn token_url(mut self, url: impl Into<String>) -> Self {
        self.token_url = Some(url.into());
        self
    }

    /// Your Signicat account id (`signicat-accountId`), from the Signicat Dashboard.
    pub fn account_id(mut self, account_id: impl Into<String>) -> Self {
        self.account_id = Some(account_id.into());
        self
    }

    /// Authenticate with an API client's id and secret.
    pub fn client_credentials(
        mut self,
        client_id: impl Into<String>,
        secret: impl Into<Secret>,
    ) -> Self {
        self.credentials = Some(Credentials::ClientSecret {
            client_id: client_id.into(),
            client_secret: secret.into(),
        });
        self
    }

    /// Get access tokens from your own code instead of holding a secret.
    pub fn token_provider(mut self, provider: Arc<dyn TokenProvider>) -> Self {
        self.credentials = Some(Credentials::Provider(provider));
        self
    }

    /// Time allowed for one HTTP request, connecting included (default 10 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Pause between two status polls (default 2 s; under 1 s only for loopback hosts).
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// The `User-Agent` to send (default `safeconv/VERSION`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// Which NINs the client accepts when given as text (default: strict).
    pub fn nin_rules(mut self, rules: NinRules) -> Self {
        self.nin_rules = rules;
        self
    }

    /// Which root certificates HTTPS trusts (default [`TrustRoots::Bundled`], Mozilla's roots
    /// compiled into the library). Added CAs are trusted whatever the choice. Not available
    /// in the browser, whose own TLS decides: there `build()` refuses anything but the default.
    ///
    /// ```
    /// let client = safeconv::Client::builder()
    ///     .account_id("a-spge-4711")
    ///     .client_credentials("sandbox-client", "secret")
    ///     .trust_roots(safeconv::TrustRoots::BundledAndNative)
    ///     .build();
    /// # let _ = client;
    /// ```
    pub fn trust_roots(mut self, roots: TrustRoots) -> Self {
        self.trust_roots = roots;
        self
    }

    /// Also trust the CA certificates in `pem`: one or more `-----BEGIN CERTIFICATE-----`
    /// blocks (other blocks are skipped), or one certificate in DER. For a bank whose egress
    /// proxy inspects TLS with its own CA, or a relay with a private CA. May be called more
    /// than once. `build()` refuses text with no usable CA certificate
    /// ([`Error::InvalidInput`] for `ca_pem`).
    ///
    /// ```
    /// let err = safeconv::Client::builder()
    ///     .account_id("a-spge-4711")
    ///     .client_credentials("sandbox-client", "secret")
    ///     .add_ca_pem("not a certificate")
    ///     .build()
    ///     .unwrap_err();
    /// assert!(err.to_string().starts_with("invalid ca_pem: no certificate found"));
    /// ```
    pub fn add_ca_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.cas.push(CaSource::Pem(pem.into()));
        self
    }

    /// Also trust the CA certificates in the file at `path` (PEM or DER, as for
    /// [`ClientBuilder::add_ca_pem`]), read when the client is built. A file that cannot be read
    /// or holds no usable CA certificate is [`Error::InvalidInput`] for `ca_file`.
    pub fn add_ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.cas.push(CaSource::File(path.into()));
        self
    }

    /// Reach the API through this HTTP proxy, e.g. `http://proxy.bank.example:3128` (`https://`
    /// for a proxy that is itself reached over TLS). HTTPS goes through it in a `CONNECT`
    /// tunnel, so TLS still runs end to end with Signicat (or with a TLS-inspecting proxy, whose
    /// CA you then add with [`ClientBuilder::add_ca_pem`]).
    ///
    /// Without it the system's settings apply, as for any program: `HTTPS_PROXY`, `ALL_PROXY`
    /// (and `HTTP_PROXY` for plain-HTTP loopback URLs) with `NO_PROXY`, and on macOS and Windows
    /// the system configuration. An explicit proxy replaces them; `NO_PROXY` (read when the
    /// client is built) still applies to it unless [`ClientBuilder::no_proxy`] is given. Credentials in the URL
    /// (`http://user:password@host:port`, percent-encoded) are taken out of it and used as
    /// [`ClientBuilder::proxy_credentials`]. Not available in the browser.
    ///
    /// ```
    /// let client = safeconv::Client::builder()
    ///     .account_id("a-spge-4711")
    ///     .client_credentials("sandbox-client", "secret")
    ///     .proxy_url("http://agent:s3cret@proxy.bank.example:3128")
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(client.config().proxy_url(), Some("http://proxy.bank.example:3128/"));
    /// assert!(!format!("{client:?}").contains("s3cret"));
    /// ```
    pub fn proxy_url(mut self, url: impl Into<String>) -> Self {
        self.proxy.url = Some(url.into());
        self
    }

    /// The user name and password the [`proxy_url`](ClientBuilder::proxy_url) asks for (sent as
    /// HTTP Basic `Proxy-Authorization` to the proxy only; never logged, masked in `Debug`).
    pub fn proxy_credentials(
        mut self,
        username: impl Into<String>,
        password: impl Into<Secret>,
    ) -> Self {
        self.proxy.credentials = Some((username.into(), password.into()));
        self
    }

    /// Hosts that bypass the [`proxy_url`](ClientBuilder::proxy_url), in `NO_PROXY`'s syntax:
    /// a comma-separated list of host names (each covering its subdomains), IP addresses, CIDR
    /// ranges such as `10.0.0.0/8`, or `*` for every host. Given, it replaces the `NO_PROXY`
    /// variable; `""` bypasses nothing.
    pub fn no_proxy(mut self, hosts: impl Into<String>) -> Self {
        self.proxy.no_proxy = Some(hosts.into());
        self
    }

    /// Checks everything and builds the client.
    pub fn build(self) -> Result<crate::Client> {
        crate::Client::from_config(self.into_config()?)
    }

    pub(crate) fn into_config(self) -> Result<Config> {
        let base_url = parse_endpoint("base_url", &self.base_url)?;
        let token_url = match &self.token_url {
            Some(url) => parse_endpoint("token_url", url)?,
            None => join(&base_url, "auth/open/connect/token"),
        };
        let account_id = self.account_id.unwrap_or_default();
        if account_id.trim().is_empty() {
            return Err(Error::invalid_input(
                "account_id",
                "is required (find it in the Signicat Dashboard)",
            ));
        }
        if account_id.chars().any(char::is_control) {
            return Err(Error::invalid_input(
                "account_id",
                "must not contain control characters",
            ));
        }
        let credentials = match self.credentials {
            None => {
                return Err(Error::invalid_input(
                    "credentials",
                    "give a client id and secret, or a token provider",
                ));
            }
            Some(Credentials::ClientSecret {
                client_id,
                client_secret,
            }) => {
                if client_id.trim().is_empty() {
                    return Err(Error::invalid_input("client_id", "must not be empty"));
                }
                if client_secret.is_empty() {
                    return Err(Error::invalid_input("client_secret", "must not be empty"));
                }
                Credentials::ClientSecret {
                    client_id,
                    client_secret,
                }
            }
            Some(provider) => provider,
        };
        if self.request_timeout.is_zero() || self.request_timeout > Duration::from_secs(300) {
            return Err(Error::invalid_input(
                "request_timeout",
                "must be more than 0 and at most 300 seconds",
            ));
        }
        if self.poll_interval > Duration::from_secs(60) {
            return Err(Error::invalid_input(
                "poll_interval",
                "must be at most 60 seconds",
            ));
        }
        if self.poll_interval.is_zero() {
            return Err(Error::invalid_input("poll_interval", "must be more than 0"));
        }
        if self.poll_interval < MIN_REMOTE_POLL_INTERVAL && !is_loopback(&base_url) {
            return Err(Error::invalid_input(
                "poll_interval",
                "must be at least 1 second against a remote host (Signicat asks for 1–3 s)",
            ));
        }
        let user_agent = self
            .user_agent
            .unwrap_or_else(|| concat!("safeconv/", env!("CARGO_PKG_VERSION")).to_owned());
        if user_agent.chars().any(char::is_control) {
            return Err(Error::invalid_input(
                "user_agent",
                "must not contain control characters",
            ));
        }
        let trust = Trust::check(self.trust_roots, &self.cas)?;
        let proxy = self.proxy.check()?;
        Ok(Config {
            base_url,
            token_url,
            account_id,
            credentials,
            request_timeout: self.request_timeout,
            poll_interval: self.poll_interval,
            user_agent,
            nin_rules: self.nin_rules,
            trust,
            proxy,
        })
    }
}

fn parse_endpoint(field: &str, text: &str) -> Result<Url> {
    let url = Url::parse(text.trim())
        .map_err(|e| Error::invalid_input(field, format!("not a URL ({e})")))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(Error::invalid_input(
                field,
                "must use https (plain http is allowed only for loopback addresses)",
            ));
        }
        other => {
            return Err(Error::invalid_input(
                field,
                format!("unsupported scheme {other:?}"),
            ));
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::invalid_input(field, "has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid_input(field, "must not carry credentials"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::invalid_input(
            field,
            "must not have a query or fragment",
        ));
    }
    Ok(url)
}

/// `base` + `path`, keeping any path prefix of `base` (for a relay mounted under a path).
pub(crate) fn join(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    let prefix = base.path().trim_end_matches('/');
    url.set_path(&format!("{prefix}/{path}"));
    url
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builder() -> ClientBuilder {
        ClientBuilder::default()
            .account_id("a-1")
            .client_credentials("id", "secret")
    }

    fn field_of(result: Result<Config>) -> String {
        match result {
            Err(Error::InvalidInput { field, .. }) => field,
            other => panic!("expected invalid input, got {other:?}"),
        }
    }

    #[test]
    fn defaults() {
        let config = builder().into_config().unwrap();
        assert_eq!(config.base_url(), "https://api.signicat.com/");
        assert_eq!(
            config.token_url(),
            "https://api.signicat.com/auth/open/connect/token"
        );
        assert_eq!(config.poll_interval(), Duration::from_secs(2));
        assert!(config.user_agent.starts_with("safeconv/"));
    }

    #[test]
    fn https_only_except_loopback() {
        assert_eq!(
            field_of(builder().base_url("http://api.signicat.com").into_config()),
            "base_url"
        );
        assert_eq!(
            field_of(builder().token_url("http://10.0.0.1/token").into_config()),
            "token_url"
        );
        assert_eq!(
            field_of(builder().base_url("ftp://x").into_config()),
            "base_url"
        );
        assert_eq!(
            field_of(builder().base_url("not a url").into_config()),
            "base_url"
        );
        for ok in [
            "http://127.0.0.1:8080",
            "http://localhost:1",
            "http://[::1]:80",
            "http://127.9.9.9",
        ] {
            builder().base_url(ok).into_config().unwrap();
        }
    }

    #[test]
    fn prefix_paths_are_kept() {
        let config = builder()
            .base_url("https://relay.example.com/signicat/")
            .into_config()
            .unwrap();
        assert_eq!(
            config.token_url(),
            "https://relay.example.com/signicat/auth/open/connect/token"
        );
    }

    #[test]
    fn poll_interval_floor_is_for_remote_hosts_only() {
        assert_eq!(
            field_of(
                builder()
                    .poll_interval(Duration::from_millis(500))
                    .into_config()
            ),
            "poll_interval"
        );
        builder()
            .base_url("http://127.0.0.1:9")
            .poll_interval(Duration::from_millis(50))
            .into_config()
            .unwrap();
        assert_eq!(
            field_of(builder().poll_interval(Duration::ZERO).into_config()),
            "poll_interval"
        );
    }

    #[test]
    fn required_fields() {
        assert_eq!(
            field_of(
                ClientBuilder::default()
                    .client_credentials("id", "s")
                    .into_config()
            ),
            "account_id"
        );
        assert_eq!(
            field_of(ClientBuilder::default().account_id("a").into_config()),
            "credentials"
        );
        assert_eq!(
            field_of(builder().client_credentials("", "s").into_config()),
            "client_id"
        );
        assert_eq!(
            field_of(builder().client_credentials("id", "").into_config()),
            "client_secret"
        );
        assert_eq!(
            field_of(builder().request_timeout(Duration::ZERO).into_config()),
            "request_timeout"
        );
    }

    #[test]
    fn debug_hides_the_secret() {
        let text = format!("{:?}", builder().client_credentials("id", "hunter2"));
        assert!(!text.contains("hunter2"), "{text}");
    }
}
