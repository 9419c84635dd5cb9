//! Reaching Signicat through a proxy: the system's proxy settings by default (`HTTPS_PROXY`,
//! `ALL_PROXY`, `NO_PROXY`, and on macOS and Windows the system configuration), or an explicit
//! proxy URL with optional credentials and its own exceptions; and naming the proxy, never its
//! credentials, when it fails.
//!
//! In the browser (wasm32) the browser's own proxy settings apply, so none of this does.

use std::fmt;

use reqwest::Url;

use crate::error::{Error, Result};
use crate::secret::Secret;

/// The proxy settings as given to the builder.
#[derive(Clone, Default)]
pub(crate) struct ProxyOptions {
    pub(crate) url: Option<String>,
    pub(crate) credentials: Option<(String, Secret)>,
    pub(crate) no_proxy: Option<String>,
}

/// Checked proxy settings. `url` is `None` for the system's settings; it never carries the
/// credentials, which live in `credentials` only.
#[derive(Clone, Default, PartialEq)]
pub(crate) struct ProxySettings {
    pub(crate) url: Option<Url>,
    pub(crate) credentials: Option<(String, Secret)>,
    pub(crate) no_proxy: Option<String>,
}

/// The URL without user name and password, for `Debug` output and errors.
fn without_credentials(url: &Url) -> Url {
    let mut url = url.clone();
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url
}

/// The proxy's name in messages: `http://host:port`.
fn display_name(url: &Url) -> String {
    without_credentials(url)
        .as_str()
        .trim_end_matches('/')
        .to_owned()
}

/// A proxy URL as given, for `Debug` output: the name only once it parses, never a password.
pub(crate) fn display_text(text: &str) -> String {
    match Url::parse(text.trim()) {
        Ok(url) => display_name(&url),
        Err(_) => "(not a URL)".to_owned(),
    }
}

fn debug_credentials(credentials: &Option<(String, Secret)>) -> Option<String> {
    credentials.as_ref().map(|(user, _)| format!("{user}:***"))
}

impl fmt::Debug for ProxyOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL as given may carry a password: show it only once it parses and is cleaned.
        let url = self.url.as_deref().map(display_text);
        f.debug_struct("ProxyOptions")
            .field("url", &url)
            .field("credentials", &debug_credentials(&self.credentials))
            .field("no_proxy", &self.no_proxy)
            .finish()
    }
}

impl fmt::Debug for ProxySettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxySettings")
            .field("url", &self.url.as_ref().map(display_name))
            .field("credentials", &debug_credentials(&self.credentials))
            .field("no_proxy", &self.no_proxy)
            .finish()
    }
}

