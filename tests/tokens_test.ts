/**
 * Bearer tokens (SECURITY.md "Authentication"; RFC 6750): issued by a Basic login, stored only as SHA-256,
 * 30 minutes idle and 12 hours absolute, revoked by logout, password change
 * and disable.
 */
import assert from "node:assert/strict";
import { hashToken } from "../src/crypto/tokens.ts";
import { auditRows, createTestApp, problem, type TestApp, type TestUser } from "./helpers.ts";

async function login(t: TestApp, user: TestUser): Promise<{ token: string; body: Record<string, unknown> }> {
  const response = await t.request("/auth/login", { method: "POST", headers: { Authorization: user.basic } });
  assert.equal(response.status, 200);
  const body = await response.json() as Record<string, unknown>;
  return { token: body.token as string, body };
}

const bearer = (token: string) => ({ headers: { Authorization: `Bearer ${token}` } });

Deno.test("POST /auth/login returns a 256-bit bearer token, its expiry and the user", async () => {
  await using t = await createTestApp();
  const alice = await t.user("alice", ["editor"]);
  const { token, body } = await login(t, alice);
  assert.match(token, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(body.tokenType, "Bearer");
  assert.equal(body.expiresAt, new Date(t.clock.now() + 12 * 3_600_000).toISOString());
  assert.deepEqual((body.user as { username: string; roles: string[] }).roles, ["editor"]);
  assert.equal((body.user as { username: string }).username, "alice");
});

Deno.test("only the SHA-256 of a token is stored, and the token never enters the audit log", async () => {
  await using t = await createTestApp();
  const { token } = await login(t, await t.user("alice"));
  const rows = t.db.prepare("SELECT hash FROM tokens").all<{ hash: string }>();
  assert.deepEqual(rows.map((r) => r.hash), [hashToken(token)]);
  const dump = JSON.stringify(t.deps.audit.query({ afterSeq: 0, limit: 1000 }));
  assert.ok(!dump.includes(token));
  assert.equal(auditRows(t.deps, "authn_token_created").length, 1);
});

Deno.test("a bearer token authenticates like the password, without any KDF", async () => {
  await using t = await createTestApp();
  const { token } = await login(t, await t.user("alice"));
  const before = t.kdf.calls;
  const me = await t.request("/auth/me", bearer(token));
  assert.equal(me.status, 200);
  const body = await me.json() as { username: string; permissions: string[] };
  assert.equal(body.username, "alice");
  assert.deepEqual(body.permissions, ["products:read"]);
  assert.equal(t.kdf.calls, before);
});

Deno.test("a token cannot mint another token: /auth/login needs Basic", async () => {
  await using t = await createTestApp();
  const { token } = await login(t, await t.user("alice"));
  const response = await t.request("/auth/login", { method: "POST", ...bearer(token) });
  assert.equal(response.status, 401);
  await problem(response);
});

Deno.test("POST /auth/logout revokes the token server-side", async () => {
  await using t = await createTestApp();
  const { token } = await login(t, await t.user("alice"));
  assert.equal((await t.request("/auth/logout", { method: "POST", ...bearer(token) })).status, 204);
  assert.equal((await t.request("/auth/me", bearer(token))).status, 401);
  assert.equal(t.db.prepare("SELECT count(*) AS n FROM tokens").get<{ n: number }>()!.n, 0);
  assert.equal(auditRows(t.deps, "authn_token_revoked").length, 1);
});

Deno.test("POST /auth/logout with Basic credentials is a 400: there is no token to revoke", async () => {
  await using t = await createTestApp();
  const alice = await t.user("alice");
  const response = await t.request("/auth/logout", { method: "POST", headers: { Authorization: alice.basic } });
  assert.equal(response.status, 400);
  await problem(response);
});

Deno.test("a token expires after 30 minutes idle", async () => {
  await using t = await createTestApp();
  const { token } = await login(t, await t.user("alice"));
  t.clock.advance(29 * 60_000);
  assert.equal((await t.request("/auth/me", bearer(token))).status, 200); // use renews the idle window
  t.clock.advance(29 * 60_000);
  assert.equal((await t.request("/auth/me", bearer(token))).status, 200);
  t.clock.advance(30 * 60_000);
  const expired = await t.request("/auth/me", bearer(token));
  assert.equal(expired.status, 401);
  assert.equal(expired.headers.get("WWW-Authenticate"), 'Basic realm="secure-api", charset="UTF-8"');
});

Deno.test("a token expires 12 hours after login however active it is", async () => {
  await using t = await createTestApp();
  const { token } = await login(t, await t.user("alice"));
  for (let minutes = 0; minutes < 12 * 60 - 20; minutes += 20) {
    t.clock.advance(20 * 60_000);
    assert.equal((await t.request("/auth/me", bearer(token))).status, 200, `at ${minutes + 20} min`);
  }
  t.clock.advance(20 * 60_000);
  assert.equal((await t.request("/auth/me", bearer(token))).status, 401);
});

Deno.test("changing the password revokes every token of the user", async () => {
  await using t = await createTestApp();
  const alice = await t.user("alice");
  const first = (await login(t, alice)).token;
  const second = (await login(t, alice)).token;
  const response = await t.json("PUT", "/auth/password", {
    currentPassword: alice.password,
    newPassword: "a brand new passphrase here",
  }, bearer(first));
  assert.equal(response.status, 204);
  assert.equal((await t.request("/auth/me", bearer(first))).status, 401);
  assert.equal((await t.request("/auth/me", bearer(second))).status, 401);
  assert.equal(auditRows(t.deps, "authn_password_change").length, 1);
});

Deno.test("disabling a user revokes their tokens at once", async () => {
  await using t = await createTestApp();
  const { token } = await login(t, await t.user("alice"));
  const id = t.deps.repos.users.findByUsername("alice")!.id;
  t.db.tx(() => {
    t.deps.repos.users.setDisabled(id, true, new Date().toISOString());
    t.deps.authenticator.revokeAllCredentials(id);
  });
  assert.equal((await t.request("/auth/me", bearer(token))).status, 401);
});

Deno.test("a token of a disabled user is refused even if it was not revoked", async () => {
  await using t = await createTestApp();
  const { token } = await login(t, await t.user("alice"));
  t.deps.repos.users.setDisabled(t.deps.repos.users.findByUsername("alice")!.id, true, new Date().toISOString());
  assert.equal((await t.request("/auth/me", bearer(token))).status, 401);
});

Deno.test("PUT /auth/password refuses a wrong current password (403), a weak new one (422) and an unchanged one", async () => {
  await using t = await createTestApp();
  const alice = await t.user("alice");
  const auth = { headers: { Authorization: alice.basic } };
  const wrong = await t.json("PUT", "/auth/password", {
    currentPassword: "not the current password",
    newPassword: "a brand new passphrase here",
  }, auth);
  assert.equal(wrong.status, 403);
  const weak = await t.json("PUT", "/auth/password", { currentPassword: alice.password, newPassword: "short" }, auth);
  assert.equal(weak.status, 422);
  assert.deepEqual(((await problem(weak)).errors as { path: string }[]).map((e) => e.path), ["newPassword"]);
  const same = await t.json("PUT", "/auth/password", {
    currentPassword: alice.password,
    newPassword: alice.password,
  }, auth);
  assert.equal(same.status, 422);
  assert.match(String((await problem(same)).detail), /must differ/);
  assert.equal(await t.deps.hasher.verify(alice.password, t.deps.repos.users.findById(alice.id)!.passwordHash), true);
});

Deno.test("a login deletes the tokens that expired meanwhile, idle or absolute, and keeps live ones", async () => {
  await using t = await createTestApp();
  const alice = await t.user("alice");
  const bob = await t.user("bob");
  const count = () => t.db.prepare("SELECT count(*) AS n FROM tokens").get<{ n: number }>()!.n;
  const idle = (await login(t, alice)).token; // never used again: idle after 30 min
  const busy = (await login(t, bob)).token; // used every 20 min: alive until its 12 h end
  for (let i = 0; i < 3; i++) {
    t.clock.advance(20 * 60_000);
    assert.equal((await t.request("/auth/me", bearer(busy))).status, 200);
  }
  assert.equal(count(), 2);
  await login(t, bob);
  assert.equal(count(), 2, "the idle token is gone, the busy one and the new one remain");
  assert.equal(t.deps.repos.tokens.find(hashToken(idle)), undefined);
  t.clock.advance(12 * 3_600_000);
  await login(t, alice);
  assert.equal(count(), 1, "past 12 h every older token is gone; only the new one remains");
});
