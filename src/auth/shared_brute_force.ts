/**
 * The brute-force guard for several worker threads: the rules of
 * `BruteForceGuard` (5 failures per (username, client) then a doubling
 * backoff, 100 from untrusted clients per account lock it for 15 minutes for
 * untrusted clients, 20 failures a minute per client; a client that
 * authenticated as the user in the last 30 days is trusted for them), with
 * the counters in four {@link SharedHashTable}s that every
 * worker of the process shares. Per-worker guards would let an attacker
 * who reconnects for each guess spread the guesses over N workers and get N
 * times every allowance.
 *
 * Atomicity: each operation locks the key's bucket in the accounts table,
 * then the pairs table, then the trusted table, then the clients table —
 * always in that order, so
 * two threads can never wait for each other — and runs the same decision
 * as the in-memory guard on the locked records. So `begin` checks and
 * reserves as one step host-wide: 100 concurrent guesses on 4 workers
 * against one (username, client) run at most 5 derivations, as on one.
 *
 * Records (float64 fields; field 0 is the expiry after which a record
 * carries no state, field 1 a host-wide use counter for LRU eviction):
 *
 *     accounts  key lower(username)            expiry, lastUse, failures, lockedUntil
 *     pairs     key lower(username) \0 client  expiry, lastUse, failures, inFlight, blockedUntil
 *     clients   key client                     GCRA TAT of failures (µs; expiry and rank)
 *     trusted   key lower(username) \0 client  expiry (= trusted until), lastUse
 *
 * Failures do not decay with time (as in the in-memory guard): a pair or
 * account with failures never expires and leaves only by success or by
 * eviction, least recently used first within its bucket — the in-memory
 * guard's LRU bound, applied per bucket. Memory is fixed at creation.
 * A lock not released in time (a thread died inside one) throws, and the
 * request fails closed with 500.
 */
import { emissionIntervalUs, gcra, type GCRAPolicy, toMicroseconds } from "../ratelimit/gcra.ts";
import { createSharedHashTable, SharedHashTable } from "../util/shared_hash_table.ts";
import type { BruteForceLimiter, BruteForceOptions, FailureOutcome, Gate } from "./brute_force.ts";

const EXPIRY = 0;
const LAST_USE = 1;
const FAILURES = 2;
const LOCKED_UNTIL = 3;
const IN_FLIGHT = 3;
const BLOCKED_UNTIL = 4;
const TAT = 0;
const ALLOWED: Gate = Object.freeze({ allowed: true });

/** The three shared tables, created by the main thread and posted to every worker. */
export interface SharedBruteForceBuffers {
  readonly accounts: SharedArrayBuffer;
  readonly pairs: SharedArrayBuffer;
  readonly clients: SharedArrayBuffer;
  /** Successes only: strangers' failures cannot evict a user's trusted clients. */
  readonly trusted: SharedArrayBuffer;
}

/** Options for {@link createSharedBruteForceBuffers}. */
export interface SharedBruteForceBufferOptions {
  /** Entries each table is sized for. Default 100000. */
  maxKeys?: number;
}

/** Allocates the guard's tables (about 20 MiB in all for the default 100,000 keys each, fixed). */
export function createSharedBruteForceBuffers(options: SharedBruteForceBufferOptions = {}): SharedBruteForceBuffers {
  const { maxKeys = 100_000 } = options;
  return {
    accounts: createSharedHashTable({ keys: maxKeys, fields: 4, rankField: LAST_USE }),
    pairs: createSharedHashTable({ keys: maxKeys, fields: 5, rankField: LAST_USE }),
    clients: createSharedHashTable({ keys: maxKeys, fields: 1, rankField: TAT }),
    trusted: createSharedHashTable({ keys: maxKeys, fields: 2, rankField: LAST_USE }),
  };
}

/** Options for {@link SharedBruteForceGuard}: those of the in-memory guard, the table size aside. */
export interface SharedBruteForceOptions extends Omit<BruteForceOptions, "maxKeys"> {
  /** Longest wait for a bucket lock, in ms. Default 2000. */
  lockTimeoutMs?: number;
}

/** Counts failed password checks host-wide and decides when to stop running the KDF. */
export class SharedBruteForceGuard implements BruteForceLimiter {
  readonly #pairThreshold: number;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #accountThreshold: number;
  readonly #accountLockMs: number;
  readonly #trustedClientMs: number;
  readonly #clientPolicy: GCRAPolicy;
  readonly #clock: () => number;
  readonly #accounts: SharedHashTable;
  readonly #pairs: SharedHashTable;
  readonly #trustedTable: SharedHashTable;
  readonly #clients: SharedHashTable;
  /** Slots found by #open (-1: no live record), valid until #close. */
  #account = -1;
  #pair = -1;
  #trust = -1;
  #client = -1;

