/**
 * Brute-force defence for password checks (ASVS 6.3.x, OWASP Authentication
 * Cheat Sheet), three counters deep:
 *
 * 1. Per (username, client): after `pairThreshold` failures (5) each further
 *    attempt is refused with 429 for a delay that doubles from 1 s up to
 *    15 minutes — without running the KDF. A success resets it.
 * 2. Per account, across clients: `accountThreshold` (100) consecutive
 *    failures from *untrusted* clients lock the username for 15 minutes
 *    (`authn_login_lock`) — for untrusted clients only. A client that has
 *    authenticated as that user in the last `trustedClientMs` (30 days) is
 *    trusted for that user: its failures do not count toward the lock and the
 *    lock does not refuse it; its own pair backoff (1.) still binds it. So
 *    strangers who know a username can lock out other strangers, never the
 *    user at a client they have used (ASVS 5.0 6.1.1; NIST SP 800-63B
 *    §5.2.2; the OWASP "device cookie" design, keyed by client address since
 *    this API sets no cookies).
 * 3. Per client, across usernames: more than `clientMaxFailures` (20)
 *    failures a minute and that client gets 429 (password spraying).
 *
 * An attempt is counted when it *starts* ({@link BruteForceGuard.begin}), not
 * when its KDF finishes 85 ms later: otherwise 50 concurrent guesses would all
 * pass the checks before the first failure is recorded, and concurrency alone
 * would bypass every limit. A success refunds what its attempt reserved.
 *
 * Counters are keyed by the lower-cased username whether or not it exists,
 * so a locked unknown name looks exactly like a locked real one (no user
 * enumeration). State lives in bounded LRU maps in this process; several
 * instances each keep their own (documented in SECURITY.md).
 */
import { emissionIntervalUs, gcra, type GCRAPolicy, toMicroseconds } from "../ratelimit/gcra.ts";
import { LRUMap } from "../util/lru_map.ts";

/** Options for {@link BruteForceGuard}; every default is the documented one (SECURITY.md "Authentication"). */
export interface BruteForceOptions {
  /** Failures per (username, client) before backoff. Default 5. */
  pairThreshold?: number;
  /** First backoff, doubled per further failure. Default 1000 ms. */
  baseDelayMs?: number;
  /** Longest backoff. Default 900000 ms (15 min). */
  maxDelayMs?: number;
  /** Consecutive failures on one account that lock it. Default 100. */
  accountThreshold?: number;
  /** How long an account lock lasts. Default 900000 ms (15 min). */
  accountLockMs?: number;
  /** How long a client stays trusted for a user after authenticating as them. Default 30 days. */
  trustedClientMs?: number;
  /** Failures per client per minute before refusing it. Default 20. */
  clientMaxFailures?: number;
  /** Entries kept per map (LRU). Default 100000. */
  maxKeys?: number;
  /** Milliseconds since the epoch. Default `Date.now`. */
  clock?: () => number;
}

/** Whether an attempt may run the KDF. */
export type Gate =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly reason: "pair" | "account" | "client"; readonly retryAfterMs: number };

/** What a recorded failure triggered, for the audit log. */
export interface FailureOutcome {
  /** The pair just reached its threshold: `authn_login_fail_max`. */
  readonly pairMaxReached: boolean;
  /** The account just got locked: `authn_login_lock`. */
  readonly accountLocked: boolean;
}

interface PairState {
  failures: number;
  /** Attempts begun and not yet finished: counted as failures until they succeed. */
  inFlight: number;
  blockedUntil: number;
}

interface AccountState {
  failures: number;
  lockedUntil: number;
}

/**
 * The attempt protocol the authenticator follows: `check` on every request,
 * `begin` before a KDF, then exactly one of `recordFailure`,
 * `recordSuccess` or `abandon`. Implemented here in this process's memory,
 * and host-wide across worker threads by `SharedBruteForceGuard`.
 */
export interface BruteForceLimiter {
  /** Decides whether `username` from `client` may attempt a password check now. */
  check(username: string, client: string): Gate;
  /** `check`, and when allowed, reserves the attempt (atomically with the check). */
  begin(username: string, client: string): Gate;
  /** Records a failed check begun with `begin` and reports what it triggered. */
  recordFailure(username: string, client: string): FailureOutcome;
  /** Gives back what `begin` reserved for an attempt that reached no verdict. */
  abandon(username: string, client: string): void;
  /** A correct password: resets the pair and account, refunds the client's reservation. */
  recordSuccess(username: string, client: string): void;
}

/** Counts failed password checks and decides when to stop running the KDF. */
export class BruteForceGuard implements BruteForceLimiter {
  readonly #pairThreshold: number;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #accountThreshold: number;
  readonly #accountLockMs: number;
  readonly #trustedClientMs: number;
  readonly #clientPolicy: GCRAPolicy;
  readonly #clock: () => number;
  readonly #pairs: LRUMap<string, PairState>;
  readonly #accounts: LRUMap<string, AccountState>;
  readonly #clients: LRUMap<string, number>;
  /** (username, client) → until when the client is trusted for the user; filled only by successes. */
  readonly #trusted: LRUMap<string, number>;

