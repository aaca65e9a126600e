/**
 * Structured logging with LogTape, configured once by `main.ts`: JSON lines
 * on stdout by default (`APP_LOG_FORMAT=pretty` for a terminal), plus an
 * optional rotating file of JSON lines (`APP_LOG_FILE`; under the server's
 * permission set it must lie in `data/`).
 *
 * Redaction is defence in depth — the code never logs secrets, and this
 * catches a mistake: properties named like passwords, secrets, tokens,
 * authorization headers, cookies or the pepper are replaced by
 * `[REDACTED]` at any depth, and Basic/Bearer credentials and PHC hashes are
 * masked in any text.
 *
 * The file sink writes synchronously but buffers up to 8 KiB or 5 s between
 * flushes; the audit table, not the log, is the system of record.
 */
import { getRotatingFileSink } from "@logtape/file";
import {
  ansiColorFormatter,
  configure,
  defaultTextFormatter,
  getStreamSink,
  jsonLinesFormatter,
  type LogLevel,
  type Sink,
  type TextFormatter,
} from "@logtape/logtape";
import { redactByField, redactByPattern } from "@logtape/redaction";

/** Property names whose values never reach a log. */
export const REDACTED_FIELDS: RegExp[] = [
  /^(current|new)?pass(word|phrase|code)$/i,
  /secret/i,
  /^(access_?|bearer_?|refresh_?)?token$/i,
  /^authorization$/i,
  /pepper/i,
  /cookie/i,
  /^password_?hash$/i,
];

