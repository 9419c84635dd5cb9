//! The relay's settings: a TOML file for everything, command-line options and environment
//! variables on top for the common ones (see `docs/relay.md`), and the checks that refuse a
//! configuration that would be unsafe.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use safeconv::{NinRules, Secret};
use serde::Deserialize;

use crate::audit::AuditKey;
use crate::auth::{AgentKeys, Authenticator, JwtSettings, JwtVerifier};
use crate::policy::{CreatePolicy, NBID_ATTRIBUTES};
use crate::service::{HttpSettings, Limits, RelayConfig};
use crate::store::{DatabaseOptions, OnActiveSession, SqlStore, Store, Window};
use crate::upstream::UpstreamSettings;

/// The default database: a SQLite file in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://safeconv-relay.db";
/// The default listening address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8180";

/// The TOML configuration file. Every key is optional; unknown keys are refused (a typo must
/// not silently leave a default in place).
///
/// ```
/// let file: safeconv_relay::settings::FileConfig = toml::from_str(r#"
///     database_url = "sqlite:///var/lib/safeconv-relay/relay.db"
///     allowed_origins = ["https://softphone.example"]
///     [limits]
///     per_nin = 3
///     per_nin_window_secs = 900
/// "#).unwrap();
/// assert_eq!(file.limits.per_nin, Some(3));
/// ```
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Address of the session API.
    pub listen: Option<String>,
    /// Address of `/healthz`, `/readyz`, `/metrics` (else served on `listen`).
    pub internal_listen: Option<String>,
    /// `sqlite:///abs/path.db`, `sqlite://relative.db` or `postgres://…`.
    pub database_url: Option<String>,
    /// The audit key file.
    pub audit_key_file: Option<PathBuf>,
    /// Earlier audit keys, to verify records sealed before a rotation.
    #[serde(default)]
    pub previous_audit_key_files: Vec<PathBuf>,
    /// The agent key file.
    pub agent_keys: Option<PathBuf>,
    /// CORS origins.
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    /// This instance's name in the audit log (default: the host name).
    pub instance: Option<String>,
    /// Signicat.
    #[serde(default)]
    pub upstream: UpstreamFile,
    /// JWT agents.
    #[serde(default)]
    pub jwt: JwtFile,
    /// Create policy.
    #[serde(default)]
    pub policy: PolicyFile,
    /// Create limits.
    #[serde(default)]
    pub limits: LimitsFile,
    /// HTTP.
    #[serde(default)]
    pub http: HttpFile,
    /// Database.
    #[serde(default)]
    pub database: DatabaseFile,
}

/// `[upstream]`
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct UpstreamFile {
    pub base_url: Option<String>,
    pub token_url: Option<String>,
    pub account_id: Option<String>,
    pub client_id: Option<String>,
    /// A file holding the client secret (never the secret itself in this file).
    pub client_secret_file: Option<PathBuf>,
    pub request_timeout_ms: Option<u64>,
    /// The longest a create may take at Signicat, the core's retry included (default 60).
    pub create_deadline_secs: Option<u64>,
    /// Root certificates: `bundled` (default), `native`, `bundled-and-native`, `added-only`.
    pub roots: Option<String>,
    /// Extra CA files (PEM or DER), e.g. the bank's TLS-inspecting proxy's CA.
    #[serde(default)]
    pub ca_files: Vec<PathBuf>,
    /// An explicit proxy, `http://host:port` (default: `HTTPS_PROXY` and `NO_PROXY`).
    pub proxy: Option<String>,
    /// The proxy's user name.
    pub proxy_user: Option<String>,
    /// A file holding the proxy's password (never the password itself in this file).
    pub proxy_password_file: Option<PathBuf>,
    /// The proxy password from `SAFECONV_PROXY_PASSWORD`, set by the binary; never read from
    /// the file (`proxy_password_file` is).
    #[serde(skip)]
    pub proxy_password: Option<Secret>,
    /// Hosts that bypass `proxy`, in `NO_PROXY` syntax.
    pub no_proxy: Option<String>,
}

/// `[jwt]`
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct JwtFile {
    pub jwks_url: Option<String>,
    pub issuer: Option<String>,
    pub audience: Option<String>,
    pub agent_claim: Option<String>,
    pub leeway_secs: Option<u64>,
}

