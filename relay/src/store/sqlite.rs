//! The embedded store: one SQLite file, migrations run at start-up.
//!
//! Writes go through one connection and start with `BEGIN IMMEDIATE`, which takes SQLite's
//! write lock before the first read: every transaction that checks a rule and then writes is
//! serialised by the database itself, for this process and any other that opens the file.
//! Reads use a small pool of their own (WAL mode lets them run beside the writer).

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Row, SqliteConnection};

use super::{
    CreateIntent, CreateResult, OnActiveSession, Refusal, Replaced, Reservation, SessionRecord,
    Store, StoreError, StoreFuture, Window,
};
use crate::audit::{Action, AuditEvent, AuditKey, AuditRecord, NinTag};

/// The SQLite store. Cheap to clone.
///
/// ```no_run
/// # async fn open() -> Result<(), safeconv_relay::store::StoreError> {
/// let key = safeconv_relay::AuditKey::from_bytes(&[7; 32]).unwrap();
/// let store = safeconv_relay::store::SqliteStore::open(
///     "sqlite://relay.db", key, "relay-1", std::time::Duration::from_secs(2)).await?;
/// # let _ = store; Ok(()) }
/// ```
#[derive(Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    inner: Arc<Inner>,
}

struct Inner {
    key: AuditKey,
    instance: String,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("instance", &self.inner.instance)
            .finish_non_exhaustive()
    }
}

