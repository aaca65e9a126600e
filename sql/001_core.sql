-- Users, the role model, products and bearer tokens.
-- Migration files must not contain BEGIN/COMMIT: the runner wraps each in a transaction.

CREATE TABLE users (
  id            INTEGER PRIMARY KEY,
  -- Usernames are ASCII [A-Za-z0-9._-], so NOCASE gives exact case-insensitive uniqueness.
  username      TEXT NOT NULL COLLATE NOCASE UNIQUE CHECK (length(username) BETWEEN 3 AND 64),
  password_hash TEXT NOT NULL CHECK (password_hash LIKE '$pbkdf2-sha256$%'),
  disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
  created_at    TEXT NOT NULL,
  updated_at    TEXT NOT NULL
) STRICT;

-- The permission catalogue is defined in code (src/auth/permissions.ts) and synced here at start.
CREATE TABLE permissions (
  name        TEXT PRIMARY KEY,
  description TEXT NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE roles (
  name        TEXT PRIMARY KEY CHECK (name GLOB '[a-z]*' AND length(name) BETWEEN 2 AND 32),
  description TEXT NOT NULL DEFAULT '' CHECK (length(description) <= 200),
  builtin     INTEGER NOT NULL DEFAULT 0 CHECK (builtin IN (0, 1)),
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE role_permissions (
  role       TEXT NOT NULL REFERENCES roles (name) ON DELETE CASCADE,
  permission TEXT NOT NULL REFERENCES permissions (name) ON DELETE CASCADE,
  PRIMARY KEY (role, permission)
) STRICT, WITHOUT ROWID;

CREATE TABLE user_roles (
  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  -- RESTRICT: a role still granted to someone cannot vanish underneath them.
  role    TEXT NOT NULL REFERENCES roles (name) ON DELETE RESTRICT,
  PRIMARY KEY (user_id, role)
) STRICT, WITHOUT ROWID;
CREATE INDEX user_roles_role ON user_roles (role);

CREATE TABLE products (
  -- AUTOINCREMENT: ids of deleted products are never reused, so a stale link cannot hit a new product.
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  name        TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  description TEXT NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
  price_cents INTEGER NOT NULL CHECK (price_cents >= 0),
  stock       INTEGER NOT NULL CHECK (stock >= 0),
  owner_id    INTEGER REFERENCES users (id) ON DELETE SET NULL,
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL,
  version     INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1)
) STRICT;
CREATE INDEX products_owner ON products (owner_id);

-- Bearer tokens: only the SHA-256 of the token is stored; times are Unix milliseconds.
CREATE TABLE tokens (
  hash         TEXT PRIMARY KEY CHECK (length(hash) = 64),
  user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at   INTEGER NOT NULL,
  last_used_at INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX tokens_user ON tokens (user_id);