/// `[policy]`
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct PolicyFile {
    pub allowed_attributes: Option<Vec<String>>,
    pub max_session_lifetime_secs: Option<u32>,
    pub on_active_session: Option<OnActiveSession>,
    pub allow_synthetic: Option<bool>,
    pub allow_invalid_check_digits: Option<bool>,
    pub min_poll_interval_ms: Option<u64>,
    pub keep_final_secs: Option<u64>,
}

/// `[limits]`
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct LimitsFile {
    pub per_nin: Option<u32>,
    pub per_nin_window_secs: Option<u64>,
    pub per_agent: Option<u32>,
    pub per_agent_window_secs: Option<u64>,
}

/// `[http]`
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct HttpFile {
    pub max_body_bytes: Option<usize>,
    pub request_timeout_secs: Option<u64>,
    /// E.g. `x-forwarded-for`, only behind a load balancer that sets it.
    pub client_address_header: Option<String>,
}

/// `[database]`
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct DatabaseFile {
    /// A locked, slow or unreachable database: 503 after this long (default 2000).
    pub busy_timeout_ms: Option<u64>,
    /// PostgreSQL: connections per instance (default 10).
    pub max_connections: Option<u32>,
}

impl FileConfig {
    /// Reads and parses a configuration file.
    pub fn read(path: &Path) -> Result<FileConfig, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }
}

/// Resolved settings: the file with the command line and environment applied.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The file's values (and the overrides written into it).
    pub file: FileConfig,
    /// `SAFECONV_CLIENT_SECRET`, if set.
    pub client_secret_env: Option<Secret>,
}

