/**
 * Deny by default (OWASP API5:2023, ASVS 5.0 8.2.1; SECURITY.md "Authorization"): every route
 * declares exactly one guard — a permission, "any authenticated user", or an
 * explicit public mark — and it runs before anything else on the route.
 */
import assert from "node:assert/strict";
import { Hono } from "hono";
import { createApp } from "../src/app.ts";
import type { AppEnv } from "../src/app_env.ts";
import { publicRoute, requirePermission, requireUser } from "../src/middleware/require_permission.ts";
import { jsonBody } from "../src/middleware/validate.ts";
import { roleGrantInput } from "../src/schemas/admin.ts";
import { createTestApp } from "./helpers.ts";
import { describeGuard, inventoryProblems, routeInventory } from "./route_inventory.ts";

/** The access each route declares (README "Endpoints"), as a table. */
const DECLARED: Record<string, string> = {
  "GET /health": "public",
  "GET /openapi.json": "public",
  "POST /auth/register": "public",
  "POST /auth/login": "authenticated",
  "POST /auth/logout": "authenticated",
  "GET /auth/me": "authenticated",
  "PUT /auth/password": "authenticated",
  "GET /products": "products:read",
  "GET /products/:id": "products:read",
  "POST /products": "products:create",
  "PUT /products/:id": "products:update",
  "DELETE /products/:id": "products:delete",
  "GET /users": "users:read",
  "GET /users/:id": "users:read",
  "PUT /users/:id/roles": "users:manage",
  "POST /users/:id/disable": "users:manage",
  "POST /users/:id/enable": "users:manage",
  "DELETE /users/:id": "users:manage",
  "GET /permissions": "users:read",
  "GET /roles": "users:read",
  "GET /roles/:name": "users:read",
  "POST /roles": "roles:manage",
  "PUT /roles/:name": "roles:manage",
  "DELETE /roles/:name": "roles:manage",
  "GET /audit": "audit:read",
  "GET /audit/verify": "audit:read",
};

Deno.test("route inventory: every route of the app has exactly one guard, and it runs first", async () => {
  const t = await createTestApp();
  assert.deepEqual(inventoryProblems(t.app), []);
  assert.ok(routeInventory(t.app).length >= Object.keys(DECLARED).length);
  t.db.close();
});

Deno.test("route inventory: each route declares the access the README documents", async () => {
  const t = await createTestApp();
  const actual = Object.fromEntries(
    routeInventory(t.app).map((r) => [`${r.method} ${r.path}`, r.guards.map(describeGuard).join(" + ")]),
  );
  assert.deepEqual(actual, DECLARED);
  t.db.close();
});

Deno.test("route inventory: fails for a route added to the real app without a guard", async () => {
  const t = await createTestApp();
  const app = createApp(t.deps);
  app.get("/debug/users", (c) => c.json(t.deps.repos.users.list(0, 100)));
  assert.deepEqual(inventoryProblems(app), [
    "GET /debug/users: no guard (requirePermission, requireUser or publicRoute)",
  ]);
  // And the route is really reachable without credentials: the guard is what the test looks for.
  const res = await app.request("https://localhost/debug/users", {}, {
    remoteAddr: { transport: "tcp", hostname: "192.0.2.1", port: 1 },
    completed: Promise.resolve(),
  });
  assert.equal(res.status, 200);
  await res.body?.cancel();
  t.db.close();
});

Deno.test("route inventory: fails for two guards, a late guard, app.all and a scoped use", () => {
  const app = new Hono<AppEnv>();
  const ok = (c: { text(t: string): Response }) => c.text("ok");
  app.use(async (_c, next) => await next());
  app.get("/fine", publicRoute(), ok);
  app.post("/twice", requireUser(), requirePermission("users:read"), ok);
  app.put("/late", jsonBody(roleGrantInput), requirePermission("users:manage"), ok);
  app.all("/anything", ok);
  app.use("/scoped/*", async (_c, next) => await next());
  assert.deepEqual(inventoryProblems(app), [
    "POST /twice: 2 guards; declare exactly one",
    "PUT /late: the guard is not the first handler",
    "ALL /anything: no guard (requirePermission, requireUser or publicRoute)",
    "ALL /scoped/*: no guard (requirePermission, requireUser or publicRoute)",
  ]);
});
