//! The store's rules as SQL that SQLite and PostgreSQL both run, each function the body of one
//! transaction ([`SqlStore`](super::SqlStore) begins and commits it).
//!
//! What keeps the rules across concurrent writers:
//! - SQLite: `BEGIN IMMEDIATE` on the one writer connection serialises every writing
//!   transaction, so a check and the write that follows it cannot interleave with another.
//! - PostgreSQL: a create first takes transaction-scoped advisory locks on its NIN and its
//!   agent ([`lock_create`]), so creates for the same NIN or by the same agent queue up and each
//!   counts the rows the one before it committed; the chain's head row is taken
//!   `FOR UPDATE`. The partial unique index `sessions_one_active_per_nin` and the unique
//!   `audit_log.prev_hash` hold whatever happens.
//!
//! No deadlocks: locks are always taken in the same order — NIN, agent, session rows, and the
//! audit head last (a transaction never touches a session row after appending to the audit).

use super::sql::{Arg, Conn, Inner, Row};
use super::{
    CreateIntent, CreateResult, OnActiveSession, Refusal, Replaced, Reservation, SessionRecord,
    Window,
};
use crate::audit::{Action, AuditEvent, AuditRecord, NinTag};

/// Appends one record to the chain, inside the caller's transaction (as its last step).
pub(super) async fn append(
    conn: &mut Conn<'_>,
    inner: &Inner,
    event: &AuditEvent,
) -> sqlx::Result<()> {
    let sql = if conn.is_postgres() {
        "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE"
    } else {
        "SELECT seq, hash FROM audit_head WHERE id = 1"
    };
    let head = conn.row(sql, &[]).await?;
    let record = AuditRecord::seal(
        &inner.key,
        &inner.instance,
        head.int(0)?,
        &head.text(1)?,
        event,
    );
    conn.execute(
        "INSERT INTO audit_log (seq, at_ms, instance, action, agent_id, client_addr, session_id, \
         nin_hash, nin_masked, status, reason, key_id, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        &[
            Arg::Int(record.seq),
            Arg::Int(record.at_ms),
            Arg::Text(&record.instance),
            Arg::Text(&record.action),
            Arg::OptText(record.agent_id.as_deref()),
            Arg::OptText(record.client_addr.as_deref()),
            Arg::OptText(record.session_id.as_deref()),
            Arg::OptText(record.nin_hash.as_deref()),
            Arg::OptText(record.nin_masked.as_deref()),
            Arg::OptText(record.status.as_deref()),
            Arg::OptText(record.reason.as_deref()),
            Arg::Text(&record.key_id),
            Arg::Text(&record.prev_hash),
            Arg::Text(&record.hash),
        ],
    )
    .await?;
    conn.execute(
        "UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1",
        &[Arg::Int(record.seq), Arg::Text(&record.hash)],
    )
    .await?;
    Ok(())
}

/// PostgreSQL: queue behind any other create for the same NIN, then for the same agent (in
/// that order, always). The locks are released when the transaction ends, however it ends
/// (also when the relay holding them dies: its connection closes). SQLite needs none: the
/// transaction holds the database's write lock.
async fn lock_create(conn: &mut Conn<'_>, intent: &CreateIntent) -> sqlx::Result<()> {
    if !conn.is_postgres() {
        return Ok(());
    }
    conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('safeconv-relay nin ' || $1, 0))",
        &[Arg::Text(&intent.nin.hash)],
    )
    .await?;
    conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('safeconv-relay agent ' || $1, 0))",
        &[Arg::Text(&intent.agent_id)],
    )
    .await?;
    Ok(())
}

/// Whose creates a window counts.
#[derive(Clone, Copy)]
enum WindowOf {
    Nin,
    Agent,
}