  /** Wraps the tables from {@link createSharedBruteForceBuffers}; every worker builds its own. */
  constructor(buffers: SharedBruteForceBuffers, options: SharedBruteForceOptions = {}) {
    const {
      pairThreshold = 5,
      baseDelayMs = 1_000,
      maxDelayMs = 900_000,
      accountThreshold = 100,
      accountLockMs = 900_000,
      trustedClientMs = 30 * 24 * 3_600_000,
      clientMaxFailures = 20,
      clock = Date.now,
      lockTimeoutMs = 2_000,
    } = options;
    this.#pairThreshold = pairThreshold;
    this.#baseDelayMs = baseDelayMs;
    this.#maxDelayMs = maxDelayMs;
    this.#accountThreshold = accountThreshold;
    this.#accountLockMs = accountLockMs;
    this.#trustedClientMs = trustedClientMs;
    this.#clientPolicy = { quota: clientMaxFailures, windowMs: 60_000 };
    this.#clock = clock;
    this.#accounts = new SharedHashTable(buffers.accounts, { lockTimeoutMs });
    this.#pairs = new SharedHashTable(buffers.pairs, { lockTimeoutMs });
    this.#clients = new SharedHashTable(buffers.clients, { lockTimeoutMs });
    this.#trustedTable = new SharedHashTable(buffers.trusted, { lockTimeoutMs });
  }

