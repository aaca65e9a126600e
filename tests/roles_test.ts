import assert from "node:assert/strict";
import { PERMISSION_NAMES } from "../src/domain/permissions.ts";
import { auditRows, createTestApp, problem, type TestApp, type TestUser } from "./helpers.ts";

const auth = (user: TestUser) => ({ headers: { Authorization: user.basic } });

async function setup(t: TestApp) {
  return {
    admin: await t.user("root-admin", ["admin"]),
    viewer: await t.user("vera", ["viewer"]),
  };
}

Deno.test("GET /permissions lists the whole catalogue with descriptions", async () => {
  await using t = await createTestApp();
  const { admin, viewer } = await setup(t);
  const res = await t.request("/permissions", auth(admin));
  assert.equal(res.status, 200);
  const { items } = await res.json() as { items: { name: string; description: string }[] };
  assert.deepEqual(items.map((p) => p.name), PERMISSION_NAMES);
  assert.ok(items.every((p) => p.description.length > 0));
  const forbidden = await t.request("/permissions", auth(viewer));
  assert.equal(forbidden.status, 403);
  await problem(forbidden);
  const anonymous = await t.request("/permissions");
  assert.equal(anonymous.status, 401);
  await problem(anonymous);
});

Deno.test("GET /roles and GET /roles/:name show the built-in roles and their permissions", async () => {
  await using t = await createTestApp();
  const { admin, viewer } = await setup(t);
  const res = await t.request("/roles", auth(admin));
  assert.equal(res.status, 200);
  const { items } = await res.json() as { items: { name: string; builtin: boolean; permissions: string[] }[] };
  assert.deepEqual(items.map((r) => [r.name, r.builtin]), [["admin", true], ["editor", true], ["viewer", true]]);
  assert.deepEqual(items[0]!.permissions, [...PERMISSION_NAMES].sort());
  const one = await t.request("/roles/editor", auth(admin));
  assert.equal(one.status, 200);
  assert.deepEqual((await one.json()).permissions, [
    "products:create",
    "products:delete",
    "products:read",
    "products:update",
  ]);
  const missing = await t.request("/roles/nosuchrole", auth(admin));
  assert.equal(missing.status, 404);
  await problem(missing);
  const forbidden = await t.request("/roles/editor", auth(viewer));
  assert.equal(forbidden.status, 403);
  await problem(forbidden);
});

Deno.test("POST /roles creates a custom role from the catalogue and records authz_change", async () => {
  await using t = await createTestApp();
  const { admin } = await setup(t);
  const res = await t.json("POST", "/roles", {
    name: "auditor",
    description: "Reads the audit log",
    permissions: ["audit:read", "products:read", "audit:read"],
  }, auth(admin));
  assert.equal(res.status, 201);
  assert.equal(res.headers.get("Location"), "/roles/auditor");
  const role = await res.json();
  assert.equal(role.builtin, false);
  assert.deepEqual(role.permissions, ["audit:read", "products:read"]);
  assert.deepEqual(t.deps.repos.roles.get("auditor")?.permissions, ["audit:read", "products:read"]);
  const [row] = auditRows(t.deps, "authz_change");
  assert.equal(row?.actor, admin.id);
  assert.equal(row?.target, "role:auditor");
  assert.equal(row?.status, 201);
  assert.deepEqual(JSON.parse(row!.detail), { action: "create", permissions: ["audit:read", "products:read"] });

  // The role works: a user granted it reads the audit log on the next request.
  const user = await t.user("audrey", ["auditor"]);
  const audit = await t.request("/audit", auth(user));
  assert.equal(audit.status, 200);
  await audit.body?.cancel();
});

Deno.test("POST /roles refuses unknown permissions, bad names and extra fields with 422", async () => {
  await using t = await createTestApp();
  const { admin } = await setup(t);
  const cases: [unknown, string][] = [
    [{ name: "ops", permissions: ["users:delete"] }, "permissions.0"],
    [{ name: "ops", permissions: ["*"] }, "permissions.0"],
    [{ name: "Ops", permissions: [] }, "name"],
    [{ name: "o", permissions: [] }, "name"],
    [{ name: "ops", permissions: [], builtin: true }, "builtin"],
    [{ name: "ops", description: "line\nbreak", permissions: [] }, "description"],
    [{ name: "ops" }, "permissions"],
  ];
  for (const [body, path] of cases) {
    const res = await t.json("POST", "/roles", body, auth(admin));
    assert.equal(res.status, 422, JSON.stringify(body));
    const errors = (await problem(res)).errors as { path: string }[];
    assert.ok(errors.some((e) => e.path === path), `${JSON.stringify(body)} → ${JSON.stringify(errors)}`);
  }
  assert.equal(t.deps.repos.roles.get("ops"), undefined);
  assert.equal(auditRows(t.deps, "authz_change").length, 0);
  assert.equal(auditRows(t.deps, "input_validation_fail").length, cases.length);
});

