/**
 * Audited writes per second on PostgreSQL under the two chain-serialising
 * schemes of the prototype (tests/postgres_audit_chain.ts), in one run on
 * one durable cluster (fsync and synchronous_commit on), so the figures can
 * be compared with each other — not with figures from another run.
 *
 *   deno run -P=test bench/audit_chain_pg.ts
 *
 * (The test permission set has what a throwaway cluster needs: run initdb and
 * pg_ctl, net to loopback, the temporary folder.) Every variant gets its own
 * database and INSTANCES pools of POOL connections, and they take turns in
 * short batches (INSTANCES × BATCH concurrent writes each), the order rotating
 * every batch: the machine's background load drifts over seconds, so batches
 * this short compare the schemes under the same conditions. Each chain is
 * verified at the end, so a fast but broken scheme cannot win. Baselines:
 * the same product update without an audit row (its commits can share an
 * fsync), and one connection writing alone (no contention).
 *
 * Environment: BENCH_BATCHES (default 20), BENCH_BATCH (writes per instance per
 * batch, default 50), BENCH_INSTANCES (default 3), BENCH_POOL (connections per
 * instance, default 5).
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

const BATCHES = Number(Deno.env.get("BENCH_BATCHES") ?? 20);
const BATCH = Number(Deno.env.get("BENCH_BATCH") ?? 50);
const INSTANCES = Number(Deno.env.get("BENCH_INSTANCES") ?? 3);
const POOL = Number(Deno.env.get("BENCH_POOL") ?? 5);
const PRODUCTS = 200;

type Variant = ChainScheme | "no audit row";
const VARIANTS: readonly Variant[] = ["advisory", "head-row", "no audit row"];

/** One variant's database and pools, written to in timed batches. */
interface Runner {
  readonly variant: Variant;
  readonly pools: postgres.Sql[];
  /** Seconds spent in batches, and the writes they made. */
  seconds: number;
  writes: number;
  /** The duration of each batch, in order. */
  readonly batches: number[];
}

async function runner(cluster: TestPostgres, variant: Variant, instances: number, pool: number): Promise<Runner> {
  const db = await prepareChainDatabase(cluster, PRODUCTS);
  const pools = await Promise.all(Array.from({ length: instances }, () => openPool(db.appUrl, pool)));
  return { variant, pools, seconds: 0, writes: 0, batches: [] };
}

async function batch(r: Runner, perInstance: number): Promise<void> {
  const write = (sql: postgres.Sql, i: number) => {
    const n = r.writes + i * perInstance;
    const product = (n % PRODUCTS) + 1;
    return r.variant === "no audit row"
      ? sql`UPDATE products SET stock = stock + 1, version = version + 1 WHERE id = ${product}`
      : auditedWrite(sql, r.variant, `i${i}`, n, product);
  };
  const started = performance.now();
  await Promise.all(r.pools.flatMap((sql, i) => Array.from({ length: perInstance }, () => write(sql, i))));
  const seconds = (performance.now() - started) / 1000;
  r.seconds += seconds;
  r.batches.push(seconds);
  r.writes += r.pools.length * perInstance;
}

async function finish(r: Runner): Promise<void> {
  try {
    if (r.variant !== "no audit row") {
      const result = verifyChain(await readChain(r.pools[0]!));
      if (!result.ok || result.checked !== r.writes) {
        throw new Error(`${r.variant}: the chain does not verify: ${JSON.stringify(result)}`);
      }
    }
  } finally {
    await Promise.all(r.pools.map((sql) => sql.end({ timeout: 1 })));
  }
}

/** Runs every variant in rotating batches; returns the runners with their timings. */
async function compare(cluster: TestPostgres, instances: number, pool: number, perInstance: number) {
  const runners = await Promise.all(VARIANTS.map((v) => runner(cluster, v, instances, pool)));
  try {
    for (let k = 0; k < BATCHES; k++) {
      const rotated = [...runners.slice(k % runners.length), ...runners.slice(0, k % runners.length)];
      for (const r of k % 2 === 0 ? rotated : rotated.toReversed()) await batch(r, perInstance);
    }
  } finally {
    for (const r of runners) await finish(r);
  }
  return runners;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

await using cluster = await startPostgres({ durable: true, maxConnections: Math.max(60, 3 * INSTANCES * POOL + 10) });
const concurrent = await compare(cluster, INSTANCES, POOL, BATCH);
const alone = await compare(cluster, 1, 1, Math.ceil(BATCH / 2));

console.log(
  `${BATCHES} rotating batches per variant, durable cluster; concurrent: ${INSTANCES} instances x ${POOL} ` +
    `connections x ${BATCH} writes per batch; alone: 1 connection x ${Math.ceil(BATCH / 2)} writes per batch`,
);
console.log("variant        | concurrent writes/s | one connection writes/s");
for (const [i, variant] of VARIANTS.entries()) {
  const c = concurrent[i]!.writes / concurrent[i]!.seconds;
  const a = alone[i]!.writes / alone[i]!.seconds;
  console.log(`${variant.padEnd(14)} | ${c.toFixed(0).padStart(19)} | ${a.toFixed(0).padStart(23)}`);
}
for (const [label, runners] of [["concurrent", concurrent], ["alone", alone]] as const) {
  // Paired: batch k of one scheme against batch k of the other, run moments apart.
  const ratios = runners[1]!.batches.map((headRow, k) => headRow / runners[0]!.batches[k]!);
  const ahead = ratios.filter((r) => r > 1).length;
  console.log(
    `${label}: advisory/head-row throughput per batch pair: median ${median(ratios).toFixed(2)}, ` +
      `advisory ahead in ${ahead} of ${ratios.length}`,
  );
}
