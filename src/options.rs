//! Settings as plain records, for code that receives them from elsewhere (a binding, a config
//! file) rather than calling builder methods: one place reads them, with one set of rules.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::client::Client;
use crate::config::ClientBuilder;
use crate::error::{Error, Result};
use crate::nin::{Nin, NinRules};
use crate::request::SafeConversation;
use crate::secret::Secret;
use crate::tls::TrustRoots;
use crate::token::TokenProvider;

/// A client's settings as plain data. `None` means the default of [`ClientBuilder`].
///
/// Credentials are either `client_id` + `client_secret`, or a token provider passed to
/// [`ClientOptions::build`], never both.
///
/// ```
/// use safeconv::ClientOptions;
/// let client = ClientOptions {
///     account_id: "a-spge-4711".into(),
///     client_id: Some("sandbox-client".into()),
///     client_secret: Some("secret".into()),
///     ..ClientOptions::default()
/// }
/// .build(None)
/// .unwrap();
/// assert_eq!(client.config().account_id(), "a-spge-4711");
/// ```
#[derive(Clone, Default, PartialEq)]
pub struct ClientOptions {
    /// Your Signicat account id (required).
    pub account_id: String,
    /// The API base URL (default `https://api.signicat.com`).
    pub base_url: Option<String>,
    /// The token endpoint (default `{base_url}/auth/open/connect/token`).
    pub token_url: Option<String>,
    /// The API client's id, with `client_secret`.
    pub client_id: Option<String>,
    /// The API client's secret, with `client_id`.
    pub client_secret: Option<Secret>,
    /// Time allowed for one HTTP request (default 10 s).
    pub request_timeout: Option<Duration>,
    /// Pause between two status polls (default 2 s).
    pub poll_interval: Option<Duration>,
    /// The `User-Agent` to send (default `safeconv/VERSION`).
    pub user_agent: Option<String>,
    /// Which NINs are accepted when given as text (default: strict).
    pub nin_rules: NinRules,
    /// Which root certificates HTTPS trusts (default: the bundled Mozilla roots).
    pub trust_roots: TrustRoots,
    /// Extra CAs to trust, each PEM (one or more certificates) or one DER certificate: e.g. a
    /// bank's TLS-inspecting proxy.
    pub ca_pems: Vec<Vec<u8>>,
    /// Files of extra CAs to trust (PEM or DER), read when the client is built.
    pub ca_files: Vec<PathBuf>,
    /// An explicit proxy, `http://host:port` (credentials in the URL are taken out). Without it
    /// the system's proxy variables (`HTTPS_PROXY`, …) apply.
    pub proxy_url: Option<String>,
    /// The proxy's user name, with `proxy_password`.
    pub proxy_username: Option<String>,
    /// The proxy's password, with `proxy_username`. Never logged.
    pub proxy_password: Option<Secret>,
    /// Hosts that bypass the explicit proxy (`NO_PROXY` syntax); without it `NO_PROXY` applies.
    pub no_proxy: Option<String>,
}

impl ClientOptions {
    /// A builder with these settings and the credentials: the client id and secret, or
    /// `token_provider`. Refuses both at once, and an id without a secret or the reverse.
    pub fn builder(&self, token_provider: Option<Arc<dyn TokenProvider>>) -> Result<ClientBuilder> {
        let mut builder = Client::builder()
            .account_id(self.account_id.clone())
            .nin_rules(self.nin_rules);
        builder = match (&self.client_id, &self.client_secret, token_provider) {
            (None, None, Some(provider)) => builder.token_provider(provider),
            (Some(id), Some(secret), None) => {
                builder.client_credentials(id.clone(), secret.clone())
            }
            (None, None, None) => builder,
            (Some(_), None, None) => {
                return Err(Error::invalid_input(
                    "client_secret",
                    "is required with a client id",
                ));
            }
            (None, Some(_), None) => {
                return Err(Error::invalid_input(
                    "client_id",
                    "is required with a client secret",
                ));
            }
            (_, _, Some(_)) => {
                return Err(Error::invalid_input(
                    "credentials",
                    "give a client id and secret, or a token provider, not both",
                ));
            }
        };
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
        builder = builder.trust_roots(self.trust_roots);
        for pem in &self.ca_pems {
            builder = builder.add_ca_pem(pem.clone());
        }
        for file in &self.ca_files {
            builder = builder.add_ca_file(file.clone());
        }
        if let Some(url) = &self.proxy_url {
            builder = builder.proxy_url(url.clone());
        }
        match (&self.proxy_username, &self.proxy_password) {
            (Some(user), Some(password)) => {
                builder = builder.proxy_credentials(user.clone(), password.clone());
            }
            (None, None) => {}
            (Some(_), None) => {
                return Err(Error::invalid_input(
                    "proxy_password",
                    "is required with a proxy user name",
                ));
            }
            (None, Some(_)) => {
                return Err(Error::invalid_input(
                    "proxy_username",
                    "is required with a proxy password",
                ));
            }
        }
        if let Some(hosts) = &self.no_proxy {
            builder = builder.no_proxy(hosts.clone());
        }
        Ok(builder)
    }

