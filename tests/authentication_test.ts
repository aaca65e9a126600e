/**
 * Authentication through HTTP (SECURITY.md "Authentication"; RFC 7617, NIST SP 800-63B): the credential cache, the
 * KDF guard, no user enumeration, rehash on login, NFC, RFC 7617 edge cases.
 * The KDF is counted, not timed: `t.kdf.calls` is the number of derivations.
 */
import assert from "node:assert/strict";
import type { KDF } from "../src/crypto/password.ts";
import { parsePHC, pbkdf2SHA256 } from "../src/crypto/password.ts";
import { auditRows, basicAuth, createTestApp, problem } from "./helpers.ts";

const get = (t: Awaited<ReturnType<typeof createTestApp>>, authorization: string, peer?: string) =>
  t.request("/auth/me", { headers: { Authorization: authorization }, ...(peer ? { peer } : {}) });

Deno.test("a repeated Basic request runs no KDF: the second is served from the credential cache", async () => {
  await using t = await createTestApp();
  const alice = await t.user("alice");
  const before = t.kdf.calls;
  assert.equal((await get(t, alice.basic)).status, 200);
  assert.equal(t.kdf.calls, before + 1);
  for (let i = 0; i < 5; i++) assert.equal((await get(t, alice.basic)).status, 200);
  assert.equal(t.kdf.calls, before + 1);
});

Deno.test("the credential cache expires after 5 minutes", async () => {
  await using t = await createTestApp();
  const alice = await t.user("alice");
  await get(t, alice.basic);
  const before = t.kdf.calls;
  t.clock.advance(5 * 60_000);
  assert.equal((await get(t, alice.basic)).status, 200);
  assert.equal(t.kdf.calls, before + 1);
});

Deno.test("a wrong password never hits the cache: each attempt runs the KDF and fails", async () => {
  await using t = await createTestApp();
  const alice = await t.user("alice");
  await get(t, alice.basic); // cache the right password
  const before = t.kdf.calls;
  for (let i = 0; i < 3; i++) {
    assert.equal((await get(t, basicAuth("alice", alice.password + "x"))).status, 401);
  }
  assert.equal(t.kdf.calls, before + 3);
});

Deno.test("a changed password is refused at once, even inside the cache TTL; the new one works", async () => {
  await using t = await createTestApp();
  const alice = await t.user("alice");
  assert.equal((await get(t, alice.basic)).status, 200); // cached
  const newPassword = "an entirely new passphrase 7";
  const changed = await t.json("PUT", "/auth/password", { currentPassword: alice.password, newPassword }, {
    headers: { Authorization: alice.basic },
  });
  assert.equal(changed.status, 204);
  assert.equal((await get(t, alice.basic)).status, 401);
  assert.equal((await get(t, basicAuth("alice", newPassword))).status, 200);
});

Deno.test("a password changed while a KDF is in flight is not accepted or cached afterwards", async () => {
  const release = Promise.withResolvers<void>();
  let hold = false;
  const slowKDF: KDF = async (p, s, i) => {
    if (hold) await release.promise;
    return pbkdf2SHA256(p, s, i);
  };
  await using t = await createTestApp({ kdf: slowKDF });
  const alice = await t.user("alice");
  hold = true;
  const inFlight = get(t, alice.basic); // verifies against the old hash, slowly
  await new Promise((r) => setTimeout(r, 10));
  hold = false;
  const newHash = await t.deps.hasher.hash("the replacement passphrase");
  await t.deps.store.transaction((tx) => tx.users.setPasswordHash(alice.id, newHash, new Date().toISOString()));
  release.resolve();
  assert.equal((await inFlight).status, 401);
  assert.equal((await get(t, alice.basic)).status, 401);
});

