/**
 * Every event of the audit vocabulary (OWASP Logging Vocabulary; README "The audit log") that a request can cause, triggered through HTTP
 * and read back from the `audit_log` table: who (actor), from where (client),
 * what (method, path, status, target, detail), and the request id the
 * response carried. `sys_startup`/`sys_shutdown` are in
 * `e2e_audit_test.ts` (a real server process), `sys_crash` in
 * `src/crash_test.ts`.
 */
import assert from "node:assert/strict";
import type { AuditRecord } from "../src/audit/audit_log.ts";
import { basicAuth, createTestApp, problem, TEST_PEER, type TestApp } from "./helpers.ts";

interface Expected {
  actor: number | null;
  method: string;
  path: string;
  status: number | null;
  target: string | null;
  detail: unknown;
  client?: string;
  level?: string;
}

/** The single row of `event` written by the request that answered `response`, checked field by field. */
async function assertRecorded(
  t: TestApp,
  event: string,
  response: Response,
  expected: Expected,
): Promise<AuditRecord> {
  const requestId = response.headers.get("X-Request-Id");
  assert.ok(requestId, "the response carries X-Request-Id");
  const rows = (await t.deps.audit.query({ event, afterSeq: 0, limit: 1000 })).filter((r) => r.requestId === requestId);
  assert.equal(rows.length, 1, `exactly one ${event} row for request ${requestId}`);
  const row = rows[0]!;
  const { detail, client = TEST_PEER, level, ...fields } = expected;
  assert.deepEqual(
    {
      actor: row.actor,
      client: row.client,
      method: row.method,
      path: row.path,
      status: row.status,
      target: row.target,
      ts: row.ts,
    },
    { ...fields, client, ts: new Date(t.clock.now()).toISOString() },
  );
  assert.deepEqual(JSON.parse(row.detail), detail);
  if (level) assert.equal(row.level, level);
  assert.equal((await t.deps.audit.verify()).ok, true, "the chain still verifies");
  return row;
}

async function count(t: TestApp, event: string): Promise<number> {
  return (await t.deps.audit.query({ event, afterSeq: 0, limit: 1000 })).length;
}

const PRODUCT = { name: "Lamp", priceCents: 1999, stock: 3 };

Deno.test("authn_login_success: a password verified by the KDF is recorded, a cache hit is not", async () => {
  await using t = await createTestApp();
  const alice = await t.user("alice");
  const kdfBefore = t.kdf.calls;
  const res = await t.request("/auth/me", { headers: { Authorization: alice.basic } });
  assert.equal(res.status, 200);
  assert.equal(t.kdf.calls, kdfBefore + 1);
  await assertRecorded(t, "authn_login_success", res, {
    actor: alice.id,
    method: "GET",
    path: "/auth/me",
    status: null,
    target: `user:${alice.id}`,
    detail: { scheme: "basic" },
    level: "info",
  });
  const again = await t.request("/auth/me", { headers: { Authorization: alice.basic } });
  assert.equal(again.status, 200);
  assert.equal(t.kdf.calls, kdfBefore + 1, "served from the credential cache");
  assert.equal(await count(t, "authn_login_success"), 1);
});

Deno.test("authn_login_fail: a wrong password, an unknown user, a bad token and a malformed header", async () => {
  await using t = await createTestApp();
  const alice = await t.user("alice");

  const wrong = await t.request("/products", { headers: { Authorization: basicAuth("alice", "not-her-password") } });
  assert.equal(wrong.status, 401);
  await problem(wrong);
  await assertRecorded(t, "authn_login_fail", wrong, {
    actor: null,
    method: "GET",
    path: "/products",
    status: 401,
    target: `user:${alice.id}`,
    detail: { username: "alice", scheme: "basic" },
    level: "warning",
  });

  const unknown = await t.request("/products", { headers: { Authorization: basicAuth("mallory", "whatever") } });
  assert.equal(unknown.status, 401);
  await assertRecorded(t, "authn_login_fail", unknown, {
    actor: null,
    method: "GET",
    path: "/products",
    status: 401,
    target: null,
    detail: { username: "mallory", scheme: "basic" },
  });

  const token = await t.request("/products", { headers: { Authorization: `Bearer ${"A".repeat(43)}` } });
  assert.equal(token.status, 401);
  await assertRecorded(t, "authn_login_fail", token, {
    actor: null,
    method: "GET",
    path: "/products",
    status: 401,
    target: null,
    detail: { scheme: "bearer", reason: "unknown" },
  });

  const malformed = await t.request("/products", { headers: { Authorization: "Basic !!!not-base64" } });
  assert.equal(malformed.status, 401);
  await assertRecorded(t, "authn_login_fail", malformed, {
    actor: null,
    method: "GET",
    path: "/products",
    status: 401,
    target: null,
    detail: { reason: "malformed authorization header" },
  });

  const oversized = await t.request("/products", { headers: { Authorization: `Basic ${"A".repeat(5000)}` } });
  assert.equal(oversized.status, 401);
  await assertRecorded(t, "authn_login_fail", oversized, {
    actor: null,
    method: "GET",
    path: "/products",
    status: 401,
    target: null,
    detail: { reason: "oversized authorization header" },
  });
});

