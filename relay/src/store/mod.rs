//! Where the relay keeps what must survive a restart and hold across instances: sessions and
//! their owners, the rate windows, and the audit log.
//!
//! Each method is one database transaction that keeps the relay's guarantees by itself (the
//! database enforces them, not a check in the process), so that several relays on one database
//! keep them too:
//! - one active session per NIN: a unique index on the NIN's keyed hash over the rows whose
//!   state is `pending` or `active` (`sessions_one_active_per_nin`);
//! - rate windows: counted from the session rows inside the same transaction that adds the row,
//!   which holds the NIN's and the agent's lock (PostgreSQL: advisory locks; SQLite: the
//!   database's write lock);
//! - the audit chain: each append reads and moves the chain's head row inside the transaction
//!   that makes the change it records (PostgreSQL: `SELECT … FOR UPDATE`), and
//!   `audit_log.prev_hash` is unique, so two writers can never link to the same record.
//!
//! [`SqlStore`] implements [`Store`] on SQLite (the embedded default, one instance per file)
//! and on PostgreSQL (several instances), with the rules written once as SQL both run. Its
//! retention methods (`verify_audit`, `prune_audit`, in `retention`) serve the `audit`
//! commands, not the request path.

mod postgres;
mod retention;
mod rules;
mod sql;
mod sqlite;

use std::fmt;
use std::future::Future;
use std::pin::Pin;

pub use retention::{PruneError, PruneReport, PruneRequest};
pub use sql::{DatabaseOptions, SqlStore};

use crate::audit::{AuditEvent, AuditRecord, NinTag};

/// A boxed store future.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// The database could not be used (locked, unreachable, disk full, read-only, corrupt).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreError {
    message: String,
}

impl StoreError {
    /// A store error with this description (never personal data).
    pub fn new(message: impl Into<String>) -> Self {
        StoreError {
            message: message.into(),
        }
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "database: {}", self.message)
    }
}

impl std::error::Error for StoreError {}

/// What to do with a create for a NIN that has an active session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OnActiveSession {
    /// Cancel the previous session at Signicat first, then create (the guide's advice).
    #[default]
    Replace,
    /// Refuse the create (409).
    Refuse,
}

/// A limit of `max` creates per sliding `window_ms`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// At most this many creates…
    pub max: u32,
    /// …within this many milliseconds.
    pub window_ms: i64,
}

/// A create the relay wants to send.
#[derive(Clone, Debug)]
pub struct CreateIntent {
    /// The agent.
    pub agent_id: String,
    /// The agent's address.
    pub client_addr: String,
    /// The caller's NIN.
    pub nin: NinTag,
    /// Now, Unix milliseconds.
    pub now_ms: i64,
    /// Creates per NIN.
    pub per_nin: Window,
    /// Creates per agent.
    pub per_agent: Window,
    /// What to do about an active session for the NIN.
    pub on_active: OnActiveSession,
    /// A `pending` create older than this is taken as abandoned by a relay that stopped.
    pub stale_after_ms: i64,
}

/// The answer to [`Store::reserve_create`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reservation {
    /// Recorded (with its audit record); send it.
    Granted {
        /// The row to complete.
        key: i64,
        /// The active session to cancel at Signicat first.
        replaces: Option<Replaced>,
    },
    /// Refused and audited; nothing is to be sent.
    Refused(Refusal),
}

/// The session a create replaces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Replaced {
    /// Its row.
    pub key: i64,
    /// Signicat's id.
    pub session_id: String,
    /// The agent that created it.
    pub agent_id: String,
}

/// Why a create was refused by the store's rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Too many creates for this NIN; try again after this many milliseconds.
    NinLimit {
        /// When a create would be allowed again.
        retry_after_ms: i64,
    },
    /// Too many creates by this agent.
    AgentLimit {
        /// When a create would be allowed again.
        retry_after_ms: i64,
    },
    /// Another create for this NIN is being sent right now.
    InProgress,
    /// The NIN has an active session (and the mode is `refuse`).
    ActiveSession,
}

impl Refusal {
    /// The reason recorded in the audit log and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            Refusal::NinLimit { .. } => "nin_rate_limit",
            Refusal::AgentLimit { .. } => "agent_rate_limit",
            Refusal::InProgress => "create_in_progress",
            Refusal::ActiveSession => "active_session",
        }
    }
}

