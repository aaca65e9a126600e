/**
 * Rate-limit benchmarks (BENCHMARKS.md "Targets"): one in-memory decision (target < 1 µs),
 * the heap held by 100,000 keys (target < 32 MB), and for comparison one
 * Redis decision over loopback against a throwaway `redis-server`.
 *
 * Run with `deno task bench` (which passes `--v8-flags=--expose-gc` so the
 * memory figure is measured after a full garbage collection).
 */
import { gcra } from "../src/ratelimit/gcra.ts";
import { MemoryRateLimitStore } from "../src/ratelimit/memory_store.ts";
import { RedisRateLimitStore } from "../src/ratelimit/redis_store.ts";
import { startRedis } from "../tests/redis_helpers.ts";

const API = { quota: 600, windowMs: 60_000 };
/** Never refuses, so the allowed path (which writes the map) is what is timed. */
const GENEROUS = { quota: 1_000_000_000, windowMs: 1_000 };
const KEYS = 100_000;

/** Realistic middleware keys: `api:c:<IPv4>` and `api:c:<IPv6 /64>`. */
function clientKey(i: number, v6: boolean): string {
  return v6
    ? `api:c:2001:db8:${(i >>> 16).toString(16)}:${(i & 0xffff).toString(16)}::/64`
    : `api:c:${10 + (i >>> 16)}.${(i >>> 8) & 255}.${i & 255}.${(i * 7) & 255}`;
}

const ipv4Keys = Array.from({ length: KEYS }, (_, i) => clientKey(i, false));

// A clock that moves, as Date.now would, without the cost of a syscall in the measurement.
let tick = Date.parse("2026-01-01T00:00:00Z");
const clock = () => (tick += 0.001);

Deno.bench("gcra(): one decision, pure function", { group: "decision", baseline: true }, () => {
  gcra(undefined, tick, API);
});

const hot = new MemoryRateLimitStore({ clock });
Deno.bench("MemoryRateLimitStore.consume(): one hot key, allowed", { group: "decision" }, () => {
  hot.consume("api:c:192.0.2.10", GENEROUS);
});

const refusing = new MemoryRateLimitStore({ clock });
for (let i = 0; i < 700; i++) refusing.consume("api:c:192.0.2.66", API);
Deno.bench("MemoryRateLimitStore.consume(): one hot key, refused", { group: "decision" }, () => {
  refusing.consume("api:c:192.0.2.66", API);
});

const full = new MemoryRateLimitStore({ maxKeys: KEYS, clock });
for (const key of ipv4Keys) full.consume(key, API);
let next = 0;
Deno.bench("MemoryRateLimitStore.consume(): 100,000 keys at the bound, round robin", { group: "decision" }, () => {
  full.consume(ipv4Keys[next++ % KEYS]!, GENEROUS);
});

let fresh = 0;
Deno.bench("MemoryRateLimitStore.consume(): a new key every call, evicting (flood)", { group: "decision" }, () => {
  full.consume(`api:c:flood-${fresh++}`, API);
});

/** Heap used after full collections (twice, so weak and finalised objects are gone too). */
function settledHeap(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return Number.NaN;
  gc();
  gc();
  return Deno.memoryUsage().heapUsed;
}

/**
 * Heap retained by a store holding 100,000 keys, the key strings included:
 * each key is built on the fly, as the middleware builds it per request, so
 * only what the store keeps is counted.
 */
function measureKeys(v6: boolean): number {
  const before = settledHeap();
  const store = new MemoryRateLimitStore({ maxKeys: KEYS, clock });
  for (let i = 0; i < KEYS; i++) store.consume(clientKey(i, v6), API);
  const after = settledHeap();
  if (store.size !== KEYS) throw new Error(`expected ${KEYS} keys, got ${store.size}`);
  store.close();
  return after - before;
}

if (!(globalThis as { gc?: () => void }).gc) {
  console.log("memory: run with --v8-flags=--expose-gc (deno task bench does) to measure the heap of 100,000 keys");
} else {
  for (const v6 of [false, true]) {
    const bytes = measureKeys(v6);
    const mb = bytes / (1024 * 1024);
    console.log(
      `memory: ${KEYS.toLocaleString("en")} ${v6 ? "IPv6 /64" : "IPv4"} keys hold ${mb.toFixed(1)} MiB of heap ` +
        `(${Math.round(bytes / KEYS)} bytes/key; target < 32 MB) ${mb < 32 ? "OK" : "OVER TARGET"}`,
    );
  }
}

// For comparison: the same decision in Redis, one EVALSHA over loopback.
const redis = await startRedis();
const shared = RedisRateLimitStore.connect(redis.url, { timeoutMs: 1_000 });
await shared.waitUntilReady(5_000);
let redisKey = 0;
Deno.bench("RedisRateLimitStore.consume(): one round trip on loopback", { group: "redis" }, async () => {
  await shared.consume(`api:c:bench-${redisKey++ % 1000}`, GENEROUS);
});
globalThis.addEventListener("unload", () => {
  // Best effort: the bench runner exits after the last bench; stop the server we started.
  void shared.close();
  void redis.stop();
});
