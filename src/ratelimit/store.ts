/**
 * The storage behind rate limiting. A store makes one atomic GCRA decision
 * per call; the in-memory store answers synchronously, the Redis store with
 * one round trip, and the middleware accepts either.
 */
import type { GCRADecision, GCRAPolicy } from "./gcra.ts";

/** Keeps one GCRA timestamp per key and decides requests against it. */
export interface RateLimitStore {
  /** Decides one request for `key` under `policy`, recording it when allowed. */
  consume(key: string, policy: GCRAPolicy): GCRADecision | Promise<GCRADecision>;
  /**
   * Checks that a remote backend answers (readiness, `GET /health/ready`);
   * rejects with {@link StoreUnavailableError} when it does not. Absent for
   * stores that live in the process.
   */
  ping?(): Promise<void>;
  /** Releases connections; the store is unusable afterwards. */
  close(): void | Promise<void>;
}

/** Raised by a store that cannot reach its backend; the middleware applies the failure policy. */
export class StoreUnavailableError extends Error {
  override name = "StoreUnavailableError";
}
