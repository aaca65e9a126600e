/**
 * The cost of the audit log (BENCHMARKS.md "Targets": at least 20,000 rows per second in
 * batches, with the hash chain). Rows go to a database file in a temporary
 * directory with the production pragmas — WAL, `synchronous=FULL`, so every
 * committed batch is fsynced — through the real `AuditLog` (sanitising,
 * canonical JSON, SHA-256 chaining, the append-only triggers).
 *
 * Rows per second = rows per iteration × iter/s in the report. Also measured:
 * one row per transaction (one fsync each: what a single request costs) and
 * verification per row (what `audit:verify` and `GET /audit/verify` cost).
 *
 * Run: `deno task bench` (or `deno bench -P=bench bench/audit_bench.ts`).
 */
import { AuditLog } from "../src/audit/audit_log.ts";
import { type AuditEntry } from "../src/audit/events.ts";
import { loadMigrations } from "../src/db/migrations.ts";
import { openSQLiteStore } from "../src/db/sqlite/sqlite_store.ts";

const dir = await Deno.makeTempDir({ prefix: "audit-bench-" });
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
const migrations = await loadMigrations();

async function freshLog(name: string): Promise<AuditLog> {
  return new AuditLog(await openSQLiteStore(`${dir}/${name}.db`, { migrations }));
}

/** A typical row: a product update by a user, with a request id and a small detail. */
function entry(i: number): AuditEntry {
  return {
    event: "product_updated",
    actor: 1 + (i % 50),
    client: `192.0.2.${i % 250}`,
    method: "PUT",
    path: `/products/${i}`,
    status: 200,
    requestId: crypto.randomUUID(),
    target: `product:${i}`,
    detail: { version: { from: 1, to: 2 } },
  };
}

for (const batch of [1000, 100, 1]) {
  const audit = await freshLog(`batch-${batch}`);
  const entries = Array.from({ length: batch }, (_, i) => entry(i));
  Deno.bench({
    name: `appendMany(): ${batch} row${batch === 1 ? "" : "s"} per transaction`,
    async fn() {
      await audit.appendMany(entries);
    },
  });
}

const verified = await freshLog("verify");
for (let i = 0; i < 20; i++) await verified.appendMany(Array.from({ length: 1000 }, (_, j) => entry(j)));
Deno.bench({
  name: "verify(): 20,000 rows",
  async fn() {
    const result = await verified.verify();
    if (!result.ok) throw new Error("the benchmark chain should verify");
  },
});
