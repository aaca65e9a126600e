/**
 * `POST /auth/register` and `GET /auth/me` (SECURITY.md "Authentication"; OWASP API3:2023 property level).
 */
import assert from "node:assert/strict";
import { auditRows, basicAuth, createTestApp, problem } from "./helpers.ts";

Deno.test("POST /auth/register creates a viewer: 201, Location, no secrets in the body, user_created", async () => {
  await using t = await createTestApp();
  const response = await t.json("POST", "/auth/register", { username: "Alice", password: "a long enough passphrase" });
  assert.equal(response.status, 201);
  const user = await response.json();
  assert.equal(response.headers.get("Location"), `/users/${user.id}`);
  assert.deepEqual(Object.keys(user).sort(), ["createdAt", "disabled", "id", "roles", "updatedAt", "username"]);
  assert.deepEqual(user.roles, ["viewer"]);
  assert.equal(user.username, "Alice");
  const [row] = auditRows(t.deps, "user_created");
  assert.equal(row!.target, `user:${user.id}`);
  assert.ok(!JSON.stringify(row).includes("a long enough passphrase"));
});

Deno.test("usernames are unique case-insensitively: 409", async () => {
  await using t = await createTestApp();
  assert.equal(
    (await t.json("POST", "/auth/register", { username: "alice", password: "a long enough passphrase" })).status,
    201,
  );
  const again = await t.json("POST", "/auth/register", { username: "ALICE", password: "another long passphrase" });
  assert.equal(again.status, 409);
  await problem(again);
  assert.equal(t.deps.repos.users.count(), 1);
});

Deno.test("registration cannot choose roles, ids or anything else: 422 and no user", async () => {
  await using t = await createTestApp();
  for (const extra of [{ roles: ["admin"] }, { id: 1 }, { disabled: false }, { role: "admin" }, { __proto__x: 1 }]) {
    const response = await t.json("POST", "/auth/register", {
      username: "mallory",
      password: "a long enough passphrase",
      ...extra,
    });
    assert.equal(response.status, 422, JSON.stringify(extra));
    assert.deepEqual(((await problem(response)).errors as { path: string }[]).map((e) => e.path), Object.keys(extra));
  }
  const proto = await t.request("/auth/register", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: '{"username":"mallory","password":"a long enough passphrase","__proto__":{"roles":["admin"]}}',
  });
  assert.equal(proto.status, 422);
  assert.equal(t.deps.repos.users.count(), 0);
  assert.equal(({} as Record<string, unknown>).roles, undefined);
});

Deno.test("the password policy says why a password is refused", async () => {
  await using t = await createTestApp();
  const cases: [string, RegExp][] = [
    ["short", /at least 15 characters/],
    ["x".repeat(129), /at most 128 characters/],
    ["mailcreated5240", /commonly used/],
    ["i-am-mallory-the-great", /must not contain the username/],
  ];
  for (const [password, reason] of cases) {
    const response = await t.json("POST", "/auth/register", { username: "mallory", password });
    assert.equal(response.status, 422, password);
    const body = await problem(response);
    const errors = body.errors as { path: string; message: string }[];
    assert.equal(errors[0]!.path, "password");
    assert.match(errors[0]!.message, reason);
    assert.match(String(body.detail), reason);
  }
  assert.equal(t.deps.repos.users.count(), 0);
});

Deno.test("usernames must be 3-64 of [A-Za-z0-9._-]", async () => {
  await using t = await createTestApp();
  for (const username of ["ab", "x".repeat(65), "has space", "ünïcode", "semi;colon", "a:b", ""]) {
    const response = await t.json("POST", "/auth/register", { username, password: "a long enough passphrase" });
    assert.equal(response.status, 422, username);
  }
  for (const username of ["abc", "x".repeat(64), "a.b_c-d", "A1"]) {
    const ok = username.length >= 3;
    const response = await t.json("POST", "/auth/register", { username, password: "a long enough passphrase" });
    assert.equal(response.status, ok ? 201 : 422, username);
  }
});

Deno.test("GET /auth/me returns the user, roles and effective permissions; 401 anonymous", async () => {
  await using t = await createTestApp();
  const edith = await t.user("edith", ["editor"]);
  const response = await t.request("/auth/me", { headers: { Authorization: edith.basic } });
  assert.equal(response.status, 200);
  const me = await response.json();
  assert.equal(me.username, "edith");
  assert.deepEqual(me.roles, ["editor"]);
  assert.deepEqual(me.permissions, ["products:create", "products:delete", "products:read", "products:update"]);
  assert.equal((await t.request("/auth/me")).status, 401);
  assert.equal(
    (await t.request("/auth/me", { headers: { Authorization: basicAuth("edith", "wrong one entirely") } })).status,
    401,
  );
});
