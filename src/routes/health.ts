/**
 * Liveness: public, cheap, and reveals nothing (no version, no dependencies).
 */
import { publicRoute } from "../middleware/require_permission.ts";
import { healthBody } from "../schemas/responses.ts";
import { defineRoute, named, response, type RouteDefinition } from "./route.ts";

/** `GET /health`. */
export function healthRoutes(): RouteDefinition[] {
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
  ];
}
