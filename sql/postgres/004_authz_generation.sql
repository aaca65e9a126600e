-- A counter that changes whenever anything a request's authentication or authorization
-- depends on changes: a user's existence, name, password hash or disabled flag, their role
-- grants, or a role's permissions (sql/004_authz_generation.sql for PostgreSQL).
-- Every instance caches principals and compares this one integer on every request, so a
-- change made through any instance (or the admin CLI) applies on the very next request
-- everywhere (ASVS 5.0 8.3.2). A NOTIFY on channel secure_api_authz lets instances flush
-- sooner; it is only a hint, since notifications sent while a listener reconnects are lost.

CREATE TABLE authz_generation (
  id    integer PRIMARY KEY CHECK (id = 1),
  value bigint NOT NULL CHECK (value >= 0)
);
INSERT INTO authz_generation (id, value) VALUES (1, 0);

-- The counter only rises: setting it back could make a stale cached principal look current.
CREATE FUNCTION authz_generation_only_rises() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
  IF TG_OP <> 'UPDATE' OR NEW.id <> OLD.id OR NEW.value <= OLD.value THEN
    RAISE EXCEPTION 'authz_generation only rises (% refused)', TG_OP;
  END IF;
  RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION authz_generation_only_rises() FROM PUBLIC;
CREATE TRIGGER authz_generation_only_rises BEFORE UPDATE OR DELETE ON authz_generation
  FOR EACH ROW EXECUTE FUNCTION authz_generation_only_rises();
CREATE TRIGGER authz_generation_no_truncate BEFORE TRUNCATE ON authz_generation
  FOR EACH STATEMENT EXECUTE FUNCTION authz_generation_only_rises();

-- SECURITY DEFINER: the application role needs only SELECT on authz_generation; the bump
-- runs with the owner's rights, inside the transaction that made the change.
CREATE FUNCTION authz_generation_bump() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
  UPDATE public.authz_generation SET value = value + 1 WHERE id = 1;
  PERFORM pg_notify('secure_api_authz', '');
  RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION authz_generation_bump() FROM PUBLIC;

CREATE TRIGGER authz_users_insert AFTER INSERT ON users
  FOR EACH ROW EXECUTE FUNCTION authz_generation_bump();
CREATE TRIGGER authz_users_update AFTER UPDATE OF username, password_hash, disabled ON users
  FOR EACH ROW EXECUTE FUNCTION authz_generation_bump();
CREATE TRIGGER authz_users_delete AFTER DELETE ON users
  FOR EACH ROW EXECUTE FUNCTION authz_generation_bump();

CREATE TRIGGER authz_user_roles_insert AFTER INSERT ON user_roles
  FOR EACH ROW EXECUTE FUNCTION authz_generation_bump();
CREATE TRIGGER authz_user_roles_update AFTER UPDATE ON user_roles
  FOR EACH ROW EXECUTE FUNCTION authz_generation_bump();
CREATE TRIGGER authz_user_roles_delete AFTER DELETE ON user_roles
  FOR EACH ROW EXECUTE FUNCTION authz_generation_bump();

CREATE TRIGGER authz_role_permissions_insert AFTER INSERT ON role_permissions
  FOR EACH ROW EXECUTE FUNCTION authz_generation_bump();
CREATE TRIGGER authz_role_permissions_update AFTER UPDATE ON role_permissions
  FOR EACH ROW EXECUTE FUNCTION authz_generation_bump();
CREATE TRIGGER authz_role_permissions_delete AFTER DELETE ON role_permissions
  FOR EACH ROW EXECUTE FUNCTION authz_generation_bump();

CREATE TRIGGER authz_roles_update AFTER UPDATE ON roles
  FOR EACH ROW EXECUTE FUNCTION authz_generation_bump();
CREATE TRIGGER authz_roles_delete AFTER DELETE ON roles
  FOR EACH ROW EXECUTE FUNCTION authz_generation_bump();

-- TRUNCATE fires no row trigger; only the owner can truncate, but a wiped grant table must
-- still invalidate every cache.
CREATE TRIGGER authz_users_truncate AFTER TRUNCATE ON users
  FOR EACH STATEMENT EXECUTE FUNCTION authz_generation_bump();
CREATE TRIGGER authz_user_roles_truncate AFTER TRUNCATE ON user_roles
  FOR EACH STATEMENT EXECUTE FUNCTION authz_generation_bump();
CREATE TRIGGER authz_role_permissions_truncate AFTER TRUNCATE ON role_permissions
  FOR EACH STATEMENT EXECUTE FUNCTION authz_generation_bump();
CREATE TRIGGER authz_roles_truncate AFTER TRUNCATE ON roles
  FOR EACH STATEMENT EXECUTE FUNCTION authz_generation_bump();
