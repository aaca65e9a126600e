/**
 * Records refused requests in the audit log: a 403 is `authz_fail`, a
 * rejected body or query (400, 413, 415, 422) is `input_validation_fail`.
 * Only the field paths are kept, never the submitted values. Failed
 * authentication and rate limiting are recorded where they are decided.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app_env.ts";
import type { AuditLog } from "../audit/audit_log.ts";
import type { AuditEventName } from "../audit/events.ts";
import type { ProblemKind } from "../errors.ts";
import { toApiError } from "./error_handler.ts";
import { auditContext } from "./audit_context.ts";

const EVENTS: Partial<Record<ProblemKind, AuditEventName>> = {
  "forbidden": "authz_fail",
  "password-change-required": "authz_fail",
  "bad-request": "input_validation_fail",
  "malformed-json": "input_validation_fail",
  "payload-too-large": "input_validation_fail",
  "unsupported-media-type": "input_validation_fail",
  "validation-failed": "input_validation_fail",
};

/** Options for {@link auditFailures}. */
export interface AuditFailuresOptions {
  audit: AuditLog;
}

/** Writes `authz_fail` and `input_validation_fail` rows for refused requests. */
export function auditFailures(options: AuditFailuresOptions): MiddlewareHandler<AppEnv> {
  const { audit } = options;
  return async function auditFailures(c, next) {
    await next();
    if (c.error === undefined) return;
    // The same conversion the error handler makes: Hono's own 400 for malformed JSON counts too.
    const error = toApiError(c.error);
    const event = EVENTS[error.kind];
    if (!event) return;
    await audit.append({
      ...auditContext(c),
      event,
      status: error.status,
      detail: {
        problem: error.kind,
        reason: error.message,
        ...(error.errors ? { fields: error.errors.map((e) => e.path) } : {}),
      },
    });
  };
}
