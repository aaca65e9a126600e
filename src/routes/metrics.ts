/**
 * `GET /metrics`: the Prometheus text exposition (`src/metrics/metrics.ts`).
 *
 * Guarded by its own permission, `metrics:read`, on the API's own TLS port —
 * not anonymous, and not a second listener. Why: metrics reveal traffic
 * shape, user-visible latencies and the audit head, so they are not public;
 * a permission lets an operator give a scraper account exactly this and
 * nothing else (a custom role holding only `metrics:read`), every scrape is
 * authenticated, rate-limited and audited on refusal like any route; and a
 * separate loopback port would need its own listener, its own entry in the
 * permission set and its own connection limits, and would not be reachable
 * by a Prometheus running elsewhere. Prometheus scrapes with
 * `basic_auth` or `authorization` (Bearer) over HTTPS.
 */
import { requirePermission } from "../middleware/require_permission.ts";
import type { Metrics } from "../metrics/metrics.ts";
import { metricsBody } from "../schemas/responses.ts";
import { defineRoute, named, response, type RouteDefinition } from "./route.ts";

/** What the metrics route uses. */
export interface MetricsRoutesDeps {
  readonly metrics: Metrics;
}

/** `GET /metrics`. */
export function metricsRoutes(deps: MetricsRoutesDeps): RouteDefinition[] {
  return [
    defineRoute({
      method: "GET",
      path: "/metrics",
      guard: requirePermission("metrics:read"),
      operationId: "metrics",
      summary: "Prometheus metrics (text format 0.0.4)",
      tag: "system",
      responses: {
        200: response("The metrics.", named("Metrics", metricsBody), undefined, "text/plain"),
      },
    }, async (c) => c.body(await deps.metrics.render(), 200, { "Content-Type": deps.metrics.contentType })),
  ];
}