/// How a create that was sent ended.
#[derive(Clone, Debug)]
pub enum CreateResult {
    /// Signicat created the session.
    Created {
        /// Its id.
        session_id: String,
        /// Its status.
        status: String,
        /// Whether that status is final.
        is_final: bool,
        /// `expiresAt`, Unix milliseconds.
        expires_at_ms: Option<i64>,
    },
    /// It failed.
    Failed {
        /// An error code for the audit (e.g. `api_500`, `transport_timeout`).
        reason: String,
        /// True when Signicat certainly did not act on it (refused it, or was never reached).
        certainly_not_created: bool,
    },
}

/// What the store knows of a session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRecord {
    /// Signicat's id.
    pub session_id: String,
    /// The agent that created it (its owner).
    pub agent_id: String,
    /// The NIN it is for.
    pub nin: NinTag,
    /// `active`, `replacing` or `ended`.
    pub state: String,
    /// The last status the relay saw.
    pub status: Option<String>,
    /// `expiresAt`, Unix milliseconds.
    pub expires_at_ms: Option<i64>,
}

impl SessionRecord {
    /// Whether the session has ended (as far as the relay knows).
    pub fn has_ended(&self) -> bool {
        self.state == "ended"
    }
}

/// The relay's storage.
pub trait Store: Send + Sync + fmt::Debug {
    /// Checks the rules for a create and, if they allow it, records it (row `pending` plus
    /// an audit `create` record) before anything is sent; a refusal is audited and not counted.
    fn reserve_create<'a>(&'a self, intent: &'a CreateIntent) -> StoreFuture<'a, Reservation>;

    /// Undoes a reservation whose create was never sent (the cancel of the session it replaced
    /// failed): the row is `abandoned` and not counted, the replaced session is active again.
    fn abandon_create<'a>(
        &'a self,
        key: i64,
        restore: Option<&'a Replaced>,
        audit: AuditEvent,
    ) -> StoreFuture<'a, ()>;

    /// Records how a sent create ended, and the final status of the session it replaced.
    fn complete_create<'a>(
        &'a self,
        key: i64,
        result: &'a CreateResult,
        replaced: Option<(&'a Replaced, String)>,
        audit: Vec<AuditEvent>,
    ) -> StoreFuture<'a, ()>;

    /// The session with Signicat id `session_id`, if this relay created it.
    fn session<'a>(&'a self, session_id: &'a str) -> StoreFuture<'a, Option<SessionRecord>>;

    /// Records a final status seen on a read; appends `audit` only if the session was not
    /// already ended (so that instances reading the same session record its outcome once).
    fn record_outcome<'a>(
        &'a self,
        session_id: &'a str,
        status: &'a str,
        audit: AuditEvent,
    ) -> StoreFuture<'a, bool>;

    /// Records an agent's cancel and the status Signicat answered.
    fn record_cancel<'a>(
        &'a self,
        session_id: &'a str,
        status: &'a str,
        is_final: bool,
        audit: AuditEvent,
    ) -> StoreFuture<'a, ()>;

    /// Appends one audit record on its own (refusals outside a create, ownership refusals).
    fn append_audit(&self, event: AuditEvent) -> StoreFuture<'_, ()>;

    /// At start-up: marks creates left `pending` by a relay that stopped as interrupted
    /// (audited). SQLite, used by one instance, takes every pending create as interrupted; a
    /// shared database only those older than `stale_after_ms`, as [`Store::expire_stale`].
    fn recover_interrupted(&self, now_ms: i64, stale_after_ms: i64) -> StoreFuture<'_, u64>;

    /// Now and then, on every instance: creates `pending` for longer than `stale_after_ms` (no
    /// create takes that long) are marked interrupted and audited, and sessions left
    /// `replacing` that long stop counting as active: the work of a relay that stopped mid-way.
    /// Each is recorded once, whichever instance finds it.
    fn expire_stale(&self, now_ms: i64, stale_after_ms: i64) -> StoreFuture<'_, u64>;

    /// How many sessions are active and not past `expiresAt`.
    fn active_sessions(&self, now_ms: i64) -> StoreFuture<'_, u64>;

    /// Audit records with `seq > after_seq` (and `at >= since_ms`), oldest first, at most `limit`.
    fn audit_page(
        &self,
        after_seq: i64,
        since_ms: Option<i64>,
        limit: u32,
    ) -> StoreFuture<'_, Vec<AuditRecord>>;

    /// The chain's head: the last record's `(seq, hash)`, if any.
    fn audit_head(&self) -> StoreFuture<'_, Option<(i64, String)>>;

    /// Whether the database answers (for `/readyz`).
    fn ping(&self) -> StoreFuture<'_, ()>;
}
