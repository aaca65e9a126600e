/**
 * A prototype, not wired into the application: appending hash-chained audit
 * rows to PostgreSQL from many connections at once, under three schemes, so
 * that `tests/postgres_audit_chain_test.ts` can prove which keep one linear
 * chain and `bench/audit_chain_pg.ts` can measure what each costs.
 *
 * - `advisory`: `pg_advisory_xact_lock(<constant>)` in the appending
 *   transaction, then read the head (the last row, by the primary key) and
 *   insert after it. The lock is released by COMMIT, after the row is
 *   visible, so the next holder's fresh READ COMMITTED snapshot sees it.
 * - `head-row`: `SELECT … FROM audit_head … FOR UPDATE` on a one-row table,
 *   insert, then `UPDATE audit_head`. A waiter re-reads the updated head row
 *   once the lock is granted (READ COMMITTED re-check).
 * - `none`: read the head and insert, no lock: the control that shows what
 *   the test detects (two writers read one head; the second insert collides
 *   on the `seq` primary key).
 *
 * The hash is the application's own (`src/audit/hash_chain.ts`).
 */
import type postgres from "postgres";
import { type ChainedFields, chainHash, GENESIS_HASH, type StoredRow } from "../src/audit/hash_chain.ts";
import { connectPostgres } from "../src/db/postgres/connect.ts";
import { loadPostgresMigrations, migratePostgres } from "../src/db/postgres/migrate.ts";
import { parseDatabaseUrl } from "../src/db/postgres/url.ts";
import type { TestDatabase, TestPostgres } from "./postgres_helpers.ts";

/** How concurrent appenders are serialised. */
export type ChainScheme = "advisory" | "head-row" | "none";

/** The advisory lock key of the audit chain (any constant all instances share). */
export const AUDIT_CHAIN_LOCK_KEY = 0x5ec_a91_002;

/** Creates and seeds the one-row head table the `head-row` scheme needs (as the owner). */
export async function createHeadTable(sql: postgres.Sql): Promise<void> {
  await sql`CREATE TABLE IF NOT EXISTS audit_head (
    id   integer PRIMARY KEY CHECK (id = 1),
    seq  bigint NOT NULL,
    hash text NOT NULL
  )`;
  await sql`INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, ${GENESIS_HASH}) ON CONFLICT (id) DO NOTHING`;
}

/** The fields of one audit event, before it has a place in the chain. */
export type EventFields = Omit<ChainedFields, "seq">;

/**
 * Appends one event inside `tx` (the transaction of the change it records)
 * and returns the stored row. Call it last in the transaction: the chain
 * stays locked from here until COMMIT.
 */
export async function appendChained(
  tx: postgres.TransactionSql,
  scheme: ChainScheme,
  event: EventFields,
): Promise<StoredRow> {
  let head: { seq: number; hash: string } | undefined;
  if (scheme === "head-row") {
    [head] = await tx<{ seq: number; hash: string }[]>`SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE`;
  } else {
    if (scheme === "advisory") await tx`SELECT pg_advisory_xact_lock(${AUDIT_CHAIN_LOCK_KEY})`;
    [head] = await tx<{ seq: number; hash: string }[]>`SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`;
  }
  const fields: ChainedFields = { ...event, seq: (head?.seq ?? 0) + 1 };
  const prevHash = head?.hash ?? GENESIS_HASH;
  const row: StoredRow = { ...fields, prevHash, hash: chainHash(prevHash, fields) };
  await tx`INSERT INTO audit_log (seq, ts, event, level, actor, client, method, path, status, request_id,
      target, detail, prev_hash, hash)
    VALUES (${row.seq}, ${row.ts}, ${row.event}, ${row.level}, ${row.actor}, ${row.client}, ${row.method},
      ${row.path}, ${row.status}, ${row.requestId}, ${row.target}, ${row.detail}, ${row.prevHash}, ${row.hash})`;
  if (scheme === "head-row") await tx`UPDATE audit_head SET seq = ${row.seq}, hash = ${row.hash} WHERE id = 1`;
  return row;
}

/** Every row of the log in `seq` order, shaped for `verifyChain`. */
export async function readChain(sql: postgres.Sql): Promise<StoredRow[]> {
  return await sql<StoredRow[]>`SELECT seq, ts, event, level, actor, client, method, path, status,
      request_id AS "requestId", target, detail, prev_hash AS "prevHash", hash
    FROM audit_log ORDER BY seq`;
}

/**
 * A plausible audited change: a product update and its audit row, in one
 * transaction. Give each write its own product, so that rows contend only
 * for the chain.
 */
export async function auditedWrite(
  sql: postgres.Sql,
  scheme: ChainScheme,
  instance: string,
  n: number,
  productId: number,
): Promise<StoredRow> {
  return await sql.begin(async (tx) => {
    await tx`UPDATE products SET stock = stock + 1, version = version + 1 WHERE id = ${productId}`;
    return await appendChained(tx, scheme, {
      ts: new Date().toISOString(),
      event: "product_updated",
      level: "info",
      actor: 1,
      client: "198.51.100.7",
      method: "PATCH",
      path: `/products/${productId}`,
      status: 200,
      requestId: `${instance}-${n}`,
      target: `product:${productId}`,
      detail: `{"instance":"${instance}","n":${n}}`,
    });
  });
}

/** A pool of `max` connections with timeouts long enough for a queue of waiting appenders. */
export async function openPool(url: string, max = 5): Promise<postgres.Sql> {
  return await connectPostgres(parseDatabaseUrl(url), { max, statementTimeoutMs: 120_000, lockTimeoutMs: 120_000 });
}

/**
 * A fresh database of `cluster`, migrated, with `products` rows to update and
 * the head table of the `head-row` scheme, usable by the application role.
 */
export async function prepareChainDatabase(cluster: TestPostgres, products = 100): Promise<TestDatabase> {
  const db = await cluster.createDatabase();
  const owner = await openPool(db.ownerUrl, 1);
  try {
    await migratePostgres(owner, await loadPostgresMigrations(), { appRole: cluster.app.name });
    await createHeadTable(owner);
    await owner`GRANT SELECT, UPDATE ON audit_head TO ${owner(cluster.app.name)}`;
    await owner`INSERT INTO products (name, price_cents, stock, created_at, updated_at)
      SELECT 'p' || i, 100, 0, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z' FROM generate_series(1, ${products}) i`;
  } finally {
    await owner.end();
  }
  return db;
}
