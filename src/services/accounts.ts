/**
 * Account operations shared by the HTTP routes and the admin CLI. Each
 * change and its audit row commit in one transaction that this service opens,
 * and the guard rails are checked inside that transaction, on what it reads
 * (the data store serialises writers), so two admins cannot race past "last
 * admin" together. Password hashing happens before the transaction opens:
 * no transaction waits for the KDF.
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
import { passwordProblem } from "../auth/password_policy.ts";
import { CONTEXT_WORDS } from "../auth/password_strength.ts";
import { InlineStrengthEstimator, type StrengthEstimator } from "../auth/strength_estimator.ts";
import { encodeBase64Url } from "../crypto/tokens.ts";
import type { UserRecord } from "../db/records.ts";
import { type DataStore, type StoreReads, type Transaction, UniqueViolation } from "../db/store.ts";
import { ADMIN_ROLE, DEFAULT_ROLE, type Permission } from "../domain/permissions.ts";
import type { Principal } from "../domain/principal.ts";
import { USERNAME_PATTERN, USERNAME_RULE } from "../domain/username.ts";
import { ApiError, validationFailed } from "../errors.ts";
import { type Clock, isoNow } from "../util/clock.ts";

/**
 * For the transactions whose rule reads, then writes (the last admin, the
 * first user): no concurrent transaction may pass the same check meanwhile.
 */
const EXCLUSIVE = { exclusive: true } as const;

/** Who acts: a user through the API, or the operator at the CLI (null). */
export type Actor = Principal | null;

/** A user as the API shows it: never the hash. */
export interface PublicUser {
  id: number;
  username: string;
  disabled: boolean;
  roles: string[];
  createdAt: string;
  updatedAt: string;
}

/** The public view of a user: the fields a response may carry. */
export function toPublicUser(user: UserRecord, roles: readonly string[]): PublicUser {
  return {
    id: user.id,
    username: user.username,
    disabled: user.disabled,
    roles: [...roles],
    createdAt: user.createdAt,
    updatedAt: user.updatedAt,
  };
}

/** Options for {@link Accounts}. */
export interface AccountsOptions {
  store: DataStore;
  authenticator: Authenticator;
  audit: AuditLog;
  /** The time. Default `Date.now`. */
  clock?: Clock;
  /** Estimates new passwords' strength. Default on this thread; the server passes a Worker. */
  strength?: StrengthEstimator;
  /** Words no password may contain (docs/authentication.md). Default {@link CONTEXT_WORDS}. */
  contextWords?: readonly string[];
}

function invalidPassword(field: string, problem: string): ApiError {
  return new ApiError("validation-failed", `The ${field} is not acceptable: it ${problem}.`, {
    errors: [{ path: field, message: problem }],
  });
}

/** The public view of user `id` through `reads` (the store, or a transaction), or a 404. */
async function viewOf(reads: Pick<StoreReads, "users">, id: number): Promise<PublicUser> {
  const user = await reads.users.findById(id);
  if (!user) throw new ApiError("not-found", "No such user.");
  return toPublicUser(user, await reads.users.rolesOf(id));
}

/** Users: registration, passwords, roles, disable/enable/delete. */
export class Accounts {
  readonly #store: DataStore;
  readonly #authenticator: Authenticator;
  readonly #audit: AuditLog;
  readonly #clock: Clock;
  readonly #strength: StrengthEstimator;
  readonly #contextWords: readonly string[];

  constructor(options: AccountsOptions) {
    this.#store = options.store;
    this.#authenticator = options.authenticator;
    this.#audit = options.audit;
    this.#clock = options.clock ?? Date.now;
    this.#strength = options.strength ?? new InlineStrengthEstimator();
    this.#contextWords = options.contextWords ?? CONTEXT_WORDS;
  }

