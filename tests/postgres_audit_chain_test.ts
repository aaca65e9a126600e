/**
 * The audit hash chain on PostgreSQL stays one linear chain when several
 * instances append at once, under either serialising scheme of the
 * prototype (tests/postgres_audit_chain.ts): 3 instances × 500 concurrent
 * audited writes give 1,500 rows, seq 1..1500, one chain that verifies, and
 * every acknowledged write in it. Figures: bench/audit_chain_pg.ts.
 */
import assert from "node:assert/strict";
import type postgres from "postgres";
import { verifyChain } from "../src/audit/hash_chain.ts";
import {
  appendChained,
  auditedWrite,
  type ChainScheme,
  type EventFields,
  openPool,
  prepareChainDatabase,
  readChain,
} from "./postgres_audit_chain.ts";
import { usePostgres } from "./postgres_helpers.ts";

const pg = usePostgres({ maxConnections: 60 });
const INSTANCES = 3;
const WRITES = 500;
const PRODUCTS = 100;

const EVENT: EventFields = {
  ts: "2026-01-01T00:00:00.000Z",
  event: "product_updated",
  level: "info",
  actor: 1,
  client: null,
  method: null,
  path: null,
  status: null,
  requestId: null,
  target: null,
  detail: "{}",
};

for (const scheme of ["advisory", "head-row"] as const satisfies readonly ChainScheme[]) {
  Deno.test(`${scheme}: ${INSTANCES} instances × ${WRITES} concurrent audited writes form one chain that verifies`, async () => {
    const db = await prepareChainDatabase(pg(), PRODUCTS);
    const instances = await Promise.all(Array.from({ length: INSTANCES }, () => openPool(db.appUrl)));
    try {
      const started = performance.now();
      const results = await Promise.allSettled(
        instances.flatMap((sql, i) =>
          Array.from(
            { length: WRITES },
            (_, n) => auditedWrite(sql, scheme, `i${i}`, n, ((i * WRITES + n) % PRODUCTS) + 1),
          )
        ),
      );
      const seconds = (performance.now() - started) / 1000;
      const failed = results.filter((r) => r.status === "rejected").map((r) => String(r.reason));
      assert.deepEqual(failed.slice(0, 3), [], `${failed.length} writes failed`);
      console.log(`${scheme}: ${INSTANCES * WRITES} audited writes in ${seconds.toFixed(2)} s`);

      const rows = await readChain(instances[0]!);
      assert.equal(rows.length, INSTANCES * WRITES);
      assert.deepEqual(verifyChain(rows), {
        ok: true,
        checked: INSTANCES * WRITES,
        head: { seq: INSTANCES * WRITES, hash: rows.at(-1)!.hash },
      });
      // Every acknowledged write is in the chain, once: what each caller got back is what is stored.
      const acknowledged = results.map((r) => (r as PromiseFulfilledResult<{ seq: number; hash: string }>).value);
      const bySeq = new Map(rows.map((row) => [row.seq, row.hash]));
      for (const ack of acknowledged) assert.equal(bySeq.get(ack.seq), ack.hash);
      assert.equal(new Set(rows.map((r) => r.requestId)).size, INSTANCES * WRITES);
      const [stock] = await instances[0]!`SELECT sum(stock) AS total FROM products`;
      assert.equal(Number(stock!.total), INSTANCES * WRITES, "every change committed with its audit row");
      if (scheme === "head-row") {
        const [head] = await instances[0]!`SELECT seq, hash FROM audit_head`;
        assert.deepEqual({ ...head }, { seq: rows.at(-1)!.seq, hash: rows.at(-1)!.hash });
      }
    } finally {
      await Promise.all(instances.map((sql) => sql.end({ timeout: 1 })));
    }
  });
}

/** The backends of `db` waiting for a lock right now. */
async function waitingForLock(sql: postgres.Sql): Promise<number> {
  const [row] = await sql`SELECT count(*) AS n FROM pg_stat_activity
    WHERE datname = current_database() AND wait_event_type = 'Lock'`;
  return row!.n as number;
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

for (const scheme of ["advisory", "head-row", "none"] as const satisfies readonly ChainScheme[]) {
  const name = scheme === "none"
    ? "control: without a lock, a second appender reads the same head and collides on seq"
    : `${scheme}: a second appender waits for the first to commit, then chains after it`;
  Deno.test(name, async () => {
    const db = await prepareChainDatabase(pg(), PRODUCTS);
    const [a, b, observer] = await Promise.all([
      openPool(db.appUrl, 1),
      openPool(db.appUrl, 1),
      openPool(db.appUrl, 1),
    ]);
    try {
      const releaseA = Promise.withResolvers<void>();
      const appendedA = Promise.withResolvers<void>();
      const first = a.begin(async (tx) => {
        const row = await appendChained(tx, scheme, { ...EVENT, requestId: "a" });
        appendedA.resolve();
        await releaseA.promise;
        return row;
      });
      await appendedA.promise;
      const second = b.begin((tx) => appendChained(tx, scheme, { ...EVENT, requestId: "b" }));
      // With a lock B waits for it; without one B reads the old head and waits on A's uncommitted seq 1.
      await until("B to wait", async () => (await waitingForLock(observer)) > 0);
      releaseA.resolve();
      if (scheme === "none") {
        assert.equal((await first).seq, 1);
        await assert.rejects(second, (error: { code?: string }) => error.code === "23505");
        return;
      }
      const [rowA, rowB] = await Promise.all([first, second]);
      assert.equal(rowA.seq, 1);
      assert.equal(rowB.seq, 2);
      assert.equal(rowB.prevHash, rowA.hash);
      assert.equal(verifyChain(await readChain(observer)).ok, true);
    } finally {
      await Promise.all([a.end(), b.end(), observer.end()]);
    }
  });
}

Deno.test("trap: under REPEATABLE READ the advisory scheme reads a stale head (it needs READ COMMITTED)", async () => {
  // The snapshot of a REPEATABLE READ or SERIALIZABLE transaction is taken by its first
  // statement, before the lock is granted, so the head read after the lock can be old.
  const db = await prepareChainDatabase(pg(), PRODUCTS);
  const [a, b, observer] = await Promise.all([openPool(db.appUrl, 1), openPool(db.appUrl, 1), openPool(db.appUrl, 1)]);
  try {
    const releaseA = Promise.withResolvers<void>();
    const appendedA = Promise.withResolvers<void>();
    const first = a.begin("isolation level repeatable read", async (tx) => {
      const row = await appendChained(tx, "advisory", { ...EVENT, requestId: "a" });
      appendedA.resolve();
      await releaseA.promise;
      return row;
    });
    await appendedA.promise;
    const second = b.begin("isolation level repeatable read", (tx) => appendChained(tx, "advisory", EVENT));
    await until("B to wait for the chain lock", async () => (await waitingForLock(observer)) > 0);
    releaseA.resolve();
    assert.equal((await first).seq, 1);
    await assert.rejects(second, (error: { code?: string }) => ["23505", "40001"].includes(String(error.code)));
  } finally {
    await Promise.all([a.end(), b.end(), observer.end()]);
  }
});
