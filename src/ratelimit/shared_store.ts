/**
 * The rate-limit store shared by every worker thread of one process: one
 * GCRA theoretical arrival time (TAT) per key in a {@link SharedHashTable},
 * so `APP_WORKERS=N` keeps every quota exact — a client that reconnects for
 * each request, and so lands on a different worker each time, still gets
 * its quota once, not N times — without Redis.
 *
 * The decision is the one in `gcra.ts`, made inside the key's bucket lock:
 * read the TAT, decide, write the new TAT, unlock. Two workers deciding for
 * one key at the same instant are serialised by that lock, so exactly
 * `quota` requests of a burst are allowed in total, whatever the number of
 * workers.
 *
 * Memory is fixed when the main thread creates the buffer
 * ({@link createSharedRateLimitBuffer}): about 3.1 MiB for the default
 * 100,000 keys, never more, whatever the flood. A record whose TAT has
 * passed carries no state and its slot is reused. When every slot of a
 * key's bucket holds a live TAT, the one that expires soonest is evicted:
 * the key closest to a full quota again, so the eviction gives that key at
 * most `(TAT − now) / T` requests early — as with the in-memory store's LRU
 * bound, an attacker must keep more live identities than the table holds to
 * make anyone forget anything, and each of those identities has its own full
 * quota anyway.
 */
import { describeDecision, emissionIntervalUs, type GCRADecision, type GCRAPolicy, toMicroseconds } from "./gcra.ts";
import { type RateLimitStore, StoreUnavailableError } from "./store.ts";
import type { Clock } from "../util/clock.ts";
import { createSharedHashTable, SharedHashTable, SharedLockTimeoutError } from "../util/shared_hash_table.ts";

/** Options for {@link createSharedRateLimitBuffer}. */
export interface SharedRateLimitBufferOptions {
  /** Keys the table is sized to hold (twice as many slots are allocated). Default 100000. */
  maxKeys?: number;
}

/** Allocates the shared table; the main thread calls this once and posts the buffer to every worker. */
export function createSharedRateLimitBuffer(options: SharedRateLimitBufferOptions = {}): SharedArrayBuffer {
  const { maxKeys = 100_000 } = options;
  // One field, the TAT in µs: it is both the expiry and the eviction rank.
  return createSharedHashTable({ keys: maxKeys, fields: 1 });
}

/** Options for {@link SharedRateLimitStore}. */
export interface SharedRateLimitStoreOptions {
  /** Milliseconds since the epoch. Default `Date.now` (one clock for every thread of the process). */
  clock?: Clock;
  /** Longest wait for a bucket lock, in ms, before the store counts as unavailable. Default 2000. */
  lockTimeoutMs?: number;
}

/** A rate-limit store in memory shared by the worker threads of one process. */
export class SharedRateLimitStore implements RateLimitStore {
  readonly #table: SharedHashTable;
  readonly #clock: Clock;

  /** Wraps `buffer` (from {@link createSharedRateLimitBuffer}); every worker builds its own. */
  constructor(buffer: SharedArrayBuffer, options: SharedRateLimitStoreOptions = {}) {
    const { clock = Date.now, lockTimeoutMs = 2_000 } = options;
    this.#table = new SharedHashTable(buffer, { lockTimeoutMs });
    this.#clock = clock;
  }

  /** Decides synchronously under the key's bucket lock; O(1). */
  consume(key: string, policy: GCRAPolicy): GCRADecision {
    const nowUs = toMicroseconds(this.#clock());
    const interval = emissionIntervalUs(policy);
    const table = this.#table;
    let slot: number;
    try {
      slot = table.acquire(key, nowUs);
    } catch (error) {
      // A lock held for seconds means a thread died inside it: the failure policy decides (503 or open).
      if (error instanceof SharedLockTimeoutError) throw new StoreUnavailableError(error.message, { cause: error });
      throw error;
    }
    let allowed: boolean;
    let tat: number;
    try {
      const stored = slot < 0 ? nowUs : table.get(slot, 0);
      const base = stored < nowUs ? nowUs : stored;
      allowed = base + interval - nowUs <= interval * policy.quota;
      tat = allowed ? base + interval : base;
      if (allowed) table.set(slot < 0 ? table.insert(nowUs) : slot, 0, tat);
    } finally {
      table.release();
    }
    return describeDecision(allowed, tat, nowUs, policy);
  }

  /** Keys holding state now (O(table size); for tests and metrics). */
  liveKeys(): number {
    return this.#table.count(toMicroseconds(this.#clock()));
  }

  /** Live keys forgotten because their bucket was full, since the buffer was created. */
  get evictions(): number {
    return this.#table.evictions;
  }

  /** Bytes of shared memory the table occupies, fixed at creation. */
  get byteLength(): number {
    return this.#table.byteLength;
  }

  /** Nothing to release: the buffer belongs to the main thread and lives as long as the process. */
  close(): void {}
}
