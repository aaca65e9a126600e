/**
 * Structured logging with LogTape, configured once by `main.ts`: JSON lines
 * on stdout by default (`APP_LOG_FORMAT=pretty` for a terminal), plus an
 * optional rotating file (`APP_LOG_FILE`).
 *
 * Redaction is defence in depth — the code never logs secrets, and this
 * catches a mistake: properties named like passwords, secrets, tokens,
 * authorization headers, cookies or the pepper are replaced by
 * `[REDACTED]`, and Basic/Bearer credentials are masked in any text.
 */
import { getRotatingFileSink } from "@logtape/file";
import {
  ansiColorFormatter,
  configure,
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
  { pattern: /\$pbkdf2-sha256\$[^\s"]+/g, replacement: "[REDACTED PHC HASH]" },
];

/** Options for {@link configureLogging}. */
export interface LoggingOptions {
  /** Lowest level written. Default `info`. */
  level?: LogLevel;
  /** `json` (default) or `pretty`. */
  format?: "json" | "pretty";
  /** A rotating JSON-lines file as well as stdout. Default none. */
  file?: string | null;
  /** Replaces stdout (tests capture lines here). */
  sink?: Sink;
}

/** Wraps `sink` so that secrets are redacted before it sees a record. */
export function redacting(sink: Sink): Sink {
  return redactByField(sink, { fieldPatterns: REDACTED_FIELDS, action: () => "[REDACTED]" });
}

/** A formatter with credential patterns masked. */
export function redactingFormatter(formatter: TextFormatter): TextFormatter {
  return redactByPattern(formatter, REDACTED_PATTERNS);
}

/** Configures LogTape for the whole process. */
export async function configureLogging(options: LoggingOptions = {}): Promise<void> {
  const { level = "info", format = "json", file = null } = options;
  const json = redactingFormatter(jsonLinesFormatter);
  const sinks: Record<string, Sink> = {
    out: redacting(
      options.sink ?? getStreamSink(Deno.stdout.writable, {
        formatter: format === "json" ? json : redactingFormatter(ansiColorFormatter),
      }),
    ),
  };
  if (file) {
    sinks.file = redacting(getRotatingFileSink(file, { formatter: json, maxSize: 10 * 1024 * 1024, maxFiles: 5 }));
  }
  const names = Object.keys(sinks);
  await configure({
    reset: true,
    sinks,
    loggers: [
      { category: ["secure-api"], lowestLevel: level, sinks: names },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: names },
    ],
  });
}