Deno.test("authn_login_fail: a wrong current password on password change", async () => {
  await using t = await createTestApp();
  const alice = await t.user("alice");
  const res = await t.json("PUT", "/auth/password", {
    currentPassword: "not-the-current-one",
    newPassword: "a brand new passphrase 42",
  }, { headers: { Authorization: alice.basic } });
  assert.equal(res.status, 403);
  await assertRecorded(t, "authn_login_fail", res, {
    actor: alice.id,
    method: "PUT",
    path: "/auth/password",
    status: 403,
    target: `user:${alice.id}`,
    detail: { reason: "wrong current password on password change" },
  });
});

Deno.test("authn_login_fail_max: the fifth failure for a (username, client) pair, once", async () => {
  await using t = await createTestApp();
  const alice = await t.user("alice");
  const wrong = { headers: { Authorization: basicAuth("alice", "wrong-password-guess") } };
  let fifth: Response | undefined;
  for (let i = 1; i <= 5; i++) {
    fifth = await t.request("/auth/me", wrong);
    assert.equal(fifth.status, 401);
  }
  await assertRecorded(t, "authn_login_fail_max", fifth!, {
    actor: null,
    method: "GET",
    path: "/auth/me",
    status: 401,
    target: `user:${alice.id}`,
    detail: { username: "alice", scheme: "basic" },
    level: "warning",
  });
  const throttled = await t.request("/auth/me", wrong);
  assert.equal(throttled.status, 429);
  assert.equal(await count(t, "authn_login_fail"), 5, "a throttled attempt runs no KDF and adds no row");
  assert.equal(await count(t, "authn_login_fail_max"), 1);
});

Deno.test("authn_login_lock: 100 consecutive failures on one account across clients lock it", async () => {
  await using t = await createTestApp();
  const alice = await t.user("alice");
  const wrong = { headers: { Authorization: basicAuth("alice", "wrong-password-guess") } };
  let last: Response | undefined;
  // Five attempts from each of 20 clients: under every per-pair and per-client threshold.
  for (let client = 1; client <= 20; client++) {
    for (let i = 0; i < 5; i++) {
      last = await t.request("/auth/me", { ...wrong, peer: `198.51.100.${client}` });
      assert.equal(last.status, 401);
    }
  }
  assert.equal(await count(t, "authn_login_lock"), 1);
  await assertRecorded(t, "authn_login_lock", last!, {
    actor: null,
    client: "198.51.100.20",
    method: "GET",
    path: "/auth/me",
    status: 401,
    target: `user:${alice.id}`,
    detail: { username: "alice", scheme: "basic" },
    level: "critical",
  });
  const locked = await t.request("/auth/me", { headers: { Authorization: alice.basic }, peer: "203.0.113.9" });
  assert.equal(locked.status, 429, "even the right password waits out the lock");
});

Deno.test("authn_token_created: login issues a token and records it (not the token)", async () => {
  await using t = await createTestApp();
  const alice = await t.user("alice");
  const res = await t.request("/auth/login", { method: "POST", headers: { Authorization: alice.basic } });
  assert.equal(res.status, 200);
  const body = await res.json();
  const row = await assertRecorded(t, "authn_token_created", res, {
    actor: alice.id,
    method: "POST",
    path: "/auth/login",
    status: 200,
    target: `user:${alice.id}`,
    detail: { expiresAt: body.expiresAt },
  });
  assert.ok(!JSON.stringify(row).includes(body.token));
});

