/**
 * Broken function-level authorization (OWASP API5:2023): ordinary users
 * must not reach administrative functions. The routes come from the app's
 * own route table, so an administrative route added later is called here
 * without anyone listing it.
 */
import assert from "node:assert/strict";
import { BUILTIN_ROLES, type Permission, PERMISSION_NAMES } from "../src/domain/permissions.ts";
import { auditRows, createTestApp, problem, type TestApp, type TestUser } from "./helpers.ts";
import { type InventoryEntry, routeInventory } from "./route_inventory.ts";

/** Permissions neither built-in non-admin role holds: what makes a route administrative. */
const ADMIN_PERMISSIONS: ReadonlySet<Permission> = new Set(
  PERMISSION_NAMES.filter((p) =>
    ![...BUILTIN_ROLES.editor.permissions, ...BUILTIN_ROLES.viewer.permissions].includes(p)
  ),
);
/** Paths that are administrative whatever guard they carry (a wrong, weaker guard must not hide one). */
const ADMIN_PREFIXES = ["/users", "/roles", "/permissions", "/audit"];

function isAdministrative(route: InventoryEntry): boolean {
  const guarded = route.guards.some((g) => g.kind === "permission" && ADMIN_PERMISSIONS.has(g.permission));
  return guarded || ADMIN_PREFIXES.some((prefix) => route.path === prefix || route.path.startsWith(`${prefix}/`));
}

/** A request that would succeed for an admin: real ids and valid bodies, so only the guard can stop it. */
function concrete(route: InventoryEntry, victim: TestUser): { path: string; body: unknown } {
  const path = route.path.replace(":id", String(victim.id)).replace(":name", "victims");
  const bodies: Record<string, unknown> = {
    "PUT /users/:id/roles": { roles: ["admin"] },
    "POST /roles": { name: "escalated", permissions: PERMISSION_NAMES },
    "PUT /roles/:name": { permissions: PERMISSION_NAMES },
  };
  return { path, body: bodies[`${route.method} ${route.path}`] };
}

async function call(t: TestApp, route: InventoryEntry, victim: TestUser, caller: TestUser | null) {
  const { path, body } = concrete(route, victim);
  const headers: Record<string, string> = caller ? { Authorization: caller.basic } : {};
  return body === undefined
    ? await t.request(path, { method: route.method, headers })
    : await t.json(route.method, path, body, { headers });
}

async function world() {
  const t = await createTestApp();
  await t.user("root-admin", ["admin"]);
  await t.deps.services.roles.create(null, "victims", { description: "", permissions: ["products:read"] }, {});
  const victim = await t.user("victim", ["victims"]);
  const routes = routeInventory(t.app).filter(isAdministrative);
  return { t, victim, routes, [Symbol.asyncDispose]: () => t[Symbol.asyncDispose]() };
}

async function assertUntouched(t: TestApp, victim: TestUser): Promise<void> {
  assert.deepEqual(await t.deps.store.users.rolesOf(victim.id), ["victims"]);
  assert.equal((await t.deps.store.users.findById(victim.id))?.disabled, false);
  assert.deepEqual((await t.deps.store.roles.get("victims"))?.permissions, ["products:read"]);
  assert.equal(await t.deps.store.roles.get("escalated"), undefined);
  assert.equal((await auditRows(t.deps, "authz_change")).filter((r) => r.actor !== null).length, 0);
  assert.equal((await auditRows(t.deps, "user_updated")).length, 0);
  assert.equal((await auditRows(t.deps, "user_deleted")).length, 0);
}

Deno.test("the administrative routes are the ones the README lists, found from the route table (API5)", async () => {
  await using w = await world();
  const { routes } = w;
  assert.deepEqual(routes.map((r) => `${r.method} ${r.path}`).sort(), [
    "DELETE /roles/:name",
    "DELETE /sessions",
    "DELETE /users/:id",
    "DELETE /users/:id/sessions",
    "GET /audit",
    "GET /audit/verify",
    "GET /metrics",
    "GET /permissions",
    "GET /roles",
    "GET /roles/:name",
    "GET /users",
    "GET /users/:id",
    "POST /roles",
    "POST /users/:id/disable",
    "POST /users/:id/enable",
    "PUT /roles/:name",
    "PUT /users/:id/roles",
  ]);
});

for (const role of ["viewer", "editor"] as const) {
  Deno.test(`every administrative route answers 403 to a ${role} and changes nothing (API5)`, async () => {
    await using w = await world();
    const { t, victim, routes } = w;
    const caller = await t.user(`plain-${role}`, [role]);
    for (const route of routes) {
      const res = await call(t, route, victim, caller);
      assert.equal(res.status, 403, `${route.method} ${route.path} as ${role}`);
      const body = await problem(res);
      assert.equal(body.type, "urn:secure-api:problem:forbidden");
    }
    await assertUntouched(t, victim);
    const fails = await auditRows(t.deps, "authz_fail");
    assert.equal(fails.length, routes.length, "each refusal is audited");
    assert.ok(fails.every((r) => r.actor === caller.id && r.status === 403));
  });
}

Deno.test("every administrative route answers 401 with a challenge to an anonymous caller (API5)", async () => {
  await using w = await world();
  const { t, victim, routes } = w;
  for (const route of routes) {
    const res = await call(t, route, victim, null);
    assert.equal(res.status, 401, `${route.method} ${route.path}`);
    assert.match(res.headers.get("WWW-Authenticate") ?? "", /^Basic /);
    await problem(res);
  }
  await assertUntouched(t, victim);
});

Deno.test("the same administrative requests succeed for an admin, so the 403s come from the guards (API5)", async () => {
  await using w = await world();
  const { t, victim, routes } = w;
  const admin = await t.user("second-admin", ["admin"]);
  // Destructive ones last, the user last of all (the PUT on roles has moved the victim off "victims").
  const rank = (r: InventoryEntry) => r.method !== "DELETE" ? 0 : r.path.startsWith("/users") ? 2 : 1;
  const ordered = [...routes].sort((a, b) => rank(a) - rank(b));
  for (const route of ordered) {
    const res = await call(t, route, victim, admin);
    assert.ok(res.status < 300, `${route.method} ${route.path} as admin: ${res.status} ${await res.clone().text()}`);
    await res.body?.cancel();
  }
});