    /// Checks everything and builds the client (see [`ClientOptions::builder`]).
    pub fn build(&self, token_provider: Option<Arc<dyn TokenProvider>>) -> Result<Client> {
        self.builder(token_provider)?.build()
    }
}

impl fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientOptions")
            .field("account_id", &self.account_id)
            .field("base_url", &self.base_url)
            .field("token_url", &self.token_url)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("request_timeout", &self.request_timeout)
            .field("poll_interval", &self.poll_interval)
            .field("user_agent", &self.user_agent)
            .field("nin_rules", &self.nin_rules)
            .field("trust_roots", &self.trust_roots)
            .field("ca_pems", &self.ca_pems.len())
            .field("ca_files", &self.ca_files)
            .field(
                "proxy_url",
                &self.proxy_url.as_deref().map(crate::proxy::display_text),
            )
            .field("proxy_username", &self.proxy_username)
            .field("proxy_password", &self.proxy_password)
            .field("no_proxy", &self.no_proxy)
            .finish()
    }
}

/// The optional settings of one Safe Conversation as plain data; `None` keeps the default.
///
/// ```
/// use safeconv::{NinRules, StartOptions};
/// let options = StartOptions {
///     attributes: Some(vec!["name".into(), "nin".into()]),
///     language: Some("nb".into()),
///     ..StartOptions::default()
/// };
/// let conversation = options.conversation("01018010018", NinRules::strict()).unwrap();
/// assert_eq!(conversation.to_request().requested_attributes, ["name", "nin"]);
/// // Every field is checked here, before anything is sent.
/// let bad = StartOptions { language: Some("norsk".into()), ..StartOptions::default() };
/// assert!(bad.conversation("01018010018", NinRules::strict()).is_err());
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StartOptions {
    /// Attributes to request instead of the default (name, firstName, lastName, nin,
    /// dateOfBirth).
    pub attributes: Option<Vec<String>>,
    /// Language of the texts the caller sees (ISO 639-1, e.g. `nb`).
    pub language: Option<String>,
    /// Session lifetime in seconds (Signicat raises values under 300 to 300).
    pub session_lifetime: Option<u32>,
    /// Your own reference (e.g. the call id), echoed back by Signicat.
    pub external_reference: Option<String>,
    /// Tags for webhook filtering (at most 100 of at most 100 characters).
    pub tags: Option<Vec<String>>,
    /// Level of assurance to require: `low`, `substantial` or `high`.
    pub requested_loa: Option<String>,
    /// Which NINs this start accepts, instead of the client's rules.
    pub nin_rules: Option<NinRules>,
}

impl StartOptions {
    /// The Safe Conversation for `nin` with these options, every part checked: the NIN with
    /// `nin_rules` (or `client_rules`), the fields with Signicat's limits.
    pub fn conversation(&self, nin: &str, client_rules: NinRules) -> Result<SafeConversation> {
        let nin = Nin::parse_with(nin, self.nin_rules.unwrap_or(client_rules))?;
        let mut conversation = SafeConversation::new(nin);
        if let Some(attributes) = &self.attributes {
            conversation = conversation.attributes(attributes.iter().cloned());
        }
        if let Some(language) = &self.language {
            conversation = conversation.language(language.clone());
        }
        if let Some(seconds) = self.session_lifetime {
            conversation = conversation.session_lifetime(seconds);
        }
        if let Some(reference) = &self.external_reference {
            conversation = conversation.external_reference(reference.clone());
        }
        if let Some(tags) = &self.tags {
            conversation = conversation.tags(tags.iter().cloned());
        }
        if let Some(loa) = &self.requested_loa {
            conversation = conversation.requested_loa(loa.clone());
        }
        conversation.to_request().validate()?;
        Ok(conversation)
    }
}

impl Client {
    /// The Safe Conversation for `nin` with `options`, checked with this client's NIN rules
    /// (unless the options name their own). Nothing is sent.
    ///
    /// ```
    /// # let client = safeconv::Client::builder().account_id("a").client_credentials("i", "s").build().unwrap();
    /// let conversation = client.conversation("01018010018", &safeconv::StartOptions::default()).unwrap();
    /// assert_eq!(conversation.nin().masked(), "010180*****");
    /// ```
    pub fn conversation(&self, nin: &str, options: &StartOptions) -> Result<SafeConversation> {
        options.conversation(nin, self.config().nin_rules())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::AccessToken;

    struct Fixed;
    impl TokenProvider for Fixed {
        fn access_token(&self) -> crate::BoxFuture<'_, Result<AccessToken>> {
            Box::pin(async { Ok(AccessToken::new("t")) })
        }
    }