Deno.test("unknown user, wrong password and disabled account are indistinguishable, each costing one KDF", async () => {
  await using t = await createTestApp();
  const alice = await t.user("alice");
  const bob = await t.user("bob");
  await t.deps.store.transaction((tx) => tx.users.setDisabled(bob.id, true, new Date().toISOString()));
  const cases = {
    unknown: basicAuth("nobody-here", alice.password),
    wrongPassword: basicAuth("alice", "not alice's password at all"),
    disabled: bob.basic, // the correct password of a disabled account
  };
  const seen: string[] = [];
  for (const [name, authorization] of Object.entries(cases)) {
    const before = t.kdf.calls;
    const response = await t.request("/products", {
      headers: { Authorization: authorization },
      peer: `198.51.100.${seen.length}`,
    });
    assert.equal(t.kdf.calls, before + 1, `${name}: one derivation`);
    assert.equal(response.status, 401, name);
    const headers = [...response.headers].filter(([k]) => k !== "x-request-id" && k !== "ratelimit");
    const body = await response.json() as Record<string, unknown>;
    delete body.requestId;
    seen.push(JSON.stringify({ headers, body }));
  }
  assert.equal(new Set(seen).size, 1, seen.join("\n"));
});

Deno.test("login rehashes a password stored with fewer iterations than configured", async () => {
  await using t = await createTestApp({ env: { APP_PBKDF2_ITERATIONS: "600000" } });
  const { PasswordHasher } = await import("../src/crypto/password.ts");
  const legacy = await new PasswordHasher({ iterations: 100_000 }).hash("an older but fine passphrase");
  const id = await t.deps.store.transaction((tx) => tx.users.create("legacy", legacy, new Date().toISOString()));
  await t.deps.store.transaction((tx) => tx.users.setRoles(id, ["viewer"], new Date().toISOString()));
  const response = await t.request("/auth/login", {
    method: "POST",
    headers: { Authorization: basicAuth("legacy", "an older but fine passphrase") },
  });
  assert.equal(response.status, 200);
  const stored = (await t.deps.store.users.findById(id))!.passwordHash;
  assert.equal(parsePHC(stored)!.iterations, 600_000);
  assert.notEqual(stored, legacy);
  assert.equal(await t.deps.hasher.verify("an older but fine passphrase", stored), true);
});

Deno.test("the same password typed in NFC and in NFD logs in", async () => {
  await using t = await createTestApp();
  const nfc = "p\u00e2t\u00e9 de campagne fran\u00e7ais";
  const registered = await t.json("POST", "/auth/register", { username: "chef", password: nfc });
  assert.equal(registered.status, 201);
  assert.equal((await get(t, basicAuth("chef", nfc))).status, 200);
  assert.equal((await get(t, basicAuth("chef", nfc.normalize("NFD")))).status, 200);
});

Deno.test("a password containing colons works (Basic splits at the first colon)", async () => {
  await using t = await createTestApp();
  const password = "a:password:with:colons:in:it";
  assert.equal((await t.json("POST", "/auth/register", { username: "tessa", password })).status, 201);
  assert.equal((await get(t, basicAuth("tessa", password))).status, 200);
});

Deno.test("non-ASCII credentials work end to end", async () => {
  await using t = await createTestApp();
  const password = "пароль-密码-كلمة-σύνθημα";
  assert.equal((await t.json("POST", "/auth/register", { username: "intl", password })).status, 201);
  assert.equal((await get(t, basicAuth("intl", password))).status, 200);
});

Deno.test("malformed Authorization headers are 401 with the Basic challenge, never 500, and run no KDF", async () => {
  await using t = await createTestApp();
  await t.user("alice");
  const headers = [
    "Basic",
    "Basic !!!",
    "Basic " + btoa("no-colon-here"),
    "Basic /w==",
    "Basic " + btoa("alice:"), // empty password: parsed, then fails (runs the KDF like any wrong password)
    "Digest username=alice",
    "Bearer not-a-token",
    "Bearer",
  ];
  for (const authorization of headers) {
    const before = t.kdf.calls;
    const response = await get(t, authorization);
    assert.equal(response.status, 401, authorization);
    assert.equal(response.headers.get("WWW-Authenticate"), 'Basic realm="secure-api", charset="UTF-8"');
    await problem(response);
    const expected = authorization === "Basic " + btoa("alice:") ? 1 : 0;
    assert.equal(t.kdf.calls - before, expected, authorization);
  }
});

