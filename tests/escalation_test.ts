/**
 * Privilege-escalation attempts against the administration API (OWASP
 * API5:2023, ASVS 5.0 8.2.x): each holder of a partial administrative
 * permission tries to reach a permission they do not hold.
 */
import assert from "node:assert/strict";
import { auditRows, createTestApp, problem, type TestApp, type TestUser } from "./helpers.ts";

const auth = (user: TestUser) => ({ headers: { Authorization: user.basic } });

function role(t: TestApp, name: string, permissions: string[]): void {
  t.deps.services.roles.create(null, name, { description: "", permissions: permissions as never[] }, {});
}

Deno.test("a users:manage holder without audit:read cannot grant admin, to others or to themself", async () => {
  await using t = await createTestApp();
  await t.user("root-admin", ["admin"]);
  role(t, "usermgr", ["users:read", "users:manage", "products:read"]);
  const mgr = await t.user("mgr", ["usermgr"]);
  const victim = await t.user("victim", ["viewer"]);

  const grant = await t.json("PUT", `/users/${victim.id}/roles`, { roles: ["admin"] }, auth(mgr));
  assert.equal(grant.status, 403);
  const body = await problem(grant);
  assert.match(String(body.detail), /do not hold: audit:read, .*roles:manage/);
  assert.deepEqual(t.deps.repos.users.rolesOf(victim.id), ["viewer"]);

  const self = await t.json("PUT", `/users/${mgr.id}/roles`, { roles: ["admin"] }, auth(mgr));
  assert.equal(self.status, 403);
  await problem(self);
  assert.deepEqual(t.deps.repos.users.rolesOf(mgr.id), ["usermgr"]);

  const fails = auditRows(t.deps, "authz_fail");
  assert.equal(fails.length, 2);
  assert.ok(fails.every((r) => r.actor === mgr.id));
  assert.equal(auditRows(t.deps, "authz_change").filter((r) => r.target?.startsWith("user:")).length, 0);

  // What they do hold, they may grant.
  const ok = await t.json("PUT", `/users/${victim.id}/roles`, { roles: ["usermgr"] }, auth(mgr));
  assert.equal(ok.status, 200);
  await ok.body?.cancel();
});

Deno.test("two users:manage holders cannot combine into more than either holds", async () => {
  await using t = await createTestApp();
  await t.user("root-admin", ["admin"]);
  role(t, "usermgr", ["users:read", "users:manage"]);
  const first = await t.user("first", ["usermgr"]);
  const second = await t.user("second", ["usermgr"]);
  for (const roles of [["usermgr", "editor"], ["admin"]]) {
    const res = await t.json("PUT", `/users/${first.id}/roles`, { roles }, auth(second));
    assert.equal(res.status, 403, roles.join());
    await problem(res);
  }
  assert.deepEqual(t.deps.repos.users.rolesOf(first.id), ["usermgr"]);
});

