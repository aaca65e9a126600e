/**
 * Rate limiting across instances: whole applications on one real Redis.
 */
import assert from "node:assert/strict";
import { captureRecords } from "./log_capture.ts";
import { RedisRateLimitStore } from "../src/ratelimit/redis_store.ts";
import { basicAuth, createTestApp, problem, type TestApp } from "./helpers.ts";
import { startRedis, type TestRedis, waitUntil } from "./redis_helpers.ts";

const LIMITS = { APP_RATE_LIMIT_API: "4/60", APP_RATE_LIMIT_AUTH: "3/60" };

async function connected(redis: TestRedis): Promise<RedisRateLimitStore> {
  const store = RedisRateLimitStore.connect(redis.url, { maxReconnectDelayMs: 200, timeoutMs: 5_000 });
  await waitUntil("the store to connect", () => Promise.resolve(store.isReady));
  return store;
}

async function status(t: TestApp, path: string, init: RequestInit & { peer?: string } = {}) {
  const res = await t.request(path, init);
  await res.body?.cancel();
  return res.status;
}

Deno.test("two app instances on one Redis share one limit", async () => {
  const redis = await startRedis();
  const storeA = await connected(redis);
  const storeB = await connected(redis);
  try {
    const a = await createTestApp({ env: LIMITS, rateLimitStore: storeA });
    const b = await createTestApp({ env: LIMITS, rateLimitStore: storeB });
    // The same client, load-balanced between the two instances.
    assert.equal(await status(a, "/health"), 200);
    const second = await b.request("/health");
    assert.equal(second.status, 200);
    assert.equal(second.headers.get("RateLimit")?.startsWith('"api";r=2;'), true, "B sees A's request");
    await second.body?.cancel();
    assert.equal(await status(a, "/health"), 200);
    assert.equal(await status(b, "/health"), 200);
    const refusedByA = await a.request("/health");
    assert.equal(refusedByA.status, 429);
    assert.deepEqual((await problem(refusedByA))["violated-policies"], ["api"]);
    assert.equal(await status(b, "/health"), 429, "four in total across both instances, not four each");
    assert.equal(await status(b, "/health", { peer: "198.51.100.77" }), 200, "other clients are unaffected");
  } finally {
    await storeA.close();
    await storeB.close();
    await redis.stop();
  }
});

Deno.test("with Redis down auth routes fail closed (503) and api routes fail open with a warning, then recover", async () => {
  await using logs = await captureRecords(["secure-api"]);
  const records = logs.records;
  const redis = await startRedis();
  const store = await connected(redis);
  try {
    await using t = await createTestApp({ env: LIMITS, rateLimitStore: store });
    const alice = await t.user("alice");
    const login = { method: "POST", headers: { Authorization: alice.basic } };
    assert.equal(await status(t, "/auth/login", login), 200);

    await redis.stop();
    await waitUntil("the store to notice", () => Promise.resolve(!store.isReady));
    const kdfBefore = t.kdf.calls;
    const closed = await t.request("/auth/login", {
      method: "POST",
      headers: { Authorization: basicAuth("alice", "a-guess-123456") },
    });
    assert.equal(closed.status, 503);
    assert.match(String((await problem(closed)).type), /service-unavailable$/);
    assert.equal(closed.headers.get("Retry-After"), "5");
    assert.equal(t.kdf.calls, kdfBefore, "no password guess is checked while the brake is off");

    const open = await t.request("/products", { headers: { Authorization: alice.basic } });
    assert.equal(open.status, 200, "the api keeps serving");
    await open.body?.cancel();
    const warnings = records.filter((r) =>
      r.level === "warning" && String(r.rawMessage).startsWith("rate-limit store unavailable")
    );
    assert.equal(warnings.length, 2, "one warning from each pass (client, then user)");
    assert.deepEqual(warnings.map((w) => w.properties.scope), ["client", "user"]);

    await redis.restart();
    await waitUntil("the store to reconnect", () => Promise.resolve(store.isReady));
    // Enforced again: Redis restarted empty, so the client has a fresh budget of 3 logins.
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await status(t, "/auth/login", login));
    assert.deepEqual(results, [200, 200, 200, 429]);
    for (let i = 0; i < 4; i++) assert.equal(await status(t, "/health"), 200);
    assert.equal(await status(t, "/health"), 429);
  } finally {
    await store.close();
    await redis.stop();
  }
});
