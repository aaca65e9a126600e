/**
 * Liveness and readiness, both public (load balancers and orchestrators
 * probe without credentials) and both revealing nothing but the state:
 *
 * - `GET /health`: liveness — the process answers. Cheap: no database, no
 *   Redis, so a slow dependency never gets a live process restarted.
 * - `GET /health/ready`: readiness — the database answers, every migration
 *   is applied, Redis answers when it is the rate-limit store. 503 (problem
 *   +json) names what is wrong, never how (no error text, path or URL).
 *   Probes are cached for a second (`Readiness`), so calling it in a loop
 *   costs the database nothing more; it is rate-limited like any route.
 */
import { ApiError } from "../errors.ts";
import { publicRoute } from "../middleware/require_permission.ts";
import { healthBody, readinessBody } from "../schemas/responses.ts";
import type { Readiness } from "../services/readiness.ts";
import { defineRoute, named, response, type RouteDefinition } from "./route.ts";

/** What the health routes use. */
export interface HealthRoutesDeps {
  readonly readiness: Readiness;
}

/** Seconds a load balancer is asked to wait before probing a not-ready instance again. */
const RETRY_AFTER_SECONDS = 5;

/** `GET /health`, `GET /health/ready`. */
export function healthRoutes(deps: HealthRoutesDeps): RouteDefinition[] {
  return [
    defineRoute({
      method: "GET",
      path: "/health",
      guard: publicRoute(),
      operationId: "health",
      summary: "Liveness",
      tag: "system",
      responses: { 200: response("Alive.", named("Health", healthBody)) },
    }, (c) => c.json({ status: "ok" })),
    defineRoute({
      method: "GET",
      path: "/health/ready",
      guard: publicRoute(),
      operationId: "ready",
      summary: "Readiness: database, migrations, Redis when used",
      tag: "system",
      responses: {
        200: response("Ready to take traffic.", named("Readiness", readinessBody)),
        503: response("Not ready; `detail` names each failed check."),
      },
    }, async (c) => {
      const report = await deps.readiness.check();
      if (!report.ready) {
        throw new ApiError("service-unavailable", `Not ready: ${report.problems.join("; ")}.`, {
          headers: { "Retry-After": String(RETRY_AFTER_SECONDS) },
        });
      }
      return c.json({ status: "ready" as const, checks: report.checks });
    }),
  ];
}
