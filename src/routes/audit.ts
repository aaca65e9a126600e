/**
 * `/audit` (README "The audit log"): paging the audit log by date, event and actor, and
 * verifying its hash chain. Both need `audit:read`. Pages are in date order
 * (`ts`, then `seq`), each filter served by its index.
 *
 * Verification hashes every row, which takes seconds on a log of millions:
 * it runs in chunks that yield to the event loop, so the server keeps
 * serving meanwhile, and concurrent calls share one run instead of each
 * starting another (a caller cannot multiply the work).
 */
import { Hono } from "hono";
import type { AppEnv } from "../app_env.ts";
import { type AuditLog, parseDetail } from "../audit/audit_log.ts";
import type { VerifyResult } from "../audit/hash_chain.ts";
import { requirePermission } from "../middleware/require_permission.ts";
import { queryParams } from "../middleware/validate.ts";
import { auditQuery } from "../schemas/audit.ts";
import { DEFAULT_PAGE, paginate } from "../schemas/common.ts";

/** What the `/audit` routes use. */
export interface AuditRoutesDeps {
  readonly audit: AuditLog;
}

/** `/audit` routes. */
export function auditRoutes(deps: AuditRoutesDeps): Hono<AppEnv> {
  const { audit } = deps;
  const app = new Hono<AppEnv>();
  let running: Promise<VerifyResult> | null = null;

  app.get("/", requirePermission("audit:read"), queryParams(auditQuery), (c) => {
    const { limit = DEFAULT_PAGE, cursor, since, until, event, actor } = c.req.valid("query");
    const page = paginate(
      cursor,
      limit,
      (afterSeq, n) => audit.query({ since, until, event, actor, afterSeq, limit: n }),
      (row) => row.seq,
    );
    return c.json({ ...page, items: page.items.map((row) => ({ ...row, detail: parseDetail(row.detail) })) });
  });

  app.get("/verify", requirePermission("audit:read"), async (c) => {
    running ??= audit.verifyInChunks().finally(() => running = null);
    return c.json(await running);
  });

  return app;
}