/** Credential shapes masked inside any logged text. */
export const REDACTED_PATTERNS = [
  { pattern: /\b(Basic|Bearer)\s+[A-Za-z0-9+/=._~-]{8,}/gi, replacement: "$1 [REDACTED]" },
  // Explicit alphabets, never "anything up to a quote": the patterns run on the formatted JSON
  // line, and swallowing the backslash of an escaped quote would break the line's JSON.
  { pattern: /\$pbkdf2-sha256\$i=[0-9]+\$[A-Za-z0-9+/]*\$?[A-Za-z0-9+/]*/g, replacement: "[REDACTED PHC HASH]" },
  // Credentials inside a URL, e.g. a Redis URL quoted in a connection error.
  { pattern: /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@"\\]*@/gi, replacement: "$1[REDACTED]@" },
];

/** `text` with {@link REDACTED_PATTERNS} masked: for free text stored outside the logger (crash details). */
export function redactText(text: string): string {
  return REDACTED_PATTERNS.reduce((out, { pattern, replacement }) => out.replace(pattern, replacement), text);
}

/** The logger category of audit records and chain heads (`main.ts` gives it to the AuditLog). */
export const AUDIT_CATEGORY = ["secure-api", "audit"] as const;

/** The logger category of the access log (`src/middleware/access_log.ts`), one line per request. */
export const ACCESS_CATEGORY = ["secure-api", "access"] as const;

const LEVELS: readonly LogLevel[] = ["trace", "debug", "info", "warning", "error", "fatal"];

function moreVerbose(a: LogLevel, b: LogLevel): LogLevel {
  return LEVELS.indexOf(a) <= LEVELS.indexOf(b) ? a : b;
}

/** Options for {@link configureLogging}. */
export interface LoggingOptions {
  /** Lowest level written. Default `info`. */
  level?: LogLevel;
  /** `json` (default) or `pretty`. */
  format?: "json" | "pretty";
  /** Colours in the `pretty` format. Default true; pass {@link colorWanted}(). */
  color?: boolean;
  /** A rotating JSON-lines file as well as stdout. Default none. */
  file?: string | null;
  /** Size at which the file rotates to `<file>.1`. Default 10 MiB. */
  fileMaxBytes?: number;
  /** Rotated files kept besides `<file>`: `<file>.1` (newest) … `<file>.<n>`. Default 5. */
  fileMaxFiles?: number;
  /** Where the formatted stdout lines go. Default `Deno.stdout.writable`. */
  stream?: WritableStream<Uint8Array>;
  /** Replaces the stdout sink altogether (tests capture records here); still redacted. */
  sink?: Sink;
}

/** An error as plain data, cause chain included (a few levels deep). */
export function errorData(error: Error, depth = 0): Record<string, unknown> {
  const data: Record<string, unknown> = { name: error.name, message: error.message, stack: error.stack };
  if (error.cause !== undefined && depth < 3) {
    data.cause = error.cause instanceof Error ? errorData(error.cause, depth + 1) : String(error.cause);
  }
  return data;
}

/**
 * Wraps `sink` so that errors in a record's message and properties are
 * logged as data. `JSON.stringify(error)` is `{}`: without this, every cause
 * logged with a 500 or a crash would reach the JSON log as an empty object.
 */
export function serializingErrors(sink: Sink): Sink {
  const wrapped: Sink = (record) => {
    const isError = (v: unknown): v is Error => v instanceof Error;
    if (!record.message.some(isError) && !Object.values(record.properties).some(isError)) return sink(record);
    sink({
      ...record,
      message: record.message.map((v) => isError(v) ? `${v.name}: ${v.message}` : v),
      properties: Object.fromEntries(
        Object.entries(record.properties).map(([k, v]) => [k, isError(v) ? errorData(v) : v]),
      ),
    });
  };
  // Keep the inner sink's disposal (the file sink flushes its buffer there).
  return Object.assign(wrapped, {
    ...(Symbol.dispose in sink ? { [Symbol.dispose]: (sink as Sink & Disposable)[Symbol.dispose] } : {}),
    ...(Symbol.asyncDispose in sink
      ? { [Symbol.asyncDispose]: (sink as Sink & AsyncDisposable)[Symbol.asyncDispose] }
      : {}),
  });
}

/** Wraps `sink` so that secrets are redacted before it sees a record. */
export function redacting(sink: Sink): Sink {
  return redactByField(serializingErrors(sink), { fieldPatterns: REDACTED_FIELDS, action: () => "[REDACTED]" });
}

/** A formatter with credential patterns masked. */
export function redactingFormatter(formatter: TextFormatter): TextFormatter {
  return redactByPattern(formatter, REDACTED_PATTERNS);
}

/**
 * The formatter of `format`, credential patterns masked: exactly what reaches
 * stdout or the file. `pretty` is coloured unless `color` is false (NO_COLOR,
 * https://no-color.org: then plain text, no escape sequences at all).
 */
export function logFormatter(format: "json" | "pretty", color = true): TextFormatter {
  if (format === "json") return redactingFormatter(jsonLinesFormatter);
  return redactingFormatter(color ? ansiColorFormatter : defaultTextFormatter);
}

/**
 * Whether terminal colours are wanted: not when `NO_COLOR` is set to
 * anything non-empty (https://no-color.org). Deno lets every program read
 * `NO_COLOR` without an env permission (verified on 2.9.6 under the server
 * set, which grants `APP_*` only), so no permission is added for it.
 */
export function colorWanted(get: (name: string) => string | undefined = (name) => Deno.env.get(name)): boolean {
  return (get("NO_COLOR") ?? "") === "";
}

/**
 * Configures LogTape for the whole process (replacing any earlier
 * configuration). `level` applies to everything except the audit category,
 * which always writes at least `info`.
 */
export async function configureLogging(options: LoggingOptions = {}): Promise<void> {
  const {
    level = "info",
    format = "json",
    color = true,
    file = null,
    fileMaxBytes = 10 * 1024 * 1024,
    fileMaxFiles = 5,
  } = options;
  const out = options.sink ??
    getStreamSink(options.stream ?? Deno.stdout.writable, { formatter: logFormatter(format, color) });
  const fileSink = file
    ? getRotatingFileSink(file, { formatter: logFormatter("json"), maxSize: fileMaxBytes, maxFiles: fileMaxFiles })
    : null;
  const sinks: Record<string, Sink> = { out: redacting(out) };
  if (fileSink) sinks.file = redacting(fileSink);
  // The access log's properties are fixed by its middleware (no header, body or query value, no field named like
  // a secret), so the field walk of `redacting` can never change them, and it was most of the access log's cost
  // (measured in-process with a null sink: 77 µs added per request with it, 12 µs without). Its lines still pass
  // the formatters' pattern masking. These sinks share the writers above and are not disposed on their own.
  const accessSinks: Record<string, Sink> = { accessOut: (record) => out(record) };
  if (fileSink) accessSinks.accessFile = (record) => fileSink(record);
  const names = Object.keys(sinks);
  await configure({
    reset: true,
    sinks: { ...sinks, ...accessSinks },
    loggers: [
      // APP_ACCESS_LOG is its one switch: a quieter APP_LOG_LEVEL does not silence it.
      {
        category: [...ACCESS_CATEGORY],
        lowestLevel: moreVerbose(level, "info"),
        sinks: Object.keys(accessSinks),
        parentSinks: "override",
      },
      { category: ["secure-api"], lowestLevel: level, sinks: names },
      // The audit lines are the log's copy of the system of record, and their chain heads are what
      // exposes a deleted tail: a quieter APP_LOG_LEVEL must not silence them.
      { category: [...AUDIT_CATEGORY], lowestLevel: moreVerbose(level, "info"), sinks: names, parentSinks: "override" },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: names },
    ],
  });
}
