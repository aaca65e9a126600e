/**
 * Authentication: turns presented credentials into a {@link Principal}, or
 * throws the one indistinguishable 401.
 *
 * Basic, in order: brute-force gate (429, no KDF) → credential cache (one
 * HMAC) → KDF guard → PBKDF2 against the stored hash, or a dummy hash for an
 * unknown user so the cost is the same (ASVS 6.3.8). Unknown user, wrong
 * password and disabled account all end in the same `unauthenticated()`.
 *
 * Bearer: SHA-256 of the token → one indexed read → idle and absolute expiry.
 *
 * The principal (roles, permissions, disabled flag) is read from the
 * database on every request: a revoked grant or a disabled account takes
 * effect on the very next request.
 */
import type { AuditLog } from "../audit/audit_log.ts";
import type { AuditContext, AuditEntry } from "../audit/events.ts";
import type { UserRecord } from "../db/records.ts";
import type { DataStore, Transaction } from "../db/store.ts";
import type { Principal } from "../domain/principal.ts";
import { generateToken, hashToken, TOKEN_PATTERN } from "../crypto/tokens.ts";
import type { PasswordHasher } from "../crypto/password.ts";
import { ApiError, unauthenticated } from "../errors.ts";
import type { BruteForceGuard, Gate } from "./brute_force.ts";
import type { CredentialCache } from "./credential_cache.ts";
import type { KDFGuard } from "./kdf_guard.ts";
import type { PrincipalCache } from "./principal_cache.ts";
import { USERNAME_PATTERN } from "../domain/username.ts";
import { type Clock, isoNow, toISO } from "../util/clock.ts";

/** The request facts authentication needs: audit context plus the rate-limit identity. */
export interface AuthContext extends AuditContext {
  /** The client identity used for brute-force counters (IPv4 address or IPv6 /64). */
  clientKey: string;
}

/** A successful authentication. */
export interface Authenticated {
  readonly principal: Principal;
  readonly scheme: "basic" | "bearer";
  /** SHA-256 of the bearer token used, for logout. */
  readonly tokenHash: string | null;
}

/** A freshly issued bearer token: the only time the token itself exists server-side. */
export interface IssuedToken {
  readonly token: string;
  readonly expiresAt: number;
}

/** The user a name refers to (if any), and the user whose password just verified (if any). */
interface PasswordCheck {
  readonly user: UserRecord | undefined;
  readonly verified: UserRecord | null;
}

/** A 429 with `Retry-After` when the brute-force guard refuses the attempt. */
function throwIfThrottled(gate: Gate): void {
  if (gate.allowed) return;
  const seconds = Math.max(1, Math.ceil(gate.retryAfterMs / 1000));
  throw new ApiError("login-throttled", "Too many failed attempts; retry later.", {
    headers: { "Retry-After": String(seconds) },
  });
}

/** Everything {@link Authenticator} works with. */
export interface AuthenticatorOptions {
  store: DataStore;
  hasher: PasswordHasher;
  credentialCache: CredentialCache;
  kdfGuard: KDFGuard;
  bruteForce: BruteForceGuard;
  audit: AuditLog;
  principals: PrincipalCache;
  /** The time. Default `Date.now`. */
  clock?: Clock;
  /** Token idle lifetime. Default 30 minutes. */
  tokenIdleMs?: number;
  /** Token absolute lifetime. Default 12 hours. */
  tokenMaxAgeMs?: number;
  /** Token use is recorded at most this often (bounds writes on the hot path). Default 60 s. */
  touchIntervalMs?: number;
  /**
   * Live tokens a user may hold at once (the concurrent-session policy, ASVS
   * 5.0 7.1.2): a login beyond it ends the user's oldest sessions. Default 10.
   */
  maxSessionsPerUser?: number;
}

/** Verifies credentials and manages tokens. */
export class Authenticator {
  readonly #store: DataStore;
  readonly #hasher: PasswordHasher;
  readonly #credentialCache: CredentialCache;
  readonly #kdfGuard: KDFGuard;
  readonly #bruteForce: BruteForceGuard;
  readonly #audit: AuditLog;
  readonly #principals: PrincipalCache;
  readonly #clock: Clock;
  readonly #tokenIdleMs: number;
  readonly #tokenMaxAgeMs: number;
  readonly #touchIntervalMs: number;
  readonly #maxSessionsPerUser: number;
  readonly #dummyHash: string;

