/**
 * Account operations shared by the HTTP routes and the admin CLI. Each
 * change and its audit row commit in one transaction, and the guard rails
 * are checked inside that transaction (`BEGIN IMMEDIATE` serialises writers
 * across processes), so two admins cannot race past "last admin" together.
 *
 * Guard rails (ASVS 5.0 8.2, OWASP API5:2023):
 * - nobody grants a permission they do not hold;
 * - nobody manages a user who holds a permission they do not hold;
 * - nobody changes their own roles, or disables or deletes their own account
 *   (another administrator must: separation of duties, and no one-click lock-out);
 * - the last enabled admin cannot be demoted, disabled or deleted (409).
 *
 * The operator at the CLI (actor `null`) holds the database file and so is
 * trusted with every permission, but the last-admin rule binds the operator
 * too: the tool refuses to leave the system without an administrator.
 */
import type { AuditLog } from "../audit/audit_log.ts";
import type { AuditContext } from "../audit/events.ts";
import type { Authenticator } from "../auth/authenticator.ts";
import { USERNAME_PATTERN, USERNAME_RULE } from "../domain/username.ts";
import { passwordProblem } from "../auth/password_policy.ts";
import { ADMIN_ROLE, DEFAULT_ROLE, type Permission } from "../domain/permissions.ts";
import type { Database } from "../db/database.ts";
import type { RolesRepo } from "../db/roles_repo.ts";
import { isUniqueViolation, type PublicUser, toPublicUser, type UsersRepo } from "../db/users_repo.ts";
import type { Principal } from "../domain/principal.ts";
import { encodeBase64Url } from "../crypto/tokens.ts";
import { ApiError, validationFailed } from "../errors.ts";
import { type Clock, isoNow } from "../util/clock.ts";

/** Who acts: a user through the API, or the operator at the CLI (null). */
export type Actor = Principal | null;

/** Options for {@link Accounts}. */
export interface AccountsOptions {
  db: Database;
  users: UsersRepo;
  roles: RolesRepo;
  authenticator: Authenticator;
  audit: AuditLog;
  /** The time. Default `Date.now`. */
  clock?: Clock;
}

function invalidPassword(field: string, problem: string): ApiError {
  return new ApiError("validation-failed", `The ${field} is not acceptable: it ${problem}.`, {
    errors: [{ path: field, message: problem }],
  });
}

/** Users: registration, passwords, roles, disable/enable/delete. */
export class Accounts {
  readonly #db: Database;
  readonly #users: UsersRepo;
  readonly #roles: RolesRepo;
  readonly #authenticator: Authenticator;
  readonly #audit: AuditLog;
  readonly #clock: Clock;

  constructor(options: AccountsOptions) {
    this.#db = options.db;
    this.#users = options.users;
    this.#roles = options.roles;
    this.#authenticator = options.authenticator;
    this.#audit = options.audit;
    this.#clock = options.clock ?? Date.now;
  }

  #now(): string {
    return isoNow(this.#clock);
  }

