/**
 * Deny by default (OWASP API5:2023, ASVS 5.0 8.2.1; SECURITY.md
 * "Authorization"): every route declares exactly one guard — a permission,
 * "any authenticated user", or an explicit public mark — and it runs before
 * anything else on the route. Routes are declared once (`defineRoute`, with
 * their guard, rate-limit policy and documentation); this test reads them
 * back off the real router, so nothing here lists them.
 */
import assert from "node:assert/strict";
import { Hono } from "hono";
import { createApp } from "../src/app.ts";
import type { AppEnv } from "../src/app_env.ts";
import { publicRoute, requirePermission, requireUser } from "../src/middleware/require_permission.ts";
import { jsonBody } from "../src/middleware/validate.ts";
import { declaredRoutes, defineRoute, mountRoutes, response } from "../src/routes/route.ts";
import { roleGrantInput } from "../src/schemas/admin.ts";
import { createTestApp } from "./helpers.ts";
import { describeGuard, inventoryProblems, routeInventory } from "./route_inventory.ts";

Deno.test("every route of the app has exactly one guard, first, and a declaration", async () => {
  await using t = await createTestApp();
  assert.deepEqual(inventoryProblems(t.app), []);
  const routed = routeInventory(t.app);
  assert.equal(routed.length, declaredRoutes(t.app).length, "one declaration per routed endpoint");
  assert.ok(routed.length >= 26, `expected the full route set, found ${routed.length}`);
});

Deno.test("the README lists every declared route with the access its guard gives", async () => {
  await using t = await createTestApp();
  const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
  const table = readme.slice(
    readme.indexOf("## Endpoints"),
    readme.indexOf("\n## ", readme.indexOf("## Endpoints") + 1),
  );
  for (const route of declaredRoutes(t.app)) {
    const row = table.split("\n").find((line) => line.includes(`\`${route.method} ${route.path}`));
    assert.ok(row, `README "Endpoints" does not list ${route.method} ${route.path}`);
    const access = describeGuard(route.guard);
    const expected = access === "authenticated" ? /authenticated|Basic|Bearer/ : new RegExp(access);
    assert.match(row.split("|").at(-2) ?? "", expected, `README gives ${route.method} ${route.path} other access`);
  }
});

Deno.test("the inventory fails for a route added to the real app without a guard", async () => {
  await using t = await createTestApp();
  const app = createApp(t.deps);
  app.get("/debug/users", (c) => c.json(t.deps.repos.users.list(0, 100)));
  assert.deepEqual(inventoryProblems(app), [
    "GET /debug/users: no guard (requirePermission, requireUser or publicRoute)",
    "GET /debug/users: not declared with defineRoute (no rate-limit policy, no documentation)",
  ]);
  // And the route is really reachable without credentials: the guard is what the test looks for.
  const res = await app.request("https://localhost/debug/users", {}, {
    remoteAddr: { transport: "tcp", hostname: "192.0.2.1", port: 1 },
    completed: Promise.resolve(),
  });
  assert.equal(res.status, 200);
  await res.body?.cancel();
});

Deno.test("the inventory fails for two guards, a late guard, app.all and a scoped use", () => {
  const app = new Hono<AppEnv>();
  const ok = (c: { text(t: string): Response }) => c.text("ok");
  app.use(async (_c, next) => await next());
  mountRoutes(app, [
    defineRoute({
      method: "GET",
      path: "/fine",
      guard: publicRoute(),
      operationId: "fine",
      summary: "Fine",
      tag: "test",
      responses: { 200: response("ok") },
    }, ok),
  ]);
  app.post("/twice", requireUser(), requirePermission("users:read"), ok);
  app.put("/late", jsonBody(roleGrantInput), requirePermission("users:manage"), ok);
  app.all("/anything", ok);
  app.use("/scoped/*", async (_c, next) => await next());
  const undeclared = (route: string) =>
    `${route}: not declared with defineRoute (no rate-limit policy, no documentation)`;
  assert.deepEqual(inventoryProblems(app), [
    "POST /twice: 2 guards; declare exactly one",
    undeclared("POST /twice"),
    "PUT /late: the guard is not the first handler",
    undeclared("PUT /late"),
    "ALL /anything: no guard (requirePermission, requireUser or publicRoute)",
    undeclared("ALL /anything"),
    "ALL /scoped/*: no guard (requirePermission, requireUser or publicRoute)",
    undeclared("ALL /scoped/*"),
  ]);
});

Deno.test("defineRoute() refuses a guard that is not one of the guards, at declaration time", () => {
  assert.throws(
    () =>
      defineRoute({
        method: "GET",
        path: "/sneaky",
        guard: async (_c, next) => await next(),
        operationId: "sneaky",
        summary: "Sneaky",
        tag: "test",
        responses: { 200: response("ok") },
      }, (c) => c.text("ok")),
    /GET \/sneaky: the guard must be requirePermission\(\), requireUser\(\) or publicRoute\(\)/,
  );
});

Deno.test("mountRoutes() refuses a method and path declared twice", () => {
  const route = () =>
    defineRoute({
      method: "GET",
      path: "/twice",
      guard: publicRoute(),
      operationId: "twice",
      summary: "Twice",
      tag: "test",
      responses: { 200: response("ok") },
    }, (c) => c.text("ok"));
  assert.throws(() => mountRoutes(new Hono<AppEnv>(), [route(), route()]), /GET \/twice is declared twice/);
});
