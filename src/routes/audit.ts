/**
 * `/audit` (SPEC §10): paging the audit log by date, event and actor, and
 * verifying its hash chain. Both need `audit:read`.
 */
import { Hono } from "hono";
import type { AppEnv } from "../app_env.ts";
import type { AppDeps } from "../deps.ts";
import { requirePermission } from "../middleware/require_permission.ts";
import { queryParams } from "../middleware/validate.ts";
import { auditQuery } from "../schemas/audit.ts";
import { decodeCursor, DEFAULT_PAGE, encodeCursor } from "../schemas/common.ts";

/** `/audit` routes. */
export function auditRoutes(deps: AppDeps): Hono<AppEnv> {
  const { audit } = deps;
  const app = new Hono<AppEnv>();

  app.get("/", requirePermission("audit:read"), queryParams(auditQuery), (c) => {
    const { limit = DEFAULT_PAGE, cursor, since, until, event, actor } = c.req.valid("query");
    const rows = audit.query({ since, until, event, actor, afterSeq: decodeCursor(cursor), limit: limit + 1 });
    const items = rows.slice(0, limit).map((row) => ({ ...row, detail: JSON.parse(row.detail) as unknown }));
    const nextCursor = rows.length > limit ? encodeCursor(items[items.length - 1]!.seq) : null;
    return c.json({ items, nextCursor });
  });

  app.get("/verify", requirePermission("audit:read"), (c) => c.json(audit.verify()));

  return app;
}
