/**
 * Validation at the edge (ASVS 5.0 1.2 / 2.2, OWASP API3:2023). Request
 * bodies must be `application/json` (415 otherwise), parse (400) and satisfy
 * a strict zod schema (422 listing each field and what is wrong — never the
 * offending value). Unknown fields are errors, so `id`, `ownerId`, `roles` or
 * `__proto__` cannot ride along in a body (mass assignment).
 */
import { zValidator } from "@hono/zod-validator";
import type { Context } from "hono";
import type { z } from "zod";
import { ApiError, type FieldError, validationFailed } from "../errors.ts";

/** The zod issues of a failed parse as field errors. */
export function fieldErrors(error: { readonly issues: readonly z.core.$ZodIssue[] }): FieldError[] {
  const out: FieldError[] = [];
  for (const issue of error.issues) {
    const base = issue.path.map(String).join(".");
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        out.push({ path: base ? `${base}.${key}` : key, message: "is not an accepted field" });
      }
    } else {
      out.push({ path: base, message: issue.message });
    }
  }
  return out;
}

function isJSONContentType(header: string | undefined): boolean {
  return header !== undefined && header.split(";")[0]!.trim().toLowerCase() === "application/json";
}

type Outcome = { success: true } | { success: false; error: { readonly issues: readonly z.core.$ZodIssue[] } };

function hook(target: "json" | "query") {
  return (result: Outcome, c: Context) => {
    if (target === "json" && !isJSONContentType(c.req.header("Content-Type"))) {
      throw new ApiError("unsupported-media-type", 'The body must be sent as "Content-Type: application/json".');
    }
    if (!result.success) throw validationFailed(fieldErrors(result.error));
  };
}

/** Validates the JSON body against `schema`; the handler reads `c.req.valid("json")`. */
export function jsonBody<T extends z.ZodType>(schema: T) {
  return zValidator("json", schema, hook("json"));
}

/** Validates the query string against `schema`; the handler reads `c.req.valid("query")`. */
export function queryParams<T extends z.ZodType>(schema: T) {
  return zValidator("query", schema, hook("query"));
}