fn db_error(e: sqlx::Error) -> StoreError {
    StoreError::new(e.to_string())
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `url` (`sqlite:///abs/path.db`,
    /// `sqlite://relative.db`) and runs the migrations. `busy_timeout` bounds how long a write
    /// waits for a lock held elsewhere before it fails (and the request gets 503).
    pub async fn open(
        url: &str,
        key: AuditKey,
        instance: &str,
        busy_timeout: Duration,
    ) -> Result<SqliteStore, StoreError> {
        if url.contains(":memory:") || url.contains("mode=memory") {
            return Err(StoreError::new(
                "an in-memory database would forget ownership, limits and the audit log at every restart; use a file",
            ));
        }
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::new(format!("invalid database URL: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // The audit log is worth an fsync per commit.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(busy_timeout)
            .foreign_keys(true);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(busy_timeout + Duration::from_secs(1))
            .connect_with(options.clone())
            .await
            .map_err(db_error)?;
        sqlx::migrate!("migrations/sqlite")
            .run(&writer)
            .await
            .map_err(|e| StoreError::new(format!("migrations failed: {e}")))?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(busy_timeout + Duration::from_secs(1))
            .connect_with(options)
            .await
            .map_err(db_error)?;
        Ok(SqliteStore {
            writer,
            reader,
            inner: Arc::new(Inner {
                key,
                instance: instance.to_owned(),
            }),
        })
    }

    async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, StoreError> {
        self.writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(db_error)
    }

    /// Closes the pools (waits for queries under way).
    pub async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }
}

/// Appends one record to the chain, inside the caller's transaction.
async fn append(
    conn: &mut SqliteConnection,
    inner: &Inner,
    event: &AuditEvent,
) -> Result<(), sqlx::Error> {
    let (seq, hash): (i64, String) =
        sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(&mut *conn)
            .await?;
    let record = AuditRecord::seal(&inner.key, &inner.instance, seq, &hash, event);
    sqlx::query(
        "INSERT INTO audit_log (seq, at_ms, instance, action, agent_id, client_addr, session_id, \
         nin_hash, nin_masked, status, reason, key_id, prev_hash, hash) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(record.seq)
    .bind(record.at_ms)
    .bind(&record.instance)
    .bind(&record.action)
    .bind(&record.agent_id)
    .bind(&record.client_addr)
    .bind(&record.session_id)
    .bind(&record.nin_hash)
    .bind(&record.nin_masked)
    .bind(&record.status)
    .bind(&record.reason)
    .bind(&record.key_id)
    .bind(&record.prev_hash)
    .bind(&record.hash)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1")
        .bind(record.seq)
        .bind(&record.hash)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// `Some(retry_after_ms)` when `max` creates are already in the window for `column = value`.
/// Whose creates a window counts.
#[derive(Clone, Copy)]
enum WindowOf {
    Nin,
    Agent,
}

async fn window_full(
    conn: &mut SqliteConnection,
    column: WindowOf,
    value: &str,
    window: Window,
    now_ms: i64,
) -> Result<Option<i64>, sqlx::Error> {
    let since = now_ms - window.window_ms;
    let (count_sql, nth_sql) = match column {
        WindowOf::Nin => (
            "SELECT COUNT(*) FROM sessions WHERE nin_hash = ? AND created_at_ms > ? AND state <> 'abandoned'",
            "SELECT created_at_ms FROM sessions WHERE nin_hash = ? AND created_at_ms > ? AND state <> 'abandoned' \
             ORDER BY created_at_ms LIMIT 1 OFFSET ?",
        ),
        WindowOf::Agent => (
            "SELECT COUNT(*) FROM sessions WHERE agent_id = ? AND created_at_ms > ? AND state <> 'abandoned'",
            "SELECT created_at_ms FROM sessions WHERE agent_id = ? AND created_at_ms > ? AND state <> 'abandoned' \
             ORDER BY created_at_ms LIMIT 1 OFFSET ?",
        ),
    };
    let count: i64 = sqlx::query_scalar(count_sql)
        .bind(value)
        .bind(since)
        .fetch_one(&mut *conn)
        .await?;
    let max = i64::from(window.max);
    if count < max {
        return Ok(None);
    }
    // The create that must leave the window before another is allowed.
    let oldest: i64 = sqlx::query_scalar(nth_sql)
        .bind(value)
        .bind(since)
        .bind(count - max)
        .fetch_one(&mut *conn)
        .await?;
    Ok(Some((oldest + window.window_ms - now_ms).max(1)))
}

fn refusal_event(intent: &CreateIntent, refusal: &Refusal) -> AuditEvent {
    let status = match refusal {
        Refusal::NinLimit { .. } | Refusal::AgentLimit { .. } => "429",
        Refusal::InProgress | Refusal::ActiveSession => "409",
    };
    AuditEvent {
        at_ms: intent.now_ms,
        action: Action::Refused,
        agent_id: Some(intent.agent_id.clone()),
        client_addr: Some(intent.client_addr.clone()),
        session_id: None,
        nin: Some(intent.nin.clone()),
        status: Some(status.to_owned()),
        reason: Some(refusal.reason().to_owned()),
    }
}

/// Marks `pending` rows created at or before `cutoff_ms` (for one NIN, or all) as `unknown`.
async fn interrupt_pending(
    conn: &mut SqliteConnection,
    inner: &Inner,
    nin_hash: Option<&str>,
    cutoff_ms: i64,
    now_ms: i64,
) -> Result<u64, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, agent_id, client_addr, nin_hash, nin_masked FROM sessions \
         WHERE state = 'pending' AND created_at_ms <= ? AND (? IS NULL OR nin_hash = ?)",
    )
    .bind(cutoff_ms)
    .bind(nin_hash)
    .bind(nin_hash)
    .fetch_all(&mut *conn)
    .await?;
    for row in &rows {
        let id: i64 = row.get(0);
        sqlx::query("UPDATE sessions SET state = 'unknown', updated_at_ms = ? WHERE id = ?")
            .bind(now_ms)
            .bind(id)
            .execute(&mut *conn)
            .await?;
        let event = AuditEvent {
            at_ms: now_ms,
            action: Action::Interrupted,
            agent_id: Some(row.get(1)),
            client_addr: Some(row.get(2)),
            session_id: None,
            nin: Some(NinTag {
                hash: row.get(3),
                masked: row.get(4),
            }),
            status: None,
            reason: Some("create_outcome_unknown".to_owned()),
        };
        append(conn, inner, &event).await?;
    }
    Ok(rows.len() as u64)
}

impl SqliteStore {
    async fn reserve(&self, intent: &CreateIntent) -> Result<Reservation, StoreError> {
        let mut tx = self.begin().await?;
        let decision = self.decide(&mut tx, intent).await.map_err(db_error)?;
        match decision {
            Ok(reservation) => {
                tx.commit().await.map_err(db_error)?;
                Ok(reservation)
            }
            Err(refusal) => {
                append(&mut tx, &self.inner, &refusal_event(intent, &refusal))
                    .await
                    .map_err(db_error)?;
                tx.commit().await.map_err(db_error)?;
                Ok(Reservation::Refused(refusal))
            }
        }
    }

    /// The rules, in order: limits (429), a create under way (409), an active session (409 or
    /// replace); then the intent row and its audit record.
    async fn decide(
        &self,
        tx: &mut SqliteConnection,
        intent: &CreateIntent,
    ) -> Result<Result<Reservation, Refusal>, sqlx::Error> {
        let now = intent.now_ms;
        let nin = &intent.nin.hash;
        interrupt_pending(tx, &self.inner, Some(nin), now - intent.stale_after_ms, now).await?;
        // A session past its expiresAt is no longer active, whether or not anyone polled it.
        sqlx::query(
            "UPDATE sessions SET state = 'ended', updated_at_ms = ? \
             WHERE nin_hash = ? AND state = 'active' AND expires_at_ms IS NOT NULL AND expires_at_ms <= ?",
        )
        .bind(now)
        .bind(nin)
        .bind(now)
        .execute(&mut *tx)
        .await?;

        if let Some(retry_after_ms) =
            window_full(tx, WindowOf::Nin, nin, intent.per_nin, now).await?
        {
            return Ok(Err(Refusal::NinLimit { retry_after_ms }));
        }
        if let Some(retry_after_ms) =
            window_full(tx, WindowOf::Agent, &intent.agent_id, intent.per_agent, now).await?
        {
            return Ok(Err(Refusal::AgentLimit { retry_after_ms }));
        }

        let current = sqlx::query(
            "SELECT id, session_id, state, agent_id FROM sessions \
             WHERE nin_hash = ? AND state IN ('pending', 'active')",
        )
        .bind(nin)
        .fetch_optional(&mut *tx)
        .await?;
        let mut replaces = None;
        if let Some(row) = current {
            let state: String = row.get(2);
            let session_id: Option<String> = row.get(1);
            match (state.as_str(), session_id, intent.on_active) {
                ("active", Some(session_id), OnActiveSession::Replace) => {
                    let key: i64 = row.get(0);
                    sqlx::query(
                        "UPDATE sessions SET state = 'replacing', updated_at_ms = ? WHERE id = ?",
                    )
                    .bind(now)
                    .bind(key)
                    .execute(&mut *tx)
                    .await?;
                    replaces = Some(Replaced {
                        key,
                        session_id,
                        agent_id: row.get(3),
                    });
                }
                ("active", _, _) => return Ok(Err(Refusal::ActiveSession)),
                _ => return Ok(Err(Refusal::InProgress)),
            }
        }

        let key: i64 = sqlx::query_scalar(
            "INSERT INTO sessions (agent_id, client_addr, nin_hash, nin_masked, state, replaces_id, \
             created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, 'pending', ?, ?, ?) RETURNING id",
        )
        .bind(&intent.agent_id)
        .bind(&intent.client_addr)
        .bind(nin)
        .bind(&intent.nin.masked)
        .bind(replaces.as_ref().map(|r: &Replaced| r.key))
        .bind(now)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let event = AuditEvent {
            at_ms: now,
            action: Action::Create,
            agent_id: Some(intent.agent_id.clone()),
            client_addr: Some(intent.client_addr.clone()),
            session_id: None,
            nin: Some(intent.nin.clone()),
            status: None,
            reason: replaces
                .as_ref()
                .map(|r| format!("replaces {}", r.session_id)),
        };
        append(tx, &self.inner, &event).await?;
        Ok(Ok(Reservation::Granted { key, replaces }))
    }

    async fn abandon(
        &self,
        key: i64,
        restore: Option<&Replaced>,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let now = audit.at_ms;
        let mut tx = self.begin().await?;
        let work = async {
            sqlx::query("UPDATE sessions SET state = 'abandoned', updated_at_ms = ? WHERE id = ?")
                .bind(now)
                .bind(key)
                .execute(&mut *tx)
                .await?;
            if let Some(old) = restore {
                sqlx::query(
                    "UPDATE sessions SET state = 'active', updated_at_ms = ? WHERE id = ? AND state = 'replacing'",
                )
                .bind(now)
                .bind(old.key)
                .execute(&mut *tx)
                .await?;
            }
            append(&mut tx, &self.inner, audit).await
        };
        work.await.map_err(db_error)?;
        tx.commit().await.map_err(db_error)
    }

    async fn complete(
        &self,
        key: i64,
        result: &CreateResult,
        replaced: Option<(&Replaced, String)>,
        audit: &[AuditEvent],
    ) -> Result<(), StoreError> {
        let now = audit.first().map_or_else(crate::audit::now_ms, |e| e.at_ms);
        let mut tx = self.begin().await?;
        let work = async {
            // The replaced session first: it leaves the active set before the new one joins.
            if let Some((old, status)) = &replaced {
                sqlx::query(
                    "UPDATE sessions SET state = 'ended', status = ?, updated_at_ms = ? WHERE id = ?",
                )
                .bind(status)
                .bind(now)
                .bind(old.key)
                .execute(&mut *tx)
                .await?;
            }
            match result {
                CreateResult::Created {
                    session_id,
                    status,
                    is_final,
                    expires_at_ms,
                } => {
                    let state = if *is_final { "ended" } else { "active" };
                    sqlx::query(
                        "UPDATE sessions SET session_id = ?, state = ?, status = ?, expires_at_ms = ?, \
                         updated_at_ms = ? WHERE id = ?",
                    )
                    .bind(session_id)
                    .bind(state)
                    .bind(status)
                    .bind(expires_at_ms)
                    .bind(now)
                    .bind(key)
                    .execute(&mut *tx)
                    .await?;
                }
                CreateResult::Failed {
                    certainly_not_created,
                    ..
                } => {
                    let state = if *certainly_not_created {
                        "failed"
                    } else {
                        "unknown"
                    };
                    sqlx::query("UPDATE sessions SET state = ?, updated_at_ms = ? WHERE id = ?")
                        .bind(state)
                        .bind(now)
                        .bind(key)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            for event in audit {
                append(&mut tx, &self.inner, event).await?;
            }
            Ok::<_, sqlx::Error>(())
        };
        work.await.map_err(db_error)?;
        tx.commit().await.map_err(db_error)
    }

    async fn find(&self, session_id: &str) -> Result<Option<SessionRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT session_id, agent_id, nin_hash, nin_masked, state, status, expires_at_ms \
             FROM sessions WHERE session_id = ?",
        )
        .bind(session_id)
        .fetch_optional(&self.reader)
        .await
        .map_err(db_error)?;
        Ok(row.map(|row| SessionRecord {
            session_id: row.get(0),
            agent_id: row.get(1),
            nin: NinTag {
                hash: row.get(2),
                masked: row.get(3),
            },
            state: row.get(4),
            status: row.get(5),
            expires_at_ms: row.get(6),
        }))
    }

    async fn outcome(
        &self,
        session_id: &str,
        status: &str,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let work = async {
            let changed = sqlx::query(
                "UPDATE sessions SET state = 'ended', status = ?, updated_at_ms = ? \
                 WHERE session_id = ? AND state IN ('active', 'replacing')",
            )
            .bind(status)
            .bind(audit.at_ms)
            .bind(session_id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                > 0;
            if changed {
                append(&mut tx, &self.inner, audit).await?;
            }
            Ok::<_, sqlx::Error>(changed)
        };
        let changed = work.await.map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        Ok(changed)
    }

    async fn cancel(
        &self,
        session_id: &str,
        status: &str,
        is_final: bool,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let work = async {
            let state_sql = if is_final {
                "UPDATE sessions SET state = 'ended', status = ?, updated_at_ms = ? WHERE session_id = ?"
            } else {
                "UPDATE sessions SET status = ?, updated_at_ms = ? WHERE session_id = ?"
            };
            sqlx::query(state_sql)
                .bind(status)
                .bind(audit.at_ms)
                .bind(session_id)
                .execute(&mut *tx)
                .await?;
            append(&mut tx, &self.inner, audit).await
        };
        work.await.map_err(db_error)?;
        tx.commit().await.map_err(db_error)
    }

    async fn audit_only(&self, event: &AuditEvent) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        append(&mut tx, &self.inner, event)
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)
    }

    async fn recover(&self, now_ms: i64) -> Result<u64, StoreError> {
        let mut tx = self.begin().await?;
        // One relay per SQLite file: whatever is pending was left by a relay that stopped.
        let n = interrupt_pending(&mut tx, &self.inner, None, now_ms, now_ms)
            .await
            .map_err(db_error)?;
        // Sessions being replaced when it stopped: their cancel may have happened; they are no
        // longer counted as active.
        sqlx::query(
            "UPDATE sessions SET state = 'ended', updated_at_ms = ? WHERE state = 'replacing'",
        )
        .bind(now_ms)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        Ok(n)
    }

    async fn count_active(&self, now_ms: i64) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sessions WHERE state = 'active' AND (expires_at_ms IS NULL OR expires_at_ms > ?)",
        )
        .bind(now_ms)
        .fetch_one(&self.reader)
        .await
        .map_err(db_error)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn page(
        &self,
        after_seq: i64,
        since_ms: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, at_ms, instance, action, agent_id, client_addr, session_id, nin_hash, \
             nin_masked, status, reason, key_id, prev_hash, hash FROM audit_log \
             WHERE seq > ? AND at_ms >= ? ORDER BY seq LIMIT ?",
        )
        .bind(after_seq)
        .bind(since_ms.unwrap_or(i64::MIN))
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await
        .map_err(db_error)?;
        Ok(rows
            .iter()
            .map(|row| {
                let at_ms: i64 = row.get(1);
                AuditRecord {
                    seq: row.get(0),
                    at: crate::audit::format_ms(at_ms),
                    at_ms,
                    instance: row.get(2),
                    action: row.get(3),
                    agent_id: row.get(4),
                    client_addr: row.get(5),
                    session_id: row.get(6),
                    nin_hash: row.get(7),
                    nin_masked: row.get(8),
                    status: row.get(9),
                    reason: row.get(10),
                    key_id: row.get(11),
                    prev_hash: row.get(12),
                    hash: row.get(13),
                }
            })
            .collect())
    }

    async fn head(&self) -> Result<Option<(i64, String)>, StoreError> {
        let (seq, hash): (i64, String) =
            sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
                .fetch_one(&self.reader)
                .await
                .map_err(db_error)?;
        Ok((seq > 0).then_some((seq, hash)))
    }
}

