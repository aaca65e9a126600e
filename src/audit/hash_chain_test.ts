import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fc from "fast-check";
import {
  canonicalJSON,
  canonicalRow,
  type ChainedFields,
  chainHash,
  ChainVerifier,
  GENESIS_HASH,
  type StoredRow,
  verifyChain,
} from "./hash_chain.ts";

function fields(seq: number, overrides: Partial<ChainedFields> = {}): ChainedFields {
  return {
    seq,
    ts: `2026-01-01T00:00:0${seq % 10}.000Z`,
    event: "product_updated",
    level: "info",
    actor: 7,
    client: "192.0.2.10",
    method: "PUT",
    path: `/products/${seq}`,
    status: 200,
    requestId: `req-${seq}`,
    target: `product:${seq}`,
    detail: '{"version":{"from":1,"to":2}}',
    ...overrides,
  };
}

/** A valid chain of `n` rows. */
function chain(n: number): StoredRow[] {
  const rows: StoredRow[] = [];
  let prevHash = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const f = fields(seq);
    const hash = chainHash(prevHash, f);
    rows.push({ ...f, prevHash, hash });
    prevHash = hash;
  }
  return rows;
}

Deno.test("GENESIS_HASH is SHA-256 of the documented label and never changes", () => {
  assert.equal(GENESIS_HASH, createHash("sha256").update("secure-api audit log genesis v1").digest("hex"));
  // Pinned: changing the genesis value would invalidate every existing chain.
  assert.equal(GENESIS_HASH, "5581be44f3e14ce3292bc13232c93de5d3773cf14b75c624f18acc55d4822386");
});

Deno.test("canonicalJSON() sorts keys at every level and writes no whitespace", () => {
  assert.equal(
    canonicalJSON({ b: 1, a: { d: [3, { z: null, y: true }], c: "x" } }),
    '{"a":{"c":"x","d":[3,{"y":true,"z":null}]},"b":1}',
  );
  assert.equal(canonicalJSON({ b: 1, a: 2 }), canonicalJSON({ a: 2, b: 1 }));
  assert.equal(canonicalJSON("line\nbreak"), '"line\\nbreak"');
  assert.equal(canonicalJSON(undefined), "null");
  assert.equal(canonicalJSON({ a: undefined }), '{"a":null}');
});

Deno.test("canonicalRow() is byte-for-byte canonicalJSON() of the chained fields", () => {
  const text = fc.oneof(fc.string(), fc.string({ unit: "grapheme" }), fc.constant(null));
  fc.assert(fc.property(
    fc.record({
      seq: fc.integer({ min: -1000, max: 1e9 }),
      ts: fc.string(),
      event: fc.string(),
      level: fc.string(),
      actor: fc.oneof(fc.integer(), fc.constant(null)),
      client: text,
      method: text,
      path: text,
      status: fc.oneof(fc.integer({ min: 100, max: 599 }), fc.constant(null)),
      requestId: text,
      target: text,
      detail: fc.json(),
    }),
    (row) => {
      assert.equal(canonicalRow(row), canonicalJSON(row));
    },
  ));
});

Deno.test("chainHash() changes when any field or the previous hash changes", () => {
  const base = fields(3);
  const reference = chainHash(GENESIS_HASH, base);
  assert.match(reference, /^[0-9a-f]{64}$/);
  const changed: Record<keyof ChainedFields, unknown> = {
    seq: 4,
    ts: "2026-01-01T00:00:03.001Z",
    event: "product_deleted",
    level: "warning",
    actor: 8,
    client: "192.0.2.11",
    method: "DELETE",
    path: "/products/4",
    status: 204,
    requestId: "req-x",
    target: "product:4",
    detail: '{"version":{"from":1,"to":3}}',
  };
  for (const [key, value] of Object.entries(changed)) {
    assert.notEqual(chainHash(GENESIS_HASH, { ...base, [key]: value }), reference, `changing ${key}`);
  }
  for (const key of ["actor", "client", "method", "path", "status", "requestId", "target"] as const) {
    assert.notEqual(chainHash(GENESIS_HASH, { ...base, [key]: null }), reference, `nulling ${key}`);
  }
  assert.notEqual(chainHash("0".repeat(64), base), reference);
  // Extra properties (prevHash, hash of a stored row) are not hashed.
  assert.equal(chainHash(GENESIS_HASH, { ...base, hash: "x" } as ChainedFields), reference);
});

