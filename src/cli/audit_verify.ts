/**
 * `deno task audit:verify [--db <file>] [--log <file>|-]…`
 *
 * Recomputes the audit log's hash chain and prints a one-line verdict: `OK`
 * with the head, or `BROKEN at seq N` with the reason. With `--log`, the
 * chain heads the server wrote to its JSON log must still be in the chain,
 * which is how a deleted tail (or a rewritten and re-hashed stretch) shows.
 * The database is opened read-only; it may be verified while a server runs.
 *
 * Exit status: 0 intact, 1 broken, 2 usage or I/O error.
 */
import type { KnownHead } from "../audit/hash_chain.ts";
import { readLogHeads } from "../audit/log_heads.ts";
import {
  CliError,
  type CliIO,
  databasePath,
  denoIO,
  describeFsError,
  EXIT,
  openAuditLog,
  parseOptions,
  reportingErrors,
} from "./audit_cli.ts";

/** `--help` text. */
export const USAGE = `Usage: deno task audit:verify [--db <file>] [--log <file>|-]...

Recomputes the audit log's hash chain and reports the first bad seq.

  --db <file>    SQLite database, opened read-only (default: $APP_DB or data/app.db)
  --log <file>   JSON log of the server (stdout or APP_LOG_FILE); its chain heads must
                 still be in the chain, which detects a deleted tail. Repeat for rotated
                 files; "-" reads standard input.
  -h, --help     this text

Exit status: 0 the chain is intact, 1 it is broken, 2 usage or I/O error.
`;

async function headsFrom(sources: readonly string[], io: CliIO): Promise<KnownHead[]> {
  const heads: KnownHead[] = [];
  for (const source of sources) {
    let stream: ReadableStream<Uint8Array>;
    if (source === "-") {
      stream = io.stdin();
    } else {
      try {
        stream = (await Deno.open(source, { read: true })).readable;
      } catch (error) {
        throw new CliError(describeFsError(error, source, "read"));
      }
    }
    const found = await readLogHeads(stream);
    if (found.heads.length === 0) {
      throw new CliError(
        `no chain heads in ${source === "-" ? "standard input" : source} (${found.lines} lines): ` +
          "pass the server's JSON log (APP_LOG_FORMAT=json, the default)",
      );
    }
    heads.push(...found.heads);
  }
  return heads;
}

const rows = (n: number) => `${n} row${n === 1 ? "" : "s"}`;

/** Runs the tool; returns the exit status. */
export function run(args: string[], io: CliIO): Promise<number> {
  return reportingErrors("audit:verify", io, async () => {
    const options = parseOptions(args, {
      db: { type: "string" },
      log: { type: "string", multiple: true },
      help: { type: "boolean", short: "h" },
    });
    if (options.help) {
      io.stdout(USAGE);
      return EXIT.ok;
    }
    const path = databasePath(options.db, io);
    const heads = await headsFrom(options.log ?? [], io);
    const { store, audit } = await openAuditLog(path);
    try {
      const result = await store.snapshot((reads) => audit.verify(heads, reads));
      const fromLog = heads.length > 0 ? `; ${heads.length} head(s) from the log confirmed` : "";
      if (result.ok) {
        io.stdout(
          result.head
            ? `OK: ${rows(result.checked)} in ${path}; head seq ${result.head.seq} hash ${result.head.hash}${fromLog}\n`
            : `OK: ${path} has no audit rows yet${fromLog}\n`,
        );
        return EXIT.ok;
      }
      io.stdout(
        `BROKEN at seq ${result.firstBadSeq} in ${path}: ${result.reason} (${
          rows(result.checked)
        } before it verified)\n`,
      );
      return EXIT.broken;
    } finally {
      await store.close();
    }
  });
}

if (import.meta.main) Deno.exit(await run(Deno.args, denoIO()));
