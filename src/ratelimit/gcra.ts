/**
 * The Generic Cell Rate Algorithm (GCRA), the "virtual scheduling" form used
 * by ATM networks and by redis-cell / throttled.
 *
 * A policy of `quota` requests per window has an emission interval T (one
 * request's share of the window) and a burst capacity of `quota` × T. Each
 * key stores one number, its theoretical arrival time (TAT). A request at
 * `now` is allowed when `max(TAT, now) + T - now <= quota × T`, and then TAT
 * becomes `max(TAT, now) + T`. It is O(1) in time and in memory per key and
 * has no window edges: a full quota is available only after a full window
 * of idleness, and it refills continuously at one request every T, so any
 * span of length Δ admits at most `quota` + Δ/T requests. A fixed window
 * lets 2 × `quota` through in the instant around its boundary; GCRA never
 * lets more than `quota` through at once.
 *
 * All arithmetic is on whole microseconds. With milliseconds as floating
 * point, T = 60000/7 ms is not representable and rounding at epoch
 * magnitudes (~1.7e12) made the seventh request of a 7-per-minute burst come
 * out a few nanoseconds over the window and be refused. Integers below 2^53
 * are exact in a double (and in Redis's Lua), so the decision is exact. T is
 * rounded *up* to a whole microsecond, so the configured rate is never
 * exceeded; the refill is at most 1 µs per request slower than configured.
 */

/** A rate policy: `quota` requests per `windowMs`. */
export interface GCRAPolicy {
  /** Requests allowed per window (also the largest burst). A positive integer. */
  readonly quota: number;
  /** Window length in milliseconds. */
  readonly windowMs: number;
}

/** The outcome of one decision. */
export interface GCRADecision {
  /** Whether the request may proceed. */
  readonly allowed: boolean;
  /** The TAT to store (microseconds since the epoch; unchanged when refused). Opaque to callers. */
  readonly tat: number;
  /** Requests still allowed right now after this one. */
  readonly remaining: number;
  /** Milliseconds until the full quota is available again. */
  readonly resetMs: number;
  /** When refused: milliseconds until one request would be allowed; 0 when allowed. */
  readonly retryAfterMs: number;
}

/** The emission interval of `policy` in whole microseconds (rounded up, at least 1). */
export function emissionIntervalUs(policy: GCRAPolicy): number {
  return Math.max(1, Math.ceil((policy.windowMs * 1000) / policy.quota));
}

/** Milliseconds (possibly fractional) to whole microseconds. */
export function toMicroseconds(ms: number): number {
  return Math.round(ms * 1000);
}

/**
 * Decides one request for a key whose stored TAT is `tat` (undefined for a
 * new key) at time `now` (milliseconds since the epoch).
 */
export function gcra(tat: number | undefined, now: number, policy: GCRAPolicy): GCRADecision {
  const nowUs = toMicroseconds(now);
  const interval = emissionIntervalUs(policy);
  const base = tat === undefined || tat < nowUs ? nowUs : tat;
  const allowed = base + interval - nowUs <= interval * policy.quota;
  return describeDecision(allowed, allowed ? base + interval : base, nowUs, policy);
}

/**
 * The full decision from its essentials: whether the request was allowed,
 * the TAT stored afterwards and the time of the decision, both in
 * microseconds. Shared with the Redis store, whose Lua script decides and
 * returns just those three numbers.
 */
export function describeDecision(allowed: boolean, tat: number, nowUs: number, policy: GCRAPolicy): GCRADecision {
  const interval = emissionIntervalUs(policy);
  const capacity = interval * policy.quota;
  const pending = Math.max(0, tat - nowUs);
  return {
    allowed,
    tat,
    remaining: Math.max(0, Math.floor((capacity - pending) / interval)),
    resetMs: pending / 1000,
    retryAfterMs: allowed ? 0 : Math.max(0, pending + interval - capacity) / 1000,
  };
}