Deno.test("verifyChain() accepts an intact chain and reports its head", () => {
  const rows = chain(5);
  assert.deepEqual(verifyChain(rows), { ok: true, checked: 5, head: { seq: 5, hash: rows[4]!.hash } });
  assert.deepEqual(verifyChain([]), { ok: true, checked: 0, head: null });
});

Deno.test("verifyChain() reports an edited row at that row", () => {
  const rows = chain(5);
  rows[2] = { ...rows[2]!, path: "/products/999" };
  const result = verifyChain(rows);
  assert.equal(result.ok, false);
  assert.equal(!result.ok && result.firstBadSeq, 3);
  assert.equal(!result.ok && result.checked, 2);
  assert.match(!result.ok ? result.reason : "", /hash does not match/);
});

Deno.test("verifyChain() reports a re-hashed row at the next row's prevHash", () => {
  const rows = chain(5);
  const edited = { ...rows[2]!, path: "/products/999" };
  rows[2] = { ...edited, hash: chainHash(edited.prevHash, edited) };
  const result = verifyChain(rows);
  assert.equal(!result.ok && result.firstBadSeq, 4);
  assert.match(!result.ok ? result.reason : "", /prevHash/);
});

Deno.test("verifyChain() reports a deleted middle row as missing", () => {
  const rows = chain(6);
  const result = verifyChain([...rows.slice(0, 2), ...rows.slice(4)]);
  assert.deepEqual(result, { ok: false, checked: 2, firstBadSeq: 3, reason: "rows 3..4 are missing" });
});

Deno.test("verifyChain() reports a forged row with a seq below 1", () => {
  const rows = chain(2);
  const result = verifyChain([{ ...rows[0]!, seq: 0 }, ...rows]);
  assert.equal(!result.ok && result.firstBadSeq, 0);
});

Deno.test("verifyChain() detects a deleted tail only against a known head", () => {
  const rows = chain(6);
  const truncated = rows.slice(0, 4);
  assert.equal(verifyChain(truncated).ok, true, "without a recorded head, a truncated chain looks intact");
  const result = verifyChain(truncated, [{ seq: 6, hash: rows[5]!.hash }]);
  assert.deepEqual(result, {
    ok: false,
    checked: 4,
    firstBadSeq: 5,
    reason: "rows 5..6 are gone: the log recorded a head at seq 6",
  });
});

Deno.test("verifyChain() detects a rewritten and fully re-hashed chain against a known head", () => {
  const rows = chain(5);
  const head = { seq: 5, hash: rows[4]!.hash };
  // The attacker edits row 2 and recomputes every hash after it: the chain is self-consistent again.
  let prevHash = rows[0]!.hash;
  const forged = [rows[0]!];
  for (const row of rows.slice(1)) {
    const f = row.seq === 2 ? { ...row, actor: 99 } : row;
    const hash = chainHash(prevHash, f);
    forged.push({ ...f, prevHash, hash });
    prevHash = hash;
  }
  assert.equal(verifyChain(forged).ok, true);
  const result = verifyChain(forged, [head]);
  assert.equal(!result.ok && result.firstBadSeq, 5);
  assert.match(!result.ok ? result.reason : "", /head recorded in the log/);
});

Deno.test("verifyChain() fails when the log holds two hashes for one seq", () => {
  const rows = chain(3);
  const result = verifyChain(rows, [{ seq: 2, hash: rows[1]!.hash }, { seq: 2, hash: "f".repeat(64) }]);
  assert.equal(!result.ok && result.firstBadSeq, 2);
});

Deno.test("ChainVerifier stops at the first failure and keeps its verdict", () => {
  const rows = chain(4);
  const verifier = new ChainVerifier();
  assert.equal(verifier.push(rows[0]!), true);
  assert.equal(verifier.push(rows[2]!), false);
  assert.equal(verifier.push(rows[3]!), false);
  assert.equal(verifier.checked, 1);
  assert.equal(verifier.lastSeq, 1);
  assert.deepEqual(verifier.result(), { ok: false, checked: 1, firstBadSeq: 2, reason: "row 2 is missing" });
});
