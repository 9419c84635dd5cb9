//! Retention: verifying the audit chain as one snapshot, and `audit prune`, which removes the
//! oldest audit records and the sessions rows that ended before a cut-off, and leaves a chain
//! that still verifies.
//!
//! A prune works in two steps, so that relays keep serving while it runs:
//! 1. **Verify**, in a read-only snapshot that holds no lock: the whole chain must verify with
//!    the keys given (a log that does not is evidence, and is not pruned), and the records to
//!    remove are found (a prefix: every record up to the first one at or after the cut-off)
//!    and, with an archive file, written to it.
//! 2. **Remove**, in one write transaction: PostgreSQL takes an advisory lock of its own (one
//!    prune at a time, no writer ever waits for it), checks that nothing moved since step 1,
//!    deletes the records (the append-only trigger lets exactly those through, see the
//!    migration `0002_audit_retention.sql`) and the ended sessions rows, then appends the
//!    `pruned` record through the same path as every append: the chain's head row
//!    `FOR UPDATE`, taken last, as every writer takes it. SQLite's write lock serialises it
//!    with the relay's writes.
//!
//! A prune never removes a session row that is `pending`, `active` (unless past its
//! `expiresAt`) or `replacing`, nor one created or changed after the cut-off, and the cut-off
//! must lie before every rate window still in force, so no limit ever counts differently.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::sql::{Arg, Conn, Db, SqlStore, db_error};
use super::{StoreError, rules};
use crate::audit::{
    Action, AuditEvent, AuditKey, AuditRecord, ChainBreak, ChainReport, ChainVerifier, PruneAnchor,
};

/// The migration that lets a prune's deletes through the append-only trigger
/// (`0002_audit_retention.sql`).
const RETENTION_MIGRATION: i64 = 2;

/// Records read per query while walking the chain.
const PAGE: u32 = 1000;

/// How often a prune tries again when another prune or a writer got in its way.
const ATTEMPTS: u32 = 3;

/// The longest a prune's delete statements may run (PostgreSQL; the relay's own statements
/// are bounded by `busy_timeout`).
const PRUNE_STATEMENT_TIMEOUT_MS: &str = "600000";

/// What to prune.
///
/// ```
/// use safeconv_relay::store::PruneRequest;
/// let request = PruneRequest::new(1_600_000_000_000, 3_600_000);
/// assert!(!request.dry_run && request.archive.is_none());
/// ```
#[derive(Clone, Debug)]
pub struct PruneRequest {
    /// Remove audit records older than this (Unix ms), up to the first younger record, and
    /// sessions rows created and last changed before it.
    pub before_ms: i64,
    /// The cut-off must be at least this long ago: the longest rate window (rows inside a
    /// window still count against a limit).
    pub keep_at_least_ms: i64,
    /// Who runs it (recorded in the `pruned` record).
    pub by: Option<String>,
    /// Write the records removed to this new file first (JSON lines, as `audit export`).
    pub archive: Option<PathBuf>,
    /// Only say what would be removed.
    pub dry_run: bool,
}

impl PruneRequest {
    /// Prune before `before_ms`, refusing a cut-off less than `keep_at_least_ms` ago.
    pub fn new(before_ms: i64, keep_at_least_ms: i64) -> Self {
        PruneRequest {
            before_ms,
            keep_at_least_ms,
            by: None,
            archive: None,
            dry_run: false,
        }
    }
}

/// What a prune removed (or, dry, would remove).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PruneReport {
    /// Audit records removed.
    pub records: u64,
    /// The first and last removed, if any.
    pub removed: Option<(i64, i64)>,
    /// Sessions rows removed.
    pub sessions: u64,
    /// The `pruned` record appended (none for a dry run or when there was nothing to remove).
    pub anchor_seq: Option<i64>,
    /// The chain as it was verified before anything was removed.
    pub verified: ChainReport,
}

/// Why a prune removed nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PruneError {
    /// The request cannot be carried out as given (a cut-off in the future or inside a rate
    /// window, a key that does not seal the log, an archive file that exists).
    Refused(String),
    /// The chain does not verify: pruning would remove the evidence.
    Broken(ChainBreak),
    /// The database or the archive file could not be used.
    Failed(String),
}

