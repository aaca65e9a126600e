/**
 * The password policy through HTTP (SECURITY.md "Authentication",
 * docs/authentication.md "Password policy"; ASVS 5.0 6.2.4, 6.2.8, 6.2.11,
 * 6.2.12): long passwords built from patterns and the service's own words are
 * refused with the reason, before any hashing; a password is used exactly as
 * given, so no variant of it logs in.
 */
import assert from "node:assert/strict";
import { basicAuth, createTestApp, problem } from "./helpers.ts";

const WEAK = [
  "passwordpassword1",
  "qwertyuiopasdfghjkl",
  "1qaz2wsx3edc4rfv5tgb",
  "iloveyouiloveyou",
  "abcdefghijklmnopq",
  "summer2024summer2024",
];

Deno.test("registration and password change refuse long pattern passwords with the reason, before hashing anything", async () => {
  await using t = await createTestApp();
  const alice = await t.user("alice");
  const before = t.kdf.calls;
  for (const [i, password] of WEAK.entries()) {
    const registered = await t.json("POST", "/auth/register", { username: `weak${i}`, password });
    assert.equal(registered.status, 422, password);
    const body = await problem(registered);
    assert.match(String(body.detail), /^The password is not acceptable: it is too easy to guess \(it is built from /);
    assert.deepEqual((body.errors as { path: string }[]).map((e) => e.path), ["password"]);
    assert.equal(await t.deps.store.users.findByUsername(`weak${i}`), undefined);
  }
  assert.equal(t.kdf.calls, before, "refused before any derivation");
  for (const password of WEAK) {
    const changed = await t.json("PUT", "/auth/password", { currentPassword: alice.password, newPassword: password }, {
      headers: { Authorization: alice.basic },
    });
    assert.equal(changed.status, 422, password);
    assert.match(String((await problem(changed)).detail), /The newPassword is not acceptable: it is too easy to guess/);
  }
  const still = await t.request("/auth/me", { headers: { Authorization: alice.basic } });
  assert.equal(still.status, 200, "the old password still works");
  await still.body?.cancel();
});

Deno.test("the service's context words and APP_PASSWORD_CONTEXT_WORDS are refused in new passwords", async () => {
  await using t = await createTestApp({ env: { APP_PASSWORD_CONTEXT_WORDS: "Acme Widgets" } });
  const cases: [string, RegExp][] = [
    ["my very own Secure-API password", /must not contain "secure-api"/],
    ["the acme_widgets staff passphrase", /must not contain "Acme Widgets"/],
  ];
  for (const [password, message] of cases) {
    const res = await t.json("POST", "/auth/register", { username: "carla", password });
    assert.equal(res.status, 422);
    assert.match(String((await problem(res)).detail), message);
  }
  const ok = await t.json("POST", "/auth/register", {
    username: "carla",
    password: "marmalade skylight over the pier",
  });
  assert.equal(ok.status, 201);
  await ok.body?.cancel();
});

Deno.test("a password logs in only exactly as set: case changed, truncated or extended, it is refused", async () => {
  await using t = await createTestApp();
  const password = "Marmalade Skylight over the Pier";
  const registered = await t.json("POST", "/auth/register", { username: "dora", password });
  assert.equal(registered.status, 201);
  await registered.body?.cancel();
  const variants = [
    password.toLowerCase(),
    password.toUpperCase(),
    password.replace("M", "m"),
    password.slice(0, -1),
    password.slice(0, 15),
    password.slice(1),
    `${password} `,
    ` ${password}`,
    `${password}x`,
  ];
  for (const [i, variant] of variants.entries()) {
    // A client of its own per guess, so the brute-force backoff (429) does not answer for the check.
    const res = await t.request("/auth/me", {
      headers: { Authorization: basicAuth("dora", variant) },
      peer: `198.51.100.${i + 1}`,
    });
    assert.equal(res.status, 401, JSON.stringify(variant));
    await res.body?.cancel();
  }
  const exact = await t.request("/auth/me", { headers: { Authorization: basicAuth("dora", password) } });
  assert.equal(exact.status, 200);
  await exact.body?.cancel();
});