  constructor(options: AuthenticatorOptions) {
    const {
      clock = Date.now,
      tokenIdleMs = 30 * 60_000,
      tokenMaxAgeMs = 12 * 3_600_000,
      touchIntervalMs = 60_000,
      maxSessionsPerUser = 10,
    } = options;
    this.#store = options.store;
    this.#hasher = options.hasher;
    this.#credentialCache = options.credentialCache;
    this.#kdfGuard = options.kdfGuard;
    this.#bruteForce = options.bruteForce;
    this.#audit = options.audit;
    this.#principals = options.principals;
    this.#clock = clock;
    this.#tokenIdleMs = tokenIdleMs;
    this.#tokenMaxAgeMs = tokenMaxAgeMs;
    this.#touchIntervalMs = touchIntervalMs;
    this.#maxSessionsPerUser = maxSessionsPerUser;
    this.#dummyHash = options.hasher.dummyHash();
  }

  /** How long an unused token lives (the idle timeout), for those who show sessions. */
  get tokenIdleMs(): number {
    return this.#tokenIdleMs;
  }

  /** Verifies Basic credentials. Throws 401, 429 (throttled) or 503 (KDF queue full). */
  async basic(username: string, password: string, ctx: AuthContext): Promise<Authenticated> {
    const bruteForce = this.#bruteForce;
    const cache = this.#credentialCache;
    // A locked account or a throttled client is refused even with cached credentials.
    throwIfThrottled(bruteForce.check(username, ctx.clientKey));

    const cacheKey = cache.keyOf(username, password);
    const cachedId = cache.get(cacheKey);
    if (cachedId !== undefined) {
      // The principal cache re-reads on any change to the user (password included, made by
      // any process), and carries a stamp of the stored hash: a cached password that is no
      // longer the stored one — reset by the admin CLI or another instance — is refused here.
      const current = await this.#principals.loadWithStamp(cachedId);
      if (current && !current.principal.disabled && cache.hasStamp(cacheKey, current.stamp)) {
        return { principal: current.principal, scheme: "basic", tokenHash: null };
      }
      cache.evictUser(cachedId);
    }

    // Reserve the attempt before the KDF, so concurrent guesses cannot all slip past the limits.
    throwIfThrottled(bruteForce.begin(username, ctx.clientKey));
    let checked: PasswordCheck;
    try {
      checked = await this.#checkPassword(username, password);
    } catch (error) {
      bruteForce.abandon(username, ctx.clientKey);
      throw error;
    }
    const { user, verified } = checked;
    if (verified) {
      bruteForce.recordSuccess(username, ctx.clientKey);
      const stored = await this.#rehashIfWeak(verified.id, verified.passwordHash, password);
      cache.set(cacheKey, verified.id, stored);
      await this.#audit.append({
        ...ctx,
        actor: verified.id,
        event: "authn_login_success",
        target: `user:${verified.id}`,
        detail: { scheme: "basic" },
      });
      return { principal: (await this.#principals.load(verified.id))!, scheme: "basic", tokenHash: null };
    }

    const outcome = bruteForce.recordFailure(username, ctx.clientKey);
    const target = user ? `user:${user.id}` : null;
    const detail = { username, scheme: "basic" };
    const events: AuditEntry[] = [{ ...ctx, event: "authn_login_fail", status: 401, target, detail }];
    if (outcome.pairMaxReached) events.push({ ...ctx, event: "authn_login_fail_max", status: 401, target, detail });
    if (outcome.accountLocked) events.push({ ...ctx, event: "authn_login_lock", status: 401, target, detail });
    await this.#audit.appendMany(events);
    throw unauthenticated();
  }

