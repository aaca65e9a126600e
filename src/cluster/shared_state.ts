/**
 * Everything the server's workers share, in one bundle: the main thread
 * creates the buffers once ({@link createSharedState}) and posts them to
 * every worker in its start payload; each worker wraps them
 * ({@link attachSharedState}) into the objects the application already
 * knows — a `RateLimitStore`, a `BruteForceLimiter`, a `KDFLimiter` — plus
 * the SQLite write lock. Sizes are fixed here, so the memory of the whole
 * shared state is known before the first request:
 * 3.1 MiB for the rate-limit table and 20 MiB for the brute-force tables
 * at the default 100,000 keys.
 */
import {
  createSharedBruteForceBuffers,
  type SharedBruteForceBuffers,
  SharedBruteForceGuard,
  type SharedBruteForceOptions,
} from "../auth/shared_brute_force.ts";
import { createSharedKDFBuffer, SharedKDFGuard } from "../auth/shared_kdf_guard.ts";
import { createSharedWriteLock, SharedWriteLock } from "../db/shared_write_lock.ts";
import { createSharedRateLimitBuffer, SharedRateLimitStore } from "../ratelimit/shared_store.ts";
import type { Clock } from "../util/clock.ts";

/** The buffers, as posted to the workers. */
export interface SharedStateBuffers {
  readonly rateLimit: SharedArrayBuffer;
  readonly bruteForce: SharedBruteForceBuffers;
  readonly kdf: SharedArrayBuffer;
  readonly writeLock: SharedArrayBuffer;
}

/** Options for {@link createSharedState}: the host-wide limits. */
export interface SharedStateLimits {
  /** Keys per table (rate limit, and each brute-force table). Default 100000 (`APP_RATE_LIMIT_MAX_KEYS`). */
  maxKeys?: number;
  /** Password derivations at once on the host. Default the CPU count (`APP_KDF_CONCURRENCY`). */
  kdfConcurrency?: number;
  /** Derivations waiting on the host. Default 64 (`APP_KDF_QUEUE`). */
  kdfQueue?: number;
  /** Database writes waiting on the host. Default 10000. */
  writeQueue?: number;
}

/** Allocates the shared state; once, on the main thread, before any worker starts. */
export function createSharedState(limits: SharedStateLimits = {}): SharedStateBuffers {
  const { maxKeys = 100_000, kdfConcurrency, kdfQueue, writeQueue } = limits;
  return {
    rateLimit: createSharedRateLimitBuffer({ maxKeys }),
    bruteForce: createSharedBruteForceBuffers({ maxKeys }),
    kdf: createSharedKDFBuffer({
      ...(kdfConcurrency === undefined ? {} : { concurrency: kdfConcurrency }),
      ...(kdfQueue === undefined ? {} : { maxQueue: kdfQueue }),
    }),
    writeLock: createSharedWriteLock(writeQueue === undefined ? {} : { maxQueue: writeQueue }),
  };
}

/** One worker's handles on the shared state. */
export interface SharedState {
  readonly rateLimitStore: SharedRateLimitStore;
  readonly bruteForce: SharedBruteForceGuard;
  readonly kdfGuard: SharedKDFGuard;
  readonly writeLock: SharedWriteLock;
}

/** Options for {@link attachSharedState}. */
export interface AttachOptions {
  /** Milliseconds since the epoch. Default `Date.now`. */
  clock?: Clock;
  /** Brute-force rules (defaults are the in-memory guard's). */
  bruteForce?: Omit<SharedBruteForceOptions, "clock">;
}

/** Wraps the buffers a worker received; cheap, and safe to call in every worker. */
export function attachSharedState(buffers: SharedStateBuffers, options: AttachOptions = {}): SharedState {
  const { clock = Date.now, bruteForce = {} } = options;
  return {
    rateLimitStore: new SharedRateLimitStore(buffers.rateLimit, { clock }),
    bruteForce: new SharedBruteForceGuard(buffers.bruteForce, { ...bruteForce, clock }),
    kdfGuard: new SharedKDFGuard(buffers.kdf),
    writeLock: new SharedWriteLock(buffers.writeLock),
  };
}
