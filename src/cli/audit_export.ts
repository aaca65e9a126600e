/**
 * `deno task audit:export [--db <file>] [--since <date>] [--until <date>] [--out <file>]`
 *
 * Retention (README "The audit log"; ASVS 5.0 16.4): writes the audit rows with `since ≤ ts < until` as
 * JSON lines — each row exactly as `GET /audit` shows it, `prevHash` and
 * `hash` included, so the range can be re-verified on its own — and ends with
 * one line carrying the chain head and the verdict of a full verification,
 * all read from one snapshot. Archive it before anything is pruned.
 *
 * `--out` creates a new file (never overwrites one) and syncs it to disk;
 * under the `audit-export` permission set it must lie in `data/`. Without
 * `--out` the lines go to standard output.
 *
 * Exit status: 0 written and the chain intact, 1 written but the chain is
 * broken (the trailer says where), 2 usage or I/O error.
 */
import { parseDetail } from "../audit/audit_log.ts";
import { auditInstant } from "../schemas/audit.ts";
import { isoNow } from "../util/clock.ts";
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
export const USAGE = `Usage: deno task audit:export [--db <file>] [--since <date>] [--until <date>] [--out <file>]

Writes the audit rows with since <= ts < until as JSON lines, then one line with the
chain head ({"chainHead": …, "export": …, "verified": …}).

  --db <file>      SQLite database, opened read-only (default: $APP_DB or data/app.db)
  --since <date>   ISO 8601 date or date-time with Z or offset (default: the first row)
  --until <date>   exclusive end, same format (default: no end)
  --out <file>     write to this new file (under data/) instead of standard output
  -h, --help       this text

Exit status: 0 written and the chain intact, 1 written but the chain is broken,
2 usage or I/O error.
`;

function instant(name: string, text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const parsed = auditInstant.safeParse(text);
  if (!parsed.success) throw new CliError(`--${name} ${parsed.error.issues[0]!.message}: "${text}"`);
  return parsed.data;
}

interface LineSink {
  write(line: string): void;
  close(): void;
}

function openSink(out: string | undefined, io: CliIO): LineSink {
  if (out === undefined) return { write: (line) => io.stdout(line), close: () => {} };
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(out, { write: true, createNew: true });
  } catch (error) {
    throw new CliError(describeFsError(error, out, "write"));
  }
  const encoder = new TextEncoder();
  return {
    write(line) {
      let bytes = encoder.encode(line);
      while (bytes.length > 0) bytes = bytes.subarray(file.writeSync(bytes));
    },
    close() {
      file.syncSync();
      file.close();
    },
  };
}

/** What one export wrote. */
export interface ExportSummary {
  readonly rows: number;
  readonly firstSeq: number | null;
  readonly lastSeq: number | null;
  readonly since: string | undefined;
  readonly until: string | undefined;
  readonly head: { readonly seq: number; readonly hash: string } | null;
}

/**
 * The one line printed (on stderr) after an export, e.g. `audit:export: 12
 * rows (seq 3-14, 2026-01-01T00:00:00.000Z <= ts < end) to data/x.jsonl;
 * chain head seq 20 3f2a…`: what to note in the archive record.
 */
export function summaryLine(summary: ExportSummary, out: string | undefined): string {
  const seqs = summary.firstSeq === null ? "none in range" : `seq ${summary.firstSeq}-${summary.lastSeq}`;
  const range = `${summary.since ?? "start"} <= ts < ${summary.until ?? "end"}`;
  const head = summary.head ? `seq ${summary.head.seq} ${summary.head.hash}` : "none (empty log)";
  return `audit:export: ${summary.rows} row${summary.rows === 1 ? "" : "s"} (${seqs}, ${range}) ` +
    `to ${out ?? "standard output"}; chain head ${head}`;
}

/** Runs the tool; returns the exit status. */
export function run(args: string[], io: CliIO): Promise<number> {
  return reportingErrors("audit:export", io, async () => {
    const options = parseOptions(args, {
      db: { type: "string" },
      since: { type: "string" },
      until: { type: "string" },
      out: { type: "string" },
      help: { type: "boolean", short: "h" },
    });
    if (options.help) {
      io.stdout(USAGE);
      return EXIT.ok;
    }
    const since = instant("since", options.since);
    const until = instant("until", options.until);
    if (since !== undefined && until !== undefined && Date.parse(since) >= Date.parse(until)) {
      throw new CliError("--until must be later than --since");
    }
    const path = databasePath(options.db, io);
    const { store, audit } = await openAuditLog(path);
    try {
      const sink = openSink(options.out, io);
      let verified;
      let summary: ExportSummary;
      try {
        [verified, summary] = await store.snapshot(async (reads) => {
          let rows = 0;
          let firstSeq: number | null = null;
          let lastSeq: number | null = null;
          for await (const row of reads.audit.rows({ since, until })) {
            sink.write(`${JSON.stringify({ ...row, detail: parseDetail(row.detail) })}\n`);
            firstSeq ??= row.seq;
            lastSeq = row.seq;
            rows++;
          }
          const result = await audit.verify([], reads);
          const chainHead = await reads.audit.head();
          sink.write(`${
            JSON.stringify({
              chainHead,
              export: { since: since ?? null, until: until ?? null, rows, firstSeq, lastSeq },
              verified: result,
              exportedAt: isoNow(io.clock),
            })
          }\n`);
          return [result, { rows, firstSeq, lastSeq, since, until, head: chainHead }] as const;
        });
      } finally {
        sink.close();
      }
      // On stderr: without --out, stdout is the export itself.
      io.stderr(`${summaryLine(summary, options.out)}\n`);
      if (verified.ok) return EXIT.ok;
      io.stderr(
        `audit:export: exported, but the chain is BROKEN at seq ${verified.firstBadSeq}: ${verified.reason}\n`,
      );
      return EXIT.broken;
    } finally {
      await store.close();
    }
  });
}

if (import.meta.main) Deno.exit(await run(Deno.args, denoIO()));
