/**
 * Query schema of `GET /audit`.
 */
import { z } from "zod";
import { AUDIT_EVENTS } from "../audit/audit_log.ts";
import { cursorParam, limitParam } from "./common.ts";

const ISO_8601 = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** An ISO 8601 date or date-time, normalised to the stored UTC form for comparison. */
const instant = z.string()
  .regex(ISO_8601, "must be an ISO 8601 date or date-time, e.g. 2026-11-30T12:00:00Z")
  .transform((text, ctx) => {
    const ms = Date.parse(text);
    if (Number.isNaN(ms)) {
      ctx.addIssue({ code: "custom", message: "is not a real date" });
      return z.NEVER;
    }
    return new Date(ms).toISOString();
  });

/** Query of `GET /audit`: `since` inclusive, `until` exclusive. */
export const auditQuery = z.strictObject({
  since: instant.optional().describe("Rows at or after this ISO 8601 instant."),
  until: instant.optional().describe("Rows before this ISO 8601 instant."),
  event: z.enum(AUDIT_EVENTS).optional().describe("Only rows of this event."),
  actor: z.string().regex(/^[1-9][0-9]{0,15}$/, "must be a user id").transform(Number).optional()
    .describe("Only rows whose actor is this user id."),
  limit: limitParam,
  cursor: cursorParam,
});
