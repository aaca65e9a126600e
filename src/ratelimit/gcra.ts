/**
 * The Generic Cell Rate Algorithm (GCRA), the "virtual scheduling" form used
 * by ATM networks and by redis-cell / throttled.
 *
 * A policy of `quota` requests per `windowMs` has an emission interval
 * T = windowMs / quota. Each key stores one number, its theoretical arrival
 * time (TAT). A request at `now` is allowed when
 * `max(TAT, now) + T - now <= windowMs`, and then TAT becomes
 * `max(TAT, now) + T`. This is exact (a sliding window, no edge bursts: at
 * no instant can more than `quota` requests have passed in any window),
 * O(1) in time and in memory per key, and refills continuously at one
 * request every T.
 */

/** A rate policy in milliseconds. */
export interface GCRAPolicy {
  /** Requests allowed per window (also the largest burst). */
  readonly quota: number;
  /** Window length in milliseconds. */
  readonly windowMs: number;
}

/** The outcome of one decision. */
export interface GCRADecision {
  /** Whether the request may proceed. */
  readonly allowed: boolean;
  /** The TAT to store (unchanged when refused). */
  readonly tat: number;
  /** Requests still allowed right now after this one. */
  readonly remaining: number;
  /** Milliseconds until the full quota is available again. */
  readonly resetMs: number;
  /** When refused: milliseconds until one request would be allowed; 0 when allowed. */
  readonly retryAfterMs: number;
}

/**
 * Decides one request for a key whose stored TAT is `tat` (undefined for a
 * new key), at time `now`, consuming `cost` cells (default 1).
 */
export function gcra(tat: number | undefined, now: number, policy: GCRAPolicy, cost = 1): GCRADecision {
  const interval = policy.windowMs / policy.quota;
  const base = tat === undefined || tat < now ? now : tat;
  const allowed = base + interval * cost - now <= policy.windowMs;
  return describeDecision(allowed, allowed ? base + interval * cost : base, now, policy);
}

/**
 * The full decision from its essentials: whether the request was allowed
 * and the TAT stored afterwards. Shared with the Redis store, whose Lua
 * script decides and returns just those two numbers.
 */
export function describeDecision(allowed: boolean, tat: number, now: number, policy: GCRAPolicy): GCRADecision {
  const interval = policy.windowMs / policy.quota;
  // Small epsilon: floating-point division must not lose a whole request at the boundary.
  const remaining = Math.max(0, Math.floor((policy.windowMs - (tat - now)) / interval + 1e-9));
  return {
    allowed,
    tat,
    remaining,
    resetMs: Math.max(0, tat - now),
    retryAfterMs: allowed ? 0 : Math.max(0, tat + interval - policy.windowMs - now),
  };
}
