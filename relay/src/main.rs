//! `safeconv-relay`: serve the relay, check its configuration, verify, export or prune the audit
//! log, make agent and audit keys. Exit codes: 0 ok; 1 the audit log (or an export) does not
//! verify; 2 bad configuration or usage; 3 the relay could not run (database, address in use).

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use safeconv_relay::audit::{AuditRecord, ChainReport, ChainVerifier};
use safeconv_relay::auth::{hash_agent_key, new_agent_key, valid_agent_id};
use safeconv_relay::settings::{FileConfig, Settings};
use safeconv_relay::store::{OnActiveSession, PruneError, PruneRequest, SqlStore, Store};
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
    /// Check the whole chain (from the last prune, if any); exits 1 naming the first bad record.
    Verify {
        #[command(flatten)]
        store: StoreArgs,
        /// Check this file of exported records (`audit export`, or a prune's --archive)
        /// instead; with a database given, also whether its chain continues from the file.
        #[arg(long, value_name = "FILE")]
        export: Option<PathBuf>,
    },
    /// Print records as JSON lines.
    Export {
        #[command(flatten)]
        store: StoreArgs,
        /// Only records at or after this time (RFC 3339, e.g. 2026-06-29T00:00:00Z).
        #[arg(long)]
        since: Option<String>,
    },
    /// Remove audit records and ended sessions older than a cut-off, leaving a `pruned`
    /// record the chain is verified from. Safe while relays run.
    Prune(PruneArgs),
}

#[derive(Args)]
struct PruneArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Remove what is older than this (RFC 3339, e.g. 2021-07-01T00:00:00Z).
    #[arg(
        long,
        required_unless_present = "keep_days",
        conflicts_with = "keep_days"
    )]
    before: Option<String>,
    /// Keep this many days, remove what is older (e.g. 1827 for five years).
    #[arg(long, value_name = "DAYS")]
    keep_days: Option<u32>,
    /// First write the records to be removed to this new file (JSON lines, as `audit export`
    /// prints them; check it later with `audit verify --export FILE`).
    #[arg(long, value_name = "FILE")]
    archive: Option<PathBuf>,
    /// Who runs the prune, recorded in its `pruned` record [default: $USER].
    #[arg(long, value_name = "NAME")]
    operator: Option<String>,
    /// Verify and say what would be removed; remove nothing, write no archive.
    #[arg(long)]
    dry_run: bool,
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
            AuditCommand::Verify {
                store,
                export: None,
            } => audit_verify(&store).await,
            AuditCommand::Verify {
                store,
                export: Some(file),
            } => audit_verify_export(&store, &file).await,
            AuditCommand::Export { store, since } => audit_export(&store, since.as_deref()).await,
            AuditCommand::Prune(args) => audit_prune(&args).await,
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
    match store.verify_audit(&keys).await {
        Ok(Ok(report)) => {
            println!("audit log intact: {report}");
            ExitCode::SUCCESS
        }
        Ok(Err(broken)) => fail(1, format!("audit log broken at {broken}")),
        Err(e) => fail(3, e),
    }
}

/// Checks an exported file on its own (sealed, linked, no gaps) and, when a database is given,
/// how the database's chain relates to it.
async fn audit_verify_export(args: &StoreArgs, path: &std::path::Path) -> ExitCode {
    let settings = match settings(args, None) {
        Ok(s) => s,
        Err(e) => return fail(2, e),
    };
    let keys = match settings.audit_keys() {
        Ok(k) => k,
        Err(e) => return fail(2, e),
    };
    let file = match std::fs::File::open(path) {
        Ok(f) => std::io::BufReader::new(f),
        Err(e) => return fail(2, format!("{}: {e}", path.display())),
    };
    let mut verifier = ChainVerifier::for_export(&keys);
    let mut hashes = std::collections::BTreeMap::new();
    for (n, line) in file.lines().enumerate() {
        let line = match line {
            Ok(l) => l,
            Err(e) => return fail(2, format!("{}: {e}", path.display())),
        };
        if line.trim().is_empty() {
            continue;
        }
        let record = match AuditRecord::from_export_line(&line) {
            Ok(r) => r,
            Err(e) => return fail(1, format!("export broken at line {}: {e}", n + 1)),
        };
        if let Err(broken) = verifier.check(&record) {
            return fail(1, format!("export broken at {broken}"));
        }
        hashes.insert(record.seq, record.hash);
    }
    let export = verifier.report();
    println!("export intact: {}", describe_export(&export));
    if args.database_url.is_none() && settings.file.database_url.is_none() {
        return ExitCode::SUCCESS;
    }
    let (_, store) = match open_existing(args).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    let database = match store.verify_audit(&keys).await {
        Ok(Ok(report)) => report,
        Ok(Err(broken)) => return fail(1, format!("audit log broken at {broken}")),
        Err(e) => return fail(3, e),
    };
    match compare_with_database(&store, &hashes, &database).await {
        Ok(Ok(line)) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Ok(Err(mismatch)) => fail(1, mismatch),
        Err(e) => fail(3, e),
    }
}

fn describe_export(export: &ChainReport) -> String {
    if export.records == 0 {
        return "0 records".to_owned();
    }
    let start = if export.first_seq == 1 {
        "the log's first record".to_owned()
    } else {
        format!(
            "record {} links to {} (record {}, not in this file)",
            export.first_seq,
            export.first_prev_hash,
            export.first_seq - 1
        )
    };
    format!(
        "{} records ({}\u{2013}{}); {start}; last hash {}",
        export.records, export.first_seq, export.last_seq, export.last_hash
    )
}