impl std::fmt::Display for PruneError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PruneError::Refused(why) | PruneError::Failed(why) => f.write_str(why),
            PruneError::Broken(at) => write!(f, "audit log broken at {at}"),
        }
    }
}

impl std::error::Error for PruneError {}

impl From<StoreError> for PruneError {
    fn from(e: StoreError) -> Self {
        PruneError::Failed(e.to_string())
    }
}

/// Why walking the chain stopped.
enum WalkError {
    Db(sqlx::Error),
    Broken(ChainBreak),
    Archive(String),
}

impl From<sqlx::Error> for WalkError {
    fn from(e: sqlx::Error) -> Self {
        WalkError::Db(e)
    }
}

impl From<WalkError> for PruneError {
    fn from(e: WalkError) -> Self {
        match e {
            WalkError::Db(e) => PruneError::Failed(db_error(e).to_string()),
            WalkError::Broken(at) => PruneError::Broken(at),
            WalkError::Archive(why) => PruneError::Failed(why),
        }
    }
}

/// Checks the whole chain inside `conn`'s snapshot, from the newest prune's anchor (or record
/// 1) to the head; `each` sees every record checked.
async fn walk(
    conn: &mut Conn<'_>,
    keys: &[AuditKey],
    each: &mut dyn FnMut(&AuditRecord) -> Result<(), String>,
) -> Result<ChainReport, WalkError> {
    let latest_prune = rules::latest_prune(conn).await?;
    let mut verifier =
        ChainVerifier::starting_from(keys, latest_prune.as_ref()).map_err(WalkError::Broken)?;
    let mut after = 0;
    loop {
        let page = rules::page(conn, after, None, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for record in &page {
            verifier.check(record).map_err(WalkError::Broken)?;
            each(record).map_err(WalkError::Archive)?;
        }
    }
    let head = rules::head(conn).await?;
    verifier.finish(head).map_err(WalkError::Broken)
}

/// The sessions rows a prune removes, as an SQL condition on the cut-off `$1`: over (not
/// `pending` or `replacing`, and not `active` unless past `expiresAt`), created and last
/// changed before the cut-off. A macro, so that each statement is one literal.
macro_rules! prunable_sessions {
    () => {
        "(created_at_ms < $1 AND updated_at_ms < $1 AND \
         (state IN ('ended', 'failed', 'unknown', 'abandoned') \
          OR (state = 'active' AND expires_at_ms IS NOT NULL AND expires_at_ms < $1)))"
    };
}

/// The sessions a prune before `before_ms` removes.
async fn count_prunable_sessions(conn: &mut Conn<'_>, before_ms: i64) -> sqlx::Result<u64> {
    let n = conn
        .row(
            concat!("SELECT COUNT(*) FROM sessions WHERE ", prunable_sessions!()),
            &[Arg::Int(before_ms)],
        )
        .await?
        .int(0)?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// What step 1 found: the chain, and the prefix to remove.
struct Plan {
    verified: ChainReport,
    /// The newest `pruned` record when it was verified (another prune since: start again).
    latest_prune: Option<i64>,
    /// The last record to remove (`first_seq - 1` when none).
    through: i64,
    /// The hash the first record kept links to.
    through_hash: String,
    sessions: u64,
}

impl Plan {
    fn records(&self) -> u64 {
        if self.verified.records == 0 {
            return 0;
        }
        u64::try_from(self.through - self.verified.first_seq + 1).unwrap_or(0)
    }
}

/// A step-2 outcome that means: start again from step 1.
enum Attempt<T> {
    Done(T),
    Again(String),
}

impl SqlStore {
    /// Verifies the whole audit chain as one snapshot (records written meanwhile are not seen,
    /// so a relay appending, or a prune, while it runs is no false alarm). `Ok(Err(_))` names
    /// the first bad record.
    pub async fn verify_audit(
        &self,
        keys: &[AuditKey],
    ) -> Result<Result<ChainReport, ChainBreak>, StoreError> {
        let mut tx = self.snapshot().await.map_err(db_error)?;
        let result = walk(&mut tx.conn(), keys, &mut |_| Ok(())).await;
        tx.commit().await.map_err(db_error)?;
        match result {
            Ok(report) => Ok(Ok(report)),
            Err(WalkError::Broken(at)) => Ok(Err(at)),
            Err(WalkError::Db(e)) => Err(db_error(e)),
            Err(WalkError::Archive(why)) => Err(StoreError::new(why)),
        }
    }

    /// Removes audit records older than `request.before_ms` and sessions rows that ended
    /// before it (see the module documentation), leaving a `pruned` record the chain is
    /// verified from. `keys`: the current audit key first (it seals the `pruned` record; the
    /// store must have been opened with it), then earlier ones. Nothing is removed unless the
    /// whole chain verifies first.
    pub async fn prune_audit(
        &self,
        keys: &[AuditKey],
        request: &PruneRequest,
        now_ms: i64,
    ) -> Result<PruneReport, PruneError> {
        if request.before_ms > now_ms {
            return Err(PruneError::Refused(format!(
                "the cut-off {} is in the future",
                crate::audit::format_ms(request.before_ms)
            )));
        }
        let latest_allowed = now_ms - request.keep_at_least_ms;
        if request.before_ms > latest_allowed {
            return Err(PruneError::Refused(format!(
                "the cut-off {} is inside the rate windows still in force (the longest is {} s): \
                 use {} or earlier",
                crate::audit::format_ms(request.before_ms),
                request.keep_at_least_ms / 1000,
                crate::audit::format_ms(latest_allowed)
            )));
        }
        if keys.first().map(AuditKey::id) != Some(self.inner.key.id()) {
            return Err(PruneError::Refused(
                "the current audit key must come first".to_owned(),
            ));
        }
        let mut why_again = String::new();
        for _ in 0..ATTEMPTS {
            let archive = request
                .archive
                .as_deref()
                .filter(|_| !request.dry_run)
                .map(Archive::create)
                .transpose()?;
            let mut archive = ArchiveGuard(archive);
            let plan = self.plan(keys, request, archive.0.as_mut()).await?;
            if let Some(file) = archive.0.as_mut() {
                file.finish()?;
            }
            if request.dry_run {
                return Ok(PruneReport {
                    records: plan.records(),
                    removed: removed_range(&plan),
                    sessions: plan.sessions,
                    anchor_seq: None,
                    verified: plan.verified,
                });
            }
            match self.remove(request, &plan, now_ms).await {
                Ok(Attempt::Done(report)) => {
                    if report.records > 0 {
                        archive.keep();
                    }
                    return Ok(report);
                }
                Ok(Attempt::Again(why)) => why_again = why,
                Err(e) if is_transient(&e) => why_again = db_error(e).to_string(),
                Err(e) => return Err(PruneError::Failed(db_error(e).to_string())),
            }
        }
        Err(PruneError::Failed(format!(
            "{why_again} ({ATTEMPTS} attempts; try again later)"
        )))
    }

    /// Step 1, in a snapshot: verify, find the prefix to remove, archive it.
    async fn plan(
        &self,
        keys: &[AuditKey],
        request: &PruneRequest,
        mut archive: Option<&mut Archive>,
    ) -> Result<Plan, PruneError> {
        let mut tx = self.snapshot().await.map_err(db_error)?;
        let mut conn = tx.conn();
        let schema = conn
            .row(
                "SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations",
                &[],
            )
            .await
            .map_err(db_error)?
            .int(0)
            .map_err(db_error)?;
        if schema < RETENTION_MIGRATION {
            return Err(PruneError::Refused(format!(
                "this database's schema predates retention (migration {RETENTION_MIGRATION}): \
                 start a relay of this version on it once, which applies it"
            )));
        }
        let head = rules::head(&mut conn).await.map_err(db_error)?;
        if let Some((seq, _)) = &head {
            let newest = rules::page(&mut conn, seq - 1, None, 1)
                .await
                .map_err(db_error)?;
            if let Some(newest) = newest.first()
                && !keys.iter().any(|k| k.id() == newest.key_id)
            {
                return Err(PruneError::Refused(format!(
                    "the audit log's newest record was sealed with audit key {}, but the key given is {}: \
                     prune with the deployment's audit key file (and earlier ones in previous_audit_key_files)",
                    newest.key_id,
                    self.inner.key.id()
                )));
            }
        }
        // The prefix: every record before the first one at or after the cut-off (a record's
        // time is taken before its append waits for the head, so times may be a little out
        // of order; the prefix stops at the first younger one).
        let first_young = conn
            .row(
                "SELECT MIN(seq) FROM audit_log WHERE at_ms >= $1",
                &[Arg::Int(request.before_ms)],
            )
            .await
            .map_err(db_error)?
            .opt_int(0)
            .map_err(db_error)?;
        let through = first_young.map_or_else(|| head.as_ref().map_or(0, |h| h.0), |seq| seq - 1);
        let latest_prune = rules::latest_prune(&mut conn)
            .await
            .map_err(db_error)?
            .map(|r| r.seq);
        let mut through_hash = None;
        let verified = walk(&mut conn, keys, &mut |record| {
            if record.seq > through {
                return Ok(());
            }
            if record.seq == through {
                through_hash = Some(record.hash.clone());
            }
            match archive.as_deref_mut() {
                Some(file) => file.write(record),
                None => Ok(()),
            }
        })
        .await?;
        let sessions = count_prunable_sessions(&mut conn, request.before_ms)
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        let through = through.max(verified.first_seq - 1);
        Ok(Plan {
            through_hash: through_hash.unwrap_or_else(|| verified.first_prev_hash.clone()),
            verified,
            latest_prune,
            through,
            sessions,
        })
    }

    /// Step 2, one write transaction: remove what the plan found, append the `pruned` record.
    async fn remove(
        &self,
        request: &PruneRequest,
        plan: &Plan,
        now_ms: i64,
    ) -> sqlx::Result<Attempt<PruneReport>> {
        let mut tx = self.begin().await?;
        let mut conn = tx.conn();
        let postgres = matches!(self.db, Db::Postgres(_));
        if postgres {
            // One prune at a time; no relay takes this lock, so none waits for it.
            conn.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended('safeconv-relay prune', 0))",
                &[],
            )
            .await?;
            conn.execute(
                "SELECT set_config('statement_timeout', $1, true)",
                &[Arg::Text(PRUNE_STATEMENT_TIMEOUT_MS)],
            )
            .await?;
        }
        if rules::latest_prune(&mut conn).await?.map(|r| r.seq) != plan.latest_prune {
            return Ok(Attempt::Again(
                "another prune ran at the same time".to_owned(),
            ));
        }
        let records = plan.records();
        if records > 0 {
            let hash = conn
                .optional_row(
                    "SELECT hash FROM audit_log WHERE seq = $1",
                    &[Arg::Int(plan.through)],
                )
                .await?
                .map(|row| row.text(0))
                .transpose()?;
            if hash.as_deref() != Some(plan.through_hash.as_str()) {
                return Ok(Attempt::Again(format!(
                    "record {} changed since it was verified",
                    plan.through
                )));
            }
            let through = Arg::Int(plan.through);
            if postgres {
                conn.execute(
                    "SELECT set_config('safeconv_relay.prune_through', $1::text, true)",
                    &[through],
                )
                .await?;
            } else {
                // (Replacing a row someone left there: the guard is this prune's alone.)
                conn.execute(
                    "INSERT OR REPLACE INTO audit_prune_guard (id, through_seq) VALUES (1, $1)",
                    &[through],
                )
                .await?;
            }
            let deleted = conn
                .execute("DELETE FROM audit_log WHERE seq <= $1", &[through])
                .await?;
            if postgres {
                conn.execute(
                    "SELECT set_config('safeconv_relay.prune_through', '', true)",
                    &[],
                )
                .await?;
            } else {
                conn.execute("DELETE FROM audit_prune_guard", &[]).await?;
            }
            if deleted != records {
                return Ok(Attempt::Again(format!(
                    "{deleted} records found to remove, {records} verified"
                )));
            }
        }
        let before = Arg::Int(request.before_ms);
        // A kept row may name a removed one as the session it replaced.
        conn.execute(
            concat!(
                "UPDATE sessions SET replaces_id = NULL WHERE replaces_id IN \
                 (SELECT id FROM sessions WHERE ",
                prunable_sessions!(),
                ")"
            ),
            &[before],
        )
        .await?;
        let sessions = conn
            .execute(
                concat!("DELETE FROM sessions WHERE ", prunable_sessions!()),
                &[before],
            )
            .await?;
        let mut report = PruneReport {
            records,
            removed: removed_range(plan),
            sessions,
            anchor_seq: None,
            verified: plan.verified.clone(),
        };
        if records == 0 && sessions == 0 {
            // Nothing to record either: the transaction is rolled back when dropped.
            return Ok(Attempt::Done(report));
        }
        let anchor = PruneAnchor {
            before: crate::audit::format_ms(request.before_ms),
            first_seq: plan.through + 1,
            first_prev_hash: plan.through_hash.clone(),
            records,
            sessions,
            by: request.by.clone(),
        };
        let mut event = AuditEvent::new(Action::Pruned);
        event.at_ms = now_ms;
        event.reason = Some(anchor.to_reason());
        rules::append(&mut conn, &self.inner, &event).await?;
        let head = rules::head(&mut conn).await?;
        tx.commit().await?;
        report.anchor_seq = head.map(|(seq, _)| seq);
        Ok(Attempt::Done(report))
    }
}

