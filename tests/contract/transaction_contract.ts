/**
 * The contract of transactions: commit and rollback, after-commit hooks,
 * isolation from reads outside, snapshots, the authorization generation, and
 * the error a database that cannot serve must give.
 */
import assert from "node:assert/strict";
import { createUser, HASH, type MakeStore, NOW, seedCatalogue, testName, withStore } from "./contract_helpers.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Registers the transaction cases for `engine`. */
export function defineTransactionContract(engine: string, makeStore: MakeStore): void {
  const test = (behaviour: string, fn: Parameters<typeof withStore>[1]) =>
    Deno.test(testName(engine, "transaction()", behaviour), () => withStore(makeStore, fn));

  test("commits what fn wrote and resolves to its result", async (store) => {
    const id = await store.transaction(async (tx) => {
      const id = await tx.users.create("alice", HASH, NOW);
      assert.equal((await tx.users.findById(id))?.username, "alice", "a transaction reads its own writes");
      return id;
    });
    assert.equal((await store.users.findById(id))?.username, "alice");
  });

  test("rolls back everything when fn rejects, and passes the rejection on", async (store) => {
    await assert.rejects(
      store.transaction(async (tx) => {
        await tx.users.create("alice", HASH, NOW);
        await tx.users.create("bob", HASH, NOW);
        throw new Error("a rule failed after the writes");
      }),
      /a rule failed/,
    );
    assert.equal(await store.users.count(), 0);
  });

  test("runs afterCommit hooks in order once committed, and never on rollback", async (store) => {
    const ran: string[] = [];
    await store.transaction(async (tx) => {
      tx.afterCommit(() => ran.push("first"));
      await tx.users.create("alice", HASH, NOW);
      tx.afterCommit(() => ran.push("second"));
      assert.deepEqual(ran, [], "not before the commit");
    });
    assert.deepEqual(ran, ["first", "second"]);
    await assert.rejects(store.transaction((tx) => {
      tx.afterCommit(() => ran.push("rolled back"));
      return Promise.reject(new Error("no"));
    }));
    assert.deepEqual(ran, ["first", "second"]);
  });

  test("keeps its uncommitted writes from reads outside it, even while it waits", async (store) => {
    const inside = Promise.withResolvers<void>();
    const finish = Promise.withResolvers<void>();
    const writer = store.transaction(async (tx) => {
      await tx.users.create("pending", HASH, NOW);
      inside.resolve();
      await finish.promise;
      throw new Error("rolled back");
    });
    await inside.promise;
    const read = store.users.findByUsername("pending");
    await sleep(10);
    finish.resolve();
    await assert.rejects(writer, /rolled back/);
    assert.equal(await read, undefined);
  });

  test("accepts { exclusive: true }: exclusive transactions do not interleave", async (store) => {
    const order: string[] = [];
    const one = (name: string) =>
      store.transaction(async (tx) => {
        order.push(`${name} in`);
        await tx.users.count();
        await sleep(5);
        order.push(`${name} out`);
      }, { exclusive: true });
    await Promise.all([one("a"), one("b")]);
    assert.deepEqual(order, ["a in", "a out", "b in", "b out"]);
  });

  test("snapshot() gives reads over committed data", async (store) => {
    await createUser(store, "alice");
    const seen = await store.snapshot(async (
      reads,
    ) => [await reads.users.count(), (await reads.users.list(0, 10)).length]);
    assert.deepEqual(seen, [1, 1]);
  });

  test("authz.generation() moves on grants, role permissions, disable and password changes, not on products", async (store) => {
    await seedCatalogue(store);
    const id = await createUser(store, "alice", ["viewer"]);
    let last = await store.authz.generation();
    const moved = async (what: string, change: () => Promise<unknown>, expected = true) => {
      await change();
      const now = await store.authz.generation();
      assert.equal(now !== last, expected, what);
      last = now;
    };
    await moved("a grant", () => store.transaction((tx) => tx.users.setRoles(id, ["editor"], NOW)));
    await moved(
      "a role's permissions",
      () => store.transaction((tx) => tx.roles.update("editor", "", ["products:read"], NOW)),
    );
    await moved("a disable", () => store.transaction((tx) => tx.users.setDisabled(id, true, NOW)));
    await moved("a password change", () => store.transaction((tx) => tx.users.setPasswordHash(id, `${HASH}x`, NOW)));
    await moved(
      "a product",
      () =>
        store.transaction((tx) => tx.products.create({ name: "x", description: "", priceCents: 1, stock: 1 }, id, NOW)),
      false,
    );
  });

  test("ping() resolves and migrationStatus() reports nothing pending on a migrated store", async (store) => {
    await store.ping();
    const status = await store.migrationStatus();
    assert.deepEqual(status.pending, []);
    assert.ok(status.applied.length > 0);
  });
}
