/**
 * SQLite with several writers, measured: worker threads of one process, each
 * with its own `node:sqlite` connection to one WAL file (synchronous=FULL, as
 * the server opens it), in four write disciplines:
 *
 * - `busy 5000`: today's code, SQLite's own lock with busy_timeout 5 s;
 * - `busy 0`: the same with busy_timeout 0 (fail at once);
 * - `retry`: busy_timeout 0 and an async retry with jittered exponential backoff;
 * - `shared lock`: `SharedWriteLock` taken with `Atomics.waitAsync` before
 *   `BEGIN IMMEDIATE`, busy_timeout 0 (so any wait inside SQLite would show
 *   as a failure, not hide as a stall).
 *
 * Two scenarios: four workers writing as fast as they can (does any write
 * fail? how long do writes and event loops wait?), and a reader worker
 * (a point read every millisecond, a write every 20 ms) next to a heavy
 * writer (transactions of 2,000 rows back to back): how slow do the
 * reader's reads get? Read latency is from when the read was due to its
 * result, so it includes any time the event loop was stopped.
 *
 * Run: `deno run -P=bench bench/sqlite_workers.ts` (figures in docs/workers.md;
 * on a shared machine compare the rows of one run, not runs).
 */
import { openDatabase } from "../src/db/sqlite/database.ts";
import { createSharedWriteLock } from "../src/db/shared_write_lock.ts";
import type { SQLiteCommand, SQLiteReport, WriteMode } from "../tests/fixtures/sqlite_worker.ts";

const WORKER = new URL("../tests/fixtures/sqlite_worker.ts", import.meta.url);
const WRITERS = 4;
const WRITES = 200;
const ROWS_PER_WRITE = 20;
const READER_MS = 3_000;
/** Each row is the median of this many runs. */
const RUNS = 3;

const MODES: Record<string, () => WriteMode> = {
  "busy 5000": () => ({ lock: null, busyTimeoutMs: 5_000 }),
  "busy 0": () => ({ lock: null, busyTimeoutMs: 0 }),
  "retry": () => ({ lock: null, busyTimeoutMs: 0, retry: true }),
  "shared lock": () => ({ lock: createSharedWriteLock(), busyTimeoutMs: 0 }),
};

async function freshDatabase(): Promise<{ path: string; dir: string }> {
  const dir = await Deno.makeTempDir({ prefix: "secure-api-bench-sqlite-" });
  const path = `${dir}/app.db`;
  const db = openDatabase(path);
  db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, worker INTEGER NOT NULL, payload TEXT NOT NULL)");
  db.exec("INSERT INTO t (worker, payload) VALUES (0, 'seed')");
  db.close();
  return { path, dir };
}

function spawn(command: SQLiteCommand): { ready: Promise<void>; report: Promise<SQLiteReport> } {
  const worker = new Worker(WORKER, { type: "module" });
  const ready = Promise.withResolvers<void>();
  const report = Promise.withResolvers<SQLiteReport>();
  worker.onmessage = (event: MessageEvent<SQLiteReport | { ready: true }>) => {
    if ("ready" in event.data) ready.resolve();
    else report.resolve(event.data);
  };
  worker.onerror = (event) => {
    event.preventDefault();
    report.reject(new Error(event.message));
  };
  worker.postMessage(command);
  return { ready: ready.promise, report: report.promise.finally(() => worker.terminate()) };
}