fn percent_decoded(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

impl ProxyOptions {
    /// Checks the settings, so that a bad proxy fails `build()` naming its field.
    pub(crate) fn check(&self) -> Result<ProxySettings> {
        let Some(text) = &self.url else {
            if self.credentials.is_some() {
                return Err(Error::invalid_input(
                    "proxy_credentials",
                    "need a proxy_url (the system proxy's credentials come with its URL, as in \
                     HTTPS_PROXY=http://user:password@host:port)",
                ));
            }
            if self.no_proxy.is_some() {
                return Err(Error::invalid_input(
                    "no_proxy",
                    "applies to an explicit proxy_url; the system proxy's exceptions come from \
                     NO_PROXY",
                ));
            }
            return Ok(ProxySettings::default());
        };
        if cfg!(target_arch = "wasm32") {
            return Err(Error::invalid_input(
                "proxy_url",
                "is not available in the browser, which uses its own proxy settings",
            ));
        }
        // The `url` crate's errors never quote the input, which may hold a password.
        let url = Url::parse(text.trim())
            .map_err(|e| Error::invalid_input("proxy_url", format!("not a URL ({e})")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Error::invalid_input(
                "proxy_url",
                "must start with http:// (or https:// for a proxy reached over TLS itself)",
            ));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(Error::invalid_input("proxy_url", "has no host"));
        }
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
            return Err(Error::invalid_input(
                "proxy_url",
                "must be only a scheme, host and port, as in http://proxy.example:3128",
            ));
        }
        let in_url = (!url.username().is_empty()).then(|| {
            (
                percent_decoded(url.username()),
                Secret::new(percent_decoded(url.password().unwrap_or_default())),
            )
        });
        let credentials = match (in_url, &self.credentials) {
            (Some(_), Some(_)) => {
                return Err(Error::invalid_input(
                    "proxy_url",
                    "carries a user name and password, and proxy_credentials were given too: \
                     give them once",
                ));
            }
            (Some(from_url), None) => Some(from_url),
            (None, given) => given.clone(),
        };
        if let Some((user, _)) = &credentials
            && (user.is_empty() || user.contains(':') || user.chars().any(char::is_control))
        {
            return Err(Error::invalid_input(
                "proxy_credentials",
                "the user name must not be empty, nor contain ':' or control characters",
            ));
        }
        if let Some(list) = &self.no_proxy
            && list.chars().any(char::is_control)
        {
            return Err(Error::invalid_input(
                "no_proxy",
                "must not contain control characters",
            ));
        }
        Ok(ProxySettings {
            url: Some(without_credentials(&url)),
            credentials,
            no_proxy: self.no_proxy.clone(),
        })
    }
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) use native::{ProxyRoutes, TunnelFailure, auth_required, tunnel_failure};

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use hyper_util::client::proxy::matcher::Matcher;
    use reqwest::Url;

    use super::{ProxySettings, display_name};
    use crate::error::{Error, Result, TransportErrorKind};

    /// Which proxy, if any, carries a request: the same rules reqwest routes by (both use
    /// hyper-util's matcher), kept so that an error can name the proxy.
    pub(crate) struct ProxyRoutes {
        matcher: Matcher,
    }

    impl ProxyRoutes {
        /// Configures `builder` for `settings` and returns the routes it will take.
        pub(crate) fn apply(
            settings: &ProxySettings,
            builder: reqwest::ClientBuilder,
        ) -> Result<(reqwest::ClientBuilder, ProxyRoutes)> {
            let Some(url) = &settings.url else {
                // reqwest reads the same system settings itself.
                let routes = ProxyRoutes {
                    matcher: Matcher::from_system(),
                };
                return Ok((builder, routes));
            };
            let exceptions = settings.no_proxy.clone().unwrap_or_else(|| {
                std::env::var("NO_PROXY")
                    .or_else(|_| std::env::var("no_proxy"))
                    .unwrap_or_default()
            });
            // `*` means every host, as in curl (hyper-util's matcher applies it to names only,
            // not to IP addresses).
            if exceptions.split(',').any(|entry| entry.trim() == "*") {
                let routes = ProxyRoutes {
                    matcher: Matcher::builder().build(),
                };
                return Ok((builder.no_proxy(), routes));
            }
            let mut proxy = reqwest::Proxy::all(url.as_str()).map_err(|_| {
                Error::invalid_input("proxy_url", "is not a proxy URL reqwest accepts")
            })?;
            if let Some((user, password)) = &settings.credentials {
                proxy = proxy.basic_auth(user, password.expose());
            }
            let proxy = proxy.no_proxy(reqwest::NoProxy::from_string(&exceptions));
            let routes = ProxyRoutes {
                matcher: Matcher::builder()
                    .all(url.to_string())
                    .no(exceptions)
                    .build(),
            };
            // An explicit proxy replaces the system's settings.
            Ok((builder.proxy(proxy), routes))
        }

        /// The proxy that carries requests to `url` (`http://host:port`), if any.
        pub(crate) fn proxy_for(&self, url: &Url) -> Option<String> {
            let uri: http::Uri = url.as_str().parse().ok()?;
            let intercept = self.matcher.intercept(&uri)?;
            let proxy = Url::parse(&intercept.uri().to_string()).ok()?;
            Some(display_name(&proxy))
        }
    }

    /// How a `CONNECT` through a proxy failed.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub(crate) enum TunnelFailure {
        /// No connection to the proxy itself could be made (the cause follows in the chain).
        Unreachable,
        /// The proxy answered 407.
        AuthRequired,
        /// The proxy answered another status than 200 (403, 502, 503…).
        Refused,
        /// The proxy closed the connection, or it broke, before it answered.
        Closed,
        /// The proxy's answer could not be read.
        Unreadable,
    }

    /// Recognises hyper-util's tunnel error, which reqwest reports for a failed `CONNECT`. Its
    /// type is private, so this goes by its `Display` text ("tunnel error: …"); the proxy tests
    /// (tests/proxy.rs) pin every case, so a change in hyper-util fails them rather than
    /// silently making proxy failures anonymous.
    pub(crate) fn tunnel_failure(
        cause: &(dyn std::error::Error + 'static),
    ) -> Option<TunnelFailure> {
        let text = cause.to_string();
        let what = text.strip_prefix("tunnel error: ")?;
        Some(match what {
            "failed to create underlying connection" => TunnelFailure::Unreachable,
            "proxy authorization required" => TunnelFailure::AuthRequired,
            "unsuccessful" => TunnelFailure::Refused,
            "unexpected end of file" | "io error establishing tunnel" => TunnelFailure::Closed,
            _ => TunnelFailure::Unreadable,
        })
    }

    impl TunnelFailure {
        /// The error for this failure of `proxy` opening a tunnel to `target` (`host:port`).
        /// `Unreachable` and `Closed` are connect errors (transient, and the request certainly
        /// was not sent); the proxy saying no is [`TransportErrorKind::Proxy`].
        pub(crate) fn error(self, proxy: &str, target: &str) -> Error {
            let (kind, message) = match self {
                TunnelFailure::Unreachable => (
                    TransportErrorKind::Connect,
                    format!("cannot reach the proxy {proxy}"),
                ),
                TunnelFailure::Closed => (
                    TransportErrorKind::Connect,
                    format!(
                        "the proxy {proxy} closed the connection before answering CONNECT {target}"
                    ),
                ),
                TunnelFailure::AuthRequired => (TransportErrorKind::Proxy, auth_required(proxy)),
                TunnelFailure::Refused => (
                    TransportErrorKind::Proxy,
                    format!(
                        "the proxy {proxy} refused to open a tunnel to {target} (an error status \
                         for CONNECT: 403 for its policy, 502 or 503 when it cannot reach the host)"
                    ),
                ),
                TunnelFailure::Unreadable => (
                    TransportErrorKind::Proxy,
                    format!(
                        "the proxy {proxy} answered CONNECT {target} with something unreadable"
                    ),
                ),
            };
            Error::Transport { kind, message }
        }
    }

    /// A 407 from `proxy`, to a tunnel or a forwarded request.
    pub(crate) fn auth_required(proxy: &str) -> String {
        format!(
            "the proxy {proxy} asked for credentials (HTTP 407 Proxy Authentication Required): \
             the proxy user name or password is missing or wrong"
        )
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use crate::proxy::ProxyOptions;

        fn routes_of(url: &str, no_proxy: &str) -> ProxyRoutes {
            let settings = ProxyOptions {
                url: Some(url.to_owned()),
                no_proxy: Some(no_proxy.to_owned()),
                ..Default::default()
            }
            .check()
            .unwrap();
            ProxyRoutes::apply(&settings, reqwest::Client::builder())
                .unwrap()
                .1
        }

        #[test]
        fn names_the_proxy_that_carries_a_url() {
            let routes = routes_of(
                "http://agent:s3cret@proxy.bank.example:3128",
                "relay.bank.example, 10.0.0.0/8",
            );
            let name = |url: &str| routes.proxy_for(&Url::parse(url).unwrap());
            assert_eq!(
                name("https://api.signicat.com/auth/rest/sessions").as_deref(),
                Some("http://proxy.bank.example:3128")
            );
            assert_eq!(name("https://relay.bank.example/x"), None);
            assert_eq!(name("https://eu.relay.bank.example/x"), None);
            assert_eq!(name("https://10.1.2.3/x"), None);
            let everything = routes_of("http://proxy.bank.example:3128", "example.com, *");
            assert_eq!(
                everything.proxy_for(&Url::parse("https://127.0.0.1:8443/").unwrap()),
                None
            );
        }

        #[test]
        fn recognises_each_tunnel_failure() {
            #[derive(Debug)]
            struct Text(&'static str);
            impl std::fmt::Display for Text {
                fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str(self.0)
                }
            }
            impl std::error::Error for Text {}
            for (text, failure) in [
                (
                    "tunnel error: failed to create underlying connection",
                    Some(TunnelFailure::Unreachable),
                ),
                (
                    "tunnel error: proxy authorization required",
                    Some(TunnelFailure::AuthRequired),
                ),
                ("tunnel error: unsuccessful", Some(TunnelFailure::Refused)),
                (
                    "tunnel error: unexpected end of file",
                    Some(TunnelFailure::Closed),
                ),
                (
                    "tunnel error: proxy response headers too long",
                    Some(TunnelFailure::Unreadable),
                ),
                ("tcp connect error", None),
            ] {
                assert_eq!(tunnel_failure(&Text(text)), failure, "{text}");
            }
        }
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    fn options(url: &str) -> ProxyOptions {
        ProxyOptions {
            url: Some(url.to_owned()),
            ..Default::default()
        }
    }

    fn field_of(result: Result<ProxySettings>) -> String {
        match result {
            Err(Error::InvalidInput { field, .. }) => field,
            other => panic!("expected invalid input, got {other:?}"),
        }
    }

    #[test]
    fn the_system_settings_by_default() {
        assert_eq!(
            ProxyOptions::default().check().unwrap(),
            ProxySettings::default()
        );
    }

    #[test]
    fn credentials_in_the_url_are_taken_out_of_it() {
        let settings = options("http://agent%40bank:p%3Ass+w@proxy.example:3128/")
            .check()
            .unwrap();
        assert_eq!(
            settings.url.as_ref().map(Url::as_str),
            Some("http://proxy.example:3128/")
        );
        let (user, password) = settings.credentials.clone().unwrap();
        assert_eq!((user.as_str(), password.expose()), ("agent@bank", "p:ss+w"));
        let debug = format!("{settings:?}");
        assert!(
            !debug.contains("p:ss") && !debug.contains("p%3Ass"),
            "{debug}"
        );
        assert!(debug.contains("agent@bank:***"), "{debug}");
    }

    #[test]
    fn debug_never_shows_a_password() {
        for url in [
            "http://agent:hunter2@proxy.example:3128",
            "http://agent:hunter2@[bad",
        ] {
            let mut given = options(url);
            given.credentials = Some(("agent".into(), Secret::new("hunter2")));
            let debug = format!("{given:?}");
            assert!(!debug.contains("hunter2"), "{debug}");
        }
    }

    #[test]
    fn bad_settings_name_their_field() {
        assert_eq!(field_of(options("not a url").check()), "proxy_url");
        assert_eq!(
            field_of(options("socks5://proxy:1080").check()),
            "proxy_url"
        );
        assert_eq!(
            field_of(options("http://proxy:3128/path").check()),
            "proxy_url"
        );
        let mut both = options("http://a:b@proxy:3128");
        both.credentials = Some(("a".into(), Secret::new("b")));
        assert_eq!(field_of(both.check()), "proxy_url");
        let mut colon = options("http://proxy:3128");
        colon.credentials = Some(("a:b".into(), Secret::new("c")));
        assert_eq!(field_of(colon.check()), "proxy_credentials");
        let lonely = ProxyOptions {
            credentials: Some(("a".into(), Secret::new("b"))),
            ..Default::default()
        };
        assert_eq!(field_of(lonely.check()), "proxy_credentials");
        let lonely = ProxyOptions {
            no_proxy: Some("localhost".into()),
            ..Default::default()
        };
        assert_eq!(field_of(lonely.check()), "no_proxy");
    }
}
