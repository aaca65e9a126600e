/**
 * The credential cache (the Elasticsearch realm-cache pattern). After a
 * successful PBKDF2 check, `HMAC-SHA-256(processSecret, username ‖ 0x00 ‖
 * password)` maps to the user id for a few minutes, so a repeated Basic
 * request costs one HMAC (≈ 10 µs) instead of 600,000 PBKDF2 iterations
 * (≈ 85 ms).
 *
 * - Only successes are cached: a wrong password never hits the cache.
 * - The key is keyed by a random per-process secret: the cache holds no
 *   password or password hash, and its keys are useless outside the process.
 * - Password change, disable and delete call {@link CredentialCache.evictUser}.
 * - Each entry also remembers a stamp of the password hash it was verified
 *   against, and {@link CredentialCache.isCurrent} compares it with the hash
 *   stored now. Eviction only reaches this process's cache; the stamp makes a
 *   password set elsewhere — `deno task admin reset-password`, or another
 *   server instance — end the old password here on the very next request.
 * - Bounded (LRU) and time-limited (TTL).
 */
import { hmacSHA256 } from "../crypto/hmac.ts";
import { LRUMap } from "../util/lru_map.ts";

/** Options for {@link CredentialCache}. */
export interface CredentialCacheOptions {
  /** How long an entry lives, in ms. Default 300000 (5 minutes). */
  ttlMs?: number;
  /** Most entries kept; least recently used go first. Default 10000. */
  maxEntries?: number;
  /** The HMAC key. Default 32 random bytes, fresh for every process. */
  secret?: Uint8Array;
  /** Milliseconds since the epoch. Default `Date.now`. */
  clock?: () => number;
}

interface Entry {
  readonly userId: number;
  /** HMAC of the password hash the credentials were verified against ("" when none was given). */
  readonly stamp: string;
  readonly expiresAt: number;
}

/** Maps verified credentials to user ids. */
export class CredentialCache {
  readonly #ttlMs: number;
  readonly #mac: (message: string) => string;
  readonly #clock: () => number;
  readonly #entries: LRUMap<string, Entry>;
  #hits = 0;
  #misses = 0;
  readonly #keysByUser = new Map<number, Set<string>>();

  constructor(options: CredentialCacheOptions = {}) {
    const {
      ttlMs = 300_000,
      maxEntries = 10_000,
      secret = crypto.getRandomValues(new Uint8Array(32)),
      clock = Date.now,
    } = options;
    this.#ttlMs = ttlMs;
    this.#mac = hmacSHA256(secret);
    this.#clock = clock;
    this.#entries = new LRUMap(maxEntries);
  }

  /** The cache key for presented credentials (exact bytes, as sent). */
  keyOf(username: string, password: string): string {
    return this.#mac(`${username}\0${password}`);
  }

  /** The user id cached under `key`, if still fresh. */
  get(key: string): number | undefined {
    const entry = this.#entries.get(key);
    if (!entry || entry.expiresAt <= this.#clock()) {
      if (entry) this.#forget(key, entry.userId);
      this.#misses++;
      return undefined;
    }
    this.#hits++;
    return entry.userId;
  }

  /** Lookups ({@link CredentialCache.get}) that found a fresh entry, and that did not, since start. */
  get stats(): { readonly hits: number; readonly misses: number } {
    return { hits: this.#hits, misses: this.#misses };
  }

  /**
   * Caches `key` → `userId` for the TTL. `passwordHash` is the stored hash the
   * credentials were just verified against; only an HMAC of it is kept.
   */
  set(key: string, userId: number, passwordHash = ""): void {
    const previous = this.#entries.peek(key);
    if (previous) this.#forget(key, previous.userId);
    this.#entries.set(key, { userId, stamp: this.stampOf(passwordHash), expiresAt: this.#clock() + this.#ttlMs });
    let keys = this.#keysByUser.get(userId);
    if (!keys) this.#keysByUser.set(userId, keys = new Set());
    keys.add(key);
    this.#pruneIndex(userId);
  }

  /**
   * True when the entry under `key` was verified against `passwordHash`, the
   * hash stored now. False (and the entry is dropped) when the password has
   * changed since, wherever that happened.
   */
  isCurrent(key: string, passwordHash: string): boolean {
    return this.hasStamp(key, this.stampOf(passwordHash));
  }

  /**
   * {@link CredentialCache.isCurrent} with the stamp computed in advance (the
   * principal cache computes it once per load, so a cache hit costs a string
   * comparison, not a second HMAC).
   */
  hasStamp(key: string, stamp: string): boolean {
    const entry = this.#entries.peek(key);
    if (!entry) return false;
    if (entry.stamp !== "" && entry.stamp === stamp) return true;
    this.#forget(key, entry.userId);
    return false;
  }

  /** Drops every entry of `userId` at once (password change, disable, delete). */
  evictUser(userId: number): void {
    for (const key of this.#keysByUser.get(userId) ?? []) this.#entries.delete(key);
    this.#keysByUser.delete(userId);
  }

  /** Number of cached credentials. */
  get size(): number {
    return this.#entries.size;
  }

  /** The stamp of a stored password hash: an HMAC under this cache's secret ("" for none). */
  stampOf(passwordHash: string): string {
    if (passwordHash === "") return "";
    return this.#mac(`stamp\0${passwordHash}`);
  }

  #forget(key: string, userId: number): void {
    this.#entries.delete(key);
    const keys = this.#keysByUser.get(userId);
    keys?.delete(key);
    if (keys?.size === 0) this.#keysByUser.delete(userId);
  }

  // LRU eviction removes entries behind the index's back; drop dangling keys for this user.
  #pruneIndex(userId: number): void {
    const keys = this.#keysByUser.get(userId);
    if (!keys || keys.size < 8) return;
    for (const key of keys) if (this.#entries.peek(key) === undefined) keys.delete(key);
  }
}