impl Store for SqliteStore {
    fn reserve_create<'a>(&'a self, intent: &'a CreateIntent) -> StoreFuture<'a, Reservation> {
        Box::pin(self.reserve(intent))
    }

    fn abandon_create<'a>(
        &'a self,
        key: i64,
        restore: Option<&'a Replaced>,
        audit: AuditEvent,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move { self.abandon(key, restore, &audit).await })
    }

    fn complete_create<'a>(
        &'a self,
        key: i64,
        result: &'a CreateResult,
        replaced: Option<(&'a Replaced, String)>,
        audit: Vec<AuditEvent>,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move { self.complete(key, result, replaced, &audit).await })
    }

    fn session<'a>(&'a self, session_id: &'a str) -> StoreFuture<'a, Option<SessionRecord>> {
        Box::pin(self.find(session_id))
    }

    fn record_outcome<'a>(
        &'a self,
        session_id: &'a str,
        status: &'a str,
        audit: AuditEvent,
    ) -> StoreFuture<'a, bool> {
        Box::pin(async move { self.outcome(session_id, status, &audit).await })
    }

    fn record_cancel<'a>(
        &'a self,
        session_id: &'a str,
        status: &'a str,
        is_final: bool,
        audit: AuditEvent,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move { self.cancel(session_id, status, is_final, &audit).await })
    }

    fn append_audit(&self, event: AuditEvent) -> StoreFuture<'_, ()> {
        Box::pin(async move { self.audit_only(&event).await })
    }

    fn recover_interrupted(&self, now_ms: i64, _stale_after_ms: i64) -> StoreFuture<'_, u64> {
        Box::pin(self.recover(now_ms))
    }

    fn active_sessions(&self, now_ms: i64) -> StoreFuture<'_, u64> {
        Box::pin(self.count_active(now_ms))
    }

    fn audit_page(
        &self,
        after_seq: i64,
        since_ms: Option<i64>,
        limit: u32,
    ) -> StoreFuture<'_, Vec<AuditRecord>> {
        Box::pin(self.page(after_seq, since_ms, limit))
    }

    fn audit_head(&self) -> StoreFuture<'_, Option<(i64, String)>> {
        Box::pin(self.head())
    }

    fn ping(&self) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            sqlx::query("SELECT 1")
                .execute(&self.reader)
                .await
                .map(drop)
                .map_err(db_error)
        })
    }
}
