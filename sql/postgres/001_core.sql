-- Users, the role model, products and bearer tokens: sql/001_core.sql for PostgreSQL.
-- Migration files must not contain BEGIN/COMMIT: the runner (src/db/postgres/migrate.ts)
-- wraps each in a transaction, under an advisory lock, as the owner role.
-- Timestamps stay ISO-8601 text, as in SQLite, so both stores return the same strings.

CREATE TABLE users (
  -- An identity column: ids come from a sequence, which never hands out a value twice
  -- (see 003). ALWAYS: an explicit id needs OVERRIDING SYSTEM VALUE, which 003 polices.
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- ASCII [A-Za-z0-9._-] (src/auth/username.ts), so lower() is exact case folding and the
  -- unique index below is exact case-insensitive uniqueness, like SQLite's NOCASE.
  username      text NOT NULL CHECK (username ~ '^[A-Za-z0-9._-]{3,64}$'),
  password_hash text NOT NULL CHECK (password_hash LIKE '$pbkdf2-sha256$%'),
  disabled      boolean NOT NULL DEFAULT false,
  created_at    text NOT NULL,
  updated_at    text NOT NULL
);
-- Look users up with lower(username) = lower($1) so this index serves the query.
CREATE UNIQUE INDEX users_username_ci ON users (lower(username));

-- The permission catalogue is defined in code (src/auth/permissions.ts) and synced here at start.
CREATE TABLE permissions (
  name        text PRIMARY KEY,
  description text NOT NULL
);

CREATE TABLE roles (
  name        text PRIMARY KEY CHECK (name ~ '^[a-z]' AND length(name) BETWEEN 2 AND 32),
  description text NOT NULL DEFAULT '' CHECK (length(description) <= 200),
  builtin     boolean NOT NULL DEFAULT false,
  created_at  text NOT NULL,
  updated_at  text NOT NULL
);

CREATE TABLE role_permissions (
  role       text NOT NULL REFERENCES roles (name) ON DELETE CASCADE,
  permission text NOT NULL REFERENCES permissions (name) ON DELETE CASCADE,
  PRIMARY KEY (role, permission)
);
-- PostgreSQL does not index a referencing column by itself; a cascade would scan without it.
CREATE INDEX role_permissions_permission ON role_permissions (permission);

CREATE TABLE user_roles (
  user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  -- RESTRICT: a role still granted to someone cannot vanish underneath them.
  role    text NOT NULL REFERENCES roles (name) ON DELETE RESTRICT,
  PRIMARY KEY (user_id, role)
);
CREATE INDEX user_roles_role ON user_roles (role);

CREATE TABLE products (
  -- A sequence: ids of deleted products are never reused, so a stale link cannot hit a new
  -- product (SQLite: AUTOINCREMENT).
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  description text NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
  price_cents bigint NOT NULL CHECK (price_cents >= 0),
  stock       bigint NOT NULL CHECK (stock >= 0),
  owner_id    bigint REFERENCES users (id) ON DELETE SET NULL,
  created_at  text NOT NULL,
  updated_at  text NOT NULL,
  version     bigint NOT NULL DEFAULT 1 CHECK (version >= 1)
);
CREATE INDEX products_owner ON products (owner_id);

-- Bearer tokens: only the SHA-256 of the token is stored; times are Unix milliseconds.
CREATE TABLE tokens (
  hash         text PRIMARY KEY CHECK (length(hash) = 64),
  user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at   bigint NOT NULL,
  last_used_at bigint NOT NULL,
  expires_at   bigint NOT NULL
);
CREATE INDEX tokens_user ON tokens (user_id);

