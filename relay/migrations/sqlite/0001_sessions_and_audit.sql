-- The relay's schema. Portable SQL (SQLite and PostgreSQL alike) except where noted.

-- One row per create the relay sent (or was about to send) to Signicat: ownership, the rate
-- windows (counted from these rows) and the one-active-session-per-NIN rule live here.
-- state: pending    recorded, being sent (the create's outcome is not known yet)
--        active     Signicat created it and it has not ended (as far as the relay knows)
--        replacing  being cancelled at Signicat for a new create for the same NIN
--        ended      final status seen, cancelled, or past expiresAt
--        failed     Signicat refused the create (or was never reached): no session
--        unknown    the create may or may not have been acted on (timeout, 5xx, relay stopped)
--        abandoned  never sent (not counted in the rate windows)
CREATE TABLE sessions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT, -- PostgreSQL: BIGINT GENERATED ALWAYS AS IDENTITY
    session_id    TEXT UNIQUE,                       -- Signicat's id, once it answered
    agent_id      TEXT NOT NULL,
    client_addr   TEXT NOT NULL,
    nin_hash      TEXT NOT NULL,                     -- HMAC-SHA-256 under the audit key
    nin_masked    TEXT NOT NULL,                     -- DDMMYY*****
    state         TEXT NOT NULL CHECK (state IN ('pending', 'active', 'replacing', 'ended', 'failed', 'unknown', 'abandoned')),
    status        TEXT,
    replaces_id   INTEGER REFERENCES sessions (id),
    created_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT,
    updated_at_ms BIGINT NOT NULL
);

-- The database, not the relay process, keeps one session per NIN: a second pending or active
-- row for the same NIN cannot be inserted, whichever instance tries.
CREATE UNIQUE INDEX sessions_one_active_per_nin ON sessions (nin_hash) WHERE state IN ('pending', 'active');
CREATE INDEX sessions_nin_window ON sessions (nin_hash, created_at_ms);
CREATE INDEX sessions_agent_window ON sessions (agent_id, created_at_ms);
CREATE INDEX sessions_by_state ON sessions (state, expires_at_ms);

-- The audit log: one linear hash chain. prev_hash is unique, so no two records can follow the
-- same one (the chain cannot fork), and the head row is moved in the same transaction.
CREATE TABLE audit_log (
    seq         BIGINT PRIMARY KEY,
    at_ms       BIGINT NOT NULL,
    instance    TEXT NOT NULL,
    action      TEXT NOT NULL,
    agent_id    TEXT,
    client_addr TEXT,
    session_id  TEXT,
    nin_hash    TEXT,
    nin_masked  TEXT,
    status      TEXT,
    reason      TEXT,
    key_id      TEXT NOT NULL,
    prev_hash   TEXT NOT NULL UNIQUE,
    hash        TEXT NOT NULL UNIQUE
);
CREATE INDEX audit_log_at ON audit_log (at_ms);

-- The chain's head: appends lock this row (PostgreSQL: SELECT … FOR UPDATE), and `audit verify`
-- compares it with the last record, so deleting the newest records is seen too.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Append-only (PostgreSQL: a trigger function, or REVOKE UPDATE, DELETE from the relay's role).
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
