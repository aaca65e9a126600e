/**
 * Counts every request and times it for `GET /metrics`, labelled by the
 * *declared* route pattern (`/products/:id`; `unmatched` for 404/405), never
 * by the raw path: a client choosing paths must not be able to create
 * metric series (unbounded memory), and ids in paths are data. See
 * `src/metrics/metrics.ts` for every label's bound.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app_env.ts";
import type { Metrics } from "../metrics/metrics.ts";
import { matchedRoute } from "../routes/route.ts";

/** Options for {@link httpMetrics}. */
export interface HTTPMetricsOptions {
  metrics: Metrics;
  /** A monotonic clock in ms. Default `performance.now`. */
  now?: () => number;
}

/** Records each request once its response is final. Mount it right after `requestId`. */
export function httpMetrics(options: HTTPMetricsOptions): MiddlewareHandler<AppEnv> {
  const { metrics, now = () => performance.now() } = options;
  return async function httpMetrics(c, next) {
    const started = now();
    try {
      await next();
    } finally {
      metrics.observeRequest(c.req.method, matchedRoute(c)?.path ?? null, c.res.status, (now() - started) / 1000);
    }
  };
}
