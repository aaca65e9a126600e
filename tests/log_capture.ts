/**
 * Captures what the application logs, through the real `configureLogging`
 * (same redaction) and the real JSON formatter, so a test sees exactly the
 * lines that would reach stdout. LogTape's configuration is per isolate and
 * every test file runs in its own, so capturing never leaks between files;
 * dispose the capture at the end of the test (`await using`).
 */
import { type LogLevel, type LogRecord, reset } from "@logtape/logtape";
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
