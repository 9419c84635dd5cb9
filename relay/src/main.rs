//! `safeconv-relay`: serve the relay, check its configuration, verify or export the audit log,
//! make agent and audit keys. Exit codes: 0 ok; 1 the audit log does not verify; 2 bad configuration or
//! usage; 3 the relay could not run (database, address in use).

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use safeconv_relay::audit::ChainVerifier;
use safeconv_relay::auth::{hash_agent_key, new_agent_key, valid_agent_id};
use safeconv_relay::settings::{FileConfig, Settings};
use safeconv_relay::store::{OnActiveSession, Store};
use safeconv_relay::{AuditKey, Relay, Server};

#[derive(Parser)]
#[command(
    name = "safeconv-relay",
    version,
    about = "The gateway browser and mobile agents use instead of Signicat: agent authentication, policy, limits, audit",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Check the configuration (files, keys, Signicat settings) and print a summary.
    CheckConfig(Box<ServeArgs>),
    /// The audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Print the key-file hash (`sha256:…`) of an agent key read from standard input.
    HashKey,
    /// Make a new agent key: prints the key, then the line for the agent key file.
    NewAgentKey {
        /// The agent id, e.g. an e-mail address or employee number.
        agent: String,
    },
    /// Write a new audit key (32 random bytes, mode 0600) to FILE, which must not exist; give
    /// every instance of the deployment that same file.
    NewAuditKey {
        /// Where to write it.
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the whole chain; exits 1 naming the first bad record.
    Verify(StoreArgs),
    /// Print records as JSON lines.
    Export {
        #[command(flatten)]
        store: StoreArgs,
        /// Only records at or after this time (RFC 3339, e.g. 2026-06-29T00:00:00Z).
        #[arg(long)]
        since: Option<String>,
    },
}

/// Where the database and audit key are.
#[derive(Args, Clone, Default)]
struct StoreArgs {
    /// TOML configuration file.
    #[arg(long, env = "SAFECONV_RELAY_CONFIG")]
    config: Option<PathBuf>,
    /// `sqlite:///abs/path.db`, `sqlite://relative.db` (one instance) or
    /// `postgres://user@host/db?sslmode=verify-full` (several) [default: sqlite://safeconv-relay.db].
    #[arg(long, env = "SAFECONV_RELAY_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// The audit key file, the same for every instance [default: beside the SQLite file,
    /// `<db>.audit-key`].
    #[arg(long, env = "SAFECONV_RELAY_AUDIT_KEY_FILE")]
    audit_key_file: Option<PathBuf>,
}

#[derive(Args, Clone, Default)]
struct ServeArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Address for the session API; port 0 picks a free one [default: 127.0.0.1:8180].
    #[arg(long, env = "SAFECONV_RELAY_LISTEN")]
    listen: Option<String>,
    /// Separate address for /healthz, /readyz and /metrics (recommended in production).
    #[arg(long, env = "SAFECONV_RELAY_INTERNAL_LISTEN")]
    internal_listen: Option<String>,
    /// This instance's name in the audit log [default: the host name].
    #[arg(long, env = "SAFECONV_RELAY_INSTANCE")]
    instance: Option<String>,
    /// Agent key file (`AGENT_ID sha256:HEX` per line).
    #[arg(long, env = "SAFECONV_RELAY_AGENT_KEYS")]
    agent_keys: Option<PathBuf>,
    /// JWKS URL of the agents' identity provider.
    #[arg(long, env = "SAFECONV_RELAY_JWKS_URL")]
    jwks_url: Option<String>,
    /// Required `iss` of agent JWTs.
    #[arg(long, env = "SAFECONV_RELAY_ISSUER")]
    issuer: Option<String>,
    /// Required `aud` of agent JWTs.
    #[arg(long, env = "SAFECONV_RELAY_AUDIENCE")]
    audience: Option<String>,
    /// A browser origin allowed by CORS (repeatable), e.g. https://softphone.example.
    #[arg(
        long = "allowed-origin",
        env = "SAFECONV_RELAY_ALLOWED_ORIGINS",
        value_delimiter = ','
    )]
    allowed_origins: Vec<String>,
    /// What a create for a NIN with an active session does [default: replace].
    #[arg(long, value_parser = ["replace", "refuse"])]
    on_active_session: Option<String>,
    /// Signicat API base URL.
    #[arg(long, env = "SAFECONV_BASE_URL")]
    base_url: Option<String>,
    /// Signicat token endpoint.
    #[arg(long, env = "SAFECONV_TOKEN_URL")]
    token_url: Option<String>,
    /// Signicat account id.
    #[arg(long, env = "SAFECONV_ACCOUNT_ID")]
    account_id: Option<String>,
    /// Signicat API client id (the secret: SAFECONV_CLIENT_SECRET or --client-secret-file).
    #[arg(long, env = "SAFECONV_CLIENT_ID")]
    client_id: Option<String>,
    /// A file holding the Signicat client secret.
    #[arg(long, env = "SAFECONV_CLIENT_SECRET_FILE")]
    client_secret_file: Option<PathBuf>,
    /// Also trust the CA certificates in this file (PEM or DER) for Signicat, e.g. the CA of
    /// the bank's TLS-inspecting proxy (repeatable).
    #[arg(long = "ca-file", env = "SAFECONV_CA_FILE", value_name = "FILE")]
    ca_files: Vec<PathBuf>,
    /// Which root certificates to trust for Signicat besides --ca-file: bundled (default),
    /// native, bundled-and-native or added-only.
    #[arg(long, env = "SAFECONV_ROOTS", value_name = "ROOTS")]
    roots: Option<String>,
    /// The HTTP proxy to reach Signicat through (default: the system's, from HTTPS_PROXY and
    /// NO_PROXY). The password: SAFECONV_PROXY_PASSWORD or --proxy-password-file.
    #[arg(
        long,
        env = "SAFECONV_PROXY",
        hide_env_values = true,
        value_name = "URL"
    )]
    proxy: Option<String>,
    /// The user name the proxy asks for.
    #[arg(long, env = "SAFECONV_PROXY_USER", value_name = "USER")]
    proxy_user: Option<String>,
    /// A file holding the proxy password.
    #[arg(long, env = "SAFECONV_PROXY_PASSWORD_FILE", value_name = "FILE")]
    proxy_password_file: Option<PathBuf>,
    /// Hosts that bypass --proxy, as in NO_PROXY.
    #[arg(long, env = "SAFECONV_NO_PROXY", value_name = "HOSTS")]
    no_proxy: Option<String>,
}