Deno.test("an Authorization header over 4 KiB is refused before any hashing", async () => {
  await using t = await createTestApp();
  await t.user("alice");
  const before = t.kdf.calls;
  const response = await get(t, basicAuth("alice", "x".repeat(5000)));
  assert.equal(response.status, 401);
  assert.equal(t.kdf.calls, before);
});

Deno.test("a username that cannot exist (colon, space, too long) is refused without a KDF", async () => {
  await using t = await createTestApp();
  const before = t.kdf.calls;
  for (const name of ["a b", "x".repeat(65), "ab", "semi;colon"]) {
    assert.equal((await get(t, basicAuth(name, "whatever password"))).status, 401, name);
  }
  assert.equal(t.kdf.calls, before);
});

Deno.test("registration refuses a username containing a colon (Basic could not carry it)", async () => {
  await using t = await createTestApp();
  const response = await t.json("POST", "/auth/register", { username: "al:ice", password: "a fine long passphrase" });
  assert.equal(response.status, 422);
  const body = await problem(response);
  assert.deepEqual((body.errors as { path: string }[]).map((e) => e.path), ["username"]);
});

Deno.test("the KDF guard answers 503 + Retry-After when its queue is full, while cached users are still served", async () => {
  const release = Promise.withResolvers<void>();
  let slow = false;
  const kdf: KDF = async (p, s, i) => {
    if (slow) await release.promise;
    return pbkdf2SHA256(p, s, i);
  };
  await using t = await createTestApp({ kdf, env: { APP_KDF_CONCURRENCY: "1", APP_KDF_QUEUE: "2" } });
  const alice = await t.user("alice");
  assert.equal((await get(t, alice.basic)).status, 200); // alice is cached
  slow = true;
  // Wrong passwords from different clients: 1 running + 2 queued fill the guard.
  const flood = [0, 1, 2].map((i) => get(t, basicAuth(`mallory${i}`, "wrong password guess"), `203.0.113.${i}`));
  await new Promise((r) => setTimeout(r, 20));
  const refused = await get(t, basicAuth("mallory9", "wrong password guess"), "203.0.113.9");
  assert.equal(refused.status, 503);
  assert.equal(refused.headers.get("Retry-After"), "1");
  assert.match(String((await problem(refused)).type), /kdf-overloaded$/);
  // The cached user does not queue behind the flood.
  assert.equal((await get(t, alice.basic)).status, 200);
  release.resolve();
  for (const response of await Promise.all(flood)) assert.equal(response.status, 401);
});

Deno.test("after 5 failures for a user from one client, attempts get 429 with a doubling Retry-After and no KDF", async () => {
  await using t = await createTestApp();
  const alice = await t.user("alice");
  const wrong = basicAuth("alice", "definitely the wrong password");
  for (let i = 0; i < 5; i++) assert.equal((await get(t, wrong)).status, 401);
  const before = t.kdf.calls;
  const throttled = await get(t, alice.basic); // even the right password waits
  assert.equal(throttled.status, 429);
  assert.equal(throttled.headers.get("Retry-After"), "1");
  assert.match(String((await problem(throttled)).type), /login-throttled$/);
  assert.equal(t.kdf.calls, before);
  t.clock.advance(1_000);
  assert.equal((await get(t, wrong)).status, 401);
  assert.equal((await get(t, wrong)).headers.get("Retry-After"), "2");
  t.clock.advance(2_000);
  assert.equal((await get(t, alice.basic)).status, 200); // success resets
  assert.equal((await get(t, wrong)).status, 401);
  assert.equal((await auditRows(t.deps, "authn_login_fail_max")).length, 1);
});

