/**
 * Changes to a user's access take effect on the very next request (ASVS 5.0
 * 8.3.2; SECURITY.md "Authorization"): grants and revocations with cached Basic credentials and
 * with bearer tokens; disable and delete end tokens and cached credentials at
 * once; a password reset by the admin CLI — another connection, another
 * process — ends the old password in a running server's credential cache.
 */
import assert from "node:assert/strict";
import { CredentialCache } from "../src/auth/credential_cache.ts";
import { runAdmin } from "../src/cli/admin.ts";
import { PasswordHasher } from "../src/crypto/password.ts";
import {
  auditRows,
  basicAuth,
  createTestApp,
  problem,
  TEST_ITERATIONS,
  type TestApp,
  type TestUser,
} from "./helpers.ts";

const basic = (user: TestUser) => ({ headers: { Authorization: user.basic } });
const bearer = (token: string) => ({ headers: { Authorization: `Bearer ${token}` } });
const newProduct = { name: "Lamp", priceCents: 100, stock: 1 };

/** Logs in once with Basic (filling the credential cache) and returns a bearer token. */
async function login(t: TestApp, user: TestUser): Promise<string> {
  const res = await t.request("/auth/login", { method: "POST", ...basic(user) });
  assert.equal(res.status, 200);
  return (await res.json()).token;
}

function tokenCount(t: TestApp, userId: number): number {
  return t.db.prepare("SELECT count(*) AS n FROM tokens WHERE user_id = :id").get<{ n: number }>({ id: userId })!.n;
}

Deno.test("a granted role works on the very next request, with cached Basic and with Bearer", async () => {
  await using t = await createTestApp();
  const admin = await t.user("root-admin", ["admin"]);
  const user = await t.user("vic", ["viewer"]);
  const token = await login(t, user);
  for (const init of [basic(user), bearer(token)]) {
    const res = await t.json("POST", "/products", newProduct, init);
    assert.equal(res.status, 403);
    await problem(res);
  }

  const grant = await t.json("PUT", `/users/${user.id}/roles`, { roles: ["editor"] }, basic(admin));
  assert.equal(grant.status, 200);
  await grant.body?.cancel();

  const kdfBefore = t.kdf.calls;
  const viaBasic = await t.json("POST", "/products", newProduct, basic(user));
  assert.equal(viaBasic.status, 201);
  await viaBasic.body?.cancel();
  assert.equal(t.kdf.calls, kdfBefore, "served from the credential cache, yet with the new grant");
  const viaBearer = await t.json("POST", "/products", newProduct, bearer(token));
  assert.equal(viaBearer.status, 201);
  await viaBearer.body?.cancel();
});

Deno.test("a revoked role is refused on the very next request, with cached Basic and with Bearer", async () => {
  await using t = await createTestApp();
  const admin = await t.user("root-admin", ["admin"]);
  const user = await t.user("eddie", ["editor"]);
  const token = await login(t, user);
  const warm = await t.json("POST", "/products", newProduct, basic(user));
  assert.equal(warm.status, 201);
  await warm.body?.cancel();

  const revoke = await t.json("PUT", `/users/${user.id}/roles`, { roles: ["viewer"] }, basic(admin));
  assert.equal(revoke.status, 200);
  await revoke.body?.cancel();

  const kdfBefore = t.kdf.calls;
  for (const init of [basic(user), bearer(token)]) {
    const res = await t.json("POST", "/products", newProduct, init);
    assert.equal(res.status, 403);
    assert.match(String((await problem(res)).detail), /products:create/);
  }
  assert.equal(t.kdf.calls, kdfBefore, "the cache still authenticates; it never caches permissions");
  assert.equal((await t.deps.store.products.list({ after: 0, limit: 10, q: undefined })).length, 1);
});

Deno.test("disabling a user ends their tokens and cached credentials at once; enabling restores neither", async () => {
  await using t = await createTestApp();
  const admin = await t.user("root-admin", ["admin"]);
  const user = await t.user("dora", ["editor"]);
  const token = await login(t, user);
  const kdfWarm = t.kdf.calls;
  const cached = await t.request("/products", basic(user));
  assert.equal(cached.status, 200);
  await cached.body?.cancel();
  assert.equal(t.kdf.calls, kdfWarm, "the credentials are cached");
  const cacheKey = t.deps.credentialCache.keyOf(user.username, user.password);
  assert.equal(t.deps.credentialCache.get(cacheKey), user.id);

  const disable = await t.request(`/users/${user.id}/disable`, { method: "POST", ...basic(admin) });
  assert.equal(disable.status, 200);
  await disable.body?.cancel();
  assert.equal(tokenCount(t, user.id), 0);
  assert.equal(t.deps.credentialCache.get(cacheKey), undefined, "the user's cache entry is gone");
  assert.deepEqual(JSON.parse((await auditRows(t.deps, "user_updated"))[0]!.detail), {
    disabled: true,
    tokensRevoked: 1,
  });

  const kdfDisabled = t.kdf.calls;
  for (const init of [basic(user), bearer(token)]) {
    const res = await t.request("/products", init);
    assert.equal(res.status, 401);
    assert.ok(res.headers.get("WWW-Authenticate"));
    await problem(res);
  }
  assert.equal(t.kdf.calls, kdfDisabled + 1, "the Basic attempt was checked in full, not answered from the cache");

  const enable = await t.request(`/users/${user.id}/enable`, { method: "POST", ...basic(admin) });
  assert.equal(enable.status, 200);
  await enable.body?.cancel();
  const oldToken = await t.request("/products", bearer(token));
  assert.equal(oldToken.status, 401, "a token ended by disable stays ended");
  await oldToken.body?.cancel();
  const again = await t.request("/products", basic(user));
  assert.equal(again.status, 200);
  await again.body?.cancel();
  assert.equal(t.kdf.calls, kdfDisabled + 2, "after enable the password is verified afresh");
});