  /** True when the opened pair's client is trusted for its user now. */
  #isTrusted(now: number): boolean {
    return this.#trust >= 0 && this.#trustedTable.get(this.#trust, EXPIRY) > now;
  }

  /** As `BruteForceGuard.check`, host-wide. */
  check(username: string, client: string): Gate {
    const now = this.#clock();
    this.#open(username, client, now);
    try {
      return this.#gate(now);
    } finally {
      this.#close();
    }
  }

  /** As `BruteForceGuard.begin`: the check and the reservation are one step for every worker. */
  begin(username: string, client: string): Gate {
    const now = this.#clock();
    this.#open(username, client, now);
    try {
      const gate = this.#gate(now);
      if (!gate.allowed) return gate;
      const pairs = this.#pairs;
      const pair = this.#pair >= 0 ? this.#pair : pairs.insert(now);
      this.#savePair(pair, pairs.get(pair, FAILURES), pairs.get(pair, IN_FLIGHT) + 1, pairs.get(pair, BLOCKED_UNTIL));
      const nowUs = toMicroseconds(now);
      const tat = this.#client >= 0 ? this.#clients.get(this.#client, TAT) : undefined;
      const client = this.#client >= 0 ? this.#client : this.#clients.insert(nowUs);
      this.#clients.set(client, TAT, gcra(tat, now, this.#clientPolicy).tat);
      return gate;
    } finally {
      this.#close();
    }
  }

  /** As `BruteForceGuard.recordFailure`, host-wide. */
  recordFailure(username: string, client: string): FailureOutcome {
    const now = this.#clock();
    this.#open(username, client, now);
    try {
      const pairs = this.#pairs;
      const pair = this.#pair >= 0 ? this.#pair : pairs.insert(now);
      const inFlight = Math.max(0, pairs.get(pair, IN_FLIGHT) - 1);
      const pairFailures = pairs.get(pair, FAILURES) + 1;
      let blockedUntil = pairs.get(pair, BLOCKED_UNTIL);
      if (pairFailures >= this.#pairThreshold) {
        const doublings = Math.min(pairFailures - this.#pairThreshold, 30);
        blockedUntil = now + Math.min(this.#baseDelayMs * 2 ** doublings, this.#maxDelayMs);
      }
      this.#savePair(pair, pairFailures, inFlight, blockedUntil);

      let accountLocked = false;
      if (!this.#isTrusted(now)) {
        // Only strangers' failures count toward the account lock.
        const accounts = this.#accounts;
        const account = this.#account >= 0 ? this.#account : accounts.insert(now);
        let accountFailures = accounts.get(account, FAILURES) + 1;
        let lockedUntil = accounts.get(account, LOCKED_UNTIL);
        if (accountFailures >= this.#accountThreshold) {
          lockedUntil = now + this.#accountLockMs;
          accountFailures = 0;
          accountLocked = true;
        }
        this.#saveAccount(account, accountFailures, lockedUntil);
      }
      return { pairMaxReached: pairFailures === this.#pairThreshold, accountLocked };
    } finally {
      this.#close();
    }
  }

  /** As `BruteForceGuard.abandon`, host-wide. */
  abandon(username: string, client: string): void {
    const now = this.#clock();
    this.#open(username, client, now);
    try {
      const pairs = this.#pairs;
      const pair = this.#pair;
      if (pair >= 0) {
        const inFlight = Math.max(0, pairs.get(pair, IN_FLIGHT) - 1);
        this.#savePair(pair, pairs.get(pair, FAILURES), inFlight, pairs.get(pair, BLOCKED_UNTIL));
      }
      this.#refund(now);
    } finally {
      this.#close();
    }
  }

  /** As `BruteForceGuard.recordSuccess`, host-wide. */
  recordSuccess(username: string, client: string): void {
    const now = this.#clock();
    this.#open(username, client, now);
    try {
      const pairs = this.#pairs;
      const pair = this.#pair;
      if (pair >= 0 && pairs.get(pair, IN_FLIGHT) > 1) {
        // Other attempts of this pair are still running; they finish on their own.
        this.#savePair(pair, 0, pairs.get(pair, IN_FLIGHT) - 1, 0);
      } else if (pair >= 0) {
        pairs.remove(pair);
      }
      const account = this.#account;
      if (account >= 0 && this.#accounts.get(account, LOCKED_UNTIL) <= now) this.#accounts.remove(account);
      const trusted = this.#trustedTable;
      const trust = this.#trust >= 0 ? this.#trust : trusted.insert(now);
      trusted.set(trust, EXPIRY, now + this.#trustedClientMs);
      trusted.set(trust, LAST_USE, trusted.touch());
      this.#refund(now);
    } finally {
      this.#close();
    }
  }

  #gate(now: number): Gate {
    if (this.#account >= 0 && !this.#isTrusted(now)) {
      const lockedUntil = this.#accounts.get(this.#account, LOCKED_UNTIL);
      if (lockedUntil > now) return { allowed: false, reason: "account", retryAfterMs: lockedUntil - now };
    }
    if (this.#pair >= 0) {
      const pairs = this.#pairs;
      const blockedUntil = pairs.get(this.#pair, BLOCKED_UNTIL);
      if (blockedUntil > now) return { allowed: false, reason: "pair", retryAfterMs: blockedUntil - now };
      const failures = pairs.get(this.#pair, FAILURES);
      if (failures < this.#pairThreshold && failures + pairs.get(this.#pair, IN_FLIGHT) >= this.#pairThreshold) {
        // The threshold is reached if the attempts still running fail: wait for them.
        return { allowed: false, reason: "pair", retryAfterMs: this.#baseDelayMs };
      }
    }
    if (this.#client >= 0) {
      const probe = gcra(this.#clients.get(this.#client, TAT), now, this.#clientPolicy);
      if (!probe.allowed) return { allowed: false, reason: "client", retryAfterMs: probe.retryAfterMs };
    }
    return ALLOWED;
  }

  #savePair(slot: number, failures: number, inFlight: number, blockedUntil: number): void {
    const pairs = this.#pairs;
    pairs.set(slot, FAILURES, failures);
    pairs.set(slot, IN_FLIGHT, inFlight);
    pairs.set(slot, BLOCKED_UNTIL, blockedUntil);
    pairs.set(slot, EXPIRY, failures > 0 || inFlight > 0 ? Infinity : blockedUntil);
    pairs.set(slot, LAST_USE, pairs.touch());
  }

  #saveAccount(slot: number, failures: number, lockedUntil: number): void {
    const accounts = this.#accounts;
    accounts.set(slot, FAILURES, failures);
    accounts.set(slot, LOCKED_UNTIL, lockedUntil);
    accounts.set(slot, EXPIRY, failures > 0 ? Infinity : lockedUntil);
    accounts.set(slot, LAST_USE, accounts.touch());
  }

  /** Gives the client back the cell its attempt reserved (only failures count against its budget). */
  #refund(now: number): void {
    if (this.#client < 0) return;
    const floor = toMicroseconds(now);
    const tat = this.#clients.get(this.#client, TAT);
    this.#clients.set(this.#client, TAT, Math.max(floor, tat - emissionIntervalUs(this.#clientPolicy)));
  }

  /** Locks the four records of (username, client) in the one fixed order. */
  #open(username: string, client: string, now: number): void {
    const name = username.toLowerCase();
    const pairKey = `${name}\0${client}`;
    this.#account = this.#accounts.acquire(name, now);
    try {
      this.#pair = this.#pairs.acquire(pairKey, now);
      try {
        this.#trust = this.#trustedTable.acquire(pairKey, now);
        try {
          this.#client = this.#clients.acquire(client, toMicroseconds(now));
        } catch (error) {
          this.#trustedTable.release();
          throw error;
        }
      } catch (error) {
        this.#pairs.release();
        throw error;
      }
    } catch (error) {
      this.#accounts.release();
      throw error;
    }
  }

  #close(): void {
    this.#clients.release();
    this.#trustedTable.release();
    this.#pairs.release();
    this.#accounts.release();
  }
}
