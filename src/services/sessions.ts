/**
 * Sessions — the bearer tokens of `POST /auth/login` — as their users and
 * administrators see and end them (ASVS 5.0 7.4.5, 7.5.2; docs/authentication.md
 * "Sessions"). A session is shown by a public id derived from its token hash
 * ({@link sessionIdOf}): never the token, never the stored hash, and no id
 * can be turned back into either. Basic requests are not sessions: each
 * carries the password.
 *
 * - A user lists their live sessions and ends one or all of them.
 * - An administrator (`users:manage`) ends one user's sessions, or every
 *   user's — each limited, like every user-management act, to users whose
 *   permissions the administrator holds all of (the guard rails of
 *   `accounts.ts`): nobody ends the sessions of someone who outranks them.
 *
 * Each ending is one transaction with its `authn_token_revoked` audit row,
 * which names why (`ended by user`, `ended by administrator`). The
 * concurrent-session limit is enforced where tokens are issued
 * (`Authenticator.issueToken`).
 */
import type { AuditLog } from "../audit/audit_log.ts";
import type { AuditContext } from "../audit/events.ts";
import { sessionIdOf } from "../crypto/tokens.ts";
import type { TokenRecord } from "../db/records.ts";
import type { DataStore, Transaction } from "../db/store.ts";
import type { Principal } from "../domain/principal.ts";
import { ApiError } from "../errors.ts";
import { type Clock, toISO } from "../util/clock.ts";

/** A live session as its user sees it. */
export interface SessionView {
  /** A public id for ending it (derived from, never equal to, the token or its hash). */
  id: string;
  createdAt: string;
  lastUsedAt: string;
  /** When it ends whatever happens (the absolute lifetime). */
  expiresAt: string;
  /** When it ends unless used before (the idle timeout). */
  idleExpiresAt: string;
  /** True for the token this very request came with. */
  current: boolean;
}

/** Options for {@link Sessions}. */
export interface SessionsOptions {
  store: DataStore;
  audit: AuditLog;
  /** The idle timeout the authenticator applies, to show when each session lapses. */
  tokenIdleMs: number;
  /** The time. Default `Date.now`. */
  clock?: Clock;
}

/** Listing and ending sessions. */
export class Sessions {
  readonly #store: DataStore;
  readonly #audit: AuditLog;
  readonly #tokenIdleMs: number;
  readonly #clock: Clock;

  constructor(options: SessionsOptions) {
    this.#store = options.store;
    this.#audit = options.audit;
    this.#tokenIdleMs = options.tokenIdleMs;
    this.#clock = options.clock ?? Date.now;
  }

  #live(tokens: readonly TokenRecord[]): TokenRecord[] {
    const now = this.#clock();
    return tokens.filter((t) => now < t.expiresAt && now - t.lastUsedAt < this.#tokenIdleMs);
  }

  /** The live sessions of `userId`, oldest first; `currentHash` marks the one in use. */
  async list(userId: number, currentHash: string | null): Promise<SessionView[]> {
    // Public ids, not hashes, are compared: the caller's own token, already authenticated, is no secret to them.
    const currentId = currentHash === null ? null : sessionIdOf(currentHash);
    return this.#live(await this.#store.tokens.listForUser(userId)).map((t) => ({
      id: sessionIdOf(t.hash),
      createdAt: toISO(t.createdAt),
      lastUsedAt: toISO(t.lastUsedAt),
      expiresAt: toISO(t.expiresAt),
      idleExpiresAt: toISO(Math.min(t.expiresAt, t.lastUsedAt + this.#tokenIdleMs)),
      current: sessionIdOf(t.hash) === currentId,
    }));
  }

  /** Ends the session `sessionId` of `user`; 404 when they have no such live session. */
  async endOne(user: Principal, sessionId: string, ctx: AuditContext): Promise<void> {
    await this.#store.transaction(async (tx) => {
      const token = this.#live(await tx.tokens.listForUser(user.id)).find((t) => sessionIdOf(t.hash) === sessionId);
      if (!token) throw new ApiError("not-found", "You have no live session with that id.");
      await tx.tokens.revoke(token.hash);
      await this.#audit.appendIn(tx, {
        ...ctx,
        event: "authn_token_revoked",
        status: 204,
        target: `user:${user.id}`,
        detail: { reason: "ended by user", sessions: 1 },
      });
    });
  }

  /**
   * Ends every session of `targetId`: the user themself (`actor.id === targetId`)
   * or an administrator who outranks them. Returns how many ended.
   */
  async endAllOf(actor: Principal, targetId: number, ctx: AuditContext): Promise<number> {
    return await this.#store.transaction(async (tx) => {
      const self = actor.id === targetId;
      if (!self) {
        if (!(await tx.users.findById(targetId))) throw new ApiError("not-found", "No such user.");
        if (!(await outranks(tx, actor, targetId))) {
          throw new ApiError("forbidden", "You cannot manage a user who holds permissions you do not hold.");
        }
      }
      const ended = await tx.tokens.revokeAllForUser(targetId);
      await this.#audit.appendIn(tx, {
        ...ctx,
        event: "authn_token_revoked",
        status: 200,
        target: `user:${targetId}`,
        detail: { reason: self ? "ended by user" : "ended by administrator", sessions: ended },
      });
      return ended;
    });
  }

  /**
   * Ends the sessions of every user `actor` outranks (for an administrator
   * holding every permission: everyone, themself included). Returns how many
   * sessions ended and how many users with sessions were left alone.
   */
  async endEveryone(actor: Principal, ctx: AuditContext): Promise<{ ended: number; usersSkipped: number }> {
    return await this.#store.transaction(async (tx) => {
      let ended = 0;
      let usersSkipped = 0;
      for (const userId of await tx.tokens.usersWithTokens()) {
        if (userId !== actor.id && !(await outranks(tx, actor, userId))) {
          usersSkipped++;
          continue;
        }
        ended += await tx.tokens.revokeAllForUser(userId);
      }
      await this.#audit.appendIn(tx, {
        ...ctx,
        event: "authn_token_revoked",
        status: 200,
        target: "users:all",
        detail: { reason: "ended by administrator", sessions: ended, usersSkipped },
      });
      return { ended, usersSkipped };
    }, { exclusive: true });
  }
}

/** True when `actor` holds every permission user `targetId` holds (a missing user is outranked). */
async function outranks(tx: Transaction, actor: Principal, targetId: number): Promise<boolean> {
  const target = await tx.users.loadPrincipal(targetId);
  return !target || [...target.permissions].every((p) => actor.permissions.has(p));
}
