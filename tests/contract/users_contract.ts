/** The contract of `users`: reads, writes, principals, uniqueness and ids that are never reused. */
import assert from "node:assert/strict";
import { UniqueViolation } from "../../src/db/store.ts";
import {
  createUser,
  HASH,
  LATER,
  type MakeStore,
  NOW,
  seedCatalogue,
  testName,
  withStore,
} from "./contract_helpers.ts";

const NEW_HASH = "$pbkdf2-sha256$i=2000$c2FsdA$bmV3";
const REHASH = "$pbkdf2-sha256$i=4000$c2FsdA$cmVoYXNo";

/** Registers the users cases for `engine`. */
export function defineUsersContract(engine: string, makeStore: MakeStore): void {
  const test = (behaviour: string, fn: Parameters<typeof withStore>[1]) =>
    Deno.test(testName(engine, "users", behaviour), () => withStore(makeStore, fn));

  test("create() returns a numeric id; findById/findByUsername read the record back exactly", async (store) => {
    const id = await store.transaction((tx) => tx.users.create("Alice", HASH, NOW));
    assert.equal(typeof id, "number");
    const expected = {
      id,
      username: "Alice",
      passwordHash: HASH,
      disabled: false,
      mustChangePassword: false,
      createdAt: NOW,
      updatedAt: NOW,
    };
    assert.deepEqual({ ...(await store.users.findById(id)) }, expected);
    assert.deepEqual({ ...(await store.users.findByUsername("alice")) }, expected, "names compare in any case");
    assert.equal(await store.users.findById(id + 1000), undefined);
    assert.equal(await store.users.findByUsername("nobody"), undefined);
  });

  test("create() rejects a name taken in any case with UniqueViolation", async (store) => {
    await createUser(store, "alice");
    await assert.rejects(store.transaction((tx) => tx.users.create("ALICE", HASH, NOW)), UniqueViolation);
    assert.equal(await store.users.count(), 1);
  });

  test("create() never hands a deleted user's id to a new user", async (store) => {
    const a = await createUser(store, "alpha");
    const b = await createUser(store, "bravo");
    await store.transaction((tx) => tx.users.delete(b));
    const c = await createUser(store, "charlie");
    assert.ok(c > b && b > a, `${a} < ${b} < ${c}`);
  });

  test("setRoles() replaces the grants (duplicates ignored); rolesOf() lists them sorted", async (store) => {
    await seedCatalogue(store);
    const id = await createUser(store, "alice", ["viewer"]);
    await store.transaction((tx) => tx.users.setRoles(id, ["viewer", "editor", "viewer"], LATER));
    assert.deepEqual(await store.users.rolesOf(id), ["editor", "viewer"]);
    assert.equal((await store.users.findById(id))!.updatedAt, LATER);
  });

  test("loadPrincipal() carries roles and the effective permissions; WithHash adds the stored hash", async (store) => {
    await seedCatalogue(store);
    const id = await createUser(store, "alice", ["editor"]);
    const principal = (await store.users.loadPrincipal(id))!;
    assert.equal(principal.username, "alice");
    assert.deepEqual(principal.roles, ["editor"]);
    assert.deepEqual([...principal.permissions].sort(), [
      "products:create",
      "products:delete",
      "products:read",
      "products:update",
    ]);
    const withHash = (await store.users.loadPrincipalWithHash(id))!;
    assert.equal(withHash.passwordHash, HASH);
    assert.deepEqual(withHash.principal.roles, ["editor"]);
    assert.equal(await store.users.loadPrincipal(id + 1000), undefined);
  });

  test("the must-change flag: set by create() or setPasswordHash() when asked, kept by a rehash, seen by principals", async (store) => {
    const id = await store.transaction((tx) => tx.users.create("olga", HASH, NOW, true));
    assert.equal((await store.users.findById(id))!.mustChangePassword, true);
    assert.equal((await store.users.loadPrincipal(id))!.mustChangePassword, true);
    const before = await store.authz.generation();
    assert.equal(await store.transaction((tx) => tx.users.replacePasswordHash(id, HASH, REHASH, LATER)), true);
    assert.equal((await store.users.findByUsername("OLGA"))!.mustChangePassword, true, "a rehash keeps it");
    await store.transaction((tx) => tx.users.setPasswordHash(id, NEW_HASH, LATER));
    assert.equal((await store.users.loadPrincipal(id))!.mustChangePassword, false, "the user's own change clears it");
    await store.transaction((tx) => tx.users.setPasswordHash(id, HASH, LATER, true));
    assert.equal((await store.users.list(0, 10))[0]!.mustChangePassword, true, "an operator's reset sets it");
    assert.ok(await store.authz.generation() > before, "cached principals are invalidated");
  });

  test("replacePasswordHash() swaps only a hash that is still the old one", async (store) => {
    const id = await createUser(store, "alice");
    const changed = await store.transaction((tx) => tx.users.setPasswordHash(id, NEW_HASH, LATER));
    assert.equal(changed, true);
    assert.equal(await store.transaction((tx) => tx.users.replacePasswordHash(id, HASH, REHASH, LATER)), false);
    assert.equal(await store.transaction((tx) => tx.users.replacePasswordHash(id, NEW_HASH, REHASH, LATER)), true);
    assert.equal((await store.users.findById(id))!.passwordHash, REHASH);
  });

  test("setDisabled() and countActiveWithRole() count only enabled holders", async (store) => {
    await seedCatalogue(store);
    const a = await createUser(store, "alice", ["admin"]);
    await createUser(store, "bob", ["admin"]);
    assert.equal(await store.users.countActiveWithRole("admin"), 2);
    assert.equal(await store.transaction((tx) => tx.users.setDisabled(a, true, LATER)), true);
    assert.equal(await store.users.countActiveWithRole("admin"), 1);
    assert.equal((await store.users.findById(a))!.disabled, true);
    assert.equal(await store.transaction((tx) => tx.users.setDisabled(a + 1000, true, LATER)), false);
  });

  test("delete() removes the user with their grants and tokens", async (store) => {
    await seedCatalogue(store);
    const id = await createUser(store, "alice", ["viewer"]);
    await store.transaction((tx) => tx.tokens.create("a".repeat(64), id, 1, 2));
    assert.equal(await store.transaction((tx) => tx.users.delete(id)), true);
    assert.equal(await store.users.findById(id), undefined);
    assert.deepEqual(await store.users.rolesOf(id), []);
    assert.equal(await store.tokens.find("a".repeat(64)), undefined);
    assert.equal(await store.transaction((tx) => tx.users.delete(id)), false);
  });

  test("list() pages by id after a key; count() counts", async (store) => {
    const ids = [];
    for (const name of ["alpha", "bravo", "charlie", "delta"]) ids.push(await createUser(store, name));
    assert.deepEqual((await store.users.list(0, 2)).map((u) => u.id), ids.slice(0, 2));
    assert.deepEqual((await store.users.list(ids[1]!, 10)).map((u) => u.username), ["charlie", "delta"]);
    assert.equal(await store.users.count(), 4);
  });
}
