/**
 * Audited writes per second on PostgreSQL under the two chain-serialising
 * schemes of the prototype (tests/postgres_audit_chain.ts), in one run on
 * one durable cluster (fsync and synchronous_commit on), so the figures can
 * be compared with each other — not with figures from another run.
 *
 *   deno run -P=test bench/audit_chain_pg.ts
 *
 * (The test permission set has what a throwaway cluster needs: run initdb and
 * pg_ctl, net to loopback, the temporary folder.) Each round gives every
 * scheme a fresh database and INSTANCES pools of POOL connections; the order
 * of the schemes alternates between rounds. Every run ends by verifying the
 * chain, so a fast but broken scheme cannot win. Baselines: the same product
 * update without an audit row (commits can share an fsync), and one
 * connection writing alone (no contention).
 *
 * Environment: BENCH_WRITES (per instance, default 500), BENCH_ROUNDS (default 3),
 * BENCH_INSTANCES (default 3), BENCH_POOL (connections per instance, default 5).
 */
import type postgres from "postgres";
import { verifyChain } from "../src/audit/hash_chain.ts";
import {
  auditedWrite,
  type ChainScheme,
  openPool,
  prepareChainDatabase,
  readChain,
} from "../tests/postgres_audit_chain.ts";
import { startPostgres, type TestPostgres } from "../tests/postgres_helpers.ts";

const WRITES = Number(Deno.env.get("BENCH_WRITES") ?? 500);
const ROUNDS = Number(Deno.env.get("BENCH_ROUNDS") ?? 3);
const INSTANCES = Number(Deno.env.get("BENCH_INSTANCES") ?? 3);
const POOL = Number(Deno.env.get("BENCH_POOL") ?? 5);
const PRODUCTS = 200;

type Variant = ChainScheme | "no audit row";

/** Runs `writes` per instance over `instances` pools; returns writes per second. */
async function measure(cluster: TestPostgres, variant: Variant, instances: number, pool: number, writes: number) {
  const db = await prepareChainDatabase(cluster, PRODUCTS);
  const pools = await Promise.all(Array.from({ length: instances }, () => openPool(db.appUrl, pool)));
  try {
    const write = (sql: postgres.Sql, i: number, n: number) => {
      const product = ((i * writes + n) % PRODUCTS) + 1;
      return variant === "no audit row"
        ? sql`UPDATE products SET stock = stock + 1, version = version + 1 WHERE id = ${product}`
        : auditedWrite(sql, variant, `i${i}`, n, product);
    };
    const started = performance.now();
    await Promise.all(pools.flatMap((sql, i) => Array.from({ length: writes }, (_, n) => write(sql, i, n))));
    const seconds = (performance.now() - started) / 1000;
    if (variant !== "no audit row") {
      const result = verifyChain(await readChain(pools[0]!));
      if (!result.ok || result.checked !== instances * writes) {
        throw new Error(`${variant}: the chain does not verify: ${JSON.stringify(result)}`);
      }
    }
    return (instances * writes) / seconds;
  } finally {
    await Promise.all(pools.map((sql) => sql.end({ timeout: 1 })));
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

await using cluster = await startPostgres({ durable: true, maxConnections: Math.max(60, INSTANCES * POOL + 10) });
const schemes: ChainScheme[] = ["advisory", "head-row"];
const concurrent = new Map<Variant, number[]>();
const alone = new Map<Variant, number[]>();
for (let round = 1; round <= ROUNDS; round++) {
  const order: Variant[] = round % 2 === 1 ? [...schemes, "no audit row"] : ["no audit row", ...schemes.toReversed()];
  for (const variant of order) {
    const rate = await measure(cluster, variant, INSTANCES, POOL, WRITES);
    concurrent.set(variant, [...concurrent.get(variant) ?? [], rate]);
    const serial = await measure(cluster, variant, 1, 1, Math.ceil(WRITES / 2));
    alone.set(variant, [...alone.get(variant) ?? [], serial]);
    console.log(`round ${round} ${variant}: ${rate.toFixed(0)}/s concurrent, ${serial.toFixed(0)}/s alone`);
  }
}

console.log(
  `\nmedian of ${ROUNDS} rounds, ${INSTANCES} instances x ${POOL} connections x ${WRITES} writes, durable cluster:`,
);
console.log("variant        | concurrent writes/s | one connection writes/s");
for (const variant of ["advisory", "head-row", "no audit row"] as const) {
  const c = median(concurrent.get(variant)!);
  const s = median(alone.get(variant)!);
  console.log(`${variant.padEnd(14)} | ${c.toFixed(0).padStart(19)} | ${s.toFixed(0).padStart(23)}`);
}
