-- User ids are never reused.
--
-- users.id (001) is INTEGER PRIMARY KEY without AUTOINCREMENT, so SQLite hands the id of a
-- deleted user to the next new user whenever the deleted one held the highest id. The audit
-- log keeps actor and target ids forever (it has no foreign key by design), so a reused id
-- would attribute one person's actions to another, and a stale /users/<id> link would reach
-- a stranger. products (001) avoid this with AUTOINCREMENT; rebuilding users the same way
-- needs foreign_keys=OFF, which cannot be set inside the transaction that wraps a migration,
-- and with it ON, DROP TABLE users would cascade into user_roles, tokens and products.
-- Instead: a high-water mark that only rises. The users repository inserts with
-- id = last_id + 1; the trigger keeps the mark right even for rows inserted by other means.

CREATE TABLE user_id_high_water (
  singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
  last_id   INTEGER NOT NULL CHECK (last_id >= 0)
) STRICT;

-- Start above every id in use and every id the audit log names, so that users deleted before
-- this migration are not reused either.
INSERT INTO user_id_high_water (singleton, last_id) VALUES (1, max(
  coalesce((SELECT max(id) FROM users), 0),
  coalesce((SELECT max(actor) FROM audit_log), 0),
  coalesce((SELECT max(CAST(substr(target, 6) AS INTEGER)) FROM audit_log WHERE target GLOB 'user:[0-9]*'), 0)
));

CREATE TRIGGER users_id_high_water AFTER INSERT ON users
BEGIN
  UPDATE user_id_high_water SET last_id = max(last_id, NEW.id) WHERE singleton = 1;
END;

CREATE TRIGGER user_id_high_water_no_delete BEFORE DELETE ON user_id_high_water
BEGIN
  SELECT RAISE(ABORT, 'user_id_high_water must keep its row');
END;
