/**
 * The SQL of users and their role grants (see `UserReads`/`UserWrites` in
 * `src/db/store.ts` for what each operation guarantees). Password hashes
 * leave this module only inside a `UserRecord`, for the authenticator.
 */
import { ADMIN_ROLE, isPermission } from "../../domain/permissions.ts";
import type { Principal } from "../../domain/principal.ts";
import type { PrincipalWithHash, UserRecord } from "../records.ts";
import type { Database } from "./database.ts";

interface UserRow {
  id: number;
  username: string;
  password_hash: string;
  disabled: number;
  must_change_password: number;
  created_at: string;
  updated_at: string;
}

function toRecord(row: UserRow): UserRecord {
  return {
    id: row.id,
    username: row.username,
    passwordHash: row.password_hash,
    disabled: row.disabled === 1,
    mustChangePassword: row.must_change_password === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function splitList(text: string | null): string[] {
  return text ? text.split(",") : [];
}

/** Data access for users; see {@link createUsersRepo}. */
export type UsersRepo = ReturnType<typeof createUsersRepo>;

/** Prepares the user statements once for `db`. */
export function createUsersRepo(db: Database) {
  const byId = db.prepare(
    `SELECT id, username, password_hash, disabled, must_change_password, created_at, updated_at
     FROM users WHERE id = :id`,
  );
  const byName = db.prepare(
    `SELECT id, username, password_hash, disabled, must_change_password, created_at, updated_at
     FROM users WHERE username = :username`,
  );
  const principal = db.prepare(`
    SELECT u.id, u.username, u.disabled, u.must_change_password, u.password_hash,
      (SELECT group_concat(role) FROM (SELECT role FROM user_roles WHERE user_id = u.id ORDER BY role)) AS roles,
      (SELECT group_concat(permission) FROM (
         SELECT DISTINCT rp.permission FROM user_roles ur JOIN role_permissions rp ON rp.role = ur.role
         WHERE ur.user_id = u.id)) AS permissions
    FROM users u WHERE u.id = :id`);
  // Ids come from a mark that only rises (sql/003): a deleted user's id never names a new user.
  const insert = db.prepare(
    `INSERT INTO users (id, username, password_hash, must_change_password, created_at, updated_at)
     VALUES ((SELECT last_id + 1 FROM user_id_high_water WHERE singleton = 1), :username, :hash, :mustChange,
       :now, :now)`,
  );
  const rolesOf = db.prepare("SELECT role FROM user_roles WHERE user_id = :id ORDER BY role");
  const grant = db.prepare("INSERT INTO user_roles (user_id, role) VALUES (:id, :role)");
  const revokeAll = db.prepare("DELETE FROM user_roles WHERE user_id = :id");
  const setHash = db.prepare(
    "UPDATE users SET password_hash = :hash, must_change_password = :mustChange, updated_at = :now WHERE id = :id",
  );
  const replaceHash = db.prepare(
    "UPDATE users SET password_hash = :hash, updated_at = :now WHERE id = :id AND password_hash = :old",
  );
  const setDisabled = db.prepare("UPDATE users SET disabled = :disabled, updated_at = :now WHERE id = :id");
  const touch = db.prepare("UPDATE users SET updated_at = :now WHERE id = :id");
  const remove = db.prepare("DELETE FROM users WHERE id = :id");
  const page = db.prepare(
    `SELECT id, username, password_hash, disabled, must_change_password, created_at, updated_at FROM users
     WHERE id > :after ORDER BY id LIMIT :limit`,
  );
  const activeWithRole = db.prepare(
    `SELECT count(*) AS n FROM users u JOIN user_roles ur ON ur.user_id = u.id
     WHERE ur.role = :role AND u.disabled = 0`,
  );
  const count = db.prepare("SELECT count(*) AS n FROM users");

  const loadWithHash = (id: number) => {
    const row = principal.get<{
      id: number;
      username: string;
      disabled: number;
      must_change_password: number;
      password_hash: string;
      roles: string | null;
      permissions: string | null;
    }>({ id });
    if (!row) return undefined;
    // Frozen: principals are shared across requests by the principal cache.
    const user: Principal = Object.freeze({
      id: row.id,
      username: row.username,
      disabled: row.disabled === 1,
      mustChangePassword: row.must_change_password === 1,
      roles: Object.freeze(splitList(row.roles)),
      permissions: new Set(splitList(row.permissions).filter(isPermission)),
    });
    return { principal: user, passwordHash: row.password_hash };
  };

  return {
    /** The user with `id`, or undefined. */
    findById(id: number): UserRecord | undefined {
      const row = byId.get<UserRow>({ id });
      return row && toRecord(row);
    },
    /** The user named `username`, compared case-insensitively. */
    findByUsername(username: string): UserRecord | undefined {
      const row = byName.get<UserRow>({ username });
      return row && toRecord(row);
    },
    /** The user with roles and effective permissions, in one query. */
    loadPrincipal(id: number): Principal | undefined {
      return loadWithHash(id)?.principal;
    },
    /**
     * {@link loadPrincipal} plus the stored password hash, still one query: the
     * credential cache checks that a cached password is still the current one.
     */
    loadPrincipalWithHash(id: number): PrincipalWithHash | undefined {
      return loadWithHash(id);
    },
    /** Inserts a user; throws a UNIQUE violation when the name is taken in any case. */
    create(username: string, passwordHash: string, now: string, mustChangePassword = false): number {
      return insert.run({ username, hash: passwordHash, mustChange: mustChangePassword ? 1 : 0, now }).lastInsertRowid;
    },
    /** The role names granted to `id`. */
    rolesOf(id: number): string[] {
      return rolesOf.all<{ role: string }>({ id }).map((r) => r.role);
    },
    /** Replaces the roles of `id` (call inside a transaction). */
    setRoles(id: number, roles: readonly string[], now: string): void {
      revokeAll.run({ id });
      for (const role of new Set(roles)) grant.run({ id, role });
      touch.run({ id, now });
    },
    /** Stores a new password hash and whether it must be changed at first use. */
    setPasswordHash(id: number, hash: string, now: string, mustChangePassword = false): boolean {
      return setHash.run({ id, hash, mustChange: mustChangePassword ? 1 : 0, now }).changes === 1;
    },
    /** Swaps the hash only if it is still `old` (a transparent rehash must not undo a password change). */
    replacePasswordHash(id: number, old: string, hash: string, now: string): boolean {
      return replaceHash.run({ id, old, hash, now }).changes === 1;
    },
    /** Disables or enables `id`. */
    setDisabled(id: number, disabled: boolean, now: string): boolean {
      return setDisabled.run({ id, disabled: disabled ? 1 : 0, now }).changes === 1;
    },
    /** Deletes `id`; grants and tokens go with it (ON DELETE CASCADE). */
    delete(id: number): boolean {
      return remove.run({ id }).changes === 1;
    },
    /** Up to `limit` users with id greater than `after`, by id. */
    list(after: number, limit: number): UserRecord[] {
      return page.all<UserRow>({ after, limit }).map(toRecord);
    },
    /** How many enabled users hold `role`. */
    countActiveWithRole(role: string = ADMIN_ROLE): number {
      return activeWithRole.get<{ n: number }>({ role })!.n;
    },
    /** How many users exist. */
    count(): number {
      return count.get<{ n: number }>()!.n;
    },
  };
}
