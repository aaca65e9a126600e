-- A counter that changes whenever anything a request's authentication or authorization
-- depends on changes: a user's existence, name, password hash or disabled flag, their role
-- grants, or a role's permissions.
-- The server caches principals and compares this one integer on every request, so a change
-- made by any process (the API, the admin CLI) takes effect on the very next request
-- (ASVS 5.0 8.3.2) without re-running the principal join each time.

CREATE TABLE authz_generation (
  id    INTEGER PRIMARY KEY CHECK (id = 1),
  value INTEGER NOT NULL
) STRICT;
INSERT INTO authz_generation (id, value) VALUES (1, 0);

CREATE TRIGGER authz_users_insert AFTER INSERT ON users
BEGIN UPDATE authz_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER authz_users_update AFTER UPDATE OF username, password_hash, disabled ON users
BEGIN UPDATE authz_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER authz_users_delete AFTER DELETE ON users
BEGIN UPDATE authz_generation SET value = value + 1 WHERE id = 1; END;

CREATE TRIGGER authz_user_roles_insert AFTER INSERT ON user_roles
BEGIN UPDATE authz_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER authz_user_roles_update AFTER UPDATE ON user_roles
BEGIN UPDATE authz_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER authz_user_roles_delete AFTER DELETE ON user_roles
BEGIN UPDATE authz_generation SET value = value + 1 WHERE id = 1; END;

CREATE TRIGGER authz_role_permissions_insert AFTER INSERT ON role_permissions
BEGIN UPDATE authz_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER authz_role_permissions_update AFTER UPDATE ON role_permissions
BEGIN UPDATE authz_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER authz_role_permissions_delete AFTER DELETE ON role_permissions
BEGIN UPDATE authz_generation SET value = value + 1 WHERE id = 1; END;

CREATE TRIGGER authz_roles_update AFTER UPDATE ON roles
BEGIN UPDATE authz_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER authz_roles_delete AFTER DELETE ON roles
BEGIN UPDATE authz_generation SET value = value + 1 WHERE id = 1; END;