Deno.test("100 consecutive failures on one account across clients lock it for 15 minutes", async () => {
  await using t = await createTestApp();
  const alice = await t.user("alice");
  const wrong = basicAuth("alice", "definitely the wrong password");
  for (let i = 0; i < 100; i++) {
    const response = await get(t, wrong, `10.1.${i >> 4}.${i & 15}`);
    assert.equal(response.status, 401, `attempt ${i}`);
  }
  const locked = await get(t, alice.basic, "10.9.9.9");
  assert.equal(locked.status, 429);
  assert.equal(locked.headers.get("Retry-After"), "900");
  assert.equal((await auditRows(t.deps, "authn_login_lock")).length, 1);
  t.clock.advance(900_000);
  assert.equal((await get(t, alice.basic, "10.9.9.9")).status, 200);
});

Deno.test("a client with more than 20 failures a minute across usernames gets 429", async () => {
  await using t = await createTestApp();
  for (let i = 0; i < 20; i++) {
    assert.equal((await get(t, basicAuth(`spray${i}`, "Winter2026!Winter2026!"))).status, 401);
  }
  const before = t.kdf.calls;
  const refused = await get(t, basicAuth("spray99", "Winter2026!Winter2026!"));
  assert.equal(refused.status, 429);
  assert.equal(t.kdf.calls, before);
  assert.equal((await get(t, basicAuth("spray99", "Winter2026!Winter2026!"), "192.0.2.200")).status, 401);
});

Deno.test("concurrent guesses cannot bypass the brute-force limits: attempts are counted when they start", async () => {
  const release = Promise.withResolvers<void>();
  let hold = false;
  const kdf: KDF = async (p, s, i) => {
    if (hold) await release.promise; // every derivation waits, as under a flood
    return pbkdf2SHA256(p, s, i);
  };
  await using t = await createTestApp({ kdf, env: { APP_KDF_CONCURRENCY: "200", APP_KDF_QUEUE: "1000" } });
  await t.user("alice");
  hold = true;
  const before = t.kdf.calls; // every attempt that passes the guard starts its derivation at once
  // 50 at once for one username from one client: only the pair's 5 may reach the KDF.
  const sameUser = Array.from(
    { length: 50 },
    () => get(t, basicAuth("alice", "a wrong password guess"), "203.0.113.7"),
  );
  // 50 at once for 50 usernames from another client: only the client's 20 a minute may.
  const spray = Array.from(
    { length: 50 },
    (_, i) => get(t, basicAuth(`user${i}`, "Winter2026!Winter2026!"), "203.0.113.8"),
  );
  await new Promise((r) => setTimeout(r, 50));
  const started = t.kdf.calls - before;
  release.resolve();
  const statuses = (await Promise.all([...sameUser, ...spray])).map((r) => r.status);
  assert.equal(started, 5 + 20);
  assert.equal(statuses.filter((s) => s === 401).length, 25);
  assert.equal(statuses.filter((s) => s === 429).length, 75);
});

Deno.test("a locked account refuses even credentials already in the cache, without a KDF", async () => {
  await using t = await createTestApp();
  const alice = await t.user("alice");
  assert.equal((await get(t, alice.basic, "10.9.9.9")).status, 200); // now cached
  const wrong = basicAuth("alice", "definitely the wrong password");
  for (let i = 0; i < 100; i++) await get(t, wrong, `10.2.${i >> 4}.${i & 15}`);
  const before = t.kdf.calls;
  // From a client that never authenticated as alice (10.9.9.9 did, and stays trusted: tests/lockout_test.ts).
  const locked = await get(t, alice.basic, "10.8.8.8");
  assert.equal(locked.status, 429);
  assert.equal(locked.headers.get("Retry-After"), "900");
  assert.equal(t.kdf.calls, before);
});
