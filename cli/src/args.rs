//! The command line, as a contract: names, flags and environment variables stay stable.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "safeconv",
    version = safeconv::VERSION,
    about = "Verify a caller with Norwegian BankID Safe Conversation (Signicat headless API)",
    after_help = "Exit codes: 0 SUCCESS, 2 invalid input, 3 ABORT, 4 CANCELLED, 5 EXPIRED, \
                  6 ERROR or INVALID, 7 authentication failed, 8 transport or protocol failure."
)]
pub struct Cli {
    /// Log what the SDK does (retries, token renewals, cancels) to stderr: -v info, -vv debug,
    /// -vvv trace. NINs are masked; secrets and tokens are never logged.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run a whole Safe Conversation against the embedded Signicat emulator.
    Demo(DemoArgs),
    /// Verify a caller: create the session, show the binding message, wait for the outcome.
    Authenticate(AuthenticateArgs),
    /// Show a session's current status.
    Status(SessionArgs),
    /// Cancel a session (a session that already ended is shown as it ended).
    Cancel(SessionArgs),
    /// National identity number tools.
    Nin {
        #[command(subcommand)]
        command: NinCommand,
    },
}

#[derive(Subcommand)]
pub enum NinCommand {
    /// Validate numbers: one line per input, `NIN<TAB>valid<TAB>KIND` or `NIN<TAB>invalid<TAB>REASON`.
    Check(NinCheckArgs),
}

#[derive(Args)]
pub struct DemoArgs {
    /// What the scripted caller does.
    #[arg(long, value_enum, default_value_t = Caller::Approve)]
    pub caller: Caller,
    /// Print JSON lines instead of the human display.
    #[arg(long)]
    pub json: bool,
    /// Go through an embedded safeconv-relay, as a browser or mobile agent does: the client
    /// holds only an agent key, the relay holds the Signicat secret.
    #[arg(long)]
    pub relay: bool,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Caller {
    /// Confirms the binding message and authenticates.
    Approve,
    /// Declines in the BankID app.
    Decline,
    /// The authentication fails at BankID.
    Fail,
    /// Never answers; the session expires.
    Silent,
    /// Has no BankID app (code device only).
    NoApp,
}

/// Where and as whom to call Signicat.
#[derive(Args, Clone)]
pub struct Connection {
    /// API base URL.
    #[arg(long, env = "SAFECONV_BASE_URL", default_value = safeconv::DEFAULT_BASE_URL)]
    pub base_url: String,
    /// Token endpoint (default: derived from the base URL).
    #[arg(long, env = "SAFECONV_TOKEN_URL")]
    pub token_url: Option<String>,
    /// Signicat account id.
    #[arg(long, env = "SAFECONV_ACCOUNT_ID")]
    pub account_id: Option<String>,
    /// API client id.
    #[arg(long, env = "SAFECONV_CLIENT_ID")]
    pub client_id: Option<String>,
    /// API client secret (prefer the environment variable: command lines are visible to others).
    #[arg(long, env = "SAFECONV_CLIENT_SECRET", hide_env_values = true)]
    pub client_secret: Option<String>,
    /// Pause between status polls, in milliseconds.
    #[arg(long, env = "SAFECONV_POLL_INTERVAL_MS")]
    pub poll_interval_ms: Option<u64>,
    /// Time allowed for one HTTP request, in milliseconds.
    #[arg(long, env = "SAFECONV_REQUEST_TIMEOUT_MS")]
    pub request_timeout_ms: Option<u64>,
    /// Also trust the CA certificates in this file (PEM or DER), e.g. the CA of your bank's
    /// TLS-inspecting proxy.
    #[arg(long, env = "SAFECONV_CA_FILE", value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Which root certificates to trust besides --ca-file.
    #[arg(long, env = "SAFECONV_ROOTS", value_enum, default_value_t = Roots::Bundled)]
    pub roots: Roots,
    /// The HTTP proxy to reach Signicat through (default: the system's, from HTTPS_PROXY and
    /// NO_PROXY). Prefer --proxy-user and SAFECONV_PROXY_PASSWORD to credentials in the URL.
    #[arg(
        long,
        env = "SAFECONV_PROXY",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub proxy: Option<String>,
    /// The user name the proxy asks for.
    #[arg(long, env = "SAFECONV_PROXY_USER", value_name = "USER")]
    pub proxy_user: Option<String>,
    /// The proxy password (prefer the environment variable: command lines are visible to others).
    #[arg(long, env = "SAFECONV_PROXY_PASSWORD", hide_env_values = true)]
    pub proxy_password: Option<String>,
    /// Hosts that bypass --proxy, as in NO_PROXY (default: the NO_PROXY variable).
    #[arg(long, env = "SAFECONV_NO_PROXY", value_name = "HOSTS")]
    pub no_proxy: Option<String>,
    /// Print JSON lines instead of the human display.
    #[arg(long)]
    pub json: bool,
}

/// The root certificates to trust (`safeconv::TrustRoots`).
#[derive(Clone, Copy, ValueEnum)]
pub enum Roots {
    /// Mozilla's roots, built into safeconv.
    Bundled,
    /// The operating system's trust store.
    Native,
    /// Both.
    BundledAndNative,
    /// Only --ca-file.
    AddedOnly,
}

impl From<Roots> for safeconv::TrustRoots {
    fn from(roots: Roots) -> Self {
        match roots {
            Roots::Bundled => safeconv::TrustRoots::Bundled,
            Roots::Native => safeconv::TrustRoots::Native,
            Roots::BundledAndNative => safeconv::TrustRoots::BundledAndNative,
            Roots::AddedOnly => safeconv::TrustRoots::AddedOnly,
        }
    }
}

#[derive(Args)]
pub struct AuthenticateArgs {
    #[command(flatten)]
    pub connection: Connection,
    /// The caller's national identity number.
    #[arg(long)]
    pub nin: String,
    /// An attribute to request (repeatable; default name, firstName, lastName, nin, dateOfBirth).
    #[arg(long = "attribute", value_name = "NAME")]
    pub attributes: Vec<String>,
    /// Give up (and cancel the session) after this many seconds.
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,
    /// Send a number that fails the check digits (for example the guide's 17029012345).
    #[arg(long)]
    pub allow_invalid_nin: bool,
    /// Accept synthetic test numbers (Tenor), as sandbox test users have.
    #[arg(long, env = "SAFECONV_ALLOW_SYNTHETIC")]
    pub allow_synthetic: bool,
}

#[derive(Args)]
pub struct SessionArgs {
    #[command(flatten)]
    pub connection: Connection,
    /// The session id.
    pub id: String,
}

#[derive(Args)]
pub struct NinCheckArgs {
    /// Numbers to check, or `-` to read one per line from standard input.
    #[arg(required = true, value_name = "NIN")]
    pub nins: Vec<String>,
    /// Accept synthetic test numbers (Tenor).
    #[arg(long)]
    pub allow_synthetic: bool,
}
