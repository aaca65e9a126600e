/**
 * The KDF guard. A password derivation is the most expensive thing an
 * unauthenticated client can make this server do, so at most `concurrency`
 * run at once, at most `maxQueue` wait behind them, and the rest are refused
 * at once with 503 + `Retry-After`. Requests that do not need the KDF
 * (cached credentials, tokens) never enter the queue, so a password flood
 * cannot starve them.
 */
import { ApiError } from "../errors.ts";

/** Options for {@link KDFGuard}. */
export interface KDFGuardOptions {
  /** Derivations running at once. Default: the CPU count. */
  concurrency?: number;
  /** Derivations allowed to wait. Default 64. */
  maxQueue?: number;
  /** Seconds suggested in `Retry-After` when refusing. Default 1. */
  retryAfterSeconds?: number;
}

/**
 * What the authenticator needs from a KDF limiter: this process's
 * {@link KDFGuard}, or the host-wide `SharedKDFGuard` when several workers serve.
 */
export interface KDFLimiter {
  /** Derivations allowed to run at once. */
  readonly concurrency: number;
  /** Derivations allowed to wait. */
  readonly maxQueue: number;
  /** Derivations running now. */
  readonly active: number;
  /** Derivations waiting now. */
  readonly queued: number;
  /** Runs `task` when a slot is free; throws a 503 `ApiError` when the queue is full. */
  run<T>(task: () => Promise<T>): Promise<T>;
}

/** Limits concurrent key derivations. */
export class KDFGuard implements KDFLimiter {
  readonly concurrency: number;
  readonly maxQueue: number;
  readonly #retryAfter: string;
  #active = 0;
  #refused = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(options: KDFGuardOptions = {}) {
    const {
      concurrency = Math.max(1, navigator.hardwareConcurrency ?? 1),
      maxQueue = 64,
      retryAfterSeconds = 1,
    } = options;
    this.concurrency = concurrency;
    this.maxQueue = maxQueue;
    this.#retryAfter = String(retryAfterSeconds);
  }

  /** Derivations running now. */
  get active(): number {
    return this.#active;
  }

  /** Derivations waiting now. */
  get queued(): number {
    return this.#waiting.length;
  }

  /** Derivations refused (503) since start: the metrics mirror it. */
  get refused(): number {
    return this.#refused;
  }

  /** Runs `task` when a slot is free; throws a 503 `ApiError` when the queue is full. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#active >= this.concurrency) {
      if (this.#waiting.length >= this.maxQueue) {
        this.#refused++;
        throw new ApiError("kdf-overloaded", "Too many logins are being checked; retry shortly.", {
          headers: { "Retry-After": this.#retryAfter },
        });
      }
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#active++;
    }
    try {
      return await task();
    } finally {
      const next = this.#waiting.shift();
      // Hand the slot straight to the next waiter: #active stays the same.
      if (next) next();
      else this.#active--;
    }
  }
}
