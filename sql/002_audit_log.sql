-- The audit log: the system of record for security events (README "The audit log").
-- Append-only (triggers below) and hash-chained (src/audit/hash_chain.ts).

CREATE TABLE audit_log (
  seq        INTEGER PRIMARY KEY,
  ts         TEXT NOT NULL,
  event      TEXT NOT NULL,
  level      TEXT NOT NULL,
  -- No foreign key: the record of a deleted user must outlive the user.
  actor      INTEGER,
  client     TEXT,
  method     TEXT,
  path       TEXT,
  status     INTEGER,
  request_id TEXT,
  target     TEXT,
  detail     TEXT NOT NULL DEFAULT '{}',
  prev_hash  TEXT NOT NULL CHECK (length(prev_hash) = 64),
  hash       TEXT NOT NULL CHECK (length(hash) = 64)
) STRICT;

CREATE INDEX audit_log_ts ON audit_log (ts);
CREATE INDEX audit_log_event_ts ON audit_log (event, ts);
CREATE INDEX audit_log_actor_ts ON audit_log (actor, ts);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only');
END;

-- INSERT OR REPLACE deletes the conflicting row without firing DELETE triggers
-- (unless recursive_triggers is on), so a replace is refused explicitly.
CREATE TRIGGER audit_log_no_replace BEFORE INSERT ON audit_log
WHEN EXISTS (SELECT 1 FROM audit_log WHERE seq = NEW.seq)
BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only');
END;
