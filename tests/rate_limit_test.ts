import assert from "node:assert/strict";
import { type LogRecord } from "@logtape/logtape";
import { captureRecords } from "./log_capture.ts";
import { auditRows, basicAuth, createTestApp, problem, type TestApp } from "./helpers.ts";
import type { GCRADecision, GCRAPolicy } from "../src/ratelimit/gcra.ts";
import { type RateLimitStore, StoreUnavailableError } from "../src/ratelimit/store.ts";

const QUOTA_EXCEEDED = /quota-exceeded$/;

/** A test app with small quotas: `api` and `auth` as "<quota>/<seconds>". */
function limitedApp(api: string, auth = "100000/60", env: Record<string, string> = {}): Promise<TestApp> {
  return createTestApp({ env: { APP_RATE_LIMIT_API: api, APP_RATE_LIMIT_AUTH: auth, ...env } });
}

async function statuses(t: TestApp, n: number, path: string, init: RequestInit & { peer?: string } = {}) {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const res = await t.request(path, init);
    await res.body?.cancel();
    out.push(res.status);
  }
  return out;
}

Deno.test("rateLimit() sets RateLimit-Policy and RateLimit on an api route", async () => {
  await using t = await limitedApp("5/60");
  const first = await t.request("/health");
  assert.equal(first.status, 200);
  assert.equal(first.headers.get("RateLimit-Policy"), '"api";q=5;w=60');
  // T = 12 s: one request used, four left, full again in 12 s.
  assert.equal(first.headers.get("RateLimit"), '"api";r=4;t=12');
  assert.equal(first.headers.get("Retry-After"), null);
  const second = await t.request("/health");
  assert.equal(second.headers.get("RateLimit"), '"api";r=3;t=24');
  t.clock.advance(12_000);
  const later = await t.request("/health");
  assert.equal(later.headers.get("RateLimit"), '"api";r=3;t=24', "one request refilled after T");
});

Deno.test("rateLimit() answers 429 problem+json after the quota, with Retry-After and violated-policies", async () => {
  await using t = await limitedApp("5/60");
  assert.deepEqual(await statuses(t, 5, "/health"), [200, 200, 200, 200, 200]);
  const refused = await t.request("/health");
  assert.equal(refused.status, 429);
  const body = await problem(refused);
  assert.match(String(body.type), QUOTA_EXCEEDED);
  assert.deepEqual(body["violated-policies"], ["api"]);
  assert.equal(body.instance, "/health");
  assert.equal(refused.headers.get("Retry-After"), "12");
  assert.equal(refused.headers.get("RateLimit-Policy"), '"api";q=5;w=60');
  assert.equal(refused.headers.get("RateLimit"), '"api";r=0;t=60');
  // The security headers are on the refusal too.
  assert.equal(refused.headers.get("X-Content-Type-Options"), "nosniff");
  assert.equal(refused.headers.get("Cache-Control"), "no-store");
  t.clock.advance(11_999);
  assert.equal((await t.request("/health")).status, 429, "still refused 1 ms before T");
  t.clock.advance(1);
  assert.equal((await t.request("/health")).status, 200, "allowed at T");
});

Deno.test("rateLimit() sends an integer Retry-After of at least one second", async () => {
  // 7 per minute: T = 8571.429 ms, so the wait rounds up to 9 s.
  const seven = await limitedApp("7/60");
  await statuses(seven, 7, "/health");
  assert.equal((await seven.request("/health")).headers.get("Retry-After"), "9");
  // 1000 per second: T = 1 ms, the wait is below a second but Retry-After never says 0.
  const fast = await limitedApp("1000/1");
  await statuses(fast, 1000, "/health");
  const refused = await fast.request("/health");
  assert.equal(refused.status, 429);
  assert.equal(refused.headers.get("Retry-After"), "1");
});

Deno.test("rateLimit() sets its headers on error responses too", async () => {
  await using t = await limitedApp("5/60");
  const missing = await t.request("/no-such-thing");
  assert.equal(missing.status, 404);
  assert.equal(missing.headers.get("RateLimit"), '"api";r=4;t=12');
  const unauthenticated = await t.request("/auth/me", { headers: { Authorization: "Basic Zm9v" } });
  assert.equal(unauthenticated.status, 401);
  assert.equal(unauthenticated.headers.get("RateLimit"), '"api";r=3;t=24');
});

