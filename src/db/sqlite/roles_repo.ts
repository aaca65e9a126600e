/**
 * Roles and the permission catalogue in the database. The catalogue and the
 * built-in roles come from `src/domain/permissions.ts`; {@link RolesRepo.syncCatalogue}
 * makes the tables match the code at every start, so a permission added in a
 * release reaches `admin` without a hand-written migration.
 */
import { BUILTIN_ROLES, isPermission, type Permission, PERMISSIONS } from "../../domain/permissions.ts";
import type { Role } from "../records.ts";
import type { Database } from "./database.ts";

interface RoleRow {
  name: string;
  description: string;
  builtin: number;
  permissions: string | null;
  created_at: string;
  updated_at: string;
}

function toRole(row: RoleRow): Role {
  return {
    name: row.name,
    description: row.description,
    builtin: row.builtin === 1,
    permissions: (row.permissions ? row.permissions.split(",") : []).filter(isPermission).sort(),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Data access for roles; see {@link createRolesRepo}. */
export type RolesRepo = ReturnType<typeof createRolesRepo>;

/** Prepares the role statements once for `db`. */
export function createRolesRepo(db: Database) {
  const all = db.prepare(
    `SELECT r.name, r.description, r.builtin, r.created_at, r.updated_at,
       (SELECT group_concat(permission) FROM role_permissions WHERE role = r.name) AS permissions
     FROM roles r ORDER BY r.name`,
  );
  const one = db.prepare(
    `SELECT r.name, r.description, r.builtin, r.created_at, r.updated_at,
       (SELECT group_concat(permission) FROM role_permissions WHERE role = r.name) AS permissions
     FROM roles r WHERE r.name = :name`,
  );
  const insertRole = db.prepare(
    `INSERT INTO roles (name, description, builtin, created_at, updated_at)
     VALUES (:name, :description, :builtin, :now, :now)`,
  );
  const updateRole = db.prepare(
    "UPDATE roles SET description = :description, updated_at = :now WHERE name = :name",
  );
  const deleteRole = db.prepare("DELETE FROM roles WHERE name = :name AND builtin = 0");
  const clearPermissions = db.prepare("DELETE FROM role_permissions WHERE role = :name");
  const addPermission = db.prepare(
    "INSERT OR IGNORE INTO role_permissions (role, permission) VALUES (:name, :permission)",
  );
  const holders = db.prepare("SELECT count(*) AS n FROM user_roles WHERE role = :name");
  const upsertPermission = db.prepare(
    `INSERT INTO permissions (name, description) VALUES (:name, :description)
     ON CONFLICT (name) DO UPDATE SET description = excluded.description`,
  );
  const permissionNames = db.prepare("SELECT name FROM permissions");
  const deletePermission = db.prepare("DELETE FROM permissions WHERE name = :name");
  const markBuiltin = db.prepare(
    "UPDATE roles SET builtin = 1, description = :description WHERE name = :name",
  );

  const get = (name: string): Role | undefined => {
    const row = one.get<RoleRow>({ name });
    return row && toRole(row);
  };
  const setPermissions = (name: string, permissions: readonly Permission[]) => {
    clearPermissions.run({ name });
    for (const permission of permissions) addPermission.run({ name, permission });
  };

  return {
    get,
    /** Every role, by name. */
    list(): Role[] {
      return all.all<RoleRow>().map(toRole);
    },
    /** Creates a custom role. Throws a UNIQUE violation when the name exists. */
    create(name: string, description: string, permissions: readonly Permission[], now: string): Role {
      insertRole.run({ name, description, builtin: 0, now });
      setPermissions(name, permissions);
      return get(name)!;
    },
    /** Replaces a role's description and permissions. */
    update(name: string, description: string, permissions: readonly Permission[], now: string): Role {
      updateRole.run({ name, description, now });
      setPermissions(name, permissions);
      return get(name)!;
    },
    /** Deletes a custom role; false for a built-in or missing one. */
    delete(name: string): boolean {
      return deleteRole.run({ name }).changes === 1;
    },
    /** How many users hold `name`. */
    holderCount(name: string): number {
      return holders.get<{ n: number }>({ name })!.n;
    },
    /**
     * Makes the permissions table equal the code catalogue and each built-in
     * role hold exactly its listed permissions. Idempotent; run it inside a transaction.
     */
    syncCatalogue(now: string): void {
      for (const [name, description] of Object.entries(PERMISSIONS)) {
        upsertPermission.run({ name, description });
      }
      for (const { name } of permissionNames.all<{ name: string }>()) {
        if (!isPermission(name)) deletePermission.run({ name });
      }
      for (const [name, role] of Object.entries(BUILTIN_ROLES)) {
        if (!get(name)) insertRole.run({ name, description: role.description, builtin: 1, now });
        markBuiltin.run({ name, description: role.description });
        setPermissions(name, role.permissions);
      }
    },
  };
}