fn settings(store: &StoreArgs, serve: Option<&ServeArgs>) -> Result<Settings, String> {
    let mut file = match &store.config {
        Some(path) => FileConfig::read(path)?,
        None => FileConfig::default(),
    };
    set(&mut file.database_url, &store.database_url);
    set(&mut file.audit_key_file, &store.audit_key_file);
    if let Some(args) = serve {
        set(&mut file.listen, &args.listen);
        set(&mut file.internal_listen, &args.internal_listen);
        set(&mut file.instance, &args.instance);
        set(&mut file.agent_keys, &args.agent_keys);
        set(&mut file.jwt.jwks_url, &args.jwks_url);
        set(&mut file.jwt.issuer, &args.issuer);
        set(&mut file.jwt.audience, &args.audience);
        set(&mut file.upstream.base_url, &args.base_url);
        set(&mut file.upstream.token_url, &args.token_url);
        set(&mut file.upstream.account_id, &args.account_id);
        set(&mut file.upstream.client_id, &args.client_id);
        set(
            &mut file.upstream.client_secret_file,
            &args.client_secret_file,
        );
        if !args.ca_files.is_empty() {
            file.upstream.ca_files = args.ca_files.clone();
        }
        set(&mut file.upstream.roots, &args.roots);
        set(&mut file.upstream.proxy, &args.proxy);
        set(&mut file.upstream.proxy_user, &args.proxy_user);
        set(
            &mut file.upstream.proxy_password_file,
            &args.proxy_password_file,
        );
        set(&mut file.upstream.no_proxy, &args.no_proxy);
        file.upstream.proxy_password = secret_from_env("SAFECONV_PROXY_PASSWORD");
        if !args.allowed_origins.is_empty() {
            file.allowed_origins = args.allowed_origins.clone();
        }
        if let Some(mode) = &args.on_active_session {
            file.policy.on_active_session = Some(match mode.as_str() {
                "refuse" => OnActiveSession::Refuse,
                _ => OnActiveSession::Replace,
            });
        }
    }
    Ok(Settings {
        file,
        client_secret_env: secret_from_env("SAFECONV_CLIENT_SECRET"),
    })
}

fn secret_from_env(name: &str) -> Option<safeconv::Secret> {
    std::env::var(name)
        .ok()
        .filter(|s| !s.is_empty())
        .map(Into::into)
}

fn set<T: Clone>(slot: &mut Option<T>, value: &Option<T>) {
    if value.is_some() {
        slot.clone_from(value);
    }
}

fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SAFECONV_RELAY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_current_span(false)
        .init();
}

fn fail(code: u8, message: impl std::fmt::Display) -> ExitCode {
    eprintln!("safeconv-relay: {message}");
    ExitCode::from(code)
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        None => {
            init_logs();
            serve(&cli.serve).await
        }
        Some(Command::CheckConfig(args)) => check_config(&args).await,
        Some(Command::Audit { command }) => match command {
            AuditCommand::Verify(store) => audit_verify(&store).await,
            AuditCommand::Export { store, since } => audit_export(&store, since.as_deref()).await,
        },
        Some(Command::HashKey) => hash_key(),
        Some(Command::NewAuditKey { file }) => match AuditKey::create(&file) {
            Ok(key) => {
                println!("wrote audit key {} to {}", key.id(), file.display());
                ExitCode::SUCCESS
            }
            Err(e) => fail(2, format!("{}: {e}", file.display())),
        },
        Some(Command::NewAgentKey { agent }) => {
            if !valid_agent_id(&agent) {
                return fail(2, "the agent id must be 1-128 of A-Z a-z 0-9 . _ @ : -");
            }
            let key = new_agent_key();
            let hash = hash_agent_key(&key).expect("a new key is long enough");
            println!("{key}");
            println!("{agent} {hash}");
            ExitCode::SUCCESS
        }
    }
}