fn removed_range(plan: &Plan) -> Option<(i64, i64)> {
    (plan.records() > 0).then_some((plan.verified.first_seq, plan.through))
}

/// A lock that could not be had in time, a deadlock, a serialisation failure: worth another
/// attempt.
fn is_transient(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => matches!(
            d.code().as_deref(),
            // PostgreSQL: deadlock, serialisation, lock timeout; SQLite: busy, locked.
            Some("40P01" | "40001" | "55P03" | "5" | "6" | "517")
        ),
        sqlx::Error::PoolTimedOut => true,
        _ => false,
    }
}

/// The archive file a prune writes the records it removes to: JSON lines, as `audit export`
/// prints them, in a new file only its owner can read (the records hold NIN hashes).
struct Archive {
    path: PathBuf,
    file: std::io::BufWriter<std::fs::File>,
}

impl Archive {
    fn create(path: &Path) -> Result<Archive, PruneError> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(path).map_err(|e| {
            let what = format!("the archive file {}: {e}", path.display());
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                PruneError::Refused(format!("{what} (a prune never overwrites an archive)"))
            } else {
                PruneError::Failed(what)
            }
        })?;
        Ok(Archive {
            path: path.to_owned(),
            file: std::io::BufWriter::new(file),
        })
    }

    fn write(&mut self, record: &AuditRecord) -> Result<(), String> {
        let line = serde_json::to_string(record).map_err(|e| e.to_string())?;
        writeln!(self.file, "{line}")
            .map_err(|e| format!("the archive file {}: {e}", self.path.display()))
    }

    /// Everything on disk before a record is removed.
    fn finish(&mut self) -> Result<(), PruneError> {
        self.file
            .flush()
            .and_then(|()| self.file.get_ref().sync_all())
            .map_err(|e| {
                PruneError::Failed(format!("the archive file {}: {e}", self.path.display()))
            })
    }
}

/// Removes the archive file unless the prune it was written for removed its records.
struct ArchiveGuard(Option<Archive>);

impl ArchiveGuard {
    fn keep(&mut self) {
        self.0 = None;
    }
}

impl Drop for ArchiveGuard {
    fn drop(&mut self) {
        if let Some(archive) = self.0.take() {
            let path = archive.path.clone();
            drop(archive);
            let _ = std::fs::remove_file(path);
        }
    }
}
