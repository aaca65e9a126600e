/**
 * Liveness and readiness (README "Operations"): `/health` stays cheap — it
 * answers with the database gone — while `/health/ready` answers 503
 * problem+json naming each failed check (the database, the migrations, Redis
 * when it is the rate-limit store) and never an error text, path or URL.
 */
import assert from "node:assert/strict";
import { MemoryRateLimitStore } from "../src/ratelimit/memory_store.ts";
import { RedisRateLimitStore } from "../src/ratelimit/redis_store.ts";
import type { RateLimitStore } from "../src/ratelimit/store.ts";
import { StoreUnavailableError } from "../src/ratelimit/store.ts";
import { createTestApp, problem } from "./helpers.ts";
import { startRedis } from "./redis_helpers.ts";

/** A store that allows everything and answers PING as told, counting the PINGs. */
function fakeRemoteStore(): RateLimitStore & { up: boolean; pings: number } {
  const inner = new MemoryRateLimitStore({ maxKeys: 1_000 });
  return {
    up: true,
    pings: 0,
    consume: (key, policy) => inner.consume(key, policy),
    ping() {
      this.pings++;
      return this.up ? Promise.resolve() : Promise.reject(new StoreUnavailableError("redis://:pw@10.0.0.9:6379 down"));
    },
    close: () => {},
  };
}

Deno.test("/health/ready answers ready with the database, every migration and no remote store", async () => {
  await using t = await createTestApp();
  const res = await t.request("/health/ready");
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), {
    status: "ready",
    checks: { database: "ok", migrations: "ok", rateLimitStore: "not used" },
  });
  assert.equal(res.headers.get("Cache-Control"), "no-store");
});

Deno.test("a migration missing from the database makes /health/ready 503 naming it; /health stays 200", async () => {
  await using t = await createTestApp();
  // As after restoring a backup taken before the last deploy.
  t.db.exec("DELETE FROM schema_migrations WHERE version = 4");
  const res = await t.request("/health/ready");
  assert.equal(res.status, 503);
  assert.equal(res.headers.get("Retry-After"), "5");
  const body = await problem(res);
  assert.equal(body.type, "urn:secure-api:problem:service-unavailable");
  assert.equal(body.detail, "Not ready: migrations not applied: 004_authz_generation.sql.");
  const live = await t.request("/health");
  assert.equal(live.status, 200);
  await live.body?.cancel();
});

Deno.test("a migration changed after it was applied makes /health/ready 503 naming it", async () => {
  await using t = await createTestApp();
  // As when the code's sql/ no longer matches what this database ran (an edited migration file).
  t.db.exec("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 4");
  const res = await t.request("/health/ready");
  assert.equal(res.status, 503);
  const body = await problem(res);
  assert.equal(body.detail, "Not ready: migrations changed after they were applied: 004_authz_generation.sql.");
});

Deno.test("a database that does not answer makes /health/ready 503, while /health (no database) stays 200", async () => {
  const t = await createTestApp();
  t.db.close();
  const res = await t.request("/health/ready");
  assert.equal(res.status, 503);
  const body = await problem(res);
  assert.equal(body.detail, "Not ready: the database does not answer.");
  assert.doesNotMatch(JSON.stringify(body), /sqlite|closed|memory|Error/i, "no internal message");
  const live = await t.request("/health");
  assert.equal(live.status, 200);
  await live.body?.cancel();
});

Deno.test("a remote rate-limit store that does not answer PING makes /health/ready 503, without its URL; it recovers", async () => {
  const store = fakeRemoteStore();
  await using t = await createTestApp({ rateLimitStore: store });
  const ok = await t.request("/health/ready");
  assert.equal(ok.status, 200);
  assert.equal((await ok.json()).checks.rateLimitStore, "ok");

  store.up = false;
  t.clock.advance(1_000);
  const down = await t.request("/health/ready");
  assert.equal(down.status, 503);
  const text = await down.text();
  assert.match(text, /Not ready: the rate-limit store \(Redis\) does not answer\./);
  assert.doesNotMatch(text, /redis:\/\/|10\.0\.0\.9|pw@/, "no connection string");

  store.up = true;
  t.clock.advance(1_000);
  assert.equal((await t.request("/health/ready")).status, 200);
});

Deno.test("/health/ready probes are cached for a second, so a loop of calls costs one probe", async () => {
  const store = fakeRemoteStore();
  await using t = await createTestApp({ rateLimitStore: store });
  const statuses = await Promise.all(
    Array.from({ length: 20 }, () => t.request("/health/ready").then((r) => r.status)),
  );
  assert.deepEqual(new Set(statuses), new Set([200]));
  assert.equal(store.pings, 1);
  t.clock.advance(999);
  await (await t.request("/health/ready")).body?.cancel();
  assert.equal(store.pings, 1);
  t.clock.advance(1);
  await (await t.request("/health/ready")).body?.cancel();
  assert.equal(store.pings, 2);
});

Deno.test("a real Redis store answers the readiness PING, and a stopped one makes the instance not ready", async () => {
  const redis = await startRedis();
  const store = RedisRateLimitStore.connect(redis.url);
  try {
    assert.ok(await store.waitUntilReady(5_000));
    await using t = await createTestApp({ rateLimitStore: store });
    const ready = await t.request("/health/ready");
    assert.equal(ready.status, 200);
    assert.equal((await ready.json()).checks.rateLimitStore, "ok");
    assert.ok(((await redis.commandCalls()).ping ?? 0) >= 1, "the check went to Redis");

    await redis.stop();
    t.clock.advance(1_000);
    const down = await t.request("/health/ready");
    assert.equal(down.status, 503);
    assert.match((await problem(down)).detail as string, /rate-limit store \(Redis\) does not answer/);
  } finally {
    await store.close();
    await redis.stop().catch(() => {});
  }
});
