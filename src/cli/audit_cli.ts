/**
 * What the audit tools (`audit:verify`, `audit:export`) share: their I/O
 * seam, argument parsing with one-line errors, and opening the database
 * read-only. The tools are `run(args, io)` functions, so tests drive them
 * in-process with captured output; only their `import.meta.main` entry
 * touches the real process.
 *
 * Exit statuses are the same for both: 0 success, 1 the chain is broken,
 * 2 a usage or I/O error (nothing was checked).
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { AuditLog } from "../audit/audit_log.ts";
import { openSQLiteStore, type SQLiteStore } from "../db/sqlite/sqlite_store.ts";
import type { Clock } from "../util/clock.ts";

/** The process around a tool; tests pass their own. */
export interface CliIO {
  /** Writes to standard output (no newline added). */
  stdout(text: string): void;
  /** Writes to standard error (no newline added). */
  stderr(text: string): void;
  /** An environment variable (the sandbox grants `APP_*` only). */
  env(name: string): string | undefined;
  /** Standard input, for `--log -`. */
  stdin(): ReadableStream<Uint8Array>;
  /** The current time. */
  clock: Clock;
}

/** Exit statuses. */
export const EXIT = { ok: 0, broken: 1, usage: 2 } as const;

/** A failure that ends the tool with a one-line message and exit status 2. */
export class CliError extends Error {
  override name = "CliError";
}

function writeAll(file: { writeSync(p: Uint8Array): number }, text: string): void {
  let bytes = new TextEncoder().encode(text);
  while (bytes.length > 0) bytes = bytes.subarray(file.writeSync(bytes));
}

/** The real process: Deno's standard streams, environment and clock. */
export function denoIO(): CliIO {
  return {
    stdout: (text) => writeAll(Deno.stdout, text),
    stderr: (text) => writeAll(Deno.stderr, text),
    env: (name) => Deno.env.get(name),
    stdin: () => Deno.stdin.readable,
    clock: Date.now,
  };
}

/** Parses `args` strictly; unknown options, missing values and positionals are a {@link CliError}. */
export function parseOptions<T extends NonNullable<ParseArgsConfig["options"]>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new CliError(`${(error as Error).message.split("\n")[0]!} (see --help)`);
  }
}

/** The database path: `--db`, else `APP_DB`, else `data/app.db`. */
export function databasePath(flag: string | undefined, io: CliIO): string {
  const path = flag ?? io.env("APP_DB") ?? "data/app.db";
  if (path === ":memory:" || path.trim() === "") throw new CliError(`"${path}" is not a database file`);
  return path;
}

/** A message for a filesystem error, naming the path and the permission set's limits. */
export function describeFsError(error: unknown, path: string, action: "read" | "write"): string {
  if (error instanceof Deno.errors.NotCapable) {
    return `cannot ${action} ${path}: the permission set does not allow it (audit tools ${action} only under data/)`;
  }
  if (error instanceof Deno.errors.NotFound) return `${path} does not exist`;
  if (error instanceof Deno.errors.AlreadyExists) return `${path} already exists; exports never overwrite a file`;
  return `cannot ${action} ${path}: ${(error as Error).message}`;
}

/**
 * Opens the database read-only — the tools never need to write it, and a
 * read-only connection cannot (it also works beside a running server: WAL
 * readers do not block the writer) — with the audit log over it.
 */
export async function openAuditLog(path: string): Promise<{ store: SQLiteStore; audit: AuditLog }> {
  try {
    Deno.statSync(path);
  } catch (error) {
    throw new CliError(describeFsError(error, path, "read"));
  }
  let store: SQLiteStore;
  try {
    store = await openSQLiteStore(path, { readOnly: true });
  } catch (error) {
    if (error instanceof Error && /no such table/.test(error.message)) {
      throw new CliError(`${path} has no usable audit_log table: ${error.message}`);
    }
    throw new CliError(describeFsError(error, path, "read"));
  }
  // Everything the tools read (the head, the verification, the rows) comes from one snapshot: see DataStore.snapshot.
  return { store, audit: new AuditLog(store) };
}

/**
 * Runs `fn`, turning any error into one line on stderr and exit status 2 —
 * never 1, which means "the chain is broken", and never a stack trace.
 */
export async function reportingErrors(name: string, io: CliIO, fn: () => number | Promise<number>): Promise<number> {
  try {
    return await fn();
  } catch (error) {
    const message = error instanceof CliError
      ? error.message
      : `unexpected error: ${(error as Error)?.message ?? error}`;
    io.stderr(`${name}: ${message.split("\n")[0]}\n`);
    return EXIT.usage;
  }
}
