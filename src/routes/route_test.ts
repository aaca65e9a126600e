import assert from "node:assert/strict";
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app_env.ts";
import { ApiError } from "../errors.ts";
import { publicRoute } from "../middleware/require_permission.ts";
import { declaredRoutes, defineRoute, matchedRoute, mountRoutes, named, response } from "./route.ts";

function app() {
  const seen: string[] = [];
  const hono = new Hono<AppEnv>();
  hono.use(async (c, next) => {
    const route = matchedRoute(c);
    seen.push(route ? `${route.operationId}:${route.rateLimit}` : "none");
    await next();
  });
  hono.onError((error, c) => c.text(error instanceof ApiError ? error.kind : "internal", 500));
  const routes = [
    defineRoute({
      method: "GET",
      path: "/things/:id",
      guard: publicRoute(),
      operationId: "getThing",
      summary: "Get",
      tag: "t",
      responses: { 200: response("ok") },
    }, (c) => c.text(`thing ${c.req.param("id")}`)),
    defineRoute({
      method: "POST",
      path: "/things",
      guard: publicRoute(),
      rateLimit: "auth",
      operationId: "makeThing",
      summary: "Make",
      tag: "t",
      body: named("ThingInput", z.strictObject({ name: z.string().min(1) })),
      responses: { 201: response("made") },
    }, (c) => c.text(`made ${c.req.valid("json").name}`, 201)),
  ];
  mountRoutes(hono, routes);
  return { hono, seen, routes };
}

Deno.test("matchedRoute() tells application middleware which declared route a request is for", async () => {
  const { hono, seen } = app();
  assert.equal(await (await hono.request("/things/7")).text(), "thing 7");
  await hono.request("/things/7", { method: "HEAD" });
  await hono.request("/nowhere");
  await hono.request("/things", { method: "POST", body: "{}", headers: { "Content-Type": "application/json" } });
  assert.deepEqual(seen, ["getThing:api", "getThing:api", "none", "makeThing:auth"]);
});

Deno.test("defineRoute() validates a declared body before the handler runs", async () => {
  const { hono } = app();
  const post = (body: string, type = "application/json") =>
    hono.request("/things", { method: "POST", body, headers: { "Content-Type": type } });
  assert.equal(await (await post('{"name":"lamp"}')).text(), "made lamp");
  assert.equal(await (await post('{"name":""}')).text(), "validation-failed");
  assert.equal(await (await post('{"name":"lamp","id":1}')).text(), "validation-failed");
  assert.equal(await (await post('{"name":"lamp"}', "text/plain")).text(), "unsupported-media-type");
});

Deno.test("declaredRoutes() reads the declarations back off the router, in order", () => {
  const { hono, routes } = app();
  assert.deepEqual(declaredRoutes(hono), routes);
  assert.deepEqual(routes.map((r) => [r.method, r.path, r.guard.kind, r.handlers.length]), [
    ["GET", "/things/:id", "public", 2],
    ["POST", "/things", "public", 3],
  ]);
});
