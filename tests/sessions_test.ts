/**
 * Sessions a user can see and end, that an administrator can end for one
 * user or for everyone, and the concurrent-session limit (SECURITY.md
 * "Authentication", docs/authentication.md "Sessions"; ASVS 5.0 7.1.2,
 * 7.4.5, 7.5.2).
 */
import assert from "node:assert/strict";
import { hashToken } from "../src/crypto/tokens.ts";
import { auditRows, createTestApp, problem, type TestApp, type TestUser } from "./helpers.ts";

async function login(t: TestApp, user: TestUser): Promise<string> {
  const res = await t.request("/auth/login", { method: "POST", headers: { Authorization: user.basic } });
  assert.equal(res.status, 200);
  return (await res.json()).token;
}

const bearer = (token: string) => ({ headers: { Authorization: `Bearer ${token}` } });

async function status(t: TestApp, token: string): Promise<number> {
  const res = await t.request("/auth/me", bearer(token));
  await res.body?.cancel();
  return res.status;
}

async function revocations(t: TestApp): Promise<Record<string, unknown>[]> {
  return (await auditRows(t.deps, "authn_token_revoked")).map((r) => ({ target: r.target, ...JSON.parse(r.detail) }));
}

Deno.test("GET /auth/sessions lists the caller's live sessions, the current one marked, never a token or its hash", async () => {
  await using t = await createTestApp();
  const alice = await t.user("alice");
  const bob = await t.user("bob");
  const first = await login(t, alice);
  t.clock.advance(1_000);
  const second = await login(t, alice);
  await login(t, bob);
  const res = await t.request("/auth/sessions", bearer(second));
  assert.equal(res.status, 200);
  const text = await res.text();
  for (const secret of [first, second, hashToken(first), hashToken(second)]) assert.ok(!text.includes(secret));
  const { items } = JSON.parse(text);
  assert.equal(items.length, 2, "alice's two, not bob's");
  assert.deepEqual(items.map((s: { current: boolean }) => s.current), [false, true]);
  assert.deepEqual(Object.keys(items[0]).sort(), [
    "createdAt",
    "current",
    "expiresAt",
    "id",
    "idleExpiresAt",
    "lastUsedAt",
  ]);
  assert.equal(items[0].createdAt, "2026-01-01T00:00:00.000Z");
  assert.equal(items[0].idleExpiresAt, "2026-01-01T00:30:00.000Z");
  assert.equal(items[0].expiresAt, "2026-01-01T12:00:00.000Z");
  // With Basic, no session is current; an idle one no longer shows.
  t.clock.advance(30 * 60_000 - 500); // the first has been idle 30 minutes, the second not quite
  const viaBasic = await (await t.request("/auth/sessions", { headers: { Authorization: alice.basic } })).json();
  assert.deepEqual(viaBasic.items.map((s: { current: boolean }) => s.current), [false]);
});

Deno.test("a user ends one session by id, or all of theirs; another user's session id is theirs alone", async () => {
  await using t = await createTestApp();
  const alice = await t.user("alice");
  const bob = await t.user("bob");
  const [a1, a2, a3] = [await login(t, alice), await login(t, alice), await login(t, alice)];
  const { items } = await (await t.request("/auth/sessions", bearer(a1))).json();
  assert.ok(items.find((s: { current: boolean }) => s.current), "a1's own session is marked");
  const other = items.find((s: { current: boolean }) => !s.current).id;

  // Bob cannot end alice's session, nor learn whether the id exists: 404 like any unknown id.
  const foreign = await t.request(`/auth/sessions/${other}`, {
    method: "DELETE",
    headers: { Authorization: bob.basic },
  });
  assert.equal(foreign.status, 404);
  await problem(foreign);
  assert.deepEqual([await status(t, a1), await status(t, a2), await status(t, a3)], [200, 200, 200]);

  const ended = await t.request(`/auth/sessions/${other}`, {
    method: "DELETE",
    headers: { Authorization: alice.basic },
  });
  assert.equal(ended.status, 204);
  assert.deepEqual((await Promise.all([a1, a2, a3].map((tok) => status(t, tok)))).filter((s) => s === 401).length, 1);
  const again = await t.request(`/auth/sessions/${other}`, {
    method: "DELETE",
    headers: { Authorization: alice.basic },
  });
  assert.equal(again.status, 404);
  await again.body?.cancel();

  const all = await t.request("/auth/sessions", { method: "DELETE", headers: { Authorization: alice.basic } });
  assert.deepEqual(await all.json(), { ended: 2 });
  assert.deepEqual([await status(t, a1), await status(t, a2), await status(t, a3)], [401, 401, 401]);
  assert.deepEqual(await revocations(t), [
    { target: `user:${alice.id}`, reason: "ended by user", sessions: 1 },
    { target: `user:${alice.id}`, reason: "ended by user", sessions: 2 },
  ]);
});

