/**
 * Captures what the application logs, through the real `configureLogging`
 * (same redaction) and the real JSON formatter, so a test sees exactly the
 * lines that would reach stdout. LogTape's configuration is per isolate and
 * every test file runs in its own, so capturing never leaks between files;
 * dispose the capture at the end of the test (`await using`).
 */
import { configure, type LogLevel, type LogRecord, reset } from "@logtape/logtape";
import { configureLogging, logFormatter } from "../src/logging.ts";

/** Captured log output. */
export interface LogCapture extends AsyncDisposable {
  /** Each record formatted as the stdout JSON line (newline included). */
  readonly lines: string[];
  /** The records as the sink received them (after redaction). */
  readonly records: LogRecord[];
  /** The lines parsed. */
  json(): Record<string, unknown>[];
}

/** Configures logging to capture; `await using logs = await captureLogs()`. */
export async function captureLogs(level: LogLevel = "debug"): Promise<LogCapture> {
  const lines: string[] = [];
  const records: LogRecord[] = [];
  const format = logFormatter("json");
  await configureLogging({
    level,
    sink: (record) => {
      records.push(record);
      lines.push(format(record));
    },
  });
  return {
    lines,
    records,
    json: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
    [Symbol.asyncDispose]: () => reset(),
  };
}

/** Raw records of one category, as a test captured them. */
export interface RecordCapture extends AsyncDisposable {
  readonly records: LogRecord[];
}

/**
 * Captures the raw LogTape records (no formatting, no redaction) of
 * `category` and its children until disposed: `await using logs = await
 * captureRecords(["secure-api"])`. Disposal resets logging.
 */
export async function captureRecords(category: readonly string[]): Promise<RecordCapture> {
  const records: LogRecord[] = [];
  await configure({
    reset: true,
    sinks: { capture: (record) => void records.push(record) },
    loggers: [
      { category: [...category], lowestLevel: "debug", sinks: ["capture"] },
      { category: ["logtape", "meta"], lowestLevel: "error", sinks: [] },
    ],
  });
  return { records, [Symbol.asyncDispose]: () => reset() };
}