Deno.test("authn_token_revoked: logout revokes the bearer token", async () => {
  await using t = await createTestApp();
  const alice = await t.user("alice");
  const { token } = await (await t.request("/auth/login", { method: "POST", headers: { Authorization: alice.basic } }))
    .json();
  const res = await t.request("/auth/logout", { method: "POST", headers: { Authorization: `Bearer ${token}` } });
  assert.equal(res.status, 204);
  await assertRecorded(t, "authn_token_revoked", res, {
    actor: alice.id,
    method: "POST",
    path: "/auth/logout",
    status: 204,
    target: `user:${alice.id}`,
    detail: { reason: "logout" },
  });
  const after = await t.request("/auth/me", { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(after.status, 401);
});

Deno.test("authn_password_change: changing the password records how many tokens ended", async () => {
  await using t = await createTestApp();
  const alice = await t.user("alice");
  await t.request("/auth/login", { method: "POST", headers: { Authorization: alice.basic } });
  const res = await t.json("PUT", "/auth/password", {
    currentPassword: alice.password,
    newPassword: "a brand new passphrase 42",
  }, { headers: { Authorization: alice.basic } });
  assert.equal(res.status, 204);
  await assertRecorded(t, "authn_password_change", res, {
    actor: alice.id,
    method: "PUT",
    path: "/auth/password",
    status: 204,
    target: `user:${alice.id}`,
    detail: { tokensRevoked: 1 },
  });
});

Deno.test("authz_fail: a user without the permission gets 403 and a row", async () => {
  await using t = await createTestApp();
  const viewer = await t.user("victor");
  const res = await t.json("POST", "/products", PRODUCT, { headers: { Authorization: viewer.basic } });
  assert.equal(res.status, 403);
  await problem(res);
  await assertRecorded(t, "authz_fail", res, {
    actor: viewer.id,
    method: "POST",
    path: "/products",
    status: 403,
    target: null,
    detail: { problem: "forbidden", reason: 'This requires the "products:create" permission.' },
    level: "warning",
  });
  assert.equal((await t.deps.store.products.list({ after: 0, limit: 10 })).length, 0);
});

Deno.test("authz_fail: changing someone else's product (object level)", async () => {
  await using t = await createTestApp();
  const owner = await t.user("owner", ["editor"]);
  const other = await t.user("other", ["editor"]);
  const created = await (await t.json("POST", "/products", PRODUCT, { headers: { Authorization: owner.basic } }))
    .json();
  const res = await t.json("PUT", `/products/${created.id}`, { ...PRODUCT, name: "Mine now" }, {
    headers: { Authorization: other.basic },
  });
  assert.equal(res.status, 403);
  await assertRecorded(t, "authz_fail", res, {
    actor: other.id,
    method: "PUT",
    path: `/products/${created.id}`,
    status: 403,
    target: null,
    detail: { problem: "forbidden", reason: "You can only change products you own." },
  });
  assert.equal((await t.deps.store.products.get(created.id))!.name, "Lamp");
});

Deno.test("authz_change: granting roles to a user", async () => {
  await using t = await createTestApp();
  const admin = await t.user("root", ["admin"]);
  const bob = await t.user("bob");
  const res = await t.json("PUT", `/users/${bob.id}/roles`, { roles: ["editor"] }, {
    headers: { Authorization: admin.basic },
  });
  assert.equal(res.status, 200);
  await assertRecorded(t, "authz_change", res, {
    actor: admin.id,
    method: "PUT",
    path: `/users/${bob.id}/roles`,
    status: 200,
    target: `user:${bob.id}`,
    detail: { roles: { from: ["viewer"], to: ["editor"] } },
  });
});

Deno.test("authz_change: creating, changing and deleting a custom role", async () => {
  await using t = await createTestApp();
  const admin = await t.user("root", ["admin"]);
  const auth = { headers: { Authorization: admin.basic } };
  const created = await t.json("POST", "/roles", {
    name: "auditor",
    description: "Reads the audit log",
    permissions: ["audit:read"],
  }, auth);
  assert.equal(created.status, 201);
  await assertRecorded(t, "authz_change", created, {
    actor: admin.id,
    method: "POST",
    path: "/roles",
    status: 201,
    target: "role:auditor",
    detail: { action: "create", permissions: ["audit:read"] },
  });
  const updated = await t.json("PUT", "/roles/auditor", {
    description: "Reads audit and users",
    permissions: ["audit:read", "users:read"],
  }, auth);
  assert.equal(updated.status, 200);
  await assertRecorded(t, "authz_change", updated, {
    actor: admin.id,
    method: "PUT",
    path: "/roles/auditor",
    status: 200,
    target: "role:auditor",
    detail: { action: "update", permissions: { from: ["audit:read"], to: ["audit:read", "users:read"] } },
  });
  const deleted = await t.request("/roles/auditor", { method: "DELETE", ...auth });
  assert.equal(deleted.status, 204);
  await assertRecorded(t, "authz_change", deleted, {
    actor: admin.id,
    method: "DELETE",
    path: "/roles/auditor",
    status: 204,
    target: "role:auditor",
    detail: { action: "delete", permissions: ["audit:read", "users:read"] },
  });
});

Deno.test("user_created: registration", async () => {
  await using t = await createTestApp();
  const res = await t.json("POST", "/auth/register", { username: "newbie", password: "correct horse battery 9" });
  assert.equal(res.status, 201);
  const user = await res.json();
  await assertRecorded(t, "user_created", res, {
    actor: null,
    method: "POST",
    path: "/auth/register",
    status: 201,
    target: `user:${user.id}`,
    detail: { username: "newbie", roles: ["viewer"] },
  });
});

Deno.test("user_updated: disabling and enabling a user", async () => {
  await using t = await createTestApp();
  const admin = await t.user("root", ["admin"]);
  const bob = await t.user("bob");
  const auth = { method: "POST", headers: { Authorization: admin.basic } };
  const disabled = await t.request(`/users/${bob.id}/disable`, auth);
  assert.equal(disabled.status, 200);
  await assertRecorded(t, "user_updated", disabled, {
    actor: admin.id,
    method: "POST",
    path: `/users/${bob.id}/disable`,
    status: 200,
    target: `user:${bob.id}`,
    detail: { disabled: true, tokensRevoked: 0 },
  });
  const enabled = await t.request(`/users/${bob.id}/enable`, auth);
  assert.equal(enabled.status, 200);
  await assertRecorded(t, "user_updated", enabled, {
    actor: admin.id,
    method: "POST",
    path: `/users/${bob.id}/enable`,
    status: 200,
    target: `user:${bob.id}`,
    detail: { disabled: false, tokensRevoked: 0 },
  });
});

Deno.test("user_deleted: deleting a user keeps the record of who it was", async () => {
  await using t = await createTestApp();
  const admin = await t.user("root", ["admin"]);
  const bob = await t.user("bob");
  const res = await t.request(`/users/${bob.id}`, { method: "DELETE", headers: { Authorization: admin.basic } });
  assert.equal(res.status, 204);
  await assertRecorded(t, "user_deleted", res, {
    actor: admin.id,
    method: "DELETE",
    path: `/users/${bob.id}`,
    status: 204,
    target: `user:${bob.id}`,
    detail: { username: "bob", roles: ["viewer"], tokensRevoked: 0 },
  });
  assert.equal(await t.deps.store.users.findById(bob.id), undefined);
});

Deno.test("excess_rate_limit_exceeded: one row per client and window, not one per request", async () => {
  await using t = await createTestApp({ env: { APP_RATE_LIMIT_API: "2/60" } });
  const responses = [];
  for (let i = 0; i < 5; i++) responses.push(await t.request("/products"));
  assert.deepEqual(responses.map((r) => r.status), [401, 401, 429, 429, 429]);
  await assertRecorded(t, "excess_rate_limit_exceeded", responses[2]!, {
    actor: null,
    method: "GET",
    path: "/products",
    status: 429,
    target: null,
    detail: { policy: "api", scope: "client" },
    level: "warning",
  });
  assert.equal(await count(t, "excess_rate_limit_exceeded"), 1);
  t.clock.advance(61_000);
  for (let i = 0; i < 3; i++) await t.request("/products");
  assert.equal(await count(t, "excess_rate_limit_exceeded"), 2, "a new window records again");
});

Deno.test("excess_rate_limit_exceeded: the per-user limit records the user", async () => {
  await using t = await createTestApp({ env: { APP_RATE_LIMIT_API: "2/60" } });
  const alice = await t.user("alice");
  const statuses = [];
  let last: Response | undefined;
  // Three clients, one user: every client stays under its quota, the user does not.
  for (const peer of ["192.0.2.1", "192.0.2.2", "192.0.2.3"]) {
    last = await t.request("/products", { headers: { Authorization: alice.basic }, peer });
    statuses.push(last.status);
  }
  assert.deepEqual(statuses, [200, 200, 429]);
  await assertRecorded(t, "excess_rate_limit_exceeded", last!, {
    actor: alice.id,
    client: "192.0.2.3",
    method: "GET",
    path: "/products",
    status: 429,
    target: `user:${alice.id}`,
    detail: { policy: "api", scope: "user" },
  });
});

Deno.test("input_validation_fail: 422 records the fields, never the submitted values", async () => {
  await using t = await createTestApp();
  const editor = await t.user("edith", ["editor"]);
  const res = await t.json("POST", "/products", { name: "", priceCents: -5, stock: 1, ownerId: 99 }, {
    headers: { Authorization: editor.basic },
  });
  assert.equal(res.status, 422);
  const row = await assertRecorded(t, "input_validation_fail", res, {
    actor: editor.id,
    method: "POST",
    path: "/products",
    status: 422,
    target: null,
    detail: {
      problem: "validation-failed",
      reason: "The request is not valid; see errors.",
      fields: ["name", "priceCents", "ownerId"],
    },
    level: "warning",
  });
  assert.ok(!row.detail.includes("-5") && !row.detail.includes("99"));
});

Deno.test("input_validation_fail: malformed JSON, wrong content type, oversized body, bad query", async () => {
  await using t = await createTestApp();
  const editor = await t.user("edith", ["editor"]);
  const auth = { Authorization: editor.basic };
  const json = { ...auth, "Content-Type": "application/json" };
  const cases: { init: RequestInit; path?: string; status: number; actor: number | null; detail: unknown }[] = [
    {
      init: { method: "POST", headers: json, body: "{not json" },
      status: 400,
      actor: editor.id,
      detail: { problem: "malformed-json", reason: "The request body is not valid JSON." },
    },
    {
      // A form content type on a state change is refused before authentication (SECURITY.md
      // "Cross-site requests"): a browser may have attached cached credentials, so no actor.
      init: { method: "POST", headers: { ...auth, "Content-Type": "text/plain" }, body: "{}" },
      status: 415,
      actor: null,
      detail: {
        problem: "unsupported-media-type",
        reason: "A request that changes state may carry no Content-Type but application/json, even without a body.",
      },
    },
    {
      // Content-Length announces the size: refused before authentication, so no actor yet.
      init: { method: "POST", headers: { ...json, "Content-Length": "70000" }, body: "x".repeat(70_000) },
      status: 413,
      actor: null,
      detail: { problem: "payload-too-large", reason: "The request body exceeds 65536 bytes." },
    },
    {
      init: { method: "GET", headers: auth },
      path: "/products?limit=0",
      status: 422,
      actor: editor.id,
      detail: { problem: "validation-failed", reason: "The request is not valid; see errors.", fields: ["limit"] },
    },
  ];
  for (const { init, path = "/products", status, actor, detail } of cases) {
    const res = await t.request(path, init);
    assert.equal(res.status, status);
    await assertRecorded(t, "input_validation_fail", res, {
      actor,
      method: init.method!,
      path: "/products",
      status,
      target: null,
      detail,
    });
  }
});

Deno.test("product_created, product_updated, product_deleted: each change with its row", async () => {
  await using t = await createTestApp();
  const editor = await t.user("edith", ["editor"]);
  const auth = { headers: { Authorization: editor.basic } };
  const created = await t.json("POST", "/products", PRODUCT, auth);
  assert.equal(created.status, 201);
  const product = await created.json();
  await assertRecorded(t, "product_created", created, {
    actor: editor.id,
    method: "POST",
    path: "/products",
    status: 201,
    target: `product:${product.id}`,
    detail: { name: "Lamp" },
  });
  const updated = await t.json("PUT", `/products/${product.id}`, { ...PRODUCT, stock: 9 }, {
    headers: { Authorization: editor.basic, "If-Match": '"1"' },
  });
  assert.equal(updated.status, 200);
  await assertRecorded(t, "product_updated", updated, {
    actor: editor.id,
    method: "PUT",
    path: `/products/${product.id}`,
    status: 200,
    target: `product:${product.id}`,
    detail: { version: { from: 1, to: 2 } },
  });
  const deleted = await t.request(`/products/${product.id}`, { method: "DELETE", ...auth });
  assert.equal(deleted.status, 204);
  await assertRecorded(t, "product_deleted", deleted, {
    actor: editor.id,
    method: "DELETE",
    path: `/products/${product.id}`,
    status: 204,
    target: `product:${product.id}`,
    detail: { name: "Lamp", version: 2 },
  });
});
