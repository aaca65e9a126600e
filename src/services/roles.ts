/**
 * Custom roles: bundles of catalogue permissions that admins define. Built-in
 * roles are fixed (409 on change or delete), a role still granted to someone
 * cannot be deleted (409), and nobody can create or edit a role to hold a
 * permission they lack — otherwise `roles:manage` would be a path to every
 * permission.
 */
import type { AuditLog } from "../audit/audit_log.ts";
import type { AuditContext } from "../audit/events.ts";
import type { Role } from "../db/records.ts";
import { type DataStore, type Transaction, UniqueViolation } from "../db/store.ts";
import type { Permission } from "../domain/permissions.ts";
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
  store: DataStore;
  audit: AuditLog;
  /** The time. Default `Date.now`. */
  clock?: Clock;
}

/** Role administration. */
export class Roles {
  readonly #store: DataStore;
  readonly #audit: AuditLog;
  readonly #clock: Clock;

  constructor(options: RolesOptions) {
    this.#store = options.store;
    this.#audit = options.audit;
    this.#clock = options.clock ?? Date.now;
  }

  /** Every role, by name. */
  list(): Promise<Role[]> {
    return this.#store.roles.list();
  }

  /** The role `name`, or a 404. */
  async get(name: string): Promise<Role> {
    const role = await this.#store.roles.get(name);
    if (!role) throw new ApiError("not-found", "No such role.");
    return role;
  }

  /** Creates a custom role. */
  async create(actor: Actor, name: string, definition: RoleDefinition, ctx: AuditContext): Promise<Role> {
    const permissions = [...new Set(definition.permissions)].sort();
    requireHeld(actor, permissions);
    try {
      return await this.#store.transaction(async (tx) => {
        const role = await tx.roles.create(name, definition.description, permissions, isoNow(this.#clock));
        await this.#record(tx, ctx, 201, name, { action: "create", permissions });
        return role;
      });
    } catch (error) {
      if (error instanceof UniqueViolation) throw new ApiError("conflict", "A role with that name exists.");
      throw error;
    }
  }

  /** Replaces a custom role's description and permissions. */
  update(actor: Actor, name: string, definition: RoleDefinition, ctx: AuditContext): Promise<Role> {
    const permissions = [...new Set(definition.permissions)].sort();
    return this.#store.transaction(async (tx) => {
      const before = await this.#mutable(tx, name);
      requireHeld(actor, [...before.permissions, ...permissions]);
      const role = await tx.roles.update(name, definition.description, permissions, isoNow(this.#clock));
      await this.#record(tx, ctx, 200, name, {
        action: "update",
        permissions: { from: before.permissions, to: permissions },
      });
      return role;
    });
  }

  /** Deletes a custom role nobody holds. */
  async delete(actor: Actor, name: string, ctx: AuditContext): Promise<void> {
    await this.#store.transaction(async (tx) => {
      const before = await this.#mutable(tx, name);
      requireHeld(actor, before.permissions);
      const holders = await tx.roles.holderCount(name);
      if (holders > 0) throw new ApiError("conflict", `The role is still granted to ${holders} user(s).`);
      await tx.roles.delete(name);
      await this.#record(tx, ctx, 204, name, { action: "delete", permissions: before.permissions });
    }, { exclusive: true }); // "nobody holds it" must still hold when it goes
  }

  async #mutable(tx: Transaction, name: string): Promise<Role> {
    const role = await tx.roles.get(name);
    if (!role) throw new ApiError("not-found", "No such role.");
    if (role.builtin) throw new ApiError("conflict", "Built-in roles cannot be changed or deleted.");
    return role;
  }

  async #record(
    tx: Transaction,
    ctx: AuditContext,
    status: number,
    role: string,
    detail: Record<string, unknown>,
  ): Promise<void> {
    await this.#audit.appendIn(tx, { ...ctx, event: "authz_change", status, target: `role:${role}`, detail });
  }
}
