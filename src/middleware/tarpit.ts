/**
 * Slows down refused clients. A 429 says "not before Retry-After"; sending it
 * at once lets a flood of 50 connections spin through the whole middleware
 * chain thousands of times a second, stealing the event loop from everyone
 * else. Holding the 429 for its `Retry-After` (at most `maxDelayMs`) turns
 * each flooding connection into about one request per second, at the cost of
 * an idle socket and a timer.
 *
 * Bounded: at most `maxHeld` responses are held at once; beyond that 429s go
 * out immediately, so the tarpit itself cannot be used to pin unbounded
 * sockets or memory.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app_env.ts";

/** Options for {@link tarpit}. */
export interface TarpitOptions {
  /** Longest hold, in ms. Default 1000. */
  maxDelayMs?: number;
  /** Most responses held at once. Default 1024. */
  maxHeld?: number;
  /** Waits `ms` (tests pass a fake). Default a real timer. */
  sleep?: (ms: number) => Promise<void>;
}

/** Holds 429 responses for up to their `Retry-After`. */
export function tarpit(options: TarpitOptions = {}): MiddlewareHandler<AppEnv> {
  const {
    maxDelayMs = 1_000,
    maxHeld = 1_024,
    sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
  } = options;
  let held = 0;
  return async function tarpit(c, next) {
    await next();
    if (c.res.status !== 429 || held >= maxHeld) return;
    const retryAfter = Number(c.res.headers.get("Retry-After"));
    const delay = Math.min(Number.isFinite(retryAfter) ? retryAfter * 1000 : maxDelayMs, maxDelayMs);
    if (delay <= 0) return;
    held++;
    try {
      await sleep(delay);
    } finally {
      held--;
    }
  };
}
