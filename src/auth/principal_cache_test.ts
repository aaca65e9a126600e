import assert from "node:assert/strict";
import { openDatabase } from "../db/database.ts";
import { loadMigrations, migrate } from "../db/migrate.ts";
import { createRolesRepo } from "../db/roles_repo.ts";
import { createUsersRepo } from "../db/users_repo.ts";
import { PrincipalCache } from "./principal_cache.ts";

async function setup(path = ":memory:") {
  const db = openDatabase(path);
  migrate(db, await loadMigrations());
  const now = new Date().toISOString();
  createRolesRepo(db).syncCatalogue(now);
  const users = createUsersRepo(db);
  const id = users.create("alice", "$pbkdf2-sha256$i=1$" + "A".repeat(22) + "$" + "A".repeat(43), now);
  users.setRoles(id, ["viewer"], now);
  let loads = 0;
  const counting = { ...users, loadPrincipalWithHash: (n: number) => (loads++, users.loadPrincipalWithHash(n)) };
  return { db, users, id, now, cache: new PrincipalCache(db, counting), loads: () => loads };
}

Deno.test("PrincipalCache loads a principal once while nothing changes", async () => {
  const s = await setup();
  for (let i = 0; i < 5; i++) assert.deepEqual(s.cache.load(s.id)!.roles, ["viewer"]);
  assert.equal(s.loads(), 1);
});

Deno.test("PrincipalCache sees a role grant, a role's new permission and a disable on the next load", async () => {
  const s = await setup();
  assert.equal(s.cache.load(s.id)!.permissions.has("products:create"), false);
  s.users.setRoles(s.id, ["editor"], s.now);
  assert.equal(s.cache.load(s.id)!.permissions.has("products:create"), true);
  s.db.prepare("INSERT INTO role_permissions (role, permission) VALUES ('editor', 'audit:read')").run();
  assert.equal(s.cache.load(s.id)!.permissions.has("audit:read"), true);
  s.db.prepare("DELETE FROM role_permissions WHERE role = 'editor' AND permission = 'audit:read'").run();
  assert.equal(s.cache.load(s.id)!.permissions.has("audit:read"), false);
  s.users.setDisabled(s.id, true, s.now);
  assert.equal(s.cache.load(s.id)!.disabled, true);
  s.users.delete(s.id);
  assert.equal(s.cache.load(s.id), undefined);
});

Deno.test("PrincipalCache sees a change made through another connection (another process)", async () => {
  const dir = await Deno.makeTempDir();
  const s = await setup(`${dir}/app.db`);
  assert.deepEqual(s.cache.load(s.id)!.roles, ["viewer"]);
  const other = openDatabase(`${dir}/app.db`);
  createUsersRepo(other).setRoles(s.id, ["admin"], s.now);
  other.close();
  assert.deepEqual(s.cache.load(s.id)!.roles, ["admin"]);
  s.db.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("PrincipalCache reloads after a password change, so the stamp follows the stored hash", async () => {
  const s = await setup();
  const cache = new PrincipalCache(s.db, s.users, { stamp: (hash) => `stamp:${hash.slice(-4)}` });
  assert.equal(cache.loadWithStamp(s.id)!.stamp, "stamp:AAAA");
  s.users.setPasswordHash(s.id, "$pbkdf2-sha256$i=2$" + "B".repeat(22) + "$" + "B".repeat(43), s.now);
  assert.equal(cache.loadWithStamp(s.id)!.stamp, "stamp:BBBB");
});

Deno.test("PrincipalCache is not invalidated by unrelated writes (products, tokens)", async () => {
  const s = await setup();
  s.cache.load(s.id);
  s.db.prepare(
    "INSERT INTO products (name, price_cents, stock, owner_id, created_at, updated_at) VALUES ('x', 1, 1, :o, :n, :n)",
  ).run({ o: s.id, n: s.now });
  s.cache.load(s.id);
  assert.equal(s.loads(), 1);
});

Deno.test("PrincipalCache hands out frozen principals", async () => {
  const s = await setup();
  const principal = s.cache.load(s.id)!;
  assert.ok(Object.isFrozen(principal));
  assert.ok(Object.isFrozen(principal.roles));
});