Deno.test("rateLimit() applies the auth policy to register, login and password change only", async () => {
  await using t = await limitedApp("100/60", "10/60");
  const alice = await t.user("alice");
  const auth = { headers: { Authorization: alice.basic } };
  const policyOf = async (res: Promise<Response>) => {
    const r = await res;
    await r.body?.cancel();
    return r.headers.get("RateLimit-Policy");
  };
  const AUTH = '"auth";q=10;w=60';
  const API = '"api";q=100;w=60';
  assert.equal(await policyOf(t.json("POST", "/auth/register", { username: "bob", password: "x" })), AUTH);
  assert.equal(await policyOf(t.request("/auth/login", { method: "POST", ...auth })), AUTH);
  assert.equal(
    await policyOf(t.json("PUT", "/auth/password", { currentPassword: "a", newPassword: "b" }, auth)),
    AUTH,
  );
  assert.equal(await policyOf(t.request("/auth/me", auth)), API);
  assert.equal(await policyOf(t.request("/auth/login", auth)), API, "GET /auth/login is a 405 on the api policy");
  assert.equal(await policyOf(t.request("/auth/logout", { method: "POST", ...auth })), API);
  assert.equal(await policyOf(t.request("/products", auth)), API);
  assert.equal(await policyOf(t.request("/health")), API);
});

Deno.test("rateLimit() keeps the auth and api budgets apart", async () => {
  await using t = await limitedApp("100/60", "2/60");
  const register = () => t.json("POST", "/auth/register", { username: "x", password: "x" });
  assert.notEqual((await register()).status, 429);
  assert.notEqual((await register()).status, 429);
  const refused = await register();
  assert.equal(refused.status, 429);
  assert.deepEqual((await problem(refused))["violated-policies"], ["auth"]);
  assert.equal((await t.request("/health")).status, 200, "a spent auth budget leaves the api budget alone");
});

Deno.test("rateLimit() cannot be sidestepped with an encoded or differently cased login path", async () => {
  await using t = await limitedApp("100/60", "1/60");
  const alice = await t.user("alice");
  const login = (path: string) => t.request(path, { method: "POST", headers: { Authorization: alice.basic } });
  assert.equal((await login("/auth/login")).status, 200);
  // The router and the policy see the same decoded, dot-normalised path: these are the login route.
  for (const path of ["/auth/%6Cogin", "/auth/./login", "/auth/x/../login"]) {
    const res = await login(path);
    assert.equal(res.status, 429, path);
    assert.equal(res.headers.get("RateLimit-Policy"), '"auth";q=1;w=60', path);
    await res.body?.cancel();
  }
  // These are no route at all (strict routing), so they cannot reach login under the api policy.
  for (const path of ["/auth/login/", "/AUTH/LOGIN", "/auth//login"]) {
    const res = await login(path);
    assert.equal(res.status, 404, path);
    await res.body?.cancel();
  }
});

Deno.test("rateLimit() refuses a login flood per client before the KDF runs", async () => {
  await using t = await limitedApp("100/60", "3/60");
  const alice = await t.user("alice");
  const before = t.kdf.calls;
  const wrong = { method: "POST", headers: { Authorization: basicAuth("alice", "wrong-password-123") } };
  assert.deepEqual(await statuses(t, 3, "/auth/login", wrong), [401, 401, 401]);
  assert.equal(t.kdf.calls, before + 3, "each admitted attempt ran the KDF once");
  const refused = await t.request("/auth/login", wrong);
  assert.equal(refused.status, 429);
  assert.match(String((await problem(refused)).type), QUOTA_EXCEEDED);
  assert.equal(t.kdf.calls, before + 3, "the refused attempt never reached the KDF");
  assert.equal(auditRows(t.deps, "authn_login_fail").length, 3, "nor the authenticator");
  // The right password from the same client is refused too, so the flood cannot probe for it.
  const right = await t.request("/auth/login", { method: "POST", headers: { Authorization: alice.basic } });
  assert.equal(right.status, 429);
  assert.equal(t.kdf.calls, before + 3);
  // Another client is unaffected.
  const elsewhere = await t.request("/auth/login", {
    method: "POST",
    headers: { Authorization: alice.basic },
    peer: "198.51.100.20",
  });
  assert.equal(elsewhere.status, 200);
});