/// How the database's (verified) chain relates to an export's records `hashes` (seq → hash):
/// it continues from the export (its first record links to the export's record before it),
/// the two share records (each the same), or neither.
async fn compare_with_database(
    store: &SqlStore,
    hashes: &std::collections::BTreeMap<i64, String>,
    database: &ChainReport,
) -> Result<Result<String, String>, safeconv_relay::store::StoreError> {
    let joined = hashes.get(&(database.first_seq - 1));
    if let Some(hash) = joined
        && *hash != database.first_prev_hash
    {
        return Ok(Err(format!(
            "record {} of this export is not the one the database's chain continues from (its hash differs)",
            database.first_seq - 1
        )));
    }
    let mut shared = 0u64;
    let (Some(&first), Some(&last)) = (hashes.keys().next(), hashes.keys().next_back()) else {
        return Ok(Ok("the export is empty".to_owned()));
    };
    let mut after = first.max(database.first_seq) - 1;
    while after < last {
        let page = store.audit_page(after, None, 1000).await?;
        let Some(end) = page.last() else { break };
        after = end.seq;
        for record in page.iter().filter(|r| r.seq <= last) {
            match hashes.get(&record.seq) {
                Some(hash) if *hash == record.hash => shared += 1,
                Some(_) => {
                    return Ok(Err(format!(
                        "record {} differs between this export and the database",
                        record.seq
                    )));
                }
                None => {}
            }
        }
    }
    let mut said = Vec::new();
    if joined.is_some() {
        said.push(format!(
            "the database's chain continues from this export: its first record, {}, links to record {} here{}",
            database.first_seq,
            database.first_seq - 1,
            database
                .last_prune
                .as_ref()
                .map_or_else(String::new, |p| format!(" (the prune recorded in record {})", p.seq))
        ));
    }
    if shared > 0 {
        said.push(format!(
            "{shared} records of this export are also in the database, and the same"
        ));
    }
    if said.is_empty() {
        said.push(format!(
            "this export and the database's chain (records {}\u{2013}{}) neither overlap nor join",
            database.first_seq, database.last_seq
        ));
    }
    Ok(Ok(said.join("; ")))
}

async fn audit_prune(args: &PruneArgs) -> ExitCode {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    let before_ms = match (&args.before, args.keep_days) {
        (Some(text), _) => match text.parse::<safeconv::Timestamp>() {
            Ok(t) => t.unix_millis(),
            Err(e) => {
                return fail(
                    2,
                    format!("--before {text:?}: {e} (use RFC 3339, e.g. 2021-07-01T00:00:00Z)"),
                );
            }
        },
        (None, Some(days)) => now_ms - i64::from(days) * 86_400_000,
        (None, None) => return fail(2, "give --before TIME or --keep-days DAYS"),
    };
    let settings = match settings(&args.store, None) {
        Ok(s) => s,
        Err(e) => return fail(2, e),
    };
    let (keys, keep_at_least_ms) = match (settings.audit_keys(), settings.longest_rate_window_ms())
    {
        (Ok(k), Ok(w)) => (k, w),
        (Err(e), _) | (_, Err(e)) => return fail(2, e),
    };
    let mut request = PruneRequest::new(before_ms, keep_at_least_ms);
    request.by = args
        .operator
        .clone()
        .or_else(|| std::env::var("USER").ok())
        .or_else(|| std::env::var("LOGNAME").ok())
        .filter(|name| !name.is_empty());
    request.archive.clone_from(&args.archive);
    request.dry_run = args.dry_run;
    let (_, store) = match open_existing(&args.store).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    let before = safeconv::Timestamp::from_unix_millis(before_ms);
    match store.prune_audit(&keys, &request, now_ms).await {
        Ok(report) if args.dry_run => {
            println!(
                "would remove {} and {} sessions rows older than {before}; audit log intact: {}",
                describe_removed(report.records, report.removed),
                report.sessions,
                report.verified
            );
            ExitCode::SUCCESS
        }
        Ok(report) => {
            match report.anchor_seq {
                None => println!(
                    "nothing older than {before} to remove; audit log intact: {}",
                    report.verified
                ),
                Some(anchor) => println!(
                    "removed {} and {} sessions rows older than {before}; recorded in record {anchor} (pruned){}",
                    describe_removed(report.records, report.removed),
                    report.sessions,
                    match (&args.archive, report.records) {
                        (Some(file), 1..) => format!("; archived to {}", file.display()),
                        _ => String::new(),
                    }
                ),
            }
            ExitCode::SUCCESS
        }
        Err(PruneError::Refused(why)) => fail(2, format!("nothing removed: {why}")),
        Err(PruneError::Broken(at)) => fail(
            1,
            format!(
                "audit log broken at {at}: nothing removed (a log that does not verify is evidence; find out why first)"
            ),
        ),
        Err(e @ PruneError::Failed(_)) => fail(3, format!("nothing removed: {e}")),
    }
}

fn describe_removed(records: u64, range: Option<(i64, i64)>) -> String {
    match range {
        Some((first, last)) => format!("{records} audit records ({first}\u{2013}{last})"),
        None => "no audit records".to_owned(),
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
