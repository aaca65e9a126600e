/**
 * The contract of the audit storage: rows stored exactly, the head, pages in
 * date order, chunks and streamed ranges in chain order, and one linear
 * chain however many writers append at once.
 */
import assert from "node:assert/strict";
import { AuditLog } from "../../src/audit/audit_log.ts";
import type { AuditRow } from "../../src/db/records.ts";
import { type MakeStore, testName, withStore } from "./contract_helpers.ts";

function row(seq: number, ts: string, extra: Partial<AuditRow> = {}): AuditRow {
  const hash = String(Math.abs(seq) % 10).repeat(64);
  return {
    seq,
    ts,
    event: "product_created",
    level: "info",
    actor: null,
    client: "192.0.2.1",
    method: "POST",
    path: "/products",
    status: 201,
    requestId: `r${seq}`,
    target: `product:${seq}`,
    detail: '{"name":"Lamp"}',
    prevHash: "0".repeat(64),
    hash,
    ...extra,
  };
}

/** Registers the audit storage cases for `engine`. */
export function defineAuditContract(engine: string, makeStore: MakeStore): void {
  const test = (behaviour: string, fn: Parameters<typeof withStore>[1]) =>
    Deno.test(testName(engine, "audit", behaviour), () => withStore(makeStore, fn));

  test("insert() stores rows exactly; head() and lockHead() give the newest", async (store) => {
    assert.equal(await store.audit.head(), null);
    const rows = [row(1, "2026-01-01T10:00:00.000Z"), row(2, "2026-01-01T10:00:00.000Z", { actor: 7, status: null })];
    await store.transaction(async (tx) => {
      assert.equal(await tx.audit.lockHead(), null);
      await tx.audit.insert(rows);
      assert.deepEqual(await tx.audit.lockHead(), { seq: 2, hash: rows[1]!.hash });
    });
    assert.deepEqual(await store.audit.head(), { seq: 2, hash: rows[1]!.hash });
    assert.deepEqual((await store.audit.chunk(null, 2, 10)).map((r) => ({ ...r })), rows);
  });

  test("page() goes in date order from a cursor row, by event or actor; unknown cursor rows end paging", async (store) => {
    // seq 3 was written with a clock that had gone back: date order differs from chain order.
    const rows = [
      row(1, "2026-01-01T10:00:00.000Z", { actor: 1 }),
      row(2, "2026-01-01T12:00:00.000Z", { event: "authz_fail", actor: 2 }),
      row(3, "2026-01-01T11:00:00.000Z", { actor: 1 }),
    ];
    await store.transaction((tx) => tx.audit.insert(rows));
    const seqs = async (query: Parameters<typeof store.audit.page>[0]) =>
      (await store.audit.page(query)).map((r) => r.seq);
    assert.deepEqual(await seqs({ afterSeq: 0, limit: 10 }), [1, 3, 2]);
    assert.deepEqual(await seqs({ afterSeq: 3, limit: 10 }), [2]);
    assert.deepEqual(await seqs({ afterSeq: 0, limit: 2 }), [1, 3]);
    assert.deepEqual(await seqs({ afterSeq: 0, limit: 10, event: "authz_fail" }), [2]);
    assert.deepEqual(await seqs({ afterSeq: 0, limit: 10, actor: 1 }), [1, 3]);
    assert.deepEqual(await seqs({ afterSeq: 0, limit: 10, event: "product_created", actor: 1 }), [1, 3]);
    assert.deepEqual(await seqs({ afterSeq: 0, limit: 10, since: "2026-01-01T11:00:00.000Z" }), [3, 2]);
    assert.deepEqual(await seqs({ afterSeq: 0, limit: 10, until: "2026-01-01T11:00:00.000Z" }), [1]);
    assert.deepEqual(await seqs({ afterSeq: 99, limit: 10 }), []);
  });

  test("chunk() starts at the very first row when after is null, forged seq ≤ 0 included", async (store) => {
    await store.transaction((tx) =>
      tx.audit.insert([row(-5, "2026-01-01T09:00:00.000Z"), row(1, "2026-01-01T10:00:00.000Z")])
    );
    assert.deepEqual((await store.audit.chunk(null, 1, 10)).map((r) => r.seq), [-5, 1]);
    assert.deepEqual((await store.audit.chunk(-5, 1, 10)).map((r) => r.seq), [1]);
    assert.deepEqual((await store.audit.chunk(null, 1, 1)).map((r) => r.seq), [-5]);
  });

  test("rows() streams every row in chain order, in chunks, optionally within a date range", async (store) => {
    const many = Array.from(
      { length: 1234 },
      (_, i) => row(i + 1, `2026-01-01T10:00:${String(i % 60).padStart(2, "0")}.000Z`),
    );
    await store.transaction((tx) => tx.audit.insert(many));
    const all = await Array.fromAsync(store.audit.rows());
    assert.deepEqual(all.map((r) => r.seq), many.map((r) => r.seq));
    const late = await Array.fromAsync(store.audit.rows({ since: "2026-01-01T10:00:59.000Z" }));
    assert.deepEqual(late.map((r) => r.seq), many.filter((r) => r.ts >= "2026-01-01T10:00:59.000Z").map((r) => r.seq));
  });

  test("concurrent appends through AuditLog form one chain that verifies", async (store) => {
    const audit = new AuditLog(store);
    await Promise.all(
      Array.from({ length: 40 }, (_, i) => audit.append({ event: "product_created", target: `product:${i}` })),
    );
    assert.deepEqual(await audit.verify(), { ok: true, checked: 40, head: await audit.head() });
  });
}
