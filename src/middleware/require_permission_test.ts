import assert from "node:assert/strict";
import { Hono } from "hono";
import type { AppEnv } from "../app_env.ts";
import type { Principal } from "../domain/principal.ts";
import { ApiError } from "../errors.ts";
import { authorize, guardOf, publicRoute, requirePermission, requireUser } from "./require_permission.ts";

const viewer: Principal = Object.freeze({
  id: 7,
  username: "vera",
  disabled: false,
  mustChangePassword: false,
  roles: ["viewer"],
  permissions: new Set(["products:read"] as const),
});

/** An app whose requests arrive as `user` (the authenticate middleware's job, done here by hand). */
function appAs(user: Principal | null) {
  const app = new Hono<AppEnv>();
  const ran: string[] = [];
  app.use(async (c, next) => {
    c.set("user", user);
    await next();
  });
  app.onError((error, c) => c.text(error instanceof ApiError ? error.kind : "internal", 500));
  app.get("/read", requirePermission("products:read"), (c) => {
    // The guard narrowed the type: no null check, no cast.
    const admitted: Principal = c.var.user;
    ran.push(`read by ${admitted.username}`);
    return c.text("ok");
  });
  app.get("/manage", requirePermission("users:manage"), (c) => {
    ran.push("manage");
    return c.text("ok");
  });
  app.get("/me", requireUser(), (c) => {
    const admitted: Principal = c.var.user;
    ran.push(`me ${admitted.id}`);
    return c.text("ok");
  });
  app.get("/open", publicRoute(), (c) => {
    // @ts-expect-error: a public route may be called anonymously, so the user may be null.
    const maybe: Principal = c.var.user;
    ran.push(`open ${maybe?.id ?? "anonymous"}`);
    return c.text("ok");
  });
  return { app, ran };
}

Deno.test("requirePermission() admits a holder and narrows c.var.user to a Principal", async () => {
  const { app, ran } = appAs(viewer);
  assert.equal(await (await app.request("/read")).text(), "ok");
  assert.deepEqual(ran, ["read by vera"]);
});

Deno.test("requirePermission() refuses without the permission (403) or without a user (401); the handler never runs", async () => {
  const lacking = appAs(viewer);
  assert.equal(await (await lacking.app.request("/manage")).text(), "forbidden");
  const anonymous = appAs(null);
  assert.equal(await (await anonymous.app.request("/read")).text(), "unauthenticated");
  assert.deepEqual([...lacking.ran, ...anonymous.ran], []);
});

Deno.test("requireUser() admits any user and refuses an anonymous request", async () => {
  const signedIn = appAs(viewer);
  assert.equal(await (await signedIn.app.request("/me")).text(), "ok");
  const anonymous = appAs(null);
  assert.equal(await (await anonymous.app.request("/me")).text(), "unauthenticated");
  assert.deepEqual([...signedIn.ran, ...anonymous.ran], ["me 7"]);
});

Deno.test("publicRoute() admits everyone, user or not", async () => {
  const anonymous = appAs(null);
  assert.equal(await (await anonymous.app.request("/open")).text(), "ok");
  assert.deepEqual(anonymous.ran, ["open anonymous"]);
});

Deno.test("authorize() is the one check: 401 for no user, 403 for a missing permission", () => {
  assert.throws(() => authorize(null), { kind: "unauthenticated" });
  assert.throws(() => authorize(viewer, "audit:read"), { kind: "forbidden" });
  assert.equal(authorize(viewer, "products:read"), viewer);
  assert.equal(authorize(viewer), viewer);
});

Deno.test("guardOf() reads the marker of each guard and nothing else", () => {
  assert.deepEqual(guardOf(requirePermission("audit:read")), { kind: "permission", permission: "audit:read" });
  assert.deepEqual(guardOf(requireUser()), { kind: "authenticated" });
  assert.deepEqual(guardOf(publicRoute()), { kind: "public" });
  assert.equal(guardOf(async (_c: unknown, next: () => Promise<void>) => await next()), undefined);
  assert.equal(guardOf("requirePermission"), undefined);
});
