import assert from "node:assert/strict";
import { getLogger } from "@logtape/logtape";
import { captureRecords } from "./log_capture.ts";
import { freePort } from "./e2e_helpers.ts";
import { startRedis } from "./redis_helpers.ts";
import { parseConfig } from "../src/config.ts";
import { createRateLimitStore } from "../src/ratelimit/create_store.ts";
import { MemoryRateLimitStore } from "../src/ratelimit/memory_store.ts";
import { RedisRateLimitStore } from "../src/ratelimit/redis_store.ts";

Deno.test("createRateLimitStore() builds the bounded memory store by default", async () => {
  const store = await createRateLimitStore(parseConfig({ APP_RATE_LIMIT_MAX_KEYS: "150" }), getLogger(["test"]));
  assert.ok(store instanceof MemoryRateLimitStore);
  for (let i = 0; i < 400; i++) store.consume(`k${i}`, { quota: 1, windowMs: 1_000 });
  assert.equal(store.size, 150, "APP_RATE_LIMIT_MAX_KEYS is the bound");
});

Deno.test("createRateLimitStore() returns a connected Redis store when Redis is up", async () => {
  const redis = await startRedis();
  const store = await createRateLimitStore(parseConfig({ APP_RATE_LIMIT_STORE: redis.url }), getLogger(["test"]));
  try {
    assert.ok(store instanceof RedisRateLimitStore);
    assert.equal(store.isReady, true, "start-up waited for the connection");
    assert.equal((await store.consume("k", { quota: 1, windowMs: 1_000 })).allowed, true);
  } finally {
    await store.close();
    await redis.stop();
  }
});

Deno.test("createRateLimitStore() starts without Redis after a bounded wait, with a warning", async () => {
  await using logs = await captureRecords(["test"]);
  const records = logs.records;
  const config = parseConfig({ APP_RATE_LIMIT_STORE: `redis://:s3cret-pw@127.0.0.1:${freePort()}` });
  const started = performance.now();
  const store = await createRateLimitStore(config, getLogger(["test"]), { connectWaitMs: 300 });
  try {
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 290 && elapsed < 5_000, `waited ${elapsed} ms`);
    assert.ok(store instanceof RedisRateLimitStore);
    assert.equal(store.isReady, false);
    assert.ok(records.some((r) => r.level === "warning" && String(r.rawMessage).startsWith("starting without redis")));
    const logged = JSON.stringify(records.map((r) => [r.rawMessage, r.properties]));
    assert.equal(logged.includes("s3cret-pw"), false, "the Redis password never reaches the log");
  } finally {
    await store.close();
  }
});
