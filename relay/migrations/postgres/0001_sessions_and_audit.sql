-- The relay's schema on PostgreSQL: the same tables, states and constraints as
-- migrations/sqlite/0001_sessions_and_audit.sql (read the comments there), in PostgreSQL's
-- types, so that the same queries keep the same rules. Applied at start-up under sqlx's
-- migration lock, so instances starting together apply it once.

CREATE TABLE sessions (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_id    TEXT UNIQUE,
    agent_id      TEXT NOT NULL,
    client_addr   TEXT NOT NULL,
    nin_hash      TEXT NOT NULL,
    nin_masked    TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('pending', 'active', 'replacing', 'ended', 'failed', 'unknown', 'abandoned')),
    status        TEXT,
    replaces_id   BIGINT REFERENCES sessions (id),
    created_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT,
    updated_at_ms BIGINT NOT NULL
);

-- One session per NIN, whichever instance inserts it: a second pending or active row for the
-- same NIN is refused by the database.
CREATE UNIQUE INDEX sessions_one_active_per_nin ON sessions (nin_hash) WHERE state IN ('pending', 'active');
CREATE INDEX sessions_nin_window ON sessions (nin_hash, created_at_ms);
CREATE INDEX sessions_agent_window ON sessions (agent_id, created_at_ms);
CREATE INDEX sessions_by_state ON sessions (state, expires_at_ms);

-- One linear hash chain: no two records can follow the same one.
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

-- The chain's head: every append takes this row FOR UPDATE, so appends from all instances
-- queue up; `audit verify` compares it with the last record.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Append-only: records cannot be changed, deleted or truncated, nor the head removed.
CREATE FUNCTION safeconv_relay_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION safeconv_relay_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION safeconv_relay_append_only();
CREATE TRIGGER audit_head_no_delete BEFORE DELETE OR TRUNCATE ON audit_head
    FOR EACH STATEMENT EXECUTE FUNCTION safeconv_relay_append_only();