  /** The public view of user `id`, or a 404. */
  view(id: number): PublicUser {
    const user = this.#users.findById(id);
    if (!user) throw new ApiError("not-found", "No such user.");
    return toPublicUser(user, this.#users.rolesOf(id));
  }

  /** Up to `limit` users with an id above `after`, by id, as the API shows them. */
  list(after: number, limit: number): PublicUser[] {
    return this.#users.list(after, limit).map((user) => toPublicUser(user, this.#users.rolesOf(user.id)));
  }

  /** Creates a user with `roles` (default `viewer`); the password must pass the policy. */
  async create(
    username: string,
    password: string,
    ctx: AuditContext,
    roles: readonly string[] = [DEFAULT_ROLE],
  ): Promise<PublicUser> {
    return (await this.#create(username, password, ctx, roles, false))!;
  }

  /**
   * {@link create}, and with `onlyIfNoUsers` nothing (null) when any user
   * exists at the moment of writing: decided inside the write transaction, so
   * of several processes bootstrapping one fresh database exactly one creates
   * the admin and the others see it and step back.
   */
  async #create(
    username: string,
    password: string,
    ctx: AuditContext,
    roles: readonly string[],
    onlyIfNoUsers: boolean,
  ): Promise<PublicUser | null> {
    // The register schema checks this too; the CLI reaches here without it, and a name the
    // authenticator refuses (spaces, Unicode look-alikes, control characters) would make an
    // account nobody can log in to and a confusing line in the audit log.
    if (!USERNAME_PATTERN.test(username)) {
      throw validationFailed([{ path: "username", message: USERNAME_RULE }]);
    }
    const problem = passwordProblem(password, username);
    if (problem) throw invalidPassword("password", problem);
    this.#requireRolesExist(roles);
    const hash = await this.#authenticator.hashPassword(password);
    const db = this.#db;
    const users = this.#users;
    const audit = this.#audit;
    try {
      const id = db.tx(() => {
        if (onlyIfNoUsers && users.count() > 0) return null;
        const now = this.#now();
        const id = users.create(username, hash, now);
        users.setRoles(id, roles, now);
        audit.append({
          ...ctx,
          event: "user_created",
          status: 201,
          target: `user:${id}`,
          detail: { username, roles: [...roles] },
        });
        return id;
      });
      return id === null ? null : this.view(id);
    } catch (error) {
      if (isUniqueViolation(error)) throw new ApiError("conflict", "That username is taken.");
      throw error;
    }
  }

  /**
   * Changes the caller's password after checking the current one. Every
   * token and cached credential of the user ends at once.
   */
  async changePassword(user: Principal, current: string, next: string, ctx: AuditContext): Promise<void> {
    const authenticator = this.#authenticator;
    const audit = this.#audit;
    const db = this.#db;
    const users = this.#users;
    if (!(await authenticator.verifyPassword(user.id, current))) {
      audit.append({
        ...ctx,
        event: "authn_login_fail",
        status: 403,
        target: `user:${user.id}`,
        detail: { reason: "wrong current password on password change" },
      });
      throw new ApiError("forbidden", "The current password is incorrect.");
    }
    if (current.normalize("NFC") === next.normalize("NFC")) {
      throw invalidPassword("newPassword", "must differ from the current password");
    }
    const problem = passwordProblem(next, user.username);
    if (problem) throw invalidPassword("newPassword", problem);
    const hash = await authenticator.hashPassword(next);
    db.tx(() => {
      users.setPasswordHash(user.id, hash, this.#now());
      const revoked = authenticator.revokeAllCredentials(user.id);
      audit.append({
        ...ctx,
        event: "authn_password_change",
        status: 204,
        target: `user:${user.id}`,
        detail: { tokensRevoked: revoked },
      });
    });
  }

  /** Sets a new password without knowing the old one (CLI reset); ends all sessions. */
  async resetPassword(username: string, password: string, ctx: AuditContext): Promise<PublicUser> {
    const user = this.#users.findByUsername(username);
    if (!user) throw new ApiError("not-found", "No such user.");
    const problem = passwordProblem(password, user.username);
    if (problem) throw invalidPassword("password", problem);
    const hash = await this.#authenticator.hashPassword(password);
    this.#db.tx(() => {
      this.#users.setPasswordHash(user.id, hash, this.#now());
      const revoked = this.#authenticator.revokeAllCredentials(user.id);
      this.#audit.append({
        ...ctx,
        event: "user_updated",
        target: `user:${user.id}`,
        detail: { change: "password reset", tokensRevoked: revoked },
      });
    });
    return this.view(user.id);
  }

  /** Replaces the roles of user `targetId`. */
  setRoles(actor: Actor, targetId: number, roles: readonly string[], ctx: AuditContext): PublicUser {
    const db = this.#db;
    const users = this.#users;
    const rolesRepo = this.#roles;
    const audit = this.#audit;
    if (actor && actor.id === targetId) throw new ApiError("forbidden", "You cannot change your own roles.");
    const wanted = [...new Set(roles)].sort();
    db.tx(() => {
      const target = users.findById(targetId);
      if (!target) throw new ApiError("not-found", "No such user.");
      this.#requireRolesExist(wanted);
      const granted = new Set(wanted.flatMap((name) => rolesRepo.get(name)!.permissions));
      requireHeld(actor, [...granted]);
      this.#requireOutranks(actor, targetId);
      const before = users.rolesOf(targetId);
      if (before.includes(ADMIN_ROLE) && !wanted.includes(ADMIN_ROLE) && !target.disabled) {
        this.#requireAnotherAdmin("demote");
      }
      users.setRoles(targetId, wanted, this.#now());
      audit.append({
        ...ctx,
        event: "authz_change",
        status: 200,
        target: `user:${targetId}`,
        detail: { roles: { from: before, to: wanted } },
      });
    });
    return this.view(targetId);
  }

  /** Disables (ending every session at once) or re-enables user `targetId`. */
  setDisabled(actor: Actor, targetId: number, disabled: boolean, ctx: AuditContext): PublicUser {
    const db = this.#db;
    const users = this.#users;
    const audit = this.#audit;
    const authenticator = this.#authenticator;
    if (actor && actor.id === targetId) {
      throw new ApiError("forbidden", `You cannot ${disabled ? "disable" : "enable"} your own account.`);
    }
    db.tx(() => {
      const target = users.findById(targetId);
      if (!target) throw new ApiError("not-found", "No such user.");
      this.#requireOutranks(actor, targetId);
      if (disabled && !target.disabled && users.rolesOf(targetId).includes(ADMIN_ROLE)) {
        this.#requireAnotherAdmin("disable");
      }
      users.setDisabled(targetId, disabled, this.#now());
      const revoked = disabled ? authenticator.revokeAllCredentials(targetId) : 0;
      audit.append({
        ...ctx,
        event: "user_updated",
        status: 200,
        target: `user:${targetId}`,
        detail: { disabled, tokensRevoked: revoked },
      });
    });
    return this.view(targetId);
  }

  /** Deletes user `targetId`; their tokens and grants go with them, their products stay unowned. */
  delete(actor: Actor, targetId: number, ctx: AuditContext): void {
    const db = this.#db;
    const users = this.#users;
    const audit = this.#audit;
    const authenticator = this.#authenticator;
    if (actor && actor.id === targetId) throw new ApiError("forbidden", "You cannot delete your own account.");
    db.tx(() => {
      const target = users.findById(targetId);
      if (!target) throw new ApiError("not-found", "No such user.");
      this.#requireOutranks(actor, targetId);
      if (!target.disabled && users.rolesOf(targetId).includes(ADMIN_ROLE)) this.#requireAnotherAdmin("delete");
      const roles = users.rolesOf(targetId);
      const revoked = authenticator.revokeAllCredentials(targetId);
      users.delete(targetId);
      audit.append({
        ...ctx,
        event: "user_deleted",
        status: 204,
        target: `user:${targetId}`,
        detail: { username: target.username, roles, tokensRevoked: revoked },
      });
    });
  }

  /**
   * Creates the bootstrap admin when no user exists. Returns the generated
   * password (to print once) when none was configured, else null.
   */
  async bootstrapAdmin(username: string, password: string | null, ctx: AuditContext): Promise<string | null> {
    if (this.#users.count() > 0) return null; // the common case, without hashing; decided again below
    let chosen = password ?? generatePassword();
    while (password === null && passwordProblem(chosen, username)) chosen = generatePassword();
    // Another process may bootstrap the same fresh database meanwhile: the "no user yet" check
    // is repeated under the write lock, and only the process that created the admin reports
    // a password (one that was never stored would lock the operator out).
    const created = await this.#create(username, chosen, ctx, [ADMIN_ROLE], true);
    return created !== null && password === null ? chosen : null;
  }

  #requireRolesExist(roles: readonly string[]): void {
    const missing = roles.filter((name) => !this.#roles.get(name));
    if (missing.length > 0) {
      throw validationFailed([{ path: "roles", message: `unknown role(s): ${missing.join(", ")}` }]);
    }
  }

  #requireOutranks(actor: Actor, targetId: number): void {
    if (!actor) return;
    const target = this.#users.loadPrincipal(targetId);
    if (target && [...target.permissions].some((p) => !actor.permissions.has(p))) {
      throw new ApiError("forbidden", "You cannot manage a user who holds permissions you do not hold.");
    }
  }

  #requireAnotherAdmin(verb: string): void {
    if (this.#users.countActiveWithRole(ADMIN_ROLE) <= 1) {
      throw new ApiError("conflict", `You cannot ${verb} the last active admin.`);
    }
  }
}

/** A random password of 24 base64url characters (144 bits), for bootstrap and CLI resets. */
export function generatePassword(): string {
  return encodeBase64Url(crypto.getRandomValues(new Uint8Array(18)));
}

/** Refuses (403) when `actor` lacks any of `permissions`: nobody hands out what they do not hold. */
export function requireHeld(actor: Actor, permissions: readonly Permission[]): void {
  if (!actor) return;
  const lacking = [...new Set(permissions)].filter((p) => !actor.permissions.has(p)).sort();
  if (lacking.length > 0) {
    throw new ApiError("forbidden", `You cannot grant permissions you do not hold: ${lacking.join(", ")}.`);
  }
}
