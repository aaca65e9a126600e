/**
 * The request half of an audit row: who (actor), from where (client), what
 * (method, path) and which request. Routes spread it into their entries.
 */
import type { Context } from "hono";
import type { AppEnv } from "../app_env.ts";
import type { AuditContext } from "../audit/events.ts";

/** The audit context of the current request. */
export function auditContext<E extends AppEnv>(c: Context<E>): Required<AuditContext> {
  return {
    actor: c.var.user?.id ?? null,
    client: c.var.client?.address ?? null,
    method: c.req.method,
    path: c.req.path,
    requestId: c.var.requestId,
  };
}