Deno.test("rateLimit() limits a user across client addresses in the per-user pass", async () => {
  await using t = await limitedApp("3/60");
  const alice = await t.user("alice");
  const bob = await t.user("bob");
  const me = (user: { basic: string }, peer: string) =>
    t.request("/auth/me", { headers: { Authorization: user.basic }, peer });
  const peers = ["198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4"];
  const first = await me(alice, peers[0]!);
  assert.equal(first.status, 200);
  await first.body?.cancel();
  const second = await me(alice, peers[1]!);
  // Both passes used one of three; the second request's user budget is the tighter one.
  assert.equal(second.headers.get("RateLimit"), '"api";r=1;t=40');
  await second.body?.cancel();
  assert.equal((await me(alice, peers[2]!)).status, 200);
  const refused = await me(alice, peers[3]!);
  assert.equal(refused.status, 429, "a fresh address does not give the user a fresh budget");
  // The refusal reports the user pass's exhausted budget, not the fresh client budget of this address.
  assert.equal(refused.headers.get("RateLimit"), '"api";r=0;t=60');
  assert.deepEqual((await problem(refused))["violated-policies"], ["api"]);
  const rows = auditRows(t.deps, "excess_rate_limit_exceeded");
  assert.equal(rows.length, 1);
  assert.equal(rows[0]!.actor, alice.id);
  assert.equal(rows[0]!.target, `user:${alice.id}`);
  assert.equal(rows[0]!.client, peers[3]);
  assert.equal(rows[0]!.status, 429);
  assert.deepEqual(JSON.parse(String(rows[0]!.detail)), { policy: "api", scope: "user" });
  // Another user from the same address still has a budget (the address used one of three).
  assert.equal((await me(bob, peers[3]!)).status, 200);
});

Deno.test("rateLimit() counts one request once per pass, never twice against the same key", async () => {
  await using t = await limitedApp("4/60");
  const alice = await t.user("alice");
  const statusesSeen = await statuses(t, 5, "/auth/me", { headers: { Authorization: alice.basic } });
  assert.deepEqual(statusesSeen, [200, 200, 200, 200, 429]);
});

Deno.test("rateLimit() gives IPv6 clients in one /64 one budget", async () => {
  await using t = await limitedApp("2/60");
  assert.equal((await t.request("/health", { peer: "2001:db8:1:2::1" })).status, 200);
  assert.equal((await t.request("/health", { peer: "2001:db8:1:2:ffff:ffff:ffff:ffff" })).status, 200);
  const refused = await t.request("/health", { peer: "2001:db8:1:2:abcd::9" });
  assert.equal(refused.status, 429);
  await refused.body?.cancel();
  assert.equal((await t.request("/health", { peer: "2001:db8:1:3::1" })).status, 200, "the next /64 is another client");
  const row = auditRows(t.deps, "excess_rate_limit_exceeded")[0]!;
  assert.equal(row.client, "2001:db8:1:2:abcd::9", "the audit keeps the full address");
});

Deno.test("rateLimit() ignores a spoofed X-Forwarded-For from an untrusted peer", async () => {
  await using t = await limitedApp("2/60");
  const spoof = (n: number) => t.request("/health", { headers: { "X-Forwarded-For": `203.0.113.${n}` } });
  assert.equal((await spoof(1)).status, 200);
  assert.equal((await spoof(2)).status, 200);
  const refused = await spoof(3);
  assert.equal(refused.status, 429, "a new forged address per request does not buy a new budget");
  await refused.body?.cancel();
  assert.equal(auditRows(t.deps, "excess_rate_limit_exceeded")[0]!.client, "192.0.2.10");
});

Deno.test("rateLimit() keys clients behind a trusted proxy by their forwarded address", async () => {
  await using t = await limitedApp("1/60", "100000/60", { APP_TRUST_PROXY: "10.0.0.0/8" });
  const via = (client: string) => t.request("/health", { peer: "10.0.0.1", headers: { "X-Forwarded-For": client } });
  assert.equal((await via("198.51.100.1")).status, 200);
  assert.equal((await via("198.51.100.2")).status, 200, "another client behind the same proxy");
  const refused = await via("198.51.100.1");
  assert.equal(refused.status, 429);
  await refused.body?.cancel();
  assert.equal(auditRows(t.deps, "excess_rate_limit_exceeded")[0]!.client, "198.51.100.1");
});

