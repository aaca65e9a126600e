-- The audit log: the system of record for security events (SECURITY.md, "Audit log").
-- Hash-chained (src/audit/hash_chain.ts) and append-only twice over:
--   1. these triggers refuse UPDATE, DELETE and TRUNCATE, whoever asks (only the table's
--      owner or a superuser can disable them);
--   2. the application role is granted only SELECT and INSERT on it (005), so even with
--      the triggers gone it could not change a row. Migrations run as the owner role.
-- When the application runs as the owner (no APP_DATABASE_OWNER_URL), only 1 holds, and
-- the migrator says so at start.

CREATE TABLE audit_log (
  -- Assigned by the appender under the chain lock, so the sequence has no gaps (an
  -- identity column would skip the values of rolled-back transactions).
  seq        bigint PRIMARY KEY CHECK (seq >= 1),
  ts         text NOT NULL,
  event      text NOT NULL,
  level      text NOT NULL,
  -- No foreign key: the record of a deleted user must outlive the user.
  actor      bigint,
  client     text,
  method     text,
  path       text,
  status     integer,
  request_id text,
  target     text,
  detail     text NOT NULL DEFAULT '{}',
  prev_hash  text NOT NULL CHECK (length(prev_hash) = 64),
  hash       text NOT NULL CHECK (length(hash) = 64)
);

CREATE INDEX audit_log_ts ON audit_log (ts);
CREATE INDEX audit_log_event_ts ON audit_log (event, ts);
CREATE INDEX audit_log_actor_ts ON audit_log (actor, ts);

CREATE FUNCTION audit_log_append_only() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP USING ERRCODE = 'raise_exception';
END
$$;
REVOKE ALL ON FUNCTION audit_log_append_only() FROM PUBLIC;

-- Statement-level: refused even when no row matches, and for INSERT ... ON CONFLICT DO
-- UPDATE and MERGE, which fire the UPDATE/DELETE statement triggers too.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
