/**
 * The account lock cannot be turned against a user by strangers (SECURITY.md
 * "Authentication", docs/authentication.md "Brute force and lockout"; ASVS
 * 5.0 6.1.1; NIST SP 800-63B §5.2.2; OWASP "Slow down online guessing
 * attacks with device cookies"): a client that has authenticated as a user
 * before is trusted for that user for 30 days. The account-wide lock counts
 * only the failures of untrusted clients and refuses only untrusted clients;
 * a trusted client keeps its own (username, client) backoff.
 */
import assert from "node:assert/strict";
import { auditRows, basicAuth, createTestApp, type TestApp } from "./helpers.ts";

const HOME = "203.0.113.7";
const WRONG = "definitely the wrong password";

const me = async (t: TestApp, authorization: string, peer: string) => {
  const res = await t.request("/auth/me", { headers: { Authorization: authorization }, peer });
  await res.body?.cancel();
  return res;
};

/** 100 wrong passwords for `username` from 100 stranger addresses: the account lock. */
async function strangersLock(t: TestApp, username: string): Promise<void> {
  const locks = (await auditRows(t.deps, "authn_login_lock")).length;
  for (let i = 0; i < 100; i++) {
    assert.equal((await me(t, basicAuth(username, WRONG), `10.1.${i >> 4}.${i & 15}`)).status, 401, `attempt ${i}`);
  }
  assert.equal((await auditRows(t.deps, "authn_login_lock")).length, locks + 1, "the account is locked");
}

Deno.test("strangers who lock an account lock out strangers only: a client the user logged in from before still gets in", async () => {
  await using t = await createTestApp();
  const alice = await t.user("alice");
  assert.equal((await me(t, alice.basic, HOME)).status, 200, "alice logs in from home: home is trusted for her");
  t.clock.advance(6 * 60_000); // past the credential cache: every check below runs the KDF or is refused before it
  await strangersLock(t, "alice");

  // A new address — the attacker's, or alice on a trip — is refused even with the right password.
  const elsewhere = await me(t, alice.basic, "198.51.100.50");
  assert.equal(elsewhere.status, 429);
  assert.equal(elsewhere.headers.get("Retry-After"), "900");
  // From home, alice is not locked out.
  assert.equal((await me(t, alice.basic, HOME)).status, 200);
  assert.equal((await auditRows(t.deps, "authn_login_success")).length, 2);
});

Deno.test("a trusted client's own failures do not count toward the account lock; its pair backoff still applies", async () => {
  await using t = await createTestApp();
  const alice = await t.user("alice");
  assert.equal((await me(t, alice.basic, HOME)).status, 200);
  // Five typos from home: the (alice, home) backoff starts, the account is not touched.
  for (let i = 0; i < 5; i++) assert.equal((await me(t, basicAuth("alice", WRONG), HOME)).status, 401);
  const throttled = await me(t, basicAuth("alice", WRONG), HOME);
  assert.equal(throttled.status, 429, "the pair backoff binds a trusted client too");
  t.clock.advance(2_000);
  // 99 stranger failures do not lock (home's 5 did not count); the 100th does.
  for (let i = 0; i < 99; i++) {
    assert.equal((await me(t, basicAuth("alice", WRONG), `10.2.${i >> 4}.${i & 15}`)).status, 401);
  }
  assert.equal((await auditRows(t.deps, "authn_login_lock")).length, 0);
  assert.equal((await me(t, basicAuth("alice", WRONG), "10.3.0.1")).status, 401);
  assert.equal((await auditRows(t.deps, "authn_login_lock")).length, 1);
});

Deno.test("trust is per user and lasts 30 days: another user's client, or an old one, is a stranger", async () => {
  await using t = await createTestApp();
  const alice = await t.user("alice");
  const bob = await t.user("bob");
  assert.equal((await me(t, bob.basic, HOME)).status, 200, "home is trusted for bob, not for alice");
  t.clock.advance(6 * 60_000);
  await strangersLock(t, "alice");
  assert.equal((await me(t, alice.basic, HOME)).status, 429);

  t.clock.advance(900_000); // the lock ends
  assert.equal((await me(t, alice.basic, HOME)).status, 200, "now home is trusted for alice");
  t.clock.advance(31 * 24 * 3_600_000); // past the 30 days of trust
  await strangersLock(t, "alice");
  assert.equal((await me(t, alice.basic, HOME)).status, 429, "trust expired: home is a stranger again");
});