Deno.test("rateLimit() writes one excess_rate_limit_exceeded row per key per window under a flood", async () => {
  await using t = await limitedApp("2/60");
  const flood = await statuses(t, 50, "/health");
  assert.equal(flood.filter((s) => s === 429).length, 48);
  let rows = auditRows(t.deps, "excess_rate_limit_exceeded");
  assert.equal(rows.length, 1);
  assert.equal(rows[0]!.client, "192.0.2.10");
  assert.equal(rows[0]!.path, "/health");
  assert.equal(rows[0]!.method, "GET");
  assert.equal(rows[0]!.status, 429);
  assert.equal(rows[0]!.actor, null);
  assert.deepEqual(JSON.parse(String(rows[0]!.detail)), { policy: "api", scope: "client" });
  // Half a window later one request has refilled; the next flood is still in the same window.
  t.clock.advance(30_000);
  assert.deepEqual(await statuses(t, 20, "/health"), [200, ...new Array(19).fill(429)]);
  assert.equal(auditRows(t.deps, "excess_rate_limit_exceeded").length, 1);
  // A flood from another client is that client's own row.
  await statuses(t, 5, "/health", { peer: "198.51.100.9" });
  assert.equal(auditRows(t.deps, "excess_rate_limit_exceeded").length, 2);
  // The next window: a new row for the first client.
  t.clock.advance(30_000);
  await statuses(t, 20, "/health");
  rows = auditRows(t.deps, "excess_rate_limit_exceeded");
  assert.equal(rows.length, 3);
  assert.deepEqual(rows.map((r) => r.client), ["192.0.2.10", "198.51.100.9", "192.0.2.10"]);
});

/** A store whose backend is down (or broken, with `error`). */
function brokenStore(error: () => Error = () => new StoreUnavailableError("connection refused")): RateLimitStore {
  return {
    consume(_key: string, _policy: GCRAPolicy): GCRADecision {
      throw error();
    },
    close() {},
  };
}

/** Captures LogTape records of the `secure-api` category while `fn` runs. */
async function capturingLogs(fn: (records: LogRecord[]) => Promise<void>): Promise<void> {
  await using logs = await captureRecords(["secure-api"]);
  await fn(logs.records);
}

function warnings(records: readonly LogRecord[]) {
  return records.filter((r) =>
    r.level === "warning" && String(r.rawMessage).startsWith("rate-limit store unavailable")
  );
}

Deno.test("rateLimit() fails closed with 503 on auth routes when the store is down", async () => {
  await using t = await createTestApp({ rateLimitStore: brokenStore() });
  const before = t.kdf.calls;
  const res = await t.request("/auth/login", {
    method: "POST",
    headers: { Authorization: basicAuth("alice", "whatever-password") },
  });
  assert.equal(res.status, 503);
  const body = await problem(res);
  assert.match(String(body.type), /service-unavailable$/);
  assert.equal(res.headers.get("Retry-After"), "5");
  assert.equal(t.kdf.calls, before, "no password is checked without the brake");
  const register = await t.json("POST", "/auth/register", { username: "mallory", password: "p".repeat(20) });
  assert.equal(register.status, 503);
  await register.body?.cancel();
  assert.equal(t.deps.repos.users.findByUsername("mallory"), undefined, "no account was created");
});

Deno.test("rateLimit() fails open on api routes when the store is down, with a rate-limited warning", async () => {
  await capturingLogs(async (records) => {
    await using t = await createTestApp({ rateLimitStore: brokenStore() });
    for (let i = 0; i < 3; i++) {
      const res = await t.request("/health");
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("RateLimit"), null, "no decision, no state to report");
      await res.body?.cancel();
    }
    assert.equal(warnings(records).length, 1, "one warning, not one per request");
    assert.deepEqual(
      { ...warnings(records)[0]!.properties },
      { scope: "client", policy: "api", allowed: 1, error: "connection refused" },
    );
    t.clock.advance(10_000);
    await (await t.request("/health")).body?.cancel();
    assert.equal(warnings(records).length, 2);
    assert.equal(warnings(records)[1]!.properties.allowed, 3, "the warning counts the requests let through since");
  });
});

Deno.test("rateLimit() turns an unexpected store error into a 500, not a silent fail-open", async () => {
  await capturingLogs(async (records) => {
    await using t = await createTestApp({ rateLimitStore: brokenStore(() => new TypeError("bug in the store")) });
    const res = await t.request("/health");
    assert.equal(res.status, 500);
    const body = await problem(res);
    assert.equal(JSON.stringify(body).includes("bug in the store"), false, "the cause stays in the log");
    assert.equal(warnings(records).length, 0);
    assert.ok(records.some((r) => r.level === "error"), "the cause is logged");
  });
});
