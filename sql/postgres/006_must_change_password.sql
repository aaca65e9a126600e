-- sql/005_must_change_password.sql for PostgreSQL: a password someone other than its user
-- chose or generated must be replaced at first use (ASVS 5.0 6.4.1, 6.4.3); until then the
-- account may only read itself (GET /auth/me) and change its password (PUT /auth/password).
ALTER TABLE users ADD COLUMN must_change_password boolean NOT NULL DEFAULT false;

-- The flag is part of what a request's principal carries: changing it invalidates cached principals.
CREATE TRIGGER authz_users_must_change AFTER UPDATE OF must_change_password ON users
  FOR EACH ROW EXECUTE FUNCTION authz_generation_bump();
