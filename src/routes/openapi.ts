/**
 * `GET /openapi.json`: the API's own description (OWASP API9:2023). Public,
 * like the routes it lists as public; it names permissions, never data.
 *
 * The document is built from the route definitions and serialised on the
 * first request, then served from this closure: generating it costs about
 * 15 ms of zod work, which every `createApp` (hundreds in the test suite)
 * would otherwise pay.
 */
import { publicRoute } from "../middleware/require_permission.ts";
import { buildOpenAPI } from "../openapi.ts";
import { openAPIBody } from "../schemas/responses.ts";
import { defineRoute, named, response, type RouteDefinition } from "./route.ts";

/** Serves the description of `routes()` — every route, this one included — built once. */
export function openAPIRoutes(routes: () => readonly RouteDefinition[]): RouteDefinition[] {
  let text: string | undefined;
  return [
    defineRoute({
      method: "GET",
      path: "/openapi.json",
      guard: publicRoute(),
      operationId: "openapi",
      summary: "This document",
      tag: "system",
      responses: { 200: response("The OpenAPI 3.1 description of the API.", named("OpenAPIDocument", openAPIBody)) },
    }, (c) => {
      text ??= JSON.stringify(buildOpenAPI(routes()));
      return c.body(text, 200, { "Content-Type": "application/json" });
    }),
  ];
}
