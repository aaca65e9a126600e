/**
 * Neutralises untrusted text before it is written to the audit log or a log
 * line (OWASP Logging Cheat Sheet, CWE-117): control characters, line breaks,
 * ANSI escapes, bidirectional overrides and marks (Trojan Source,
 * CVE-2021-42574) and lone surrogates become visible `\u{…}` text, a
 * backslash becomes `\\` (so the escapes are unambiguous: no input can pass
 * for an escaped line break), and length is capped, so a crafted username
 * cannot forge a second log entry, repaint a terminal, reorder what an
 * investigator reads or bloat the log.
 *
 * The output is well-formed Unicode: it survives the round trip through
 * SQLite's UTF-8 unchanged, which the hash chain depends on (a lone surrogate
 * would be stored as U+FFFD and no longer match the hash computed here).
 */

/** Longest string kept in a field, in UTF-16 code units; the rest is cut and counted. */
export const MAX_FIELD_LENGTH = 256;

/** Deepest nesting and most keys kept when sanitising `detail` objects. */
const MAX_DEPTH = 4;
const MAX_KEYS = 32;

// C0 and C1 controls, DEL, line/paragraph separators, bidi marks, embeddings, overrides and
// isolates, lone surrogates, and the backslash (escaped so that escapes stay unambiguous).
const UNSAFE =
  // deno-lint-ignore no-control-regex -- matching control characters is the point
  /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\\]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function escape(c: string): string {
  return c === "\\" ? "\\\\" : `\\u{${c.charCodeAt(0).toString(16).padStart(4, "0")}}`;
}

/**
 * Caps `text` at `max` code units (never splitting a surrogate pair), then
 * escapes unsafe characters. The result is at most about 8 × `max` long
 * (every kept character escaped) plus the `…[N more]` marker.
 */
export function sanitizeText(text: string, max: number = MAX_FIELD_LENGTH): string {
  let out = text;
  if (out.length > max) {
    let cut = max;
    const last = out.charCodeAt(cut - 1);
    if (last >= 0xd800 && last <= 0xdbff) cut--;
    out = `${out.slice(0, cut)}…[${text.length - cut} more]`;
  }
  return out.replace(UNSAFE, escape);
}

/**
 * Sanitises every string in a JSON-like value (keys included), bounding depth
 * and width. Numbers, booleans and null pass through; anything else becomes
 * its type name, so no object's `toString` or getter runs. Keys are defined
 * as own data properties, so `__proto__` stays a key and never a prototype.
 */
export function sanitizeValue(value: unknown, depth = 0): unknown {
  if (value === null || typeof value === "boolean") return value;
  if (typeof value === "number") return Number.isFinite(value) ? value : String(value);
  if (typeof value === "string") return sanitizeText(value);
  if (depth >= MAX_DEPTH) return "[depth limit]";
  if (Array.isArray(value)) return value.slice(0, MAX_KEYS).map((v) => sanitizeValue(v, depth + 1));
  if (typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value).slice(0, MAX_KEYS).map((key) => [
        sanitizeText(key, 64),
        sanitizeValue((value as Record<string, unknown>)[key], depth + 1),
      ]),
    );
  }
  return `[${typeof value}]`;
}
