/**
 * What is particular to the SQLite store: one synchronous connection shared
 * by async callers (the gate), `BEGIN IMMEDIATE` across processes, and the
 * translation of SQLite's errors. The behaviour every store shares is in
 * `tests/contract/`.
 */
import assert from "node:assert/strict";
import { testStore } from "../../../tests/helpers.ts";
import { StoreUnavailable, UniqueViolation } from "../store.ts";
import { openDatabase } from "./database.ts";
import { openSQLiteStore } from "./sqlite_store.ts";

const NOW = "2026-01-01T00:00:00.000Z";
const HASH = "$pbkdf2-sha256$i=1000$c2FsdA$aGFzaA";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("SQLiteStore: a read during another request's open transaction never sees its uncommitted row", async () => {
  await using store = await testStore();
  const inside = Promise.withResolvers<void>();
  const finish = Promise.withResolvers<void>();
  const writer = store.transaction(async (tx) => {
    await tx.users.create("pending", HASH, NOW);
    inside.resolve();
    // The transaction awaits (a timer here; a slow step in real code) while the row is uncommitted.
    await finish.promise;
    throw new Error("the writer gives up: rolled back");
  });
  await inside.promise;
  const read = store.users.findByUsername("pending");
  let settled = false;
  void read.then(() => settled = true);
  await sleep(20);
  assert.equal(settled, false, "the read waits for the transaction to end instead of reading inside it");
  finish.resolve();
  await assert.rejects(writer, /rolled back/);
  assert.equal(await read, undefined, "the rolled-back row was never visible");
  assert.equal(await store.users.findByUsername("pending"), undefined);
});

Deno.test("SQLiteStore: a read queued behind a transaction sees what it committed", async () => {
  await using store = await testStore();
  const inside = Promise.withResolvers<void>();
  const writer = store.transaction(async (tx) => {
    const id = await tx.users.create("kept", HASH, NOW);
    inside.resolve();
    await sleep(10);
    return id;
  });
  await inside.promise;
  const read = store.users.findByUsername("kept");
  const id = await writer;
  assert.equal((await read)?.id, id);
});

Deno.test("SQLiteStore: transactions run one at a time; the second sees the first's commit", async () => {
  await using store = await testStore();
  const order: string[] = [];
  const first = store.transaction(async (tx) => {
    order.push("first begins");
    await tx.users.create("first", HASH, NOW);
    await sleep(10);
    order.push("first ends");
  });
  const second = store.transaction(async (tx) => {
    order.push("second begins");
    order.push(`second sees ${await tx.users.count()} user(s)`);
  });
  await Promise.all([first, second]);
  assert.deepEqual(order, ["first begins", "first ends", "second begins", "second sees 1 user(s)"]);
});

Deno.test("SQLiteStore: a store read or a nested transaction from inside a transaction is an error, not a deadlock", async () => {
  await using store = await testStore();
  await assert.rejects(
    store.transaction(async () => {
      await store.users.count();
    }),
    /use the tx's repositories/,
  );
  await assert.rejects(
    store.transaction(async () => {
      await store.transaction(() => Promise.resolve());
    }),
    /transactions do not nest/,
  );
  // The store is usable afterwards: nothing was left open.
  assert.equal(await store.users.count(), 0);
});

Deno.test("SQLiteStore: a tx used after its transaction ended is refused", async () => {
  await using store = await testStore();
  let kept: { users: { count(): Promise<number> } } | undefined;
  await store.transaction((tx) => {
    kept = tx;
    return Promise.resolve();
  });
  await assert.rejects(kept!.users.count(), /this transaction has ended/);
});

Deno.test("SQLiteStore: a write lock held by another process past the busy timeout is StoreUnavailable", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await using store = await testStore(`${dir}/app.db`);
    await using impatient = await openSQLiteStore(`${dir}/app.db`, { busyTimeoutMs: 50 });
    const other = openDatabase(`${dir}/app.db`, { busyTimeoutMs: 0 });
    other.begin("immediate");
    try {
      await assert.rejects(impatient.transaction((tx) => tx.users.create("xavier", HASH, NOW)), StoreUnavailable);
    } finally {
      other.rollback();
      other.close();
    }
    // Once the lock is gone, writing works again.
    await store.transaction((tx) => tx.users.create("xavier", HASH, NOW));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SQLiteStore: SQLite's UNIQUE failure surfaces as UniqueViolation, the transaction rolled back", async () => {
  await using store = await testStore();
  await store.transaction((tx) => tx.users.create("alice", HASH, NOW));
  await assert.rejects(
    store.transaction(async (tx) => {
      await tx.users.create("bob", HASH, NOW);
      await tx.users.create("ALICE", HASH, NOW);
    }),
    (error: unknown) => error instanceof UniqueViolation && !/UNIQUE constraint/.test(error.message),
  );
  assert.equal(await store.users.findByUsername("bob"), undefined, "the whole transaction rolled back");
});

Deno.test("SQLiteStore.snapshot() reads one consistent state while another connection writes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await using reader = await testStore(`${dir}/app.db`);
    await using writer = await testStore(`${dir}/app.db`);
    await writer.transaction((tx) => tx.users.create("before", HASH, NOW));
    const counts = await reader.snapshot(async (reads) => {
      const first = await reads.users.count();
      await writer.transaction((tx) => tx.users.create("during", HASH, NOW));
      return [first, await reads.users.count()];
    });
    assert.deepEqual(counts, [1, 1], "the snapshot does not see the write made during it");
    assert.equal(await reader.users.count(), 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SQLiteStore.close() waits for the running transaction, then refuses further use", async () => {
  await using store = await testStore();
  const inside = Promise.withResolvers<void>();
  const writer = store.transaction(async (tx) => {
    inside.resolve();
    await sleep(10);
    return await tx.users.create("last", HASH, NOW);
  });
  await inside.promise;
  await store.close();
  assert.equal(await writer, 1, "the transaction finished and committed before the close");
  await assert.rejects(store.users.count(), /the data store is closed/);
  await assert.rejects(store.transaction(() => Promise.resolve()), /the data store is closed/);
});