Deno.test("deleting a user ends their tokens and cached credentials at once", async () => {
  await using t = await createTestApp();
  const admin = await t.user("root-admin", ["admin"]);
  const user = await t.user("gone", ["editor"]);
  const token = await login(t, user);
  await login(t, user);
  assert.equal(tokenCount(t, user.id), 2);
  const cacheKey = t.deps.credentialCache.keyOf(user.username, user.password);
  assert.equal(t.deps.credentialCache.get(cacheKey), user.id);

  const del = await t.request(`/users/${user.id}`, { method: "DELETE", ...basic(admin) });
  assert.equal(del.status, 204);
  assert.equal(tokenCount(t, user.id), 0);
  assert.equal(t.deps.credentialCache.get(cacheKey), undefined);
  assert.equal(JSON.parse((await auditRows(t.deps, "user_deleted"))[0]!.detail).tokensRevoked, 2);
  for (const init of [basic(user), bearer(token)]) {
    const res = await t.request("/products", init);
    assert.equal(res.status, 401);
    await problem(res);
  }
});

Deno.test("a password reset by the admin CLI ends the old password in a running server's cache", async () => {
  const dir = await Deno.makeTempDir({ prefix: "secure-api-revocation-" });
  const dbPath = `${dir}/app.db`;
  try {
    await using t = await createTestApp({ dbPath });
    const user = await t.user("rita", ["editor"]);
    const token = await login(t, user);
    const warm = await t.request("/products", basic(user));
    assert.equal(warm.status, 200);
    await warm.body?.cancel();

    const out: string[] = [];
    const status = await runAdmin(["reset-password", "rita", "--password-stdin"], {
      env: { APP_DB: dbPath, APP_PBKDF2_ITERATIONS: String(TEST_ITERATIONS) },
      stdout: (text) => out.push(text),
      stderr: (text) => out.push(text),
      readStdin: () => Promise.resolve("a brand new passphrase, finally\n"),
    });
    assert.equal(status, 0, out.join(""));

    // The server's process never heard of the reset: its cache still holds the old password.
    const kdfBefore = t.kdf.calls;
    const old = await t.request("/products", basic(user));
    assert.equal(old.status, 401);
    await problem(old);
    assert.equal(t.kdf.calls, kdfBefore + 1, "the stale cache entry was not accepted");
    const stale = await t.request("/products", bearer(token));
    assert.equal(stale.status, 401, "the reset deleted the token rows");
    await stale.body?.cancel();
    const fresh = await t.request("/auth/me", {
      headers: { Authorization: basicAuth("rita", "a brand new passphrase, finally") },
    });
    assert.equal(fresh.status, 200, "the new password works (to change itself first: the operator knows it)");
    await fresh.body?.cancel();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a user disabled by the admin CLI is refused by a running server on the next request", async () => {
  const dir = await Deno.makeTempDir({ prefix: "secure-api-revocation-" });
  const dbPath = `${dir}/app.db`;
  try {
    await using t = await createTestApp({ dbPath });
    await t.user("root-admin", ["admin"]);
    const user = await t.user("carl", ["editor"]);
    const token = await login(t, user);
    const status = await runAdmin(["disable", "carl"], {
      env: { APP_DB: dbPath, APP_PBKDF2_ITERATIONS: String(TEST_ITERATIONS) },
      stdout: () => {},
      stderr: () => {},
      readStdin: () => Promise.resolve(""),
    });
    assert.equal(status, 0);
    for (const init of [basic(user), bearer(token)]) {
      const res = await t.request("/products", init);
      assert.equal(res.status, 401);
      await problem(res);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CredentialCache.isCurrent() accepts only the password hash the entry was verified against", () => {
  const cache = new CredentialCache({ clock: () => 0 });
  const key = cache.keyOf("rita", "old password of rita");
  cache.set(key, 7, "$pbkdf2-sha256$i=1000$c2FsdA$b2xk");
  assert.equal(cache.isCurrent(key, "$pbkdf2-sha256$i=1000$c2FsdA$b2xk"), true);
  assert.equal(cache.isCurrent(key, "$pbkdf2-sha256$i=1000$c2FsdDI$bmV3"), false);
  assert.equal(cache.get(key), undefined, "a stale entry is dropped");
  cache.set(key, 7);
  assert.equal(cache.isCurrent(key, ""), false, "an entry stored without a hash never counts as current");
});

Deno.test("a transparent rehash keeps the credentials cached: the next request costs no KDF", async () => {
  await using t = await createTestApp({ env: { APP_PBKDF2_ITERATIONS: String(TEST_ITERATIONS * 2) } });
  const user = await t.user("rehash-me", ["viewer"]);
  const weaker = await new PasswordHasher({ iterations: TEST_ITERATIONS }).hash(user.password);
  await t.deps.store.transaction((tx) => tx.users.setPasswordHash(user.id, weaker, "2026-01-01T00:00:00.000Z"));

  const first = await t.request("/products", basic(user));
  assert.equal(first.status, 200);
  await first.body?.cancel();
  assert.equal(t.kdf.calls, 3, "create, verify, rehash");
  assert.match((await t.deps.store.users.findById(user.id))!.passwordHash, new RegExp(`i=${TEST_ITERATIONS * 2}\\$`));
  const second = await t.request("/products", basic(user));
  assert.equal(second.status, 200);
  await second.body?.cancel();
  assert.equal(t.kdf.calls, 3, "cached against the new hash");
});