  /** Verifies a bearer token. Throws 401. */
  async bearer(token: string, ctx: AuthContext): Promise<Authenticated> {
    const now = this.#clock();
    const tokenHash = TOKEN_PATTERN.test(token) ? hashToken(token) : null;
    const record = tokenHash ? await this.#store.tokens.find(tokenHash) : undefined;
    let reason = "unknown";
    if (record && tokenHash) {
      const expired = now >= record.expiresAt || now - record.lastUsedAt >= this.#tokenIdleMs;
      const principal = expired ? undefined : await this.#principals.load(record.userId);
      if (principal && !principal.disabled) {
        if (now - record.lastUsedAt >= this.#touchIntervalMs) {
          await this.#store.transaction((tx) => tx.tokens.touch(tokenHash, now));
        }
        return { principal, scheme: "bearer", tokenHash };
      }
      reason = expired ? "expired" : "disabled";
      if (expired) await this.#store.transaction((tx) => tx.tokens.revoke(tokenHash));
    }
    await this.#audit.append({
      ...ctx,
      event: "authn_login_fail",
      status: 401,
      target: record ? `user:${record.userId}` : null,
      detail: { scheme: "bearer", reason },
    });
    throw unauthenticated();
  }

  /**
   * Records an `Authorization` header that is oversized or cannot be parsed
   * (a failed attempt like any other, ASVS 5.0 16.3.1) and throws the 401.
   * Nothing of the header itself is recorded.
   */
  async rejectHeader(reason: "oversized" | "malformed", ctx: AuditContext): Promise<never> {
    await this.#audit.append({
      ...ctx,
      event: "authn_login_fail",
      status: 401,
      detail: { reason: `${reason} authorization header` },
    });
    throw unauthenticated();
  }

  /**
   * Issues a bearer token for `userId`; only its hash is stored. Every login
   * also deletes the tokens that have expired (idle or absolute) meanwhile, so
   * the table holds only live tokens plus those expired since the last login,
   * and ends the user's oldest sessions beyond `maxSessionsPerUser` (one
   * `authn_token_revoked` row, reason `session limit`).
   */
  async issueToken(userId: number, ctx: AuditContext): Promise<IssuedToken> {
    const now = this.#clock();
    const token = generateToken();
    const expiresAt = now + this.#tokenMaxAgeMs;
    await this.#store.transaction(async (tx) => {
      await tx.tokens.purgeExpired(now, now - this.#tokenIdleMs);
      await tx.tokens.create(hashToken(token), userId, now, expiresAt);
      const live = await tx.tokens.listForUser(userId); // all live: the expired ones were just purged
      const excess = live.slice(0, Math.max(0, live.length - this.#maxSessionsPerUser));
      for (const old of excess) await tx.tokens.revoke(old.hash);
      if (excess.length > 0) {
        await this.#audit.appendIn(tx, {
          ...ctx,
          event: "authn_token_revoked",
          status: 200,
          target: `user:${userId}`,
          detail: { reason: "session limit", sessions: excess.length, limit: this.#maxSessionsPerUser },
        });
      }
      await this.#audit.appendIn(tx, {
        ...ctx,
        event: "authn_token_created",
        status: 200,
        target: `user:${userId}`,
        detail: { expiresAt: toISO(expiresAt) },
      });
    });
    return { token, expiresAt };
  }

  /** Revokes one token (logout). */
  async revokeToken(tokenHash: string, userId: number, ctx: AuditContext): Promise<void> {
    await this.#store.transaction(async (tx) => {
      await tx.tokens.revoke(tokenHash);
      await this.#audit.appendIn(tx, {
        ...ctx,
        event: "authn_token_revoked",
        status: 204,
        target: `user:${userId}`,
        detail: { reason: "logout" },
      });
    });
  }

  /**
   * Ends every credential of `userId` now: tokens are deleted inside the
   * caller's transaction `tx` and cached credentials are dropped when it commits.
   */
  async revokeAllCredentials(tx: Transaction, userId: number): Promise<number> {
    const revoked = await tx.tokens.revokeAllForUser(userId);
    tx.afterCommit(() => this.#credentialCache.evictUser(userId));
    return revoked;
  }

  /** Verifies `password` for `userId` through the KDF guard (password change). */
  async verifyPassword(userId: number, password: string): Promise<boolean> {
    const user = await this.#store.users.findById(userId);
    const storedHash = user?.passwordHash ?? this.#dummyHash;
    const ok = await this.#kdfGuard.run(() => this.#hasher.verify(password, storedHash));
    return ok && user !== undefined;
  }

  /** Hashes `password` through the KDF guard. */
  hashPassword(password: string): Promise<string> {
    return this.#kdfGuard.run(() => this.#hasher.hash(password));
  }

  /**
   * Runs exactly one derivation for a well-formed username — against the
   * dummy hash when the user does not exist. Names that cannot exist (wrong
   * shape) skip the KDF: that reveals only the public username rules.
   */
  async #checkPassword(
    username: string,
    password: string,
  ): Promise<PasswordCheck> {
    if (!USERNAME_PATTERN.test(username)) return { user: undefined, verified: null };
    const users = this.#store.users;
    const user = await users.findByUsername(username);
    const storedHash = user?.passwordHash ?? this.#dummyHash;
    const matches = await this.#kdfGuard.run(() => this.#hasher.verify(password, storedHash));
    if (!matches || !user) return { user, verified: null };
    // Re-read after the await: the password may have changed or the account been
    // disabled while the KDF ran, and an old password must not be accepted or cached.
    const current = await users.findById(user.id);
    // Not a secret comparison: both hashes come from the database, neither from the client.
    // deno-lint-ignore secure-api/no-secret-equality -- server-side values only, nothing to time
    const fresh = current && current.passwordHash === storedHash && !current.disabled; // nosemgrep: secret-compared-with-equality
    return { user, verified: fresh ? current : null };
  }

  /** Rehashes with the current parameters when needed; returns the hash stored now. */
  async #rehashIfWeak(userId: number, storedHash: string, password: string): Promise<string> {
    if (!this.#hasher.needsRehash(storedHash)) return storedHash;
    const stronger = await this.hashPassword(password);
    const now = isoNow(this.#clock);
    const replaced = await this.#store.transaction((tx) =>
      tx.users.replacePasswordHash(userId, storedHash, stronger, now)
    );
    return replaced ? stronger : storedHash;
  }
}