Deno.test("a roles:manage holder can only define roles within their own permissions", async () => {
  await using t = await createTestApp();
  await t.user("root-admin", ["admin"]);
  role(t, "rolesmith", ["roles:manage", "users:read", "products:read"]);
  role(t, "auditor", ["audit:read"]);
  const smith = await t.user("smith", ["rolesmith"]);

  const create = await t.json("POST", "/roles", { name: "spy", permissions: ["audit:read"] }, auth(smith));
  assert.equal(create.status, 403);
  assert.match(String((await problem(create)).detail), /audit:read/);
  assert.equal(t.deps.repos.roles.get("spy"), undefined);

  // Editing the role they hold themselves to add what they lack: refused, role unchanged.
  const widen = await t.json("PUT", "/roles/rolesmith", {
    permissions: ["roles:manage", "users:read", "products:read", "users:manage"],
  }, auth(smith));
  assert.equal(widen.status, 403);
  await problem(widen);
  assert.deepEqual(t.deps.repos.roles.get("rolesmith")?.permissions, ["products:read", "roles:manage", "users:read"]);

  // A role holding more than they hold is out of reach too: no editing, no deleting.
  const narrow = await t.json("PUT", "/roles/auditor", { permissions: [] }, auth(smith));
  assert.equal(narrow.status, 403);
  await problem(narrow);
  const remove = await t.request("/roles/auditor", { method: "DELETE", ...auth(smith) });
  assert.equal(remove.status, 403);
  await problem(remove);
  assert.deepEqual(t.deps.repos.roles.get("auditor")?.permissions, ["audit:read"]);

  // Without users:manage the role cannot be handed to anyone, themself included.
  const allowed = await t.json("POST", "/roles", { name: "readers", permissions: ["products:read"] }, auth(smith));
  assert.equal(allowed.status, 201);
  await allowed.body?.cancel();
  const grant = await t.json("PUT", `/users/${smith.id}/roles`, { roles: ["readers"] }, auth(smith));
  assert.equal(grant.status, 403);
  await problem(grant);
  assert.deepEqual(t.deps.repos.users.rolesOf(smith.id), ["rolesmith"]);
});

Deno.test("a users:manage holder cannot re-enable a disabled admin", async () => {
  await using t = await createTestApp();
  await t.user("root-admin", ["admin"]);
  const suspended = await t.user("suspended-admin", ["admin"]);
  t.deps.services.accounts.setDisabled(null, suspended.id, true, {});
  role(t, "helpdesk", ["users:read", "users:manage", "products:read"]);
  const desk = await t.user("desk", ["helpdesk"]);
  const res = await t.request(`/users/${suspended.id}/enable`, { method: "POST", ...auth(desk) });
  assert.equal(res.status, 403);
  await problem(res);
  assert.equal(t.deps.repos.users.findById(suspended.id)?.disabled, true);
});

Deno.test("registration cannot choose roles: a roles field is 422 and no user is created", async () => {
  await using t = await createTestApp();
  const res = await t.json("POST", "/auth/register", {
    username: "mallory",
    password: "correct horse battery staple 42",
    roles: ["admin"],
  });
  assert.equal(res.status, 422);
  await problem(res);
  assert.equal(t.deps.repos.users.findByUsername("mallory"), undefined);
});

Deno.test("deleting a user keeps their products unowned, and their id never names a new user", async () => {
  await using t = await createTestApp();
  const admin = await t.user("root-admin", ["admin"]);
  const owner = await t.user("owner", ["editor"]);
  const created = await t.json("POST", "/products", { name: "Lamp", priceCents: 100, stock: 1 }, auth(owner));
  assert.equal(created.status, 201);
  const product = await created.json();
  assert.equal(product.ownerId, owner.id);

  const del = await t.request(`/users/${owner.id}`, { method: "DELETE", ...auth(admin) });
  assert.equal(del.status, 204);
  assert.equal(t.deps.repos.products.get(product.id)?.ownerId, null);

  // `owner` had the highest id; without sql/003 SQLite would hand it to the next user,
  // who would then appear as the actor of the old owner's audit rows.
  const successor = await t.user("successor", ["editor"]);
  assert.ok(successor.id > owner.id, `${successor.id} reuses ${owner.id}`);
  const takeover = await t.json(
    "PUT",
    `/products/${product.id}`,
    { name: "Mine", priceCents: 1, stock: 1 },
    auth(successor),
  );
  assert.equal(takeover.status, 403);
  await problem(takeover);
  // products:manage still can.
  const managed = await t.json(
    "PUT",
    `/products/${product.id}`,
    { name: "Lamp", priceCents: 90, stock: 1 },
    auth(admin),
  );
  assert.equal(managed.status, 200);
  await managed.body?.cancel();
  const actors = auditRows(t.deps, "product_created").map((r) => r.actor);
  assert.deepEqual(actors, [owner.id]);
});