async fn serve(args: &ServeArgs) -> ExitCode {
    let settings = match settings(&args.store, Some(args)) {
        Ok(s) => s,
        Err(e) => return fail(2, e),
    };
    let (listen, internal) = match (settings.listen(), settings.internal_listen()) {
        (Ok(l), Ok(i)) => (l, i),
        (Err(e), _) | (_, Err(e)) => return fail(2, e),
    };
    let config = match settings.relay_config().await {
        Ok(c) => c,
        Err(e) => return fail(2, e),
    };
    let relay = match Relay::start(config).await {
        Ok(r) => r,
        Err(e) => return fail(3, e),
    };
    let server = match Server::bind(relay, listen, internal).await {
        Ok(s) => s,
        Err(e) => return fail(3, format!("cannot listen on {listen}: {e}")),
    };
    // The one line on stdout: harnesses read it to find the relay.
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "SAFECONV_RELAY_URL={}", server.url());
    let _ = stdout.flush();
    drop(stdout);
    tracing::info!(
        url = server.url(),
        internal = server.internal_url(),
        "relay listening"
    );
    wait_for_signal().await;
    tracing::info!("shutting down");
    server.shutdown().await;
    ExitCode::SUCCESS
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

async fn check_config(args: &ServeArgs) -> ExitCode {
    let settings = match settings(&args.store, Some(args)) {
        Ok(s) => s,
        Err(e) => return fail(2, e),
    };
    match settings.check().await {
        Ok(lines) => {
            for line in lines {
                println!("{line}");
            }
            println!("configuration OK");
            ExitCode::SUCCESS
        }
        Err(e) => fail(2, e),
    }
}

/// Opens an existing database (never creates one for the audit commands).
async fn open_existing(
    store: &StoreArgs,
) -> Result<(Settings, safeconv_relay::store::SqlStore), ExitCode> {
    let settings = settings(store, None).map_err(|e| fail(2, e))?;
    let url = settings.database_url();
    if let Some(path) = url
        .strip_prefix("sqlite://")
        .map(|rest| rest.split('?').next().unwrap_or(rest))
        && !std::path::Path::new(path).exists()
    {
        return Err(fail(2, format!("no database at {path}")));
    }
    let (store, _) = settings.open_store(false).await.map_err(|e| fail(3, e))?;
    Ok((settings, store))
}

async fn audit_verify(args: &StoreArgs) -> ExitCode {
    let (settings, store) = match open_existing(args).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    let keys = match settings.audit_keys() {
        Ok(k) => k,
        Err(e) => return fail(2, e),
    };
    let mut verifier = ChainVerifier::new(&keys);
    let mut after = 0;
    loop {
        let page = match store.audit_page(after, None, 1000).await {
            Ok(p) => p,
            Err(e) => return fail(3, e),
        };
        let Some(last) = page.last() else { break };
        after = last.seq;
        for record in &page {
            if let Err(broken) = verifier.check(record) {
                return fail(1, format!("audit log broken at {broken}"));
            }
        }
    }
    let head = match store.audit_head().await {
        Ok(h) => h,
        Err(e) => return fail(3, e),
    };
    match verifier.finish(head) {
        Ok(n) => {
            println!("audit log intact: {n} records");
            ExitCode::SUCCESS
        }
        Err(broken) => fail(1, format!("audit log broken at {broken}")),
    }
}

async fn audit_export(args: &StoreArgs, since: Option<&str>) -> ExitCode {
    let since_ms = match since {
        None => None,
        Some(text) => match text.parse::<safeconv::Timestamp>() {
            Ok(t) => Some(t.unix_millis()),
            Err(e) => {
                return fail(
                    2,
                    format!("--since {text:?}: {e} (use RFC 3339, e.g. 2026-06-29T00:00:00Z)"),
                );
            }
        },
    };
    let (_, store) = match open_existing(args).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    let mut stdout = std::io::stdout().lock();
    let mut after = 0;
    loop {
        let page = match store.audit_page(after, since_ms, 1000).await {
            Ok(p) => p,
            Err(e) => return fail(3, e),
        };
        let Some(last) = page.last() else { break };
        after = last.seq;
        for record in &page {
            let line = serde_json::to_string(record).unwrap_or_default();
            if writeln!(stdout, "{line}").is_err() {
                return ExitCode::from(3);
            }
        }
    }
    ExitCode::SUCCESS
}

fn hash_key() -> ExitCode {
    let mut line = String::new();
    if std::io::stdin().lock().read_line(&mut line).is_err() {
        return fail(2, "cannot read the key from standard input");
    }
    match hash_agent_key(line.trim_end_matches(['\n', '\r'])) {
        Ok(hash) => {
            println!("{hash}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(2, e),
    }
}
