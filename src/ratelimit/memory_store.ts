/**
 * The in-memory rate-limit store: one number (the GCRA TAT) per key in an
 * LRU map bounded at `maxKeys`, so a flood of random source addresses evicts
 * the oldest keys instead of growing memory. Evicting a key forgets its
 * history, which can only let that key through sooner: with the default
 * bound of 100,000 keys an attacker needs more than 100,000 distinct
 * identities inside one window to exploit it.
 */
import { LRUMap } from "../util/lru_map.ts";
import { gcra, type GCRADecision, type GCRAPolicy } from "./gcra.ts";
import type { RateLimitStore } from "./store.ts";

/** Options for {@link MemoryRateLimitStore}. */
export interface MemoryStoreOptions {
  /** Most keys kept. Default 100000. */
  maxKeys?: number;
  /** Milliseconds since the epoch. Default `Date.now`. */
  clock?: () => number;
}

/** A rate-limit store in this process's memory. */
export class MemoryRateLimitStore implements RateLimitStore {
  readonly #tats: LRUMap<string, number>;
  readonly #clock: () => number;

  constructor(options: MemoryStoreOptions = {}) {
    const { maxKeys = 100_000, clock = Date.now } = options;
    this.#tats = new LRUMap(maxKeys);
    this.#clock = clock;
  }

  /** Decides synchronously; O(1). */
  consume(key: string, policy: GCRAPolicy): GCRADecision {
    const decision = gcra(this.#tats.peek(key), this.#clock(), policy);
    if (decision.allowed) this.#tats.set(key, decision.tat);
    else this.#tats.get(key);
    return decision;
  }

  /** Keys currently held (at most `maxKeys`). */
  get size(): number {
    return this.#tats.size;
  }

  close(): void {
    this.#tats.clear();
  }
}
