/**
 * Custom roles: bundles of catalogue permissions that admins define. Built-in
 * roles are fixed (409 on change or delete), a role still granted to someone
 * cannot be deleted (409), and nobody can create or edit a role to hold a
 * permission they lack — otherwise `roles:manage` would be a path to every
 * permission.
 */
import type { AuditLog } from "../audit/audit_log.ts";
import type { AuditContext } from "../audit/events.ts";
import type { Permission } from "../domain/permissions.ts";
import type { Database } from "../db/database.ts";
import type { Role, RolesRepo } from "../db/roles_repo.ts";
import { isUniqueViolation } from "../db/users_repo.ts";
import { ApiError } from "../errors.ts";
import { type Clock, isoNow } from "../util/clock.ts";
import { type Actor, requireHeld } from "./accounts.ts";

/** A role definition from a request. */
export interface RoleDefinition {
  description: string;
  permissions: readonly Permission[];
}

/** Options for {@link Roles}. */
export interface RolesOptions {
  db: Database;
  roles: RolesRepo;
  audit: AuditLog;
  /** The time. Default `Date.now`. */
  clock?: Clock;
}

/** Role administration. */
export class Roles {
  readonly #db: Database;
  readonly #roles: RolesRepo;
  readonly #audit: AuditLog;
  readonly #clock: Clock;

  constructor(options: RolesOptions) {
    this.#db = options.db;
    this.#roles = options.roles;
    this.#audit = options.audit;
    this.#clock = options.clock ?? Date.now;
  }

  /** Every role, by name. */
  list(): Role[] {
    return this.#roles.list();
  }

  /** The role `name`, or a 404. */
  get(name: string): Role {
    const role = this.#roles.get(name);
    if (!role) throw new ApiError("not-found", "No such role.");
    return role;
  }

  /** Creates a custom role. */
  create(actor: Actor, name: string, definition: RoleDefinition, ctx: AuditContext): Role {
    const permissions = [...new Set(definition.permissions)].sort();
    requireHeld(actor, permissions);
    try {
      return this.#db.tx(() => {
        const role = this.#roles.create(name, definition.description, permissions, isoNow(this.#clock));
        this.#record(ctx, 201, name, { action: "create", permissions });
        return role;
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new ApiError("conflict", "A role with that name exists.");
      throw error;
    }
  }

  /** Replaces a custom role's description and permissions. */
  update(actor: Actor, name: string, definition: RoleDefinition, ctx: AuditContext): Role {
    const permissions = [...new Set(definition.permissions)].sort();
    return this.#db.tx(() => {
      const before = this.#mutable(name);
      requireHeld(actor, [...before.permissions, ...permissions]);
      const role = this.#roles.update(name, definition.description, permissions, isoNow(this.#clock));
      this.#record(ctx, 200, name, { action: "update", permissions: { from: before.permissions, to: permissions } });
      return role;
    });
  }

  /** Deletes a custom role nobody holds. */
  delete(actor: Actor, name: string, ctx: AuditContext): void {
    this.#db.tx(() => {
      const before = this.#mutable(name);
      requireHeld(actor, before.permissions);
      const holders = this.#roles.holderCount(name);
      if (holders > 0) throw new ApiError("conflict", `The role is still granted to ${holders} user(s).`);
      this.#roles.delete(name);
      this.#record(ctx, 204, name, { action: "delete", permissions: before.permissions });
    });
  }

  #mutable(name: string): Role {
    const role = this.get(name);
    if (role.builtin) throw new ApiError("conflict", "Built-in roles cannot be changed or deleted.");
    return role;
  }

  #record(ctx: AuditContext, status: number, role: string, detail: Record<string, unknown>): void {
    this.#audit.append({ ...ctx, event: "authz_change", status, target: `role:${role}`, detail });
  }
}
