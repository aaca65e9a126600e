import assert from "node:assert/strict";
import type { SQLiteStore } from "../db/sqlite/sqlite_store.ts";
import { testStore } from "../../tests/helpers.ts";
import { PrincipalCache, type PrincipalCacheOptions } from "./principal_cache.ts";

const HASH_A = "$pbkdf2-sha256$i=1$" + "A".repeat(22) + "$" + "A".repeat(43);

async function setup(store: SQLiteStore, options: PrincipalCacheOptions = {}) {
  const now = new Date().toISOString();
  const id = await store.transaction(async (tx) => {
    await tx.roles.syncCatalogue(now);
    const id = await tx.users.create("alice", HASH_A, now);
    await tx.users.setRoles(id, ["viewer"], now);
    return id;
  });
  let loads = 0;
  const users = {
    ...store.users,
    loadPrincipalWithHash: (n: number) => (loads++, store.users.loadPrincipalWithHash(n)),
  };
  const cache = new PrincipalCache({ users, authz: store.authz }, options);
  return { id, now, cache, loads: () => loads };
}

Deno.test("PrincipalCache loads a principal once while nothing changes", async () => {
  await using store = await testStore();
  const s = await setup(store);
  for (let i = 0; i < 5; i++) assert.deepEqual((await s.cache.load(s.id))!.roles, ["viewer"]);
  assert.equal(s.loads(), 1);
});

Deno.test("PrincipalCache sees a role grant, a role's new permission and a disable on the next load", async () => {
  await using store = await testStore();
  const s = await setup(store);
  const db = store.database;
  const has = async (p: string) => (await s.cache.load(s.id))!.permissions.has(p as never);
  assert.equal(await has("products:create"), false);
  await store.transaction((tx) => tx.users.setRoles(s.id, ["editor"], s.now));
  assert.equal(await has("products:create"), true);
  db.prepare("INSERT INTO role_permissions (role, permission) VALUES ('editor', 'audit:read')").run();
  assert.equal(await has("audit:read"), true);
  db.prepare("DELETE FROM role_permissions WHERE role = 'editor' AND permission = 'audit:read'").run();
  assert.equal(await has("audit:read"), false);
  await store.transaction((tx) => tx.users.setDisabled(s.id, true, s.now));
  assert.equal((await s.cache.load(s.id))!.disabled, true);
  await store.transaction((tx) => tx.users.delete(s.id));
  assert.equal(await s.cache.load(s.id), undefined);
});

Deno.test("PrincipalCache sees a change made through another connection (another process)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await using store = await testStore(`${dir}/app.db`);
    const s = await setup(store);
    assert.deepEqual((await s.cache.load(s.id))!.roles, ["viewer"]);
    {
      await using other = await testStore(`${dir}/app.db`);
      await other.transaction((tx) => tx.users.setRoles(s.id, ["admin"], s.now));
    }
    assert.deepEqual((await s.cache.load(s.id))!.roles, ["admin"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("PrincipalCache reloads after a password change, so the stamp follows the stored hash", async () => {
  await using store = await testStore();
  const s = await setup(store, { stamp: (hash) => `stamp:${hash.slice(-4)}` });
  assert.equal((await s.cache.loadWithStamp(s.id))!.stamp, "stamp:AAAA");
  const hashB = "$pbkdf2-sha256$i=2$" + "B".repeat(22) + "$" + "B".repeat(43);
  await store.transaction((tx) => tx.users.setPasswordHash(s.id, hashB, s.now));
  assert.equal((await s.cache.loadWithStamp(s.id))!.stamp, "stamp:BBBB");
});

Deno.test("PrincipalCache is not invalidated by unrelated writes (products, tokens)", async () => {
  await using store = await testStore();
  const s = await setup(store);
  await s.cache.load(s.id);
  await store.transaction((tx) =>
    tx.products.create({ name: "x", description: "", priceCents: 1, stock: 1 }, s.id, s.now)
  );
  await store.transaction((tx) => tx.tokens.create("a".repeat(64), s.id, 1, 2));
  await s.cache.load(s.id);
  assert.equal(s.loads(), 1);
});

Deno.test("PrincipalCache serves the change, not the pre-change principal, when a load and a grant interleave", async () => {
  await using store = await testStore();
  const s = await setup(store);
  // The load reads the generation, then (after a turn of the event loop) the principal. A grant that
  // commits in between must not leave the pre-grant principal cached under the new generation.
  const first = s.cache.load(s.id);
  await store.transaction((tx) => tx.users.setRoles(s.id, ["editor"], s.now));
  await first;
  assert.equal((await s.cache.load(s.id))!.permissions.has("products:create"), true);
});

Deno.test("PrincipalCache hands out frozen principals", async () => {
  await using store = await testStore();
  const s = await setup(store);
  const principal = (await s.cache.load(s.id))!;
  assert.ok(Object.isFrozen(principal));
  assert.ok(Object.isFrozen(principal.roles));
});
