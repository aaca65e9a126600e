-- A password someone other than its user chose or generated — the bootstrap admin's printed
-- one, an operator's `deno task admin create-user` / `reset-password` — must be replaced at
-- first use (ASVS 5.0 6.4.1, 6.4.3). Until then the account may only read itself
-- (GET /auth/me) and change its password (PUT /auth/password).
ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0
  CHECK (must_change_password IN (0, 1));

-- The flag is part of what a request's principal carries: changing it invalidates cached principals.
CREATE TRIGGER authz_users_must_change AFTER UPDATE OF must_change_password ON users
BEGIN UPDATE authz_generation SET value = value + 1 WHERE id = 1; END;
