import assert from "node:assert/strict";
import { captureRecords } from "./log_capture.ts";
import { getLogger } from "@logtape/logtape";
import { startRedis, type TestRedis, waitUntil } from "./redis_helpers.ts";
import { emissionIntervalUs, type GCRADecision, type GCRAPolicy } from "../src/ratelimit/gcra.ts";
import { GCRA_SCRIPT_SHA, RedisRateLimitStore, type RedisStoreOptions } from "../src/ratelimit/redis_store.ts";
import { StoreUnavailableError } from "../src/ratelimit/store.ts";

const FIVE_PER_MINUTE: GCRAPolicy = { quota: 5, windowMs: 60_000 };

/** Runs `fn` with a Redis server and a connected store, and cleans both up. */
async function withRedis(
  fn: (redis: TestRedis, store: RedisRateLimitStore) => Promise<void>,
  options: RedisStoreOptions = {},
): Promise<void> {
  const redis = await startRedis();
  // A generous deadline unless a test is about deadlines: the suite shares a loaded machine.
  const store = RedisRateLimitStore.connect(redis.url, { maxReconnectDelayMs: 200, timeoutMs: 5_000, ...options });
  try {
    await waitUntil("the store to connect", () => Promise.resolve(store.isReady));
    await fn(redis, store);
  } finally {
    await store.close();
    await redis.stop();
  }
}

async function allowedOf(store: RedisRateLimitStore, key: string, n: number, policy = FIVE_PER_MINUTE) {
  const decisions = [];
  for (let i = 0; i < n; i++) decisions.push(await store.consume(key, policy));
  return decisions.map((d) => d.allowed);
}

/**
 * Splits `INFO commandstats` into what the client sent (ignoring the test's
 * own INFO / CONFIG) and what the script ran inside Redis, which the stats
 * count too but which cost no round trip.
 */
function commandsSent(
  calls: Record<string, number>,
): { sent: Record<string, number>; inScript: Record<string, number> } {
  const sent: Record<string, number> = {};
  const inScript: Record<string, number> = {};
  for (const [name, count] of Object.entries(calls)) {
    if (/^(info|config)/.test(name)) continue;
    if (name === "time" || name === "get" || name === "set") inScript[name] = count;
    else sent[name] = count;
  }
  return { sent, inScript };
}

Deno.test("RedisRateLimitStore allows exactly the quota and reports the state like the memory store", async () => {
  await withRedis(async (_redis, store) => {
    const decisions = [];
    for (let i = 0; i < 6; i++) decisions.push(await store.consume("k", FIVE_PER_MINUTE));
    assert.deepEqual(decisions.map((d) => d.allowed), [true, true, true, true, true, false]);
    assert.deepEqual(decisions.map((d) => d.remaining), [4, 3, 2, 1, 0, 0]);
    const refused = decisions[5]!;
    // Redis's clock moved a little between the calls: the waits are a hair under the ideal.
    assert.ok(refused.retryAfterMs > 11_000 && refused.retryAfterMs <= 12_000, `retry ${refused.retryAfterMs}`);
    assert.ok(refused.resetMs > 59_000 && refused.resetMs <= 60_000, `reset ${refused.resetMs}`);
    assert.equal(refused.tat, decisions[4]!.tat, "a refusal does not move the TAT");
    assert.deepEqual(await allowedOf(store, "other", 1), [true], "keys are independent");
  });
});

Deno.test("RedisRateLimitStore is exact for fractional intervals (7 per minute)", async () => {
  await withRedis(async (_redis, store) => {
    const policy = { quota: 7, windowMs: 60_000 };
    assert.deepEqual(await allowedOf(store, "seven", 8, policy), [true, true, true, true, true, true, true, false]);
  });
});

