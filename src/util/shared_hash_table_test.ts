import assert from "node:assert/strict";
import { createSharedHashTable, SharedHashTable, SharedLockTimeoutError } from "./shared_hash_table.ts";

Deno.test("SharedHashTable finds a record by key from another handle on the same buffer", () => {
  const buffer = createSharedHashTable({ keys: 100, fields: 2 });
  const writer = new SharedHashTable(buffer);
  const reader = new SharedHashTable(buffer);
  assert.equal(writer.acquire("alice", 0), -1);
  const slot = writer.insert(0);
  writer.set(slot, 0, 500);
  writer.set(slot, 1, 42);
  writer.release();
  const found = reader.acquire("alice", 0);
  assert.notEqual(found, -1);
  assert.equal(reader.get(found, 1), 42);
  reader.release();
  assert.equal(reader.acquire("bob", 0), -1, "another key has no record");
  reader.release();
});

Deno.test("SharedHashTable: a record whose expiry has passed is gone and its slot reused", () => {
  const buffer = createSharedHashTable({ keys: 1, fields: 1, ways: 1, slotsPerKey: 1 });
  const table = new SharedHashTable(buffer);
  table.acquire("a", 0);
  table.set(table.insert(0), 0, 100);
  table.release();
  assert.notEqual(table.acquire("a", 99), -1, "live until its expiry");
  table.release();
  assert.equal(table.acquire("a", 100), -1, "expiry ≤ now: no state");
  table.release();
  table.acquire("b", 100);
  table.insert(100);
  table.release();
  assert.equal(table.evictions, 0, "reusing an expired slot is not an eviction");
});

Deno.test("SharedHashTable evicts the record of smallest rank from a full bucket", () => {
  const buffer = createSharedHashTable({ keys: 4, fields: 1, ways: 4, slotsPerKey: 1 });
  const table = new SharedHashTable(buffer);
  assert.equal(table.buckets, 1);
  const expiries: Record<string, number> = { a: 400, b: 100, c: 300, d: 200 };
  for (const [key, expiry] of Object.entries(expiries)) {
    assert.equal(table.acquire(key, 0), -1);
    table.set(table.insert(0), 0, expiry);
    table.release();
  }
  table.acquire("e", 0);
  table.set(table.insert(0), 0, 500);
  table.release();
  assert.equal(table.evictions, 1);
  const present = ["a", "b", "c", "d", "e"].filter((key) => {
    const slot = table.acquire(key, 0);
    table.release();
    return slot !== -1;
  });
  assert.deepEqual(present, ["a", "c", "d", "e"], "b, the soonest to expire, was evicted");
});

Deno.test("SharedHashTable holds a fixed number of bytes whatever the number of keys", () => {
  const buffer = createSharedHashTable({ keys: 1_000, fields: 1 });
  const table = new SharedHashTable(buffer);
  const before = buffer.byteLength;
  for (let i = 0; i < 100_000; i++) {
    table.acquire(`flood-${i}`, 0);
    table.set(table.insert(0), 0, 1e15);
    table.release();
  }
  assert.equal(buffer.byteLength, before);
  assert.equal(table.count(0), table.slots, "every slot live, none more");
  assert.equal(table.evictions, 100_000 - table.slots);
  assert.ok(table.slots >= 2_000 && table.slots < 4_200, `${table.slots} slots for 1,000 keys`);
});

Deno.test("SharedHashTable seeds its hash per buffer: the same keys land in different buckets", () => {
  const layout = { keys: 4_096, fields: 1, ways: 1, slotsPerKey: 1 };
  const first = new SharedHashTable(createSharedHashTable(layout));
  const second = new SharedHashTable(createSharedHashTable(layout));
  let same = 0;
  for (let i = 0; i < 64; i++) {
    // With one way per bucket, a key's slot index is its bucket.
    const a = first.acquire(`k${i}`, 0) === -1 ? first.insert(0) : -1;
    first.release();
    const b = second.acquire(`k${i}`, 0) === -1 ? second.insert(0) : -1;
    second.release();
    if (a === b) same++;
  }
  assert.ok(same < 8, `${same} of 64 keys in the same bucket in two buffers`);
});

Deno.test("SharedHashTable.touch() counts across handles", () => {
  const buffer = createSharedHashTable({ keys: 8, fields: 1 });
  const a = new SharedHashTable(buffer);
  const b = new SharedHashTable(buffer);
  assert.deepEqual([a.touch(), b.touch(), a.touch()], [1, 2, 3]);
});

Deno.test("SharedHashTable gives up on a lock held past lockTimeoutMs instead of hanging", () => {
  const buffer = createSharedHashTable({ keys: 8, fields: 1, ways: 8, slotsPerKey: 1 });
  const holder = new SharedHashTable(buffer);
  const waiter = new SharedHashTable(buffer, { lockTimeoutMs: 30 });
  holder.acquire("k", 0); // never released: a thread that died inside its critical section
  assert.throws(() => waiter.acquire("other", 0), SharedLockTimeoutError);
  holder.release();
  assert.equal(waiter.acquire("other", 0), -1, "usable again once released");
  waiter.release();
});

Deno.test("SharedHashTable refuses misuse: nested acquire, insert without a lock, a foreign buffer", () => {
  const table = new SharedHashTable(createSharedHashTable({ keys: 8, fields: 1 }));
  table.acquire("a", 0);
  assert.throws(() => table.acquire("b", 0), /while holding/);
  table.release();
  assert.throws(() => table.insert(0), /no bucket/);
  assert.throws(() => new SharedHashTable(new SharedArrayBuffer(1024)), TypeError);
  assert.throws(() => createSharedHashTable({ keys: 0, fields: 1 }), RangeError);
  assert.throws(() => createSharedHashTable({ keys: 8, fields: 1, rankField: 1 }), RangeError);
});
