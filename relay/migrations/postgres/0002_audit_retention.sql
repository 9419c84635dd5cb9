-- Retention (`safeconv-relay audit prune`), as migrations/sqlite/0002_audit_retention.sql:
-- the oldest audit records can be removed by that command only, and the chain stays verifiable
-- from the `pruned` record it appends.

-- A prune sets `safeconv_relay.prune_through` (SET LOCAL, through set_config(…, true)) to the
-- last record it removes, in its own transaction only: the setting ends with the transaction,
-- whatever way it ends, so it can never be left switched on. Updates, TRUNCATE and deletes of
-- anything else stay refused.
CREATE FUNCTION safeconv_relay_audit_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.seq <= COALESCE(NULLIF(current_setting('safeconv_relay.prune_through', true), '')::bigint, 0) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only: records are removed only by `safeconv-relay audit prune`';
END
$$;
DROP TRIGGER audit_log_no_update ON audit_log;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION safeconv_relay_append_only();
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION safeconv_relay_audit_delete();

-- `audit verify` starts from the newest `pruned` record: found without reading the whole log.
CREATE INDEX audit_log_pruned ON audit_log (seq) WHERE action = 'pruned';
