import assert from "node:assert/strict";
import fc from "fast-check";
import { MemoryRateLimitStore } from "./memory_store.ts";
import { createSharedRateLimitBuffer, SharedRateLimitStore } from "./shared_store.ts";
import { StoreUnavailableError } from "./store.ts";
import { SharedHashTable } from "../util/shared_hash_table.ts";

const EPOCH = Date.parse("2026-01-01T00:00:00.000Z");
const TWO_PER_MINUTE = { quota: 2, windowMs: 60_000 };

function clockAt(start = EPOCH) {
  const clock = { ms: start, now: () => clock.ms };
  return clock;
}

Deno.test("SharedRateLimitStore decides per key with the injected clock", () => {
  const clock = clockAt();
  const store = new SharedRateLimitStore(createSharedRateLimitBuffer(), { clock: clock.now });
  assert.deepEqual(
    [1, 2, 3].map(() => store.consume("a", TWO_PER_MINUTE).allowed),
    [true, true, false],
  );
  assert.equal(store.consume("b", TWO_PER_MINUTE).allowed, true, "another key has its own budget");
  clock.ms += 30_000;
  assert.equal(store.consume("a", TWO_PER_MINUTE).allowed, true, "one request refilled after T = 30 s");
  assert.equal(store.consume("a", TWO_PER_MINUTE).allowed, false);
});

Deno.test("SharedRateLimitStore: two handles on one buffer share one quota (the N-workers case)", () => {
  const buffer = createSharedRateLimitBuffer();
  const clock = clockAt();
  const workerA = new SharedRateLimitStore(buffer, { clock: clock.now });
  const workerB = new SharedRateLimitStore(buffer, { clock: clock.now });
  const decisions = [workerA, workerB, workerA, workerB].map((store) =>
    store.consume("c:198.51.100.7", TWO_PER_MINUTE)
  );
  assert.deepEqual(decisions.map((d) => d.allowed), [true, true, false, false]);
  assert.deepEqual(decisions.map((d) => d.remaining), [1, 0, 0, 0]);
  // Two separate in-memory stores (per-worker state) would have allowed four.
  const perWorker = [new MemoryRateLimitStore({ clock: clock.now }), new MemoryRateLimitStore({ clock: clock.now })];
  const naive = [0, 1, 0, 1].map((i) => perWorker[i]!.consume("c:198.51.100.7", TWO_PER_MINUTE).allowed);
  assert.deepEqual(naive, [true, true, true, true]);
});

Deno.test("SharedRateLimitStore makes the same decisions as the in-memory store (property)", () => {
  const policies = [TWO_PER_MINUTE, { quota: 7, windowMs: 60_000 }, { quota: 600, windowMs: 60_000 }];
  const step = fc.record({
    key: fc.integer({ min: 0, max: 20 }),
    policy: fc.integer({ min: 0, max: policies.length - 1 }),
    advanceMs: fc.oneof(
      fc.constant(0),
      fc.integer({ min: 0, max: 120_000 }),
      fc.double({ min: 0, max: 50, noNaN: true }),
    ),
  });
  fc.assert(
    fc.property(fc.array(step, { maxLength: 300 }), (steps) => {
      const clock = clockAt();
      const memory = new MemoryRateLimitStore({ clock: clock.now });
      const shared = new SharedRateLimitStore(createSharedRateLimitBuffer({ maxKeys: 64 }), { clock: clock.now });
      for (const { key, policy, advanceMs } of steps) {
        clock.ms += advanceMs;
        const expected = memory.consume(`k${key}`, policies[policy]!);
        assert.deepEqual(shared.consume(`k${key}`, policies[policy]!), expected);
      }
    }),
    { seed: 16, numRuns: 200 },
  );
});

Deno.test("SharedRateLimitStore stays at a fixed size when flooded with far more keys", () => {
  const store = new SharedRateLimitStore(createSharedRateLimitBuffer({ maxKeys: 1_000 }), { clock: clockAt().now });
  const bytes = store.byteLength;
  for (let i = 0; i < 50_000; i++) store.consume(`flood-${i}`, TWO_PER_MINUTE);
  assert.equal(store.byteLength, bytes);
  assert.ok(store.liveKeys() <= 4_096, `${store.liveKeys()} live keys`);
  assert.ok(store.evictions > 40_000);
});

Deno.test("SharedRateLimitStore: flooding fresh keys cannot evict a key that is out of quota", () => {
  // The attack: spend the quota, then try to make the table forget it by filling it with new identities.
  const clock = clockAt();
  const store = new SharedRateLimitStore(createSharedRateLimitBuffer({ maxKeys: 100 }), { clock: clock.now });
  while (store.consume("attacker", TWO_PER_MINUTE).allowed);
  for (let i = 0; i < 20_000; i++) store.consume(`sock-puppet-${i}`, TWO_PER_MINUTE);
  assert.ok(store.evictions > 0, "the flood did evict");
  assert.equal(store.consume("attacker", TWO_PER_MINUTE).allowed, false, "the most indebted key is evicted last");
});

Deno.test("SharedRateLimitStore: an expired key frees its slot (no sweeping needed)", () => {
  const clock = clockAt();
  const store = new SharedRateLimitStore(createSharedRateLimitBuffer({ maxKeys: 10 }), { clock: clock.now });
  for (let i = 0; i < 10; i++) store.consume(`k${i}`, TWO_PER_MINUTE);
  assert.equal(store.liveKeys(), 10);
  clock.ms += 30_000; // one emission interval: each key's single request has been repaid
  assert.equal(store.liveKeys(), 0);
});

Deno.test("SharedRateLimitStore reports a lock held by a dead thread as StoreUnavailableError", () => {
  const buffer = createSharedRateLimitBuffer({ maxKeys: 1 });
  const store = new SharedRateLimitStore(buffer, { clock: clockAt().now, lockTimeoutMs: 20 });
  const dead = new SharedHashTable(buffer);
  dead.acquire("anything", 0); // the table has one bucket: every key needs this lock
  assert.throws(() => store.consume("k", TWO_PER_MINUTE), StoreUnavailableError);
  dead.release();
  assert.equal(store.consume("k", TWO_PER_MINUTE).allowed, true);
});