  /**
   * Why `password` is not acceptable for `username`: the cheap rules
   * (length, common list, username, context words), then the strength estimate.
   */
  async #passwordProblem(password: string, username: string): Promise<string | null> {
    const rule = passwordProblem(password, username, this.#contextWords);
    if (rule) return rule;
    return (await this.#strength.estimate(password, [username, ...this.#contextWords])).problem;
  }

  #now(): string {
    return isoNow(this.#clock);
  }

  /** The public view of user `id`, or a 404. */
  view(id: number): Promise<PublicUser> {
    return viewOf(this.#store, id);
  }

  /** Up to `limit` users with an id above `after`, by id, as the API shows them. */
  async list(after: number, limit: number): Promise<PublicUser[]> {
    const users = await this.#store.users.list(after, limit);
    return await Promise.all(users.map(async (user) => toPublicUser(user, await this.#store.users.rolesOf(user.id))));
  }

  /** The user named `username` (any case), as the API shows them, or a 404 naming it. */
  async findByUsername(username: string): Promise<PublicUser> {
    const user = await this.#store.users.findByUsername(username);
    if (!user) throw new ApiError("not-found", `No user is named "${username}".`);
    return await this.view(user.id);
  }

  /** How many enabled users hold the admin role (the CLI warns when none is left). */
  activeAdmins(): Promise<number> {
    return this.#store.users.countActiveWithRole(ADMIN_ROLE);
  }

  /**
   * Creates a user with `roles` (default `viewer`); the password must pass
   * the policy. With `mustChangePassword` (an operator chose or generated
   * it) the user must replace it at first use.
   */
  async create(
    username: string,
    password: string,
    ctx: AuditContext,
    roles: readonly string[] = [DEFAULT_ROLE],
    options: CreateOptions = {},
  ): Promise<PublicUser> {
    const hash = await this.#checkedHash(username, password, roles);
    return await this.#createHashed(username, hash, roles, ctx, {
      mustChangePassword: options.mustChangePassword ?? false,
    });
  }

  /** Checks a new account's name, password and roles, then hashes the password (outside any transaction). */
  async #checkedHash(username: string, password: string, roles: readonly string[]): Promise<string> {
    // The register schema checks this too; the CLI reaches here without it, and a name the
    // authenticator refuses (spaces, Unicode look-alikes, control characters) would make an
    // account nobody can log in to and a confusing line in the audit log.
    if (!USERNAME_PATTERN.test(username)) {
      throw validationFailed([{ path: "username", message: USERNAME_RULE }]);
    }
    const problem = await this.#passwordProblem(password, username);
    if (problem) throw invalidPassword("password", problem);
    await this.#requireRolesExist(this.#store, roles);
    return await this.#authenticator.hashPassword(password);
  }

  /**
   * Stores a new account with its audit row. With `onlyIfEmpty` (the
   * bootstrap admin) it steps back with {@link FirstUserExists} when any user
   * exists at the moment of writing: decided inside an exclusive transaction,
   * so of several processes bootstrapping one fresh database exactly one
   * creates the admin.
   */
  async #createHashed(
    username: string,
    hash: string,
    roles: readonly string[],
    ctx: AuditContext,
    { onlyIfEmpty = false, mustChangePassword = false }: { onlyIfEmpty?: boolean; mustChangePassword?: boolean },
  ): Promise<PublicUser> {
    try {
      return await this.#store.transaction(async (tx) => {
        if (onlyIfEmpty && await tx.users.count() > 0) throw new FirstUserExists();
        await this.#requireRolesExist(tx, roles);
        const now = this.#now();
        const id = await tx.users.create(username, hash, now, mustChangePassword);
        await tx.users.setRoles(id, roles, now);
        await this.#audit.appendIn(tx, {
          ...ctx,
          event: "user_created",
          status: 201,
          target: `user:${id}`,
          detail: { username, roles: [...roles], ...(mustChangePassword ? { mustChangePassword } : {}) },
        });
        return await viewOf(tx, id);
      }, onlyIfEmpty ? EXCLUSIVE : {});
    } catch (error) {
      if (error instanceof UniqueViolation) throw new ApiError("conflict", "That username is taken.");
      throw error;
    }
  }

  /**
   * Changes the caller's password after checking the current one. Every
   * token and cached credential of the user ends at once.
   */
  async changePassword(user: Principal, current: string, next: string, ctx: AuditContext): Promise<void> {
    const authenticator = this.#authenticator;
    if (!(await authenticator.verifyPassword(user.id, current))) {
      await this.#audit.append({
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
    const problem = await this.#passwordProblem(next, user.username);
    if (problem) throw invalidPassword("newPassword", problem);
    const hash = await authenticator.hashPassword(next);
    await this.#store.transaction(async (tx) => {
      await tx.users.setPasswordHash(user.id, hash, this.#now(), false);
      const revoked = await authenticator.revokeAllCredentials(tx, user.id);
      await this.#audit.appendIn(tx, {
        ...ctx,
        event: "authn_password_change",
        status: 204,
        target: `user:${user.id}`,
        detail: { tokensRevoked: revoked },
      });
    });
  }

  /**
   * Sets a new password without knowing the old one (CLI reset); ends all
   * sessions. The operator knows this password, so the user must change it
   * at first use (ASVS 5.0 6.4.3).
   */
  async resetPassword(username: string, password: string, ctx: AuditContext): Promise<PublicUser> {
    const user = await this.#store.users.findByUsername(username);
    if (!user) throw new ApiError("not-found", "No such user.");
    const problem = await this.#passwordProblem(password, user.username);
    if (problem) throw invalidPassword("password", problem);
    const hash = await this.#authenticator.hashPassword(password);
    return await this.#store.transaction(async (tx) => {
      if (!(await tx.users.setPasswordHash(user.id, hash, this.#now(), true))) {
        throw new ApiError("not-found", "No such user.");
      }
      const revoked = await this.#authenticator.revokeAllCredentials(tx, user.id);
      await this.#audit.appendIn(tx, {
        ...ctx,
        event: "user_updated",
        target: `user:${user.id}`,
        detail: { change: "password reset", mustChangePassword: true, tokensRevoked: revoked },
      });
      return await viewOf(tx, user.id);
    });
  }

  /** Replaces the roles of user `targetId`. */
  async setRoles(actor: Actor, targetId: number, roles: readonly string[], ctx: AuditContext): Promise<PublicUser> {
    if (actor && actor.id === targetId) throw new ApiError("forbidden", "You cannot change your own roles.");
    const wanted = [...new Set(roles)].sort();
    return await this.#store.transaction(async (tx) => {
      const target = await tx.users.findById(targetId);
      if (!target) throw new ApiError("not-found", "No such user.");
      await this.#requireRolesExist(tx, wanted);
      const granted = new Set<Permission>();
      for (const name of wanted) for (const p of (await tx.roles.get(name))!.permissions) granted.add(p);
      requireHeld(actor, [...granted]);
      await this.#requireOutranks(tx, actor, targetId);
      const before = await tx.users.rolesOf(targetId);
      if (before.includes(ADMIN_ROLE) && !wanted.includes(ADMIN_ROLE) && !target.disabled) {
        await this.#requireAnotherAdmin(tx, "demote");
      }
      await tx.users.setRoles(targetId, wanted, this.#now());
      await this.#audit.appendIn(tx, {
        ...ctx,
        event: "authz_change",
        status: 200,
        target: `user:${targetId}`,
        detail: { roles: { from: before, to: wanted } },
      });
      return await viewOf(tx, targetId);
    }, EXCLUSIVE);
  }

  /** Disables (ending every session at once) or re-enables user `targetId`. */
  async setDisabled(actor: Actor, targetId: number, disabled: boolean, ctx: AuditContext): Promise<PublicUser> {
    if (actor && actor.id === targetId) {
      throw new ApiError("forbidden", `You cannot ${disabled ? "disable" : "enable"} your own account.`);
    }
    return await this.#store.transaction(async (tx) => {
      const target = await tx.users.findById(targetId);
      if (!target) throw new ApiError("not-found", "No such user.");
      await this.#requireOutranks(tx, actor, targetId);
      if (disabled && !target.disabled && (await tx.users.rolesOf(targetId)).includes(ADMIN_ROLE)) {
        await this.#requireAnotherAdmin(tx, "disable");
      }
      await tx.users.setDisabled(targetId, disabled, this.#now());
      const revoked = disabled ? await this.#authenticator.revokeAllCredentials(tx, targetId) : 0;
      await this.#audit.appendIn(tx, {
        ...ctx,
        event: "user_updated",
        status: 200,
        target: `user:${targetId}`,
        detail: { disabled, tokensRevoked: revoked },
      });
      return await viewOf(tx, targetId);
    }, EXCLUSIVE);
  }

  /** Deletes user `targetId`; their tokens and grants go with them, their products stay unowned. */
  async delete(actor: Actor, targetId: number, ctx: AuditContext): Promise<void> {
    if (actor && actor.id === targetId) throw new ApiError("forbidden", "You cannot delete your own account.");
    await this.#store.transaction(async (tx) => {
      const target = await tx.users.findById(targetId);
      if (!target) throw new ApiError("not-found", "No such user.");
      await this.#requireOutranks(tx, actor, targetId);
      const roles = await tx.users.rolesOf(targetId);
      if (!target.disabled && roles.includes(ADMIN_ROLE)) await this.#requireAnotherAdmin(tx, "delete");
      const revoked = await this.#authenticator.revokeAllCredentials(tx, targetId);
      await tx.users.delete(targetId);
      await this.#audit.appendIn(tx, {
        ...ctx,
        event: "user_deleted",
        status: 204,
        target: `user:${targetId}`,
        detail: { username: target.username, roles, tokensRevoked: revoked },
      });
    }, EXCLUSIVE);
  }

  /**
   * Creates the bootstrap admin when no user exists, and returns what to
   * print once: its name and, when none was configured, the generated
   * password — which must be changed at first use (ASVS 5.0 6.4.1). There is
   * no default name (6.3.2): unset, a name `admin-<random>` is generated.
   * Null when a user exists. Another process starting at the same moment
   * creates it at most once: the emptiness is checked again inside the
   * creating transaction.
   */
  async bootstrapAdmin(
    username: string | null,
    password: string | null,
    ctx: AuditContext,
  ): Promise<BootstrappedAdmin | null> {
    if (await this.#store.users.count() > 0) return null; // the common case, without hashing; decided again below
    const name = username ?? generateAdminName();
    let chosen = password ?? generatePassword();
    while (password === null && passwordProblem(chosen, name, this.#contextWords)) chosen = generatePassword();
    const hash = await this.#checkedHash(name, chosen, [ADMIN_ROLE]);
    try {
      await this.#createHashed(name, hash, [ADMIN_ROLE], ctx, {
        onlyIfEmpty: true,
        mustChangePassword: password === null,
      });
    } catch (error) {
      // Another process created the first user meanwhile; only the creator reports anything.
      if (error instanceof FirstUserExists) return null;
      throw error;
    }
    return { username: name, generatedPassword: password === null ? chosen : null };
  }

  async #requireRolesExist(reads: Pick<StoreReads, "roles">, roles: readonly string[]): Promise<void> {
    const missing: string[] = [];
    for (const name of roles) if (!(await reads.roles.get(name))) missing.push(name);
    if (missing.length > 0) {
      throw validationFailed([{ path: "roles", message: `unknown role(s): ${missing.join(", ")}` }]);
    }
  }

  async #requireOutranks(tx: Transaction, actor: Actor, targetId: number): Promise<void> {
    if (!actor) return;
    const target = await tx.users.loadPrincipal(targetId);
    if (target && [...target.permissions].some((p) => !actor.permissions.has(p))) {
      throw new ApiError("forbidden", "You cannot manage a user who holds permissions you do not hold.");
    }
  }

  async #requireAnotherAdmin(tx: Transaction, verb: string): Promise<void> {
    if (await tx.users.countActiveWithRole(ADMIN_ROLE) <= 1) {
      throw new ApiError("conflict", `You cannot ${verb} the last active admin.`);
    }
  }
}

/** Options for {@link Accounts.create}. */
export interface CreateOptions {
  /** The password was chosen or generated by the operator: the user must change it at first use. Default false. */
  mustChangePassword?: boolean | undefined;
}

/** What the bootstrap created, to print once. */
export interface BootstrappedAdmin {
  readonly username: string;
  /** The generated password (to be changed at first use), or null when `APP_ADMIN_PASSWORD` gave one. */
  readonly generatedPassword: string | null;
}

/** An administrator name nobody can guess: `admin-` and 10 random base32 letters (50 bits). */
export function generateAdminName(): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz234567";
  return `admin-${Array.from(crypto.getRandomValues(new Uint8Array(10)), (b) => alphabet[b & 31]).join("")}`;
}

/** Another process created the first user while this one was hashing the bootstrap password. */
class FirstUserExists extends Error {}

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
