/** The contract of `products`: versions, optimistic concurrency and literal search. */
import assert from "node:assert/strict";
import { createUser, LATER, type MakeStore, NOW, testName, withStore } from "./contract_helpers.ts";

const LAMP = { name: "Lamp", description: "", priceCents: 1999, stock: 3 };

/** Registers the products cases for `engine`. */
export function defineProductsContract(engine: string, makeStore: MakeStore): void {
  const test = (behaviour: string, fn: Parameters<typeof withStore>[1]) =>
    Deno.test(testName(engine, "products", behaviour), () => withStore(makeStore, fn));

  test("create() stores version 1 with the owner and times; get() reads it back", async (store) => {
    const owner = await createUser(store, "alice");
    const product = await store.transaction((tx) => tx.products.create(LAMP, owner, NOW));
    assert.equal(typeof product.id, "number");
    assert.deepEqual(product, { ...LAMP, id: product.id, ownerId: owner, createdAt: NOW, updatedAt: NOW, version: 1 });
    assert.deepEqual(await store.products.get(product.id), product);
    assert.equal(await store.products.get(product.id + 1000), undefined);
  });

  test("update() bumps the version when the expected one matches, and reports stale or missing", async (store) => {
    const owner = await createUser(store, "alice");
    const { id } = await store.transaction((tx) => tx.products.create(LAMP, owner, NOW));
    const changed = { ...LAMP, name: "Desk" };
    const ok = await store.transaction((tx) => tx.products.update(id, changed, 1, LATER));
    assert.ok(ok.ok);
    assert.deepEqual([ok.product.name, ok.product.version, ok.product.updatedAt], ["Desk", 2, LATER]);
    assert.deepEqual(await store.transaction((tx) => tx.products.update(id, LAMP, 1, LATER)), {
      ok: false,
      reason: "stale",
    });
    const unconditional = await store.transaction((tx) => tx.products.update(id, LAMP, null, LATER));
    assert.ok(unconditional.ok && unconditional.product.version === 3);
    assert.deepEqual(await store.transaction((tx) => tx.products.update(id + 1000, LAMP, null, LATER)), {
      ok: false,
      reason: "missing",
    });
  });

  test("list() pages by id and matches q literally: % and _ are not wildcards", async (store) => {
    const owner = await createUser(store, "alice");
    const names = ["100% cotton", "1000 cotton", "snake_case", "snakeXcase", "Plain"];
    const ids = [];
    for (const name of names) {
      ids.push((await store.transaction((tx) => tx.products.create({ ...LAMP, name }, owner, NOW))).id);
    }
    assert.deepEqual((await store.products.list({ after: 0, limit: 2 })).map((p) => p.id), ids.slice(0, 2));
    assert.deepEqual((await store.products.list({ after: ids[2]!, limit: 10 })).map((p) => p.name), [
      "snakeXcase",
      "Plain",
    ]);
    assert.deepEqual((await store.products.list({ after: 0, limit: 10, q: "0%" })).map((p) => p.name), ["100% cotton"]);
    assert.deepEqual((await store.products.list({ after: 0, limit: 10, q: "e_c" })).map((p) => p.name), ["snake_case"]);
    assert.deepEqual((await store.products.list({ after: 0, limit: 10, q: "plain" })).map((p) => p.name), ["Plain"]);
  });

  test("delete() removes a product once; an owner's deletion leaves the product unowned", async (store) => {
    const owner = await createUser(store, "alice");
    const a = await store.transaction((tx) => tx.products.create(LAMP, owner, NOW));
    const b = await store.transaction((tx) => tx.products.create(LAMP, owner, NOW));
    assert.equal(await store.transaction((tx) => tx.products.delete(a.id)), true);
    assert.equal(await store.transaction((tx) => tx.products.delete(a.id)), false);
    await store.transaction((tx) => tx.users.delete(owner));
    assert.equal((await store.products.get(b.id))!.ownerId, null);
  });
}
