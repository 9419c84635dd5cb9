-- Retention (`safeconv-relay audit prune`): the oldest audit records can be removed, by that
-- command only, and the chain stays verifiable from the `pruned` record it appends.

-- While a prune's write transaction runs, this table holds one row naming the last record it
-- may remove; the row is inserted and deleted inside that transaction, so no other connection
-- ever sees it. SQLite has no session variables, and a trigger on a table of the main schema
-- cannot look at a TEMP table, hence a table of its own.
CREATE TABLE audit_prune_guard (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    through_seq BIGINT NOT NULL
);

-- Deletes stay refused except for the records the running prune removes (a prefix of the
-- chain); updates stay refused altogether.
DROP TRIGGER audit_log_no_delete;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
WHEN NOT EXISTS (SELECT 1 FROM audit_prune_guard WHERE OLD.seq <= through_seq)
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: records are removed only by `safeconv-relay audit prune`'); END;

-- `audit verify` starts from the newest `pruned` record: found without reading the whole log.
CREATE INDEX audit_log_pruned ON audit_log (seq) WHERE action = 'pruned';

-- The chain's head row cannot be removed either (as on PostgreSQL): every append moves it,
-- and `audit verify` compares the log's end with it.
CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
BEGIN SELECT RAISE(ABORT, 'audit_head is append-only'); END;
