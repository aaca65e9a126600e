/**
 * The KDF guard for several worker threads: the same contract as
 * `KDFGuard` — at most `concurrency` password derivations at once, at
 * most `maxQueue` waiting, the rest refused at once with 503 + `Retry-After`
 * — but the counts are host-wide, in a {@link SharedSemaphore} every worker
 * shares. Per-worker guards would let N workers run N × `concurrency`
 * derivations and queue N × `maxQueue`, so a password flood could occupy
 * every core and starve the cached requests the limit exists to protect.
 *
 * Waiting is asynchronous (`Atomics.waitAsync`): a queued derivation never
 * blocks its worker's event loop, and derivations start in arrival order
 * across workers.
 */
import { ApiError } from "../errors.ts";
import type { KDFLimiter } from "./kdf_guard.ts";
import { createSharedSemaphore, SharedSemaphore } from "../util/shared_semaphore.ts";

/** Options for {@link createSharedKDFBuffer}. */
export interface SharedKDFLimits {
  /** Derivations running at once on the host. Default: the CPU count. */
  concurrency?: number;
  /** Derivations allowed to wait on the host. Default 64. */
  maxQueue?: number;
}

/** Allocates the guard's shared counters; the main thread does this once and posts the buffer to every worker. */
export function createSharedKDFBuffer(limits: SharedKDFLimits = {}): SharedArrayBuffer {
  const { concurrency = Math.max(1, navigator.hardwareConcurrency ?? 1), maxQueue = 64 } = limits;
  return createSharedSemaphore({ concurrency, maxQueue });
}

/** Options for {@link SharedKDFGuard}. */
export interface SharedKDFGuardOptions {
  /** Seconds suggested in `Retry-After` when refusing. Default 1. */
  retryAfterSeconds?: number;
}

/** Limits concurrent key derivations across every worker of the process. */
export class SharedKDFGuard implements KDFLimiter {
  readonly #semaphore: SharedSemaphore;
  readonly #retryAfter: string;

  /** Wraps `buffer` from {@link createSharedKDFBuffer}; every worker builds its own. */
  constructor(buffer: SharedArrayBuffer, options: SharedKDFGuardOptions = {}) {
    const { retryAfterSeconds = 1 } = options;
    this.#semaphore = new SharedSemaphore(buffer);
    this.#retryAfter = String(retryAfterSeconds);
  }

  /** Derivations allowed to run at once on the host. */
  get concurrency(): number {
    return this.#semaphore.concurrency;
  }

  /** Derivations allowed to wait on the host. */
  get maxQueue(): number {
    return this.#semaphore.maxQueue;
  }

  /** Derivations running now, host-wide. */
  get active(): number {
    return this.#semaphore.active;
  }

  /** Derivations waiting now, host-wide. */
  get queued(): number {
    return this.#semaphore.queued;
  }

  /** Runs `task` when a host-wide slot is free; throws the same 503 `ApiError` as `KDFGuard` when the queue is full. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    const outcome = await this.#semaphore.run(task);
    if (outcome === null) {
      throw new ApiError("kdf-overloaded", "Too many logins are being checked; retry shortly.", {
        headers: { "Retry-After": this.#retryAfter },
      });
    }
    return outcome.value;
  }
}