/// `Some(retry_after_ms)` when `max` creates are already in the window.
async fn window_full(
    conn: &mut Conn<'_>,
    of: WindowOf,
    value: &str,
    window: Window,
    now_ms: i64,
) -> sqlx::Result<Option<i64>> {
    let since = now_ms - window.window_ms;
    let (count_sql, nth_sql) = match of {
        WindowOf::Nin => (
            "SELECT COUNT(*) FROM sessions WHERE nin_hash = $1 AND created_at_ms > $2 AND state <> 'abandoned'",
            "SELECT created_at_ms FROM sessions WHERE nin_hash = $1 AND created_at_ms > $2 AND state <> 'abandoned' \
             ORDER BY created_at_ms LIMIT 1 OFFSET $3",
        ),
        WindowOf::Agent => (
            "SELECT COUNT(*) FROM sessions WHERE agent_id = $1 AND created_at_ms > $2 AND state <> 'abandoned'",
            "SELECT created_at_ms FROM sessions WHERE agent_id = $1 AND created_at_ms > $2 AND state <> 'abandoned' \
             ORDER BY created_at_ms LIMIT 1 OFFSET $3",
        ),
    };
    let count = conn
        .row(count_sql, &[Arg::Text(value), Arg::Int(since)])
        .await?
        .int(0)?;
    let max = i64::from(window.max);
    if count < max {
        return Ok(None);
    }
    // The create that must leave the window before another is allowed.
    let oldest = conn
        .row(
            nth_sql,
            &[Arg::Text(value), Arg::Int(since), Arg::Int(count - max)],
        )
        .await?
        .int(0)?;
    Ok(Some((oldest + window.window_ms - now_ms).max(1)))
}

