/**
 * Audit-log fixtures on real database files, and the attacker's tool: the
 * `sqlite3` command-line shell, which ignores everything the application
 * enforces except what is in the file (so it must drop the triggers first).
 */
import { getLogger } from "@logtape/logtape";
import { AuditLog } from "../src/audit/audit_log.ts";
import { type AuditEntry } from "../src/audit/events.ts";
import type { CliIO } from "../src/cli/audit_cli.ts";
import { openDatabase } from "../src/db/database.ts";
import { loadMigrations, migrate } from "../src/db/migrate.ts";

/** Entries with every column filled, so that every field of every row can be edited. */
export const FULL_ENTRIES: AuditEntry[] = [
  {
    event: "authn_login_success",
    actor: 1,
    client: "192.0.2.1",
    method: "GET",
    path: "/auth/me",
    status: 200,
    requestId: "11111111-1111-4111-8111-111111111111",
    target: "user:1",
    detail: { scheme: "basic" },
  },
  {
    event: "product_created",
    actor: 2,
    client: "192.0.2.2",
    method: "POST",
    path: "/products",
    status: 201,
    requestId: "22222222-2222-4222-8222-222222222222",
    target: "product:1",
    detail: { name: "Lamp" },
  },
  {
    event: "authz_fail",
    actor: 3,
    client: "2001:db8::3",
    method: "DELETE",
    path: "/products/1",
    status: 403,
    requestId: "33333333-3333-4333-8333-333333333333",
    target: "product:1",
    detail: { problem: "forbidden" },
  },
  {
    event: "user_deleted",
    actor: 1,
    client: "192.0.2.1",
    method: "DELETE",
    path: "/users/3",
    status: 204,
    requestId: "44444444-4444-4444-8444-444444444444",
    target: "user:3",
    detail: { username: "carol" },
  },
];

/** Options for {@link createAuditFile}. */
export interface AuditFileOptions {
  /** Entries appended one transaction each. Default {@link FULL_ENTRIES}. */
  entries?: readonly AuditEntry[];
  /** Log through LogTape's `secure-api.audit` logger (capture it with `captureLogs`). Default false. */
  log?: boolean;
  /** Passed to AuditLog. */
  headEvery?: number;
}

/** Creates a migrated database file at `path` holding `entries`, closed (WAL checkpointed). */
export async function createAuditFile(path: string, options: AuditFileOptions = {}): Promise<void> {
  const { entries = FULL_ENTRIES, log = false, headEvery } = options;
  const db = openDatabase(path);
  migrate(db, await loadMigrations());
  let tick = 0;
  const audit = new AuditLog(db, {
    clock: () => Date.UTC(2026, 0, 1, 12, 0, tick++),
    ...(log ? { logger: getLogger(["secure-api", "audit"]) } : {}),
    ...(headEvery ? { headEvery } : {}),
  });
  if (log) audit.logHead();
  for (const entry of entries) audit.append(entry);
  if (log) audit.logHead();
  db.close();
}

/** Runs SQL through the `sqlite3` shell on `path`; throws with its stderr on failure. */
export async function sqlite3(path: string, sql: string): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command("sqlite3", {
    args: ["-bail", path, sql],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  if (code !== 0) throw new Error(`sqlite3 failed (${code}): ${decoder.decode(stderr)}`);
  return decoder.decode(stdout);
}

/** A CLI I/O that records what a tool writes. */
export function captureIO(options: { env?: Record<string, string>; stdin?: string } = {}): CliIO & {
  out: string;
  err: string;
} {
  const io = {
    out: "",
    err: "",
    stdout: (text: string) => void (io.out += text),
    stderr: (text: string) => void (io.err += text),
    env: (name: string) => options.env?.[name],
    stdin: () => ReadableStream.from([new TextEncoder().encode(options.stdin ?? "")]),
    clock: () => Date.parse("2026-06-01T00:00:00.000Z"),
  };
  return io;
}