impl Settings {
    /// The database URL in use.
    pub fn database_url(&self) -> String {
        self.file
            .database_url
            .clone()
            .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned())
    }

    /// The audit key file: as configured, or beside a SQLite database file.
    pub fn audit_key_path(&self) -> Result<PathBuf, String> {
        if let Some(path) = &self.file.audit_key_file {
            return Ok(path.clone());
        }
        let url = self.database_url();
        let file = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .map(|rest| rest.split('?').next().unwrap_or(rest))
            .filter(|f| !f.is_empty())
            .ok_or(
                "set --audit-key-file: every instance on a shared database uses the same audit key file \
                 (the default lives beside a SQLite database file)",
            )?;
        Ok(PathBuf::from(format!("{file}.audit-key")))
    }

    /// Whether the database is shared by several instances (PostgreSQL).
    pub fn database_is_shared(&self) -> bool {
        !self.database_url().starts_with("sqlite:")
    }

    /// The current audit key followed by earlier ones (for verification).
    pub fn audit_keys(&self) -> Result<Vec<AuditKey>, String> {
        let read = |path: &Path, what: &str| {
            AuditKey::read(path).map_err(|e| match e.kind() {
                // Names the file already.
                std::io::ErrorKind::InvalidData => format!("{what}: {e}"),
                _ => format!("{what} {}: {e}", path.display()),
            })
        };
        let mut keys = vec![read(&self.audit_key_path()?, "audit key")?];
        for path in &self.file.previous_audit_key_files {
            keys.push(read(path, "previous audit key")?);
        }
        Ok(keys)
    }

    /// The listening address.
    pub fn listen(&self) -> Result<SocketAddr, String> {
        parse_address(
            self.file.listen.as_deref().unwrap_or(DEFAULT_LISTEN),
            "listen",
        )
    }

    /// The internal address, if any.
    pub fn internal_listen(&self) -> Result<Option<SocketAddr>, String> {
        self.file
            .internal_listen
            .as_deref()
            .map(|a| parse_address(a, "internal_listen"))
            .transpose()
    }

    /// This instance's name in the audit log.
    pub fn instance(&self) -> String {
        self.file.instance.clone().unwrap_or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_owned())
                .filter(|h| !h.is_empty())
                .unwrap_or_else(|| "safeconv-relay".to_owned())
        })
    }

    /// How to reach Signicat.
    pub fn upstream(&self) -> Result<UpstreamSettings, String> {
        let up = &self.file.upstream;
        let secret = match (&up.client_secret_file, &self.client_secret_env) {
            (Some(path), _) => read_secret(path, "client secret")?,
            (None, Some(secret)) => secret.clone(),
            (None, None) => {
                return Err(
                    "no Signicat client secret: set SAFECONV_CLIENT_SECRET or --client-secret-file"
                        .to_owned(),
                );
            }
        };
        let request_timeout = Duration::from_millis(up.request_timeout_ms.unwrap_or(10_000));
        let create_deadline = Duration::from_secs(up.create_deadline_secs.unwrap_or(60));
        if create_deadline < request_timeout {
            return Err(format!(
                "upstream.create_deadline_secs ({} s) must be at least the request timeout ({} ms)",
                create_deadline.as_secs(),
                request_timeout.as_millis()
            ));
        }
        let proxy_password = match (&up.proxy_password_file, &up.proxy_password) {
            (Some(path), _) => Some(read_secret(path, "proxy password")?),
            (None, password) => password.clone(),
        };
        Ok(UpstreamSettings {
            base_url: up
                .base_url
                .clone()
                .unwrap_or_else(|| safeconv::DEFAULT_BASE_URL.to_owned()),
            token_url: up.token_url.clone(),
            account_id: up
                .account_id
                .clone()
                .ok_or("no Signicat account: set SAFECONV_ACCOUNT_ID or --account-id")?,
            client_id: up
                .client_id
                .clone()
                .ok_or("no Signicat client id: set SAFECONV_CLIENT_ID or --client-id")?,
            client_secret: secret,
            request_timeout,
            create_deadline,
            trust_roots: up
                .roots
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(|_| {
                    "upstream.roots (--roots) must be bundled, native, bundled-and-native or added-only"
                        .to_owned()
                })?
                .unwrap_or_default(),
            ca_files: up.ca_files.clone(),
            proxy_url: up.proxy.clone(),
            proxy_username: up.proxy_user.clone(),
            proxy_password,
            no_proxy: up.no_proxy.clone(),
        })
    }

    fn jwt(&self) -> Result<Option<JwtSettings>, String> {
        let jwt = &self.file.jwt;
        match (&jwt.jwks_url, &jwt.issuer, &jwt.audience) {
            (None, None, None) => Ok(None),
            (Some(url), Some(issuer), Some(audience)) => Ok(Some(JwtSettings {
                jwks_url: url.clone(),
                issuer: issuer.clone(),
                audience: audience.clone(),
                agent_claim: jwt.agent_claim.clone().unwrap_or_else(|| "sub".to_owned()),
                leeway: Duration::from_secs(jwt.leeway_secs.unwrap_or(30)),
            })),
            _ => Err("JWT agents need all three of --jwks-url, --issuer and --audience".to_owned()),
        }
    }

    fn policy(&self) -> Result<CreatePolicy, String> {
        let p = &self.file.policy;
        let allowed_attributes = p
            .allowed_attributes
            .clone()
            .unwrap_or_else(|| NBID_ATTRIBUTES.iter().map(|a| (*a).to_owned()).collect());
        if let Some(unknown) = allowed_attributes
            .iter()
            .find(|a| !NBID_ATTRIBUTES.contains(&a.as_str()))
        {
            return Err(format!(
                "policy.allowed_attributes: {unknown:?} is not a Norwegian BankID attribute ({})",
                NBID_ATTRIBUTES.join(", ")
            ));
        }
        Ok(CreatePolicy {
            allowed_attributes,
            max_session_lifetime: p.max_session_lifetime_secs.unwrap_or(1200),
            nin_rules: NinRules::strict()
                .allow_synthetic(p.allow_synthetic.unwrap_or(false))
                .allow_invalid_check_digits(p.allow_invalid_check_digits.unwrap_or(false)),
        })
    }

    /// The longest rate window, in milliseconds: sessions rows younger than this still count
    /// against a limit, so `audit prune` keeps them.
    pub fn longest_rate_window_ms(&self) -> Result<i64, String> {
        let limits = self.limits()?;
        Ok(limits.per_nin.window_ms.max(limits.per_agent.window_ms))
    }

    fn limits(&self) -> Result<Limits, String> {
        let l = &self.file.limits;
        let defaults = Limits::default();
        let window = |max: Option<u32>, secs: Option<u64>, default: Window, name: &str| {
            let window = Window {
                max: max.unwrap_or(default.max),
                window_ms: secs.map_or(default.window_ms, |s| (s as i64).saturating_mul(1000)),
            };
            if window.max == 0 || window.window_ms <= 0 {
                return Err(format!(
                    "limits.{name}: the limit and its window must be positive"
                ));
            }
            Ok(window)
        };
        Ok(Limits {
            per_nin: window(
                l.per_nin,
                l.per_nin_window_secs,
                defaults.per_nin,
                "per_nin",
            )?,
            per_agent: window(
                l.per_agent,
                l.per_agent_window_secs,
                defaults.per_agent,
                "per_agent",
            )?,
        })
    }

    fn http(&self) -> Result<HttpSettings, String> {
        let h = &self.file.http;
        let defaults = HttpSettings::default();
        for origin in &self.file.allowed_origins {
            let url = url::Url::parse(origin).map_err(|_| {
                format!("allowed origin {origin:?} is not an origin (https://host[:port])")
            })?;
            if origin == "*" || url.path() != "/" && !url.path().is_empty() {
                return Err(format!(
                    "allowed origin {origin:?} must be scheme://host[:port], without a path or `*`"
                ));
            }
        }
        Ok(HttpSettings {
            allowed_origins: self.file.allowed_origins.clone(),
            max_body_bytes: h.max_body_bytes.unwrap_or(defaults.max_body_bytes),
            request_timeout: h
                .request_timeout_secs
                .map_or(defaults.request_timeout, Duration::from_secs),
            client_address_header: h
                .client_address_header
                .as_deref()
                .map(|name| {
                    axum::http::HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                        format!("http.client_address_header {name:?} is not a header name")
                    })
                })
                .transpose()?,
        })
    }

    /// How the store uses the database; `create` makes what is missing (file, schema).
    pub fn database_options(&self, create: bool) -> DatabaseOptions {
        let db = &self.file.database;
        let defaults = DatabaseOptions::default();
        DatabaseOptions {
            busy_timeout: db
                .busy_timeout_ms
                .map_or(defaults.busy_timeout, Duration::from_millis),
            max_connections: db.max_connections.unwrap_or(defaults.max_connections),
            create,
        }
    }

    /// Opens the store with the current audit key; `create` makes what is missing (the SQLite
    /// file and its key file, the schema). A shared database never gets a key made up here:
    /// every instance must use the same one.
    pub async fn open_store(&self, create: bool) -> Result<(SqlStore, AuditKey), String> {
        let url = self.database_url();
        let key_path = self.audit_key_path()?;
        let key = if create && !self.database_is_shared() {
            AuditKey::read_or_create(&key_path)
        } else {
            AuditKey::read(&key_path)
        }
        .map_err(|e| {
            let hint = if e.kind() == std::io::ErrorKind::NotFound && self.database_is_shared() {
                " (make it once with `safeconv-relay new-audit-key FILE` and give every instance the same file)"
            } else {
                ""
            };
            format!("audit key {}: {e}{hint}", key_path.display())
        })?;
        let store = SqlStore::open(
            &url,
            key.clone(),
            &self.instance(),
            &self.database_options(create),
        )
        .await
        .map_err(|e| e.to_string())?;
        Ok((store, key))
    }

    /// Refuses an audit key that did not seal the log's newest record (unless that key is
    /// listed as a previous one): instances with different keys would hash NINs differently,
    /// and one person's limits would not add up.
    async fn check_audit_key(&self, store: &SqlStore, key: &AuditKey) -> Result<(), String> {
        let read = |e: crate::store::StoreError| e.to_string();
        let Some((seq, _)) = store.audit_head().await.map_err(read)? else {
            return Ok(());
        };
        let newest = store.audit_page(seq - 1, None, 1).await.map_err(read)?;
        let Some(sealed_with) = newest.first().map(|r| r.key_id.as_str()) else {
            return Ok(());
        };
        if sealed_with == key.id() || self.audit_keys()?.iter().any(|k| k.id() == sealed_with) {
            return Ok(());
        }
        Err(format!(
            "the audit log's newest record was sealed with audit key {sealed_with}, but this instance's key is {}: \
             every instance must use the same audit key file (after a rotation, list the old one in previous_audit_key_files)",
            key.id()
        ))
    }

    /// Everything a relay needs, checked; opens the database.
    pub async fn relay_config(&self) -> Result<RelayConfig, String> {
        let upstream_settings = self.upstream()?;
        let upstream = upstream_settings
            .client()
            .map_err(|e| format!("upstream: {e}"))?;
        let auth = self.authenticator(&upstream_settings)?;
        let policy = self.policy()?;
        let limits = self.limits()?;
        let http = self.http()?;
        let (store, audit_key) = self.open_store(true).await?;
        if let Err(e) = self.check_audit_key(&store, &audit_key).await {
            store.close().await;
            return Err(e);
        }
        let p = &self.file.policy;
        Ok(RelayConfig {
            upstream,
            store: Arc::new(store) as Arc<dyn Store>,
            audit_key,
            auth,
            policy,
            limits,
            on_active_session: p.on_active_session.unwrap_or_default(),
            min_poll_interval: Duration::from_millis(p.min_poll_interval_ms.unwrap_or(1_000)),
            keep_final: Duration::from_secs(p.keep_final_secs.unwrap_or(600)),
            create_deadline: upstream_settings.create_deadline,
            http,
        })
    }

    /// The agent authenticator; refuses a set-up where the Signicat secret is an agent key.
    pub fn authenticator(&self, upstream: &UpstreamSettings) -> Result<Authenticator, String> {
        let keys = self
            .file
            .agent_keys
            .as_deref()
            .map(AgentKeys::load)
            .transpose()?;
        if let Some(keys) = &keys
            && (keys.contains_key(upstream.client_secret.expose())
                || keys.contains_key(&upstream.client_id))
        {
            return Err(
                "the agent key file holds the Signicat client id or secret as an agent key; agents must never hold it"
                    .to_owned(),
            );
        }
        let jwt = self.jwt()?.map(JwtVerifier::new).transpose()?;
        let auth = Authenticator::new(keys, jwt);
        if !auth.is_configured() {
            return Err(
                "no agent can authenticate: give --agent-keys FILE and/or --jwks-url, --issuer and --audience"
                    .to_owned(),
            );
        }
        Ok(auth)
    }

    /// Checks everything that can be checked without serving; returns a summary (no secrets).
    pub async fn check(&self) -> Result<Vec<String>, String> {
        let upstream = self.upstream()?;
        let client = upstream.client().map_err(|e| format!("upstream: {e}"))?;
        let auth = self.authenticator(&upstream)?;
        let policy = self.policy()?;
        let limits = self.limits()?;
        let http = self.http()?;
        let mut lines = vec![
            format!("listen: {}", self.listen()?),
            format!(
                "operations endpoints: {}",
                self.internal_listen()?
                    .map_or_else(|| "on the listen address".to_owned(), |a| a.to_string())
            ),
            format!("database: {}", redact_url(&self.database_url())),
            format!("audit key file: {}", self.audit_key_path()?.display()),
            format!(
                "upstream: {} account {} client {} (secret: set)",
                upstream.base_url, upstream.account_id, upstream.client_id
            ),
            format!(
                "upstream trust: {} roots, {} added CA certificate(s); proxy: {}",
                client.config().trust_roots(),
                client.config().added_ca_count(),
                match client.config().proxy_url() {
                    Some(url) => format!(
                        "{url}{}{}",
                        if upstream.proxy_password.is_some() {
                            " (password: set)"
                        } else {
                            ""
                        },
                        client
                            .config()
                            .no_proxy()
                            .map_or_else(String::new, |hosts| format!(", not for {hosts}"))
                    ),
                    None => "the system's (HTTPS_PROXY, NO_PROXY)".to_owned(),
                }
            ),
        ];
        if let Some(keys) = auth.agent_keys() {
            lines.push(format!("agent keys: {} keys", keys.len()));
        }
        if let Some(jwt) = &self.jwt()? {
            lines.push(format!(
                "JWT agents: issuer {} audience {} keys {} (agent claim {})",
                jwt.issuer, jwt.audience, jwt.jwks_url, jwt.agent_claim
            ));
        }
        lines.push(format!(
            "policy: attributes {}; sessionLifetime at most {} s; active session: {:?}",
            policy.allowed_attributes.join(","),
            policy.max_session_lifetime,
            self.file.policy.on_active_session.unwrap_or_default()
        ));
        lines.push(format!(
            "limits: {} per NIN per {} s, {} per agent per {} s",
            limits.per_nin.max,
            limits.per_nin.window_ms / 1000,
            limits.per_agent.max,
            limits.per_agent.window_ms / 1000
        ));
        lines.push(format!(
            "CORS origins: {}",
            if http.allowed_origins.is_empty() {
                "none (browsers cannot call the relay)".to_owned()
            } else {
                http.allowed_origins.join(", ")
            }
        ));
        Ok(lines)
    }
}

/// A secret from a file (surrounding whitespace trimmed).
fn read_secret(path: &Path, what: &str) -> Result<Secret, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the {what} file {}: {e}", path.display()))?;
    Ok(Secret::new(text.trim().to_owned()))
}

fn parse_address(value: &str, name: &str) -> Result<SocketAddr, String> {
    value
        .parse()
        .map_err(|_| format!("{name}: {value:?} is not an address such as 127.0.0.1:8180"))
}

/// A database URL without any password in it.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}