  constructor(options: BruteForceOptions = {}) {
    const {
      pairThreshold = 5,
      baseDelayMs = 1_000,
      maxDelayMs = 900_000,
      accountThreshold = 100,
      accountLockMs = 900_000,
      trustedClientMs = 30 * 24 * 3_600_000,
      clientMaxFailures = 20,
      maxKeys = 100_000,
      clock = Date.now,
    } = options;
    this.#pairThreshold = pairThreshold;
    this.#baseDelayMs = baseDelayMs;
    this.#maxDelayMs = maxDelayMs;
    this.#accountThreshold = accountThreshold;
    this.#accountLockMs = accountLockMs;
    this.#trustedClientMs = trustedClientMs;
    this.#clientPolicy = { quota: clientMaxFailures, windowMs: 60_000 };
    this.#clock = clock;
    this.#pairs = new LRUMap(maxKeys);
    this.#accounts = new LRUMap(maxKeys);
    this.#clients = new LRUMap(maxKeys);
    this.#trusted = new LRUMap(maxKeys);
  }

  #isTrusted(key: string, now: number): boolean {
    return (this.#trusted.peek(key) ?? 0) > now;
  }

  /** Decides whether `username` from `client` may attempt a password check now. */
  check(username: string, client: string): Gate {
    const now = this.#clock();
    const account = this.#accounts.peek(username.toLowerCase());
    if (account && account.lockedUntil > now && !this.#isTrusted(pairKey(username, client), now)) {
      return { allowed: false, reason: "account", retryAfterMs: account.lockedUntil - now };
    }
    const pair = this.#pairs.peek(pairKey(username, client));
    if (pair && pair.blockedUntil > now) {
      return { allowed: false, reason: "pair", retryAfterMs: pair.blockedUntil - now };
    }
    if (pair && pair.failures < this.#pairThreshold && pair.failures + pair.inFlight >= this.#pairThreshold) {
      // The threshold is reached if the attempts still running fail: wait for them.
      return { allowed: false, reason: "pair", retryAfterMs: this.#baseDelayMs };
    }
    const clientTat = this.#clients.peek(client);
    if (clientTat !== undefined) {
      const probe = gcra(clientTat, now, this.#clientPolicy);
      if (!probe.allowed) return { allowed: false, reason: "client", retryAfterMs: probe.retryAfterMs };
    }
    return { allowed: true };
  }

  /**
   * {@link BruteForceGuard.check}, and when allowed, reserves the attempt: it
   * counts against the pair and the client's per-minute budget from now on.
   * Every allowed `begin` must be followed by `recordFailure` or `recordSuccess`.
   */
  begin(username: string, client: string): Gate {
    const gate = this.check(username, client);
    if (!gate.allowed) return gate;
    const key = pairKey(username, client);
    const pair = this.#pairs.get(key) ?? { failures: 0, inFlight: 0, blockedUntil: 0 };
    pair.inFlight++;
    this.#pairs.set(key, pair);
    this.#clients.set(client, gcra(this.#clients.peek(client), this.#clock(), this.#clientPolicy).tat);
    return gate;
  }

  /** Records a failed check (begun with {@link BruteForceGuard.begin}) and reports what it triggered. */
  recordFailure(username: string, client: string): FailureOutcome {
    const now = this.#clock();
    const key = pairKey(username, client);
    const pair = this.#pairs.get(key) ?? { failures: 0, inFlight: 0, blockedUntil: 0 };
    pair.inFlight = Math.max(0, pair.inFlight - 1);
    pair.failures++;
    if (pair.failures >= this.#pairThreshold) {
      const doublings = Math.min(pair.failures - this.#pairThreshold, 30);
      pair.blockedUntil = now + Math.min(this.#baseDelayMs * 2 ** doublings, this.#maxDelayMs);
    }
    this.#pairs.set(key, pair);

    let accountLocked = false;
    if (!this.#isTrusted(key, now)) {
      // Only strangers' failures count toward the account lock.
      const name = username.toLowerCase();
      const account = this.#accounts.get(name) ?? { failures: 0, lockedUntil: 0 };
      account.failures++;
      if (account.failures >= this.#accountThreshold) {
        account.lockedUntil = now + this.#accountLockMs;
        account.failures = 0;
        accountLocked = true;
      }
      this.#accounts.set(name, account);
    }
    return { pairMaxReached: pair.failures === this.#pairThreshold, accountLocked };
  }

  /**
   * An attempt that reached no verdict (the KDF queue was full): it gives back
   * what {@link BruteForceGuard.begin} reserved and counts as nothing.
   */
  abandon(username: string, client: string): void {
    const pair = this.#pairs.peek(pairKey(username, client));
    if (pair) pair.inFlight = Math.max(0, pair.inFlight - 1);
    this.#refund(client);
  }

  /**
   * A correct password: the pair and account counters start again, the
   * client is trusted for this user from now on (`trustedClientMs`), and the
   * client's budget gets back the cell its attempt reserved (only failures
   * count against the 20 a minute).
   */
  recordSuccess(username: string, client: string): void {
    const key = pairKey(username, client);
    this.#trusted.set(key, this.#clock() + this.#trustedClientMs);
    const pair = this.#pairs.peek(key);
    if (pair && pair.inFlight > 1) {
      pair.inFlight--; // other attempts of this pair are still running; they finish on their own
      pair.failures = 0;
      pair.blockedUntil = 0;
    } else {
      this.#pairs.delete(key);
    }
    const account = this.#accounts.peek(username.toLowerCase());
    if (account && account.lockedUntil <= this.#clock()) this.#accounts.delete(username.toLowerCase());
    this.#refund(client);
  }

  #refund(client: string): void {
    const tat = this.#clients.peek(client);
    if (tat === undefined) return;
    const floor = toMicroseconds(this.#clock());
    this.#clients.set(client, Math.max(floor, tat - emissionIntervalUs(this.#clientPolicy)));
  }
}

function pairKey(username: string, client: string): string {
  return `${username.toLowerCase()}\0${client}`;
}