Deno.test("POST /roles answers 409 for an existing name (built-in included), 403 for a viewer, 401 anonymous", async () => {
  await using t = await createTestApp();
  const { admin, viewer } = await setup(t);
  for (const name of ["admin", "viewer"]) {
    const res = await t.json("POST", "/roles", { name, permissions: ["products:read"] }, auth(admin));
    assert.equal(res.status, 409, name);
    await problem(res);
  }
  assert.deepEqual(t.deps.repos.roles.get("viewer")?.permissions, ["products:read"]);
  assert.equal(t.deps.repos.roles.get("admin")?.permissions.length, PERMISSION_NAMES.length);
  const forbidden = await t.json("POST", "/roles", { name: "ops", permissions: [] }, auth(viewer));
  assert.equal(forbidden.status, 403);
  await problem(forbidden);
  const anonymous = await t.json("POST", "/roles", { name: "ops", permissions: [] });
  assert.equal(anonymous.status, 401);
  await problem(anonymous);
  assert.equal(t.deps.repos.roles.get("ops"), undefined);
});

Deno.test("PUT /roles/:name replaces a custom role; holders get the change on their next request", async () => {
  await using t = await createTestApp();
  const { admin } = await setup(t);
  t.deps.services.roles.create(null, "stock", { description: "", permissions: ["products:read"] }, {});
  const clerk = await t.user("clerk", ["stock"]);
  const before = await t.json("POST", "/products", { name: "Lamp", priceCents: 1, stock: 1 }, auth(clerk));
  assert.equal(before.status, 403);
  await before.body?.cancel();

  const res = await t.json("PUT", "/roles/stock", {
    description: "Stock clerks",
    permissions: ["products:read", "products:create"],
  }, auth(admin));
  assert.equal(res.status, 200);
  const role = await res.json();
  assert.equal(role.description, "Stock clerks");
  assert.deepEqual(role.permissions, ["products:create", "products:read"]);
  const after = await t.json("POST", "/products", { name: "Lamp", priceCents: 1, stock: 1 }, auth(clerk));
  assert.equal(after.status, 201);
  await after.body?.cancel();
  const [row] = auditRows(t.deps, "authz_change").filter((r) => r.target === "role:stock" && r.status === 200);
  assert.equal(row?.actor, admin.id);
  assert.deepEqual(JSON.parse(row!.detail), {
    action: "update",
    permissions: { from: ["products:read"], to: ["products:create", "products:read"] },
  });
});

Deno.test("PUT and DELETE on a built-in role are 409 and change nothing", async () => {
  await using t = await createTestApp();
  const { admin } = await setup(t);
  for (const name of ["admin", "editor", "viewer"]) {
    const before = t.deps.repos.roles.get(name);
    const put = await t.json("PUT", `/roles/${name}`, { permissions: ["products:read"] }, auth(admin));
    assert.equal(put.status, 409, name);
    assert.match(String((await problem(put)).detail), /Built-in roles cannot be changed/);
    const del = await t.request(`/roles/${name}`, { method: "DELETE", ...auth(admin) });
    assert.equal(del.status, 409, name);
    await problem(del);
    assert.deepEqual(t.deps.repos.roles.get(name), before);
  }
  assert.equal(auditRows(t.deps, "authz_change").length, 0);
});

Deno.test("PUT /roles/:name: 404 for a missing role, 422 for an unknown permission", async () => {
  await using t = await createTestApp();
  const { admin } = await setup(t);
  const missing = await t.json("PUT", "/roles/nosuchrole", { permissions: [] }, auth(admin));
  assert.equal(missing.status, 404);
  await problem(missing);
  t.deps.services.roles.create(null, "ops", { description: "", permissions: [] }, {});
  const bad = await t.json("PUT", "/roles/ops", { permissions: ["products:read", "root"] }, auth(admin));
  assert.equal(bad.status, 422);
  await problem(bad);
  const renamed = await t.json("PUT", "/roles/ops", { name: "admin", permissions: [] }, auth(admin));
  assert.equal(renamed.status, 422, "the name is the path, not the body");
  await problem(renamed);
  assert.deepEqual(t.deps.repos.roles.get("ops")?.permissions, []);
});

Deno.test("DELETE /roles/:name deletes an unused custom role; a role in use is 409", async () => {
  await using t = await createTestApp();
  const { admin } = await setup(t);
  t.deps.services.roles.create(null, "ops", { description: "", permissions: ["products:read"] }, {});
  const holder = await t.user("holder", ["ops"]);
  const inUse = await t.request("/roles/ops", { method: "DELETE", ...auth(admin) });
  assert.equal(inUse.status, 409);
  assert.match(String((await problem(inUse)).detail), /still granted to 1 user/);
  assert.ok(t.deps.repos.roles.get("ops"));

  t.deps.services.accounts.setRoles(null, holder.id, ["viewer"], {});
  const ok = await t.request("/roles/ops", { method: "DELETE", ...auth(admin) });
  assert.equal(ok.status, 204);
  assert.equal(t.deps.repos.roles.get("ops"), undefined);
  const [row] = auditRows(t.deps, "authz_change").filter((r) => r.status === 204);
  assert.equal(row?.target, "role:ops");
  assert.deepEqual(JSON.parse(row!.detail), { action: "delete", permissions: ["products:read"] });
  const again = await t.request("/roles/ops", { method: "DELETE", ...auth(admin) });
  assert.equal(again.status, 404);
  await problem(again);
});
