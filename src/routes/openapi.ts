/**
 * `GET /openapi.json`: the API's own description (OWASP API9:2023). Public,
 * like the routes it lists as public; it names permissions, never data.
 *
 * The document is built and serialised on the first request and then served
 * from this app's closure: generating it costs about 15 ms of zod work, which
 * every `createApp` (hundreds in the test suite) would otherwise pay.
 */
import { Hono } from "hono";
import type { AppEnv } from "../app_env.ts";
import { publicRoute } from "../middleware/require_permission.ts";
import type { JSONObject } from "../openapi.ts";

/** Serves the document that `build` returns, built once, at `/openapi.json`. */
export function openAPIRoutes(build: () => JSONObject): Hono<AppEnv> {
  let text: string | undefined;
  const app = new Hono<AppEnv>();
  app.get("/openapi.json", publicRoute(), (c) => {
    text ??= JSON.stringify(build());
    return c.body(text, 200, { "Content-Type": "application/json" });
  });
  return app;
}