    fn field_of(result: Result<Client>) -> String {
        match result {
            Err(Error::InvalidInput { field, .. }) => field,
            other => panic!("expected invalid input, got {other:?}"),
        }
    }

    #[test]
    fn one_rule_for_credentials() {
        let base = ClientOptions {
            account_id: "a-1".into(),
            ..ClientOptions::default()
        };
        let secret = ClientOptions {
            client_id: Some("id".into()),
            client_secret: Some("s".into()),
            ..base.clone()
        };
        secret.build(None).unwrap();
        base.build(Some(Arc::new(Fixed))).unwrap();
        assert_eq!(field_of(secret.build(Some(Arc::new(Fixed)))), "credentials");
        assert_eq!(field_of(base.build(None)), "credentials");
        let no_secret = ClientOptions {
            client_id: Some("id".into()),
            ..base.clone()
        };
        assert_eq!(field_of(no_secret.build(None)), "client_secret");
        let no_id = ClientOptions {
            client_secret: Some("s".into()),
            ..base.clone()
        };
        assert_eq!(field_of(no_id.build(None)), "client_id");
    }

    #[test]
    fn settings_reach_the_config_and_the_secret_stays_hidden() {
        let options = ClientOptions {
            account_id: "a-1".into(),
            base_url: Some("http://127.0.0.1:9".into()),
            client_id: Some("id".into()),
            client_secret: Some("hunter2".into()),
            poll_interval: Some(Duration::from_millis(50)),
            request_timeout: Some(Duration::from_secs(3)),
            ..ClientOptions::default()
        };
        assert!(!format!("{options:?}").contains("hunter2"));
        let client = options.build(None).unwrap();
        assert_eq!(client.config().poll_interval(), Duration::from_millis(50));
        assert_eq!(client.config().request_timeout(), Duration::from_secs(3));
        assert_eq!(client.config().base_url(), "http://127.0.0.1:9/");
    }

    #[test]
    fn trust_and_proxy_settings_reach_the_config_and_stay_masked() {
        let options = ClientOptions {
            account_id: "a-1".into(),
            client_id: Some("id".into()),
            client_secret: Some("s".into()),
            trust_roots: TrustRoots::BundledAndNative,
            proxy_url: Some("http://user:url-secret@127.0.0.1:3128".into()),
            no_proxy: Some("localhost".into()),
            ..ClientOptions::default()
        };
        let text = format!("{options:?}");
        assert!(!text.contains("url-secret"), "{text}");
        let client = options.build(None).unwrap();
        assert_eq!(client.config().trust_roots(), TrustRoots::BundledAndNative);
        assert_eq!(client.config().proxy_url(), Some("http://127.0.0.1:3128/"));
        assert_eq!(client.config().no_proxy(), Some("localhost"));

        let half = ClientOptions {
            proxy_url: Some("http://127.0.0.1:3128".into()),
            proxy_username: Some("agent".into()),
            ..options.clone()
        };
        assert_eq!(field_of(half.build(None)), "proxy_password");
        let pem = ClientOptions {
            ca_pems: vec![b"not a certificate".to_vec()],
            ..options.clone()
        };
        assert_eq!(field_of(pem.build(None)), "ca_pem");
    }

    #[test]
    fn start_options_fill_and_check_the_request() {
        let options = StartOptions {
            attributes: Some(vec!["name".into()]),
            language: Some("nb".into()),
            session_lifetime: Some(600),
            external_reference: Some("call-1".into()),
            tags: Some(vec!["desk-7".into()]),
            requested_loa: Some("substantial".into()),
            nin_rules: None,
        };
        let request = options
            .conversation("01018010018", NinRules::strict())
            .unwrap()
            .into_request();
        assert_eq!(request.requested_attributes, ["name"]);
        assert_eq!(request.language.as_deref(), Some("nb"));
        assert_eq!(request.session_lifetime, Some(600));
        assert_eq!(request.external_reference.as_deref(), Some("call-1"));
        assert_eq!(request.tags, ["desk-7"]);
        assert_eq!(request.requested_loa.as_deref(), Some("substantial"));

        let zero = StartOptions {
            session_lifetime: Some(0),
            ..StartOptions::default()
        };
        assert!(matches!(
            zero.conversation("01018010018", NinRules::strict()),
            Err(Error::InvalidInput { field, .. }) if field == "session_lifetime"
        ));
        // The guide's number fails the check digits unless this start allows it.
        assert!(
            StartOptions::default()
                .conversation("17029012345", NinRules::strict())
                .is_err()
        );
        let lenient = StartOptions {
            nin_rules: Some(NinRules::strict().allow_invalid_check_digits(true)),
            ..StartOptions::default()
        };
        lenient
            .conversation("17029012345", NinRules::strict())
            .unwrap();
    }
}