Deno.test("an administrator ends one user's sessions or everyone's they outrank; never those of someone who outranks them", async () => {
  await using t = await createTestApp();
  const admin = await t.user("root", ["admin"]);
  const create = await t.json("POST", "/roles", {
    name: "helpdesk",
    permissions: ["users:read", "users:manage", "products:read"],
  }, {
    headers: { Authorization: admin.basic },
  });
  assert.equal(create.status, 201);
  const desk = await t.user("desk", ["helpdesk"]);
  const alice = await t.user("alice");
  const [adminToken, aliceToken, deskToken] = [await login(t, admin), await login(t, alice), await login(t, desk)];

  const one = await t.request(`/users/${alice.id}/sessions`, {
    method: "DELETE",
    headers: { Authorization: desk.basic },
  });
  assert.deepEqual(await one.json(), { ended: 1 });
  assert.equal(await status(t, aliceToken), 401);

  const upward = await t.request(`/users/${admin.id}/sessions`, {
    method: "DELETE",
    headers: { Authorization: desk.basic },
  });
  assert.equal(upward.status, 403);
  await problem(upward);
  const viewer = await t.request(`/users/${admin.id}/sessions`, {
    method: "DELETE",
    headers: { Authorization: alice.basic },
  });
  assert.equal(viewer.status, 403, "users:manage is required");
  await viewer.body?.cancel();
  const missing = await t.request("/users/999/sessions", { method: "DELETE", headers: { Authorization: admin.basic } });
  assert.equal(missing.status, 404);
  await missing.body?.cancel();

  const everyone = await t.request("/sessions", { method: "DELETE", headers: { Authorization: desk.basic } });
  assert.deepEqual(
    await everyone.json(),
    { ended: 1, usersSkipped: 1 },
    "desk's own; the admin's are not desk's to end",
  );
  assert.deepEqual([await status(t, adminToken), await status(t, deskToken)], [200, 401]);
  const all = await t.request("/sessions", { method: "DELETE", headers: { Authorization: admin.basic } });
  assert.deepEqual(await all.json(), { ended: 1, usersSkipped: 0 });
  assert.equal(await status(t, adminToken), 401);
  assert.deepEqual(await revocations(t), [
    { target: `user:${alice.id}`, reason: "ended by administrator", sessions: 1 },
    { target: "users:all", reason: "ended by administrator", sessions: 1, usersSkipped: 1 },
    { target: "users:all", reason: "ended by administrator", sessions: 1, usersSkipped: 0 },
  ]);
});

Deno.test("the concurrent-session limit: a login beyond APP_MAX_SESSIONS_PER_USER ends the oldest session, audited", async () => {
  await using t = await createTestApp({ env: { APP_MAX_SESSIONS_PER_USER: "3" } });
  const alice = await t.user("alice");
  const tokens: string[] = [];
  for (let i = 0; i < 5; i++) {
    tokens.push(await login(t, alice));
    t.clock.advance(1_000);
  }
  assert.deepEqual(await Promise.all(tokens.map((token) => status(t, token))), [401, 401, 200, 200, 200]);
  const { items } = await (await t.request("/auth/sessions", bearer(tokens[4]!))).json();
  assert.equal(items.length, 3);
  assert.deepEqual(await revocations(t), [
    { target: `user:${alice.id}`, reason: "session limit", sessions: 1, limit: 3 },
    { target: `user:${alice.id}`, reason: "session limit", sessions: 1, limit: 3 },
  ]);
  assert.equal(t.config.maxSessionsPerUser, 3);
  assert.equal((await createTestApp()).config.maxSessionsPerUser, 10, "the documented default");
});