Deno.test("RedisRateLimitStore stores one integer TAT from Redis's clock, expiring within the window", async () => {
  await withRedis(async (redis, store) => {
    const [sec0, usec0] = (await redis.cli("TIME")).split("\n").map(Number);
    await allowedOf(store, "clocked", 5);
    const [sec1, usec1] = (await redis.cli("TIME")).split("\n").map(Number);
    const raw = await redis.cli("GET", "secure-api:rl:clocked");
    assert.match(raw, /^[0-9]+$/, "a whole number of microseconds, no float formatting");
    const tat = Number(raw);
    const interval = emissionIntervalUs(FIVE_PER_MINUTE);
    // Five cells on top of Redis's "now" at the first decision, which lies between the two TIME readings.
    assert.ok(tat >= sec0! * 1e6 + usec0! + 5 * interval, "TAT is based on Redis TIME");
    assert.ok(tat <= sec1! * 1e6 + usec1! + 5 * interval);
    const pttl = Number(await redis.cli("PTTL", "secure-api:rl:clocked"));
    assert.ok(pttl > 0 && pttl <= 60_000, `PTTL ${pttl}`);
    await allowedOf(store, "single", 1);
    const single = Number(await redis.cli("PTTL", "secure-api:rl:single"));
    assert.ok(single > 0 && single <= 12_000, `one cell expires after one interval, PTTL ${single}`);
    assert.equal(await redis.cli("EXISTS", "secure-api:rl:never"), "0");
  });
});

Deno.test("RedisRateLimitStore makes one round trip per decision", async () => {
  await withRedis(async (redis, store) => {
    await store.consume("warm-up", FIVE_PER_MINUTE); // loads the script
    await redis.cli("CONFIG", "RESETSTAT");
    let allowed = 0;
    for (let i = 0; i < 25; i++) if ((await store.consume(`rt-${i % 3}`, FIVE_PER_MINUTE)).allowed) allowed++;
    assert.equal(allowed, 15);
    const { sent, inScript } = commandsSent(await redis.commandCalls());
    assert.deepEqual(sent, { evalsha: 25 }, "one EVALSHA per decision and nothing else on the wire");
    // Inside the script: one TIME and one GET per decision, one SET per allowed request.
    assert.deepEqual(inScript, { time: 25, get: 25, set: 15 });
  });
});

Deno.test("RedisRateLimitStore never allows more than the quota under concurrent decisions", async () => {
  await withRedis(async (redis, store) => {
    const second = RedisRateLimitStore.connect(redis.url, { timeoutMs: 5_000 });
    try {
      await waitUntil("the second connection", () => Promise.resolve(second.isReady));
      const policy = { quota: 50, windowMs: 60_000 };
      const decisions = await Promise.all(
        Array.from({ length: 300 }, (_, i) => (i % 2 === 0 ? store : second).consume("shared", policy)),
      );
      assert.equal(decisions.filter((d) => d.allowed).length, 50);
      const remaining = decisions.filter((d) => d.allowed).map((d) => d.remaining).sort((a, b) => a - b);
      assert.deepEqual(remaining, Array.from({ length: 50 }, (_, i) => i), "each cell was handed out once");
    } finally {
      await second.close();
    }
  });
});

Deno.test("RedisRateLimitStore falls back to EVAL once after SCRIPT FLUSH", async () => {
  await withRedis(async (redis, store) => {
    assert.deepEqual(await allowedOf(store, "flushed", 2), [true, true]);
    await redis.cli("SCRIPT", "FLUSH");
    assert.equal(await redis.cli("SCRIPT", "EXISTS", GCRA_SCRIPT_SHA), "0");
    await redis.cli("CONFIG", "RESETSTAT");
    assert.deepEqual(await allowedOf(store, "flushed", 1), [true], "the decision still counts the earlier two");
    const afterFlush = await redis.commandCalls();
    assert.equal(afterFlush.eval, 1, "EVAL ran once");
    assert.equal(afterFlush.time, 1, "the script ran once: the refused EVALSHA did nothing");
    assert.equal(await redis.cli("SCRIPT", "EXISTS", GCRA_SCRIPT_SHA), "1", "EVAL cached the script again");
    await redis.cli("CONFIG", "RESETSTAT");
    assert.deepEqual(await allowedOf(store, "flushed", 3), [true, true, false]);
    assert.deepEqual(commandsSent(await redis.commandCalls()).sent, { evalsha: 3 }, "back to one EVALSHA each");
  });
});

