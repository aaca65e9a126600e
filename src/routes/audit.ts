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
import { type AuditLog, parseDetail } from "../audit/audit_log.ts";
import type { VerifyResult } from "../audit/hash_chain.ts";
import { requirePermission } from "../middleware/require_permission.ts";
import { auditQuery } from "../schemas/audit.ts";
import { DEFAULT_PAGE, paginate } from "../schemas/common.ts";
import { auditPageBody, auditVerifyBody } from "../schemas/responses.ts";
import { defineRoute, named, response, type RouteDefinition } from "./route.ts";

/** What the `/audit` routes use. */
export interface AuditRoutesDeps {
  readonly audit: AuditLog;
}

/** `/audit` routes. */
export function auditRoutes(deps: AuditRoutesDeps): RouteDefinition[] {
  const { audit } = deps;
  let running: Promise<VerifyResult> | null = null;
  return [
    defineRoute({
      method: "GET",
      path: "/audit",
      guard: requirePermission("audit:read"),
      operationId: "listAudit",
      summary: "Page the audit log by date, event and actor",
      tag: "audit",
      query: auditQuery,
      responses: { 200: response("A page of audit rows, oldest first.", named("AuditPage", auditPageBody)) },
    }, (c) => {
      const { limit = DEFAULT_PAGE, cursor, since, until, event, actor } = c.req.valid("query");
      const page = paginate(
        cursor,
        limit,
        (afterSeq, n) => audit.query({ since, until, event, actor, afterSeq, limit: n }),
        (row) => row.seq,
      );
      return c.json({ ...page, items: page.items.map((row) => ({ ...row, detail: parseDetail(row.detail) })) });
    }),

    defineRoute({
      method: "GET",
      path: "/audit/verify",
      guard: requirePermission("audit:read"),
      operationId: "verifyAudit",
      summary: "Recompute the audit hash chain",
      tag: "audit",
      responses: {
        200: response(
          "The verification outcome (ok: false names the first bad row).",
          named("AuditVerification", auditVerifyBody),
        ),
      },
    }, async (c) => {
      running ??= audit.verifyInChunks().finally(() => running = null);
      return c.json(await running);
    }),
  ];
}
