/**
 * Bearer tokens, stored only as SHA-256 hashes (see `src/crypto/tokens.ts`).
 * Times are Unix milliseconds so expiry checks are integer comparisons.
 */
import type { TokenRecord } from "../records.ts";
import type { Database } from "./database.ts";

/** Data access for tokens; see {@link createTokensRepo}. */
export type TokensRepo = ReturnType<typeof createTokensRepo>;

/** Prepares the token statements once for `db`. */
export function createTokensRepo(db: Database) {
  const insert = db.prepare(
    `INSERT INTO tokens (hash, user_id, created_at, last_used_at, expires_at)
     VALUES (:hash, :userId, :now, :now, :expiresAt)`,
  );
  const find = db.prepare(
    `SELECT hash, user_id AS userId, created_at AS createdAt, last_used_at AS lastUsedAt,
       expires_at AS expiresAt FROM tokens WHERE hash = :hash`,
  );
  const ofUser = db.prepare(
    `SELECT hash, user_id AS userId, created_at AS createdAt, last_used_at AS lastUsedAt,
       expires_at AS expiresAt FROM tokens WHERE user_id = :userId ORDER BY created_at, hash`,
  );
  const holders = db.prepare("SELECT DISTINCT user_id AS userId FROM tokens ORDER BY user_id");
  const touch = db.prepare("UPDATE tokens SET last_used_at = :now WHERE hash = :hash");
  const revoke = db.prepare("DELETE FROM tokens WHERE hash = :hash");
  const revokeUser = db.prepare("DELETE FROM tokens WHERE user_id = :userId");
  const purge = db.prepare("DELETE FROM tokens WHERE expires_at <= :now OR last_used_at <= :idleBefore");

  return {
    /** Stores a new token hash for `userId`. */
    create(hash: string, userId: number, now: number, expiresAt: number): void {
      insert.run({ hash, userId, now, expiresAt });
    },
    /** The token with `hash`, or undefined. */
    find(hash: string): TokenRecord | undefined {
      return find.get<TokenRecord>({ hash });
    },
    /** Every stored token of `userId`, oldest first. */
    listForUser(userId: number): TokenRecord[] {
      return ofUser.all<TokenRecord>({ userId });
    },
    /** The ids of the users who have stored tokens. */
    usersWithTokens(): number[] {
      return holders.all<{ userId: number }>().map((r) => r.userId);
    },
    /** Records use at `now` (for idle expiry). */
    touch(hash: string, now: number): void {
      touch.run({ hash, now });
    },
    /** Deletes one token; false when it was not there. */
    revoke(hash: string): boolean {
      return revoke.run({ hash }).changes === 1;
    },
    /** Deletes every token of `userId`; returns how many. */
    revokeAllForUser(userId: number): number {
      return revokeUser.run({ userId }).changes;
    },
    /** Deletes tokens past either expiry. */
    purgeExpired(now: number, idleBefore: number): number {
      return purge.run({ now, idleBefore }).changes;
    },
  };
}
