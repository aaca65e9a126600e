/**
 * Liveness: public, cheap, and reveals nothing (no version, no dependencies).
 */
import { Hono } from "hono";
import type { AppEnv } from "../app_env.ts";
import { publicRoute } from "../middleware/require_permission.ts";

/** `GET /health`. */
export function healthRoutes(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get("/health", publicRoute(), (c) => c.json({ status: "ok" }));
  return app;
}