Deno.test("RedisRateLimitStore fails fast while Redis is down and recovers when it returns", async () => {
  await using logs = await captureRecords(["test"]);
  const records = logs.records;
  await withRedis(async (redis, store) => {
    assert.deepEqual(await allowedOf(store, "k", 5), [true, true, true, true, true]);
    await redis.stop();
    await waitUntil("the store to notice", () => Promise.resolve(!store.isReady));
    const started = performance.now();
    await assert.rejects(store.consume("k", FIVE_PER_MINUTE), StoreUnavailableError);
    assert.ok(performance.now() - started < 100, "no waiting for a connection that is not there");
    assert.ok(
      records.some((r) => r.level === "warning" && String(r.rawMessage).startsWith("redis unavailable")),
      "the outage is logged",
    );
    const warningsDuringOutage = records.filter((r) => r.level === "warning").length;

    await redis.restart();
    await waitUntil("the store to reconnect", () => Promise.resolve(store.isReady));
    assert.ok(records.some((r) => r.rawMessage === "redis available again"), "the recovery is logged");
    assert.equal(
      records.filter((r) => r.level === "warning").length,
      warningsDuringOutage,
      "reconnection attempts are not each a warning",
    );
    // The restarted Redis is empty (no persistence): a fresh budget, enforced again.
    assert.deepEqual(await allowedOf(store, "k", 6), [true, true, true, true, true, false]);
  }, { logger: getLogger(["test"]) });
});

Deno.test("RedisRateLimitStore gives up on a hung Redis after its deadline", async () => {
  await withRedis(async (redis, store) => {
    assert.deepEqual(await allowedOf(store, "k", 1), [true]);
    redis.pause();
    try {
      const started = performance.now();
      await assert.rejects(store.consume("k", FIVE_PER_MINUTE), (error: Error) => {
        assert.ok(error instanceof StoreUnavailableError);
        assert.match(error.message, /did not answer within 150 ms/);
        return true;
      });
      const elapsed = performance.now() - started;
      assert.ok(elapsed >= 140 && elapsed < 2_000, `gave up after ${elapsed} ms`);
    } finally {
      redis.resume();
    }
    // Decisions resume. The abandoned command's late reply must not be handed to a later
    // command: the decision we get back is the one Redis made for it (its TAT is what Redis stored).
    let next: GCRADecision | null = null;
    await waitUntil("Redis to answer again", async () => {
      try {
        next = await store.consume("k", FIVE_PER_MINUTE);
        return true;
      } catch {
        return false; // a loaded machine may miss the 150 ms deadline; try again
      }
    });
    const decision = next! as GCRADecision;
    assert.equal(decision.allowed, true);
    assert.equal(decision.tat, Number(await redis.cli("GET", "secure-api:rl:k")));
  }, { timeoutMs: 150 });
});

Deno.test("RedisRateLimitStore started before Redis decides once Redis is up", async () => {
  const redis = await startRedis();
  await redis.stop();
  const store = RedisRateLimitStore.connect(redis.url, { maxReconnectDelayMs: 200 });
  try {
    await assert.rejects(store.consume("k", FIVE_PER_MINUTE), StoreUnavailableError);
    await redis.restart();
    await waitUntil("the store to connect", () => Promise.resolve(store.isReady));
    assert.equal((await store.consume("k", FIVE_PER_MINUTE)).allowed, true);
  } finally {
    await store.close();
    await redis.stop();
  }
});

Deno.test("RedisRateLimitStore.close() returns while Redis is down", async () => {
  const redis = await startRedis();
  const store = RedisRateLimitStore.connect(redis.url, { maxReconnectDelayMs: 200 });
  await waitUntil("the store to connect", () => Promise.resolve(store.isReady));
  await redis.stop();
  await store.close();
  assert.equal(store.isReady, false);
});