pub(super) fn refusal_event(intent: &CreateIntent, refusal: &Refusal) -> AuditEvent {
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

/// Marks `pending` rows created at or before `cutoff_ms` (for one NIN, or all) as `unknown`:
/// creates whose relay stopped before it knew how they ended. Returns their audit records, in
/// the order the creates were made, for the caller to append once every row is settled.
async fn interrupt_pending(
    conn: &mut Conn<'_>,
    nin_hash: Option<&str>,
    cutoff_ms: i64,
    now_ms: i64,
) -> sqlx::Result<Vec<AuditEvent>> {
    let rows = conn
        .rows(
            "UPDATE sessions SET state = 'unknown', updated_at_ms = $1 \
             WHERE state = 'pending' AND created_at_ms <= $2 AND nin_hash = COALESCE($3, nin_hash) \
             RETURNING id, agent_id, client_addr, nin_hash, nin_masked",
            &[
                Arg::Int(now_ms),
                Arg::Int(cutoff_ms),
                Arg::OptText(nin_hash),
            ],
        )
        .await?;
    let mut events = Vec::with_capacity(rows.len());
    for row in &rows {
        let event = AuditEvent {
            at_ms: now_ms,
            action: Action::Interrupted,
            agent_id: Some(row.text(1)?),
            client_addr: Some(row.text(2)?),
            session_id: None,
            nin: Some(NinTag {
                hash: row.text(3)?,
                masked: row.text(4)?,
            }),
            status: None,
            reason: Some("create_outcome_unknown".to_owned()),
        };
        events.push((row.int(0)?, event));
    }
    events.sort_by_key(|(id, _)| *id);
    Ok(events.into_iter().map(|(_, event)| event).collect())
}

/// The rules of a create, in order: limits (429), a create under way (409), an active session
/// (409 or replace); then the intent row. Every session row is settled before the audit:
/// creates of this NIN found interrupted, then the create or its refusal.
pub(super) async fn reserve(
    conn: &mut Conn<'_>,
    inner: &Inner,
    intent: &CreateIntent,
) -> sqlx::Result<Reservation> {
    let now = intent.now_ms;
    let nin = intent.nin.hash.as_str();
    lock_create(conn, intent).await?;
    // A session past its expiresAt is no longer active, whether or not anyone polled it.
    conn.execute(
        "UPDATE sessions SET state = 'ended', updated_at_ms = $1 \
         WHERE nin_hash = $2 AND state = 'active' AND expires_at_ms IS NOT NULL AND expires_at_ms <= $1",
        &[Arg::Int(now), Arg::Text(nin)],
    )
    .await?;
    let interrupted = interrupt_pending(conn, Some(nin), now - intent.stale_after_ms, now).await?;
    let decision = match check(conn, intent).await? {
        Ok(replaces) => {
            let key = conn
                .row(
                    "INSERT INTO sessions (agent_id, client_addr, nin_hash, nin_masked, state, \
                     replaces_id, created_at_ms, updated_at_ms) \
                     VALUES ($1, $2, $3, $4, 'pending', $5, $6, $6) RETURNING id",
                    &[
                        Arg::Text(&intent.agent_id),
                        Arg::Text(&intent.client_addr),
                        Arg::Text(nin),
                        Arg::Text(&intent.nin.masked),
                        Arg::OptInt(replaces.as_ref().map(|r| r.key)),
                        Arg::Int(now),
                    ],
                )
                .await?
                .int(0)?;
            Ok((key, replaces))
        }
        Err(refusal) => Err(refusal),
    };

    for event in &interrupted {
        append(conn, inner, event).await?;
    }
    match decision {
        Ok((key, replaces)) => {
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
            append(conn, inner, &event).await?;
            Ok(Reservation::Granted { key, replaces })
        }
        Err(refusal) => {
            append(conn, inner, &refusal_event(intent, &refusal)).await?;
            Ok(Reservation::Refused(refusal))
        }
    }
}

/// The limits and the NIN's current session: the session to replace (marked `replacing`), or
/// why the create is refused.
async fn check(
    conn: &mut Conn<'_>,
    intent: &CreateIntent,
) -> sqlx::Result<Result<Option<Replaced>, Refusal>> {
    let now = intent.now_ms;
    let nin = intent.nin.hash.as_str();
    if let Some(retry_after_ms) = window_full(conn, WindowOf::Nin, nin, intent.per_nin, now).await?
    {
        return Ok(Err(Refusal::NinLimit { retry_after_ms }));
    }
    if let Some(retry_after_ms) = window_full(
        conn,
        WindowOf::Agent,
        &intent.agent_id,
        intent.per_agent,
        now,
    )
    .await?
    {
        return Ok(Err(Refusal::AgentLimit { retry_after_ms }));
    }
    let sql = if conn.is_postgres() {
        "SELECT id, session_id, state, agent_id FROM sessions \
         WHERE nin_hash = $1 AND state IN ('pending', 'active') FOR UPDATE"
    } else {
        "SELECT id, session_id, state, agent_id FROM sessions \
         WHERE nin_hash = $1 AND state IN ('pending', 'active')"
    };
    let Some(current) = conn.optional_row(sql, &[Arg::Text(nin)]).await? else {
        return Ok(Ok(None));
    };
    match (
        current.text(2)?.as_str(),
        current.opt_text(1)?,
        intent.on_active,
    ) {
        ("active", Some(session_id), OnActiveSession::Replace) => {
            let key = current.int(0)?;
            conn.execute(
                "UPDATE sessions SET state = 'replacing', updated_at_ms = $1 WHERE id = $2",
                &[Arg::Int(now), Arg::Int(key)],
            )
            .await?;
            Ok(Ok(Some(Replaced {
                key,
                session_id,
                agent_id: current.text(3)?,
            })))
        }
        ("active", _, _) => Ok(Err(Refusal::ActiveSession)),
        _ => Ok(Err(Refusal::InProgress)),
    }
}

/// The create was never sent: its row is `abandoned` (not counted), the session it was to
/// replace is active again.
pub(super) async fn abandon(
    conn: &mut Conn<'_>,
    inner: &Inner,
    key: i64,
    restore: Option<&Replaced>,
    audit: &AuditEvent,
) -> sqlx::Result<()> {
    let now = audit.at_ms;
    conn.execute(
        "UPDATE sessions SET state = 'abandoned', updated_at_ms = $1 WHERE id = $2 AND state = 'pending'",
        &[Arg::Int(now), Arg::Int(key)],
    )
    .await?;
    if let Some(old) = restore {
        conn.execute(
            "UPDATE sessions SET state = 'active', updated_at_ms = $1 WHERE id = $2 AND state = 'replacing'",
            &[Arg::Int(now), Arg::Int(old.key)],
        )
        .await?;
    }
    append(conn, inner, audit).await
}

/// How a sent create ended, and the final status of the session it replaced.
pub(super) async fn complete(
    conn: &mut Conn<'_>,
    inner: &Inner,
    key: i64,
    result: &CreateResult,
    replaced: Option<&(&Replaced, String)>,
    audit: &[AuditEvent],
) -> sqlx::Result<()> {
    let now = audit.first().map_or_else(crate::audit::now_ms, |e| e.at_ms);
    // The replaced session first: it leaves the active set before the new one joins.
    if let Some((old, status)) = replaced {
        conn.execute(
            "UPDATE sessions SET state = 'ended', status = $1, updated_at_ms = $2 WHERE id = $3",
            &[Arg::Text(status), Arg::Int(now), Arg::Int(old.key)],
        )
        .await?;
    }
    // From `pending`, or from `unknown` when a relay took it as interrupted meanwhile: what
    // Signicat answered is better than a guess.
    match result {
        CreateResult::Created {
            session_id,
            status,
            is_final,
            expires_at_ms,
        } => {
            conn.execute(
                "UPDATE sessions SET session_id = $1, state = $2, status = $3, expires_at_ms = $4, \
                 updated_at_ms = $5 WHERE id = $6 AND state IN ('pending', 'unknown')",
                &[
                    Arg::Text(session_id),
                    Arg::Text(if *is_final { "ended" } else { "active" }),
                    Arg::Text(status),
                    Arg::OptInt(*expires_at_ms),
                    Arg::Int(now),
                    Arg::Int(key),
                ],
            )
            .await?;
        }
        CreateResult::Failed {
            certainly_not_created,
            ..
        } => {
            conn.execute(
                "UPDATE sessions SET state = $1, updated_at_ms = $2 \
                 WHERE id = $3 AND state IN ('pending', 'unknown')",
                &[
                    Arg::Text(if *certainly_not_created {
                        "failed"
                    } else {
                        "unknown"
                    }),
                    Arg::Int(now),
                    Arg::Int(key),
                ],
            )
            .await?;
        }
    }
    for event in audit {
        append(conn, inner, event).await?;
    }
    Ok(())
}

/// Records a final status seen on a read, once (whichever instance sees it first).
pub(super) async fn outcome(
    conn: &mut Conn<'_>,
    inner: &Inner,
    session_id: &str,
    status: &str,
    audit: &AuditEvent,
) -> sqlx::Result<bool> {
    let changed = conn
        .execute(
            "UPDATE sessions SET state = 'ended', status = $1, updated_at_ms = $2 \
             WHERE session_id = $3 AND state IN ('active', 'replacing')",
            &[
                Arg::Text(status),
                Arg::Int(audit.at_ms),
                Arg::Text(session_id),
            ],
        )
        .await?
        > 0;
    if changed {
        append(conn, inner, audit).await?;
    }
    Ok(changed)
}

/// Records an agent's cancel and what Signicat answered.
pub(super) async fn cancel(
    conn: &mut Conn<'_>,
    inner: &Inner,
    session_id: &str,
    status: &str,
    is_final: bool,
    audit: &AuditEvent,
) -> sqlx::Result<()> {
    let sql = if is_final {
        "UPDATE sessions SET state = 'ended', status = $1, updated_at_ms = $2 WHERE session_id = $3"
    } else {
        "UPDATE sessions SET status = $1, updated_at_ms = $2 WHERE session_id = $3"
    };
    conn.execute(
        sql,
        &[
            Arg::Text(status),
            Arg::Int(audit.at_ms),
            Arg::Text(session_id),
        ],
    )
    .await?;
    append(conn, inner, audit).await
}

/// The work of relays that stopped mid-way: creates pending since `cutoff_ms` or before are
/// interrupted (audited), and sessions left `replacing` since then are no longer counted as
/// active (their cancel may have happened).
pub(super) async fn expire_stale(
    conn: &mut Conn<'_>,
    inner: &Inner,
    now_ms: i64,
    cutoff_ms: i64,
) -> sqlx::Result<u64> {
    conn.execute(
        "UPDATE sessions SET state = 'ended', updated_at_ms = $1 \
         WHERE state = 'replacing' AND updated_at_ms <= $2",
        &[Arg::Int(now_ms), Arg::Int(cutoff_ms)],
    )
    .await?;
    let interrupted = interrupt_pending(conn, None, cutoff_ms, now_ms).await?;
    for event in &interrupted {
        append(conn, inner, event).await?;
    }
    Ok(interrupted.len() as u64)
}

fn session_record(row: &Row) -> sqlx::Result<SessionRecord> {
    Ok(SessionRecord {
        session_id: row.text(0)?,
        agent_id: row.text(1)?,
        nin: NinTag {
            hash: row.text(2)?,
            masked: row.text(3)?,
        },
        state: row.text(4)?,
        status: row.opt_text(5)?,
        expires_at_ms: row.opt_int(6)?,
    })
}

pub(super) async fn find(
    conn: &mut Conn<'_>,
    session_id: &str,
) -> sqlx::Result<Option<SessionRecord>> {
    conn.optional_row(
        "SELECT session_id, agent_id, nin_hash, nin_masked, state, status, expires_at_ms \
         FROM sessions WHERE session_id = $1",
        &[Arg::Text(session_id)],
    )
    .await?
    .as_ref()
    .map(session_record)
    .transpose()
}

pub(super) async fn count_active(conn: &mut Conn<'_>, now_ms: i64) -> sqlx::Result<u64> {
    let n = conn
        .row(
            "SELECT COUNT(*) FROM sessions \
             WHERE state = 'active' AND (expires_at_ms IS NULL OR expires_at_ms > $1)",
            &[Arg::Int(now_ms)],
        )
        .await?
        .int(0)?;
    Ok(u64::try_from(n).unwrap_or(0))
}

pub(super) async fn page(
    conn: &mut Conn<'_>,
    after_seq: i64,
    since_ms: Option<i64>,
    limit: u32,
) -> sqlx::Result<Vec<AuditRecord>> {
    let rows = conn
        .rows(
            "SELECT seq, at_ms, instance, action, agent_id, client_addr, session_id, nin_hash, \
             nin_masked, status, reason, key_id, prev_hash, hash FROM audit_log \
             WHERE seq > $1 AND at_ms >= $2 ORDER BY seq LIMIT $3",
            &[
                Arg::Int(after_seq),
                Arg::Int(since_ms.unwrap_or(i64::MIN)),
                Arg::Int(i64::from(limit)),
            ],
        )
        .await?;
    rows.iter().map(audit_record).collect()
}

/// The newest `pruned` record: where the chain that remains starts.
pub(super) async fn latest_prune(conn: &mut Conn<'_>) -> sqlx::Result<Option<AuditRecord>> {
    conn.optional_row(
        "SELECT seq, at_ms, instance, action, agent_id, client_addr, session_id, nin_hash, \
         nin_masked, status, reason, key_id, prev_hash, hash FROM audit_log \
         WHERE action = 'pruned' ORDER BY seq DESC LIMIT 1",
        &[],
    )
    .await?
    .as_ref()
    .map(audit_record)
    .transpose()
}

/// A record from `SELECT seq, at_ms, instance, action, agent_id, client_addr, session_id,
/// nin_hash, nin_masked, status, reason, key_id, prev_hash, hash`.
fn audit_record(row: &Row) -> sqlx::Result<AuditRecord> {
    let at_ms = row.int(1)?;
    Ok(AuditRecord {
        seq: row.int(0)?,
        at: crate::audit::format_ms(at_ms),
        at_ms,
        instance: row.text(2)?,
        action: row.text(3)?,
        agent_id: row.opt_text(4)?,
        client_addr: row.opt_text(5)?,
        session_id: row.opt_text(6)?,
        nin_hash: row.opt_text(7)?,
        nin_masked: row.opt_text(8)?,
        status: row.opt_text(9)?,
        reason: row.opt_text(10)?,
        key_id: row.text(11)?,
        prev_hash: row.text(12)?,
        hash: row.text(13)?,
    })
}

pub(super) async fn head(conn: &mut Conn<'_>) -> sqlx::Result<Option<(i64, String)>> {
    let row = conn
        .row("SELECT seq, hash FROM audit_head WHERE id = 1", &[])
        .await?;
    let seq = row.int(0)?;
    Ok((seq > 0).then_some((seq, row.text(1)?)))
}
