//! The command line, as a contract: names, flags and environment variables stay stable.

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "safeconv",
    version,
    about = "Verify a caller with Norwegian BankID Safe Conversation (Signicat headless API)",
    after_help = "Exit codes: 0 SUCCESS, 2 invalid input, 3 ABORT, 4 CANCELLED, 5 EXPIRED, \
                  6 ERROR or INVALID, 7 authentication failed, 8 transport or protocol failure."
)]
pub struct Cli {
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
    /// Print JSON lines instead of the human display.
    #[arg(long)]
    pub json: bool,
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