function release(cell: SharedArrayBuffer): void {
  Atomics.store(new Int32Array(cell), 0, 1);
  Atomics.notify(new Int32Array(cell), 0);
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const ms = (n: number) => Number.isNaN(n) ? "–" : n < 10 ? n.toFixed(2) : n.toFixed(0);

/** The median of each column over the runs of one row (single runs are noisy on a shared machine). */
function medianRow(runs: number[][]): number[] {
  return runs[0]!.map((_, column) => percentile(runs.map((run) => run[column]!), 50));
}

/** ok, locked, wall, write p50, p99, max, longest synchronous write call, longest event-loop stop. */
async function contention(name: string): Promise<number[]> {
  const { path, dir } = await freshDatabase();
  const start = new SharedArrayBuffer(4);
  const mode = MODES[name]!();
  const workers = Array.from(
    { length: WRITERS },
    () => spawn({ kind: "writes", path, start, writes: WRITES, rowsPerWrite: ROWS_PER_WRITE, ...mode }),
  );
  await Promise.all(workers.map((w) => w.ready));
  const began = performance.now();
  release(start);
  const reports = await Promise.all(workers.map((w) => w.report));
  const wall = performance.now() - began;
  await Deno.remove(dir, { recursive: true });
  const writeMs = reports.flatMap((r) => r.writeMs);
  return [
    reports.reduce((s, r) => s + r.ok, 0),
    reports.reduce((s, r) => s + r.locked, 0),
    wall,
    percentile(writeMs, 50),
    percentile(writeMs, 99),
    Math.max(...writeMs),
    Math.max(...reports.flatMap((r) => r.blockedMs)),
    Math.max(...reports.map((r) => r.maxGapMs)),
  ];
}

/** reads, read p50, p99, max, A's writes ok, locked, A write p99, A's longest synchronous write, B's transactions. */
async function readerNextToWriter(name: string | null): Promise<number[]> {
  const { path, dir } = await freshDatabase();
  const start = new SharedArrayBuffer(4);
  const stop = new SharedArrayBuffer(4);
  const mode = name ? MODES[name]!() : MODES["shared lock"]!();
  const reader = spawn({ kind: "reader", path, start, stop, writeEveryMs: 20, ...mode });
  const writer = name ? spawn({ kind: "heavy", path, start, stop, rowsPerTx: 2_000, ...mode }) : null;
  await Promise.all([reader.ready, writer?.ready]);
  release(start);
  await new Promise((resolve) => setTimeout(resolve, READER_MS));
  release(stop);
  const [a, b] = await Promise.all([reader.report, writer?.report]);
  await Deno.remove(dir, { recursive: true });
  return [
    a.readMs.length,
    percentile(a.readMs, 50),
    percentile(a.readMs, 99),
    Math.max(...a.readMs),
    a.ok,
    a.locked,
    percentile(a.writeMs, 99),
    Math.max(...a.blockedMs),
    b?.txs ?? Number.NaN,
  ];
}

async function median(measure: () => Promise<number[]>): Promise<number[]> {
  const runs: number[][] = [];
  for (let i = 0; i < RUNS; i++) runs.push(await measure());
  return medianRow(runs);
}

const row = (name: string, values: number[], integers: number[]) =>
  `| ${name} | ${
    values.map((v, i) => integers.includes(i) && !Number.isNaN(v) ? String(Math.round(v)) : ms(v)).join(" | ")
  } |`;

console.log(
  `\n${WRITERS} workers × ${WRITES} writes of ${ROWS_PER_WRITE} rows, as fast as they go (ms; median of ${RUNS} runs)\n`,
);
console.log(
  "| mode | ok | `database is locked` | wall | write p50 | write p99 | write max | longest write call | longest event-loop stop |",
);
console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
for (const name of Object.keys(MODES)) console.log(row(name, await median(() => contention(name)), [0, 1]));

console.log(
  `\nworker A reads every 1 ms and writes every 20 ms; worker B commits 2,000-row transactions for ${READER_MS} ms ` +
    `(ms; median of ${RUNS} runs)\n`,
);
console.log(
  "| mode | reads | read p50 | read p99 | read max | A writes ok | A writes locked | A write p99 | A's longest write call | B transactions |",
);
console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
console.log(row("reader alone", await median(() => readerNextToWriter(null)), [0, 4, 5, 8]));
for (const name of ["busy 5000", "retry", "shared lock"]) {
  console.log(row(name, await median(() => readerNextToWriter(name)), [0, 4, 5, 8]));
}
