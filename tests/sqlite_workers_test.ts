/**
 * SQLite with several writers: N worker threads, each with its own
 * `node:sqlite` connection to one WAL database file. `node:sqlite` is
 * synchronous, so a worker that begins a write while another holds SQLite's
 * write lock stops its whole event loop in the busy handler (or fails at
 * once with busy_timeout 0). These tests show the problem, then that the
 * host-wide `SharedWriteLock`, taken asynchronously before `BEGIN
 * IMMEDIATE`, keeps the waiting worker's event loop serving reads and lets
 * no write fail with `database is locked`. Measurements: bench/sqlite_workers.ts.
 */
import assert from "node:assert/strict";
import { openDatabase } from "../src/db/sqlite/database.ts";
import { createSharedWriteLock } from "../src/db/shared_write_lock.ts";
import type { SQLiteCommand, SQLiteReport } from "./fixtures/sqlite_worker.ts";

const WORKER = new URL("./fixtures/sqlite_worker.ts", import.meta.url);

/** A database file in WAL mode with the test table, in a fresh directory. */
async function database(): Promise<{ path: string; rows: () => number; cleanup: () => Promise<void> }> {
  const dir = await Deno.makeTempDir({ prefix: "secure-api-sqlite-workers-" });
  const path = `${dir}/app.db`;
  const db = openDatabase(path);
  db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, worker INTEGER NOT NULL, payload TEXT NOT NULL)");
  db.exec("INSERT INTO t (worker, payload) VALUES (0, 'seed')");
  db.close();
  return {
    path,
    rows: () => {
      const check = openDatabase(path, { readOnly: true });
      const n = check.prepare("SELECT count(*) AS n FROM t").get<{ n: number }>()!.n;
      check.close();
      return n;
    },
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
}

/** Runs one command in a new worker; resolves with its report (and `ready` once it waits for the start). */
function run(command: SQLiteCommand): { ready: Promise<void>; report: Promise<SQLiteReport> } {
  const worker = new Worker(WORKER, { type: "module" });
  const ready = Promise.withResolvers<void>();
  const report = Promise.withResolvers<SQLiteReport>();
  worker.onmessage = (event: MessageEvent<SQLiteReport | { ready: true }>) => {
    if ("ready" in event.data) ready.resolve();
    else report.resolve(event.data);
  };
  worker.onerror = (event) => {
    event.preventDefault();
    report.reject(new Error(`worker failed: ${event.message}`));
  };
  worker.postMessage(command);
  return { ready: ready.promise, report: report.promise.finally(() => worker.terminate()) };
}

const HOLD_MS = 1_000;

Deno.test("SQLite without the shared lock: a worker waiting for the write lock stops its event loop", async () => {
  const db = await database();
  try {
    const held = new SharedArrayBuffer(4);
    const mode = { lock: null, busyTimeoutMs: 5_000 };
    const probe = run({ kind: "probe", path: db.path, held, ...mode });
    await probe.ready;
    const holder = run({ kind: "hold", path: db.path, held, holdMs: HOLD_MS, ...mode });
    const [a, b] = await Promise.all([probe.report, holder.report]);
    assert.equal(b.ok, 1);
    assert.equal(a.ok, 1, "the write got through in the end");
    assert.ok(a.maxGapMs >= HOLD_MS * 0.3, `worker A served nothing for ${a.maxGapMs.toFixed(0)} ms`);
  } finally {
    await db.cleanup();
  }
});

Deno.test("SQLite without the shared lock and busy_timeout 0: the waiting write fails with `database is locked`", async () => {
  const db = await database();
  try {
    const held = new SharedArrayBuffer(4);
    const mode = { lock: null, busyTimeoutMs: 0 };
    const probe = run({ kind: "probe", path: db.path, held, ...mode });
    await probe.ready;
    const holder = run({ kind: "hold", path: db.path, held, holdMs: HOLD_MS, ...mode });
    const [a] = await Promise.all([probe.report, holder.report]);
    assert.deepEqual([a.ok, a.locked], [0, 1]);
  } finally {
    await db.cleanup();
  }
});

Deno.test("SQLite with the shared lock: reads on worker A go on while worker B holds the write lock", async () => {
  const db = await database();
  try {
    const held = new SharedArrayBuffer(4);
    // busy_timeout 0: had A reached SQLite's lock while B held it, its write would fail instead of waiting.
    const mode = { lock: createSharedWriteLock(), busyTimeoutMs: 0 };
    const probe = run({ kind: "probe", path: db.path, held, ...mode });
    await probe.ready;
    const holder = run({ kind: "hold", path: db.path, held, holdMs: HOLD_MS, ...mode });
    const [a, b] = await Promise.all([probe.report, holder.report]);
    assert.equal(b.ok, 1);
    assert.deepEqual([a.ok, a.locked], [1, 0], "A's write waited its turn and then committed");
    assert.ok(a.writeMs[0]! >= HOLD_MS * 0.5, `A's write waited ${a.writeMs[0]!.toFixed(0)} ms for B's transaction`);
    assert.ok(a.readsWhileHeld >= 20, `${a.readsWhileHeld} reads on A while B held the write lock`);
    assert.ok(
      a.maxGapMs < HOLD_MS * 0.5,
      `A's event loop never stopped for long (max gap ${a.maxGapMs.toFixed(0)} ms)`,
    );
    assert.equal(db.rows(), 3);
  } finally {
    await db.cleanup();
  }
});

Deno.test("SQLite with the shared lock: 4 workers × 200 writes, busy_timeout 0, none fails with `database is locked`", async () => {
  const db = await database();
  try {
    const start = new SharedArrayBuffer(4);
    const mode = { lock: createSharedWriteLock(), busyTimeoutMs: 0 };
    const workers = Array.from(
      { length: 4 },
      () => run({ kind: "writes", path: db.path, start, writes: 200, rowsPerWrite: 20, ...mode }),
    );
    await Promise.all(workers.map((w) => w.ready));
    Atomics.store(new Int32Array(start), 0, 1);
    Atomics.notify(new Int32Array(start), 0);
    const reports = await Promise.all(workers.map((w) => w.report));
    assert.deepEqual(reports.map((r) => r.locked), [0, 0, 0, 0]);
    assert.deepEqual(reports.map((r) => r.ok), [200, 200, 200, 200]);
    assert.equal(db.rows(), 1 + 4 * 200 * 20);
  } finally {
    await db.cleanup();
  }
});
