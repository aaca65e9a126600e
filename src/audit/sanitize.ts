/**
 * Neutralises untrusted text before it is written to the audit log or a log
 * line (OWASP Logging Cheat Sheet, CWE-117): control characters, line breaks,
 * ANSI escapes and bidirectional overrides become visible `\u{…}` text, and
 * length is capped, so a crafted username cannot forge a second log entry,
 * repaint a terminal or bloat the log.
 */

/** Longest string kept in a field; the rest is cut and counted. */
export const MAX_FIELD_LENGTH = 256;

/** Deepest nesting and most keys kept when sanitising `detail` objects. */
const MAX_DEPTH = 4;
const MAX_KEYS = 32;

// C0 and C1 controls, DEL, line/paragraph separators, bidi embeddings/overrides/isolates.
// deno-lint-ignore no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** Escapes unsafe characters and caps the length of `text`. */
export function sanitizeText(text: string, max: number = MAX_FIELD_LENGTH): string {
  let out = text;
  if (out.length > max) out = `${out.slice(0, max)}…[${text.length - max} more]`;
  return out.replace(UNSAFE, (c) => `\\u{${c.charCodeAt(0).toString(16).padStart(4, "0")}}`);
}

/**
 * Sanitises every string in a JSON-like value (keys included), bounding depth
 * and width. Numbers, booleans and null pass through; anything else becomes
 * its type name, so no object's `toString` or getter runs.
 */
export function sanitizeValue(value: unknown, depth = 0): unknown {
  if (value === null || typeof value === "boolean") return value;
  if (typeof value === "number") return Number.isFinite(value) ? value : String(value);
  if (typeof value === "string") return sanitizeText(value);
  if (depth >= MAX_DEPTH) return "[depth limit]";
  if (Array.isArray(value)) return value.slice(0, MAX_KEYS).map((v) => sanitizeValue(v, depth + 1));
  if (typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).slice(0, MAX_KEYS)) {
      out[sanitizeText(key, 64)] = sanitizeValue((value as Record<string, unknown>)[key], depth + 1);
    }
    return out;
  }
  return `[${typeof value}]`;
}
