/**
 * Query schema of `GET /audit`.
 */
import { z } from "zod";
import { AUDIT_EVENTS } from "../audit/events.ts";
import { toISO } from "../util/clock.ts";
import { cursorParam, limitParam } from "./common.ts";

const ISO_8601 = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** True when the `YYYY-MM-DD` at the start of `text` names a day that exists (no 30 February). */
function realDay(text: string): boolean {
  const [year, month, day] = text.slice(0, 10).split("-").map(Number) as [number, number, number];
  return month >= 1 && month <= 12 && day >= 1 && day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * An ISO 8601 date (midnight UTC) or date-time with `Z` or an offset,
 * normalised to the stored UTC form (`…T…:…:….sssZ`) so that comparing the
 * stored text compares instants.
 */
export const auditInstant = z.string()
  .regex(ISO_8601, "must be an ISO 8601 date or date-time, e.g. 2026-11-30T12:00:00Z")
  .transform((text, ctx) => {
    const ms = Date.parse(text);
    if (Number.isNaN(ms) || !realDay(text)) {
      ctx.addIssue({ code: "custom", message: "is not a real date" });
      return z.NEVER;
    }
    return toISO(ms);
  });

/** Query of `GET /audit`: `since` inclusive, `until` exclusive (so it must be later). */
export const auditQuery = z.strictObject({
  since: auditInstant.optional().describe("Rows at or after this ISO 8601 instant."),
  until: auditInstant.optional().describe("Rows before this ISO 8601 instant."),
  event: z.enum(AUDIT_EVENTS).optional().describe("Only rows of this event."),
  actor: z.string().regex(/^[1-9][0-9]{0,15}$/, "must be a user id").transform(Number).optional()
    .describe("Only rows whose actor is this user id."),
  limit: limitParam,
  cursor: cursorParam,
}).refine((q) => q.since === undefined || q.until === undefined || Date.parse(q.since) < Date.parse(q.until), {
  path: ["until"],
  message: "must be later than since",
});
