import assert from "node:assert/strict";
import { MemoryRateLimitStore } from "./memory_store.ts";

const EPOCH = Date.parse("2026-01-01T00:00:00.000Z");
const TWO_PER_MINUTE = { quota: 2, windowMs: 60_000 };

function clockAt(start = EPOCH) {
  const clock = { ms: start, now: () => clock.ms };
  return clock;
}

Deno.test("MemoryRateLimitStore decides per key with the injected clock", () => {
  const clock = clockAt();
  const store = new MemoryRateLimitStore({ clock: clock.now });
  assert.deepEqual(
    [1, 2, 3].map(() => store.consume("a", TWO_PER_MINUTE).allowed),
    [true, true, false],
  );
  assert.equal(store.consume("b", TWO_PER_MINUTE).allowed, true, "another key has its own budget");
  clock.ms += 30_000;
  assert.equal(store.consume("a", TWO_PER_MINUTE).allowed, true, "one request refilled after T = 30 s");
  assert.equal(store.consume("a", TWO_PER_MINUTE).allowed, false);
});

Deno.test("MemoryRateLimitStore stays at its bound when flooded with far more keys", () => {
  const store = new MemoryRateLimitStore({ maxKeys: 1_000, clock: clockAt().now });
  for (let i = 0; i < 50_000; i++) {
    store.consume(`flood-${i}`, TWO_PER_MINUTE);
    if (i % 997 === 0) assert.ok(store.size <= 1_000, `size ${store.size} after ${i + 1} keys`);
  }
  assert.equal(store.size, 1_000);
});

Deno.test("MemoryRateLimitStore evicts the least recently used key first", () => {
  const store = new MemoryRateLimitStore({ maxKeys: 3, clock: clockAt().now });
  store.consume("a", TWO_PER_MINUTE);
  store.consume("a", TWO_PER_MINUTE); // "a" is now empty
  store.consume("b", TWO_PER_MINUTE);
  store.consume("c", TWO_PER_MINUTE);
  // A refused request still counts as use: "a" becomes the most recently used, "b" the oldest.
  assert.equal(store.consume("a", TWO_PER_MINUTE).allowed, false);
  store.consume("d", TWO_PER_MINUTE); // evicts "b"
  assert.equal(store.size, 3);
  assert.equal(store.consume("a", TWO_PER_MINUTE).allowed, false, "the hot key kept its state");
  // "b" was forgotten, so it has a fresh budget of two (one used by this call) …
  assert.equal(store.consume("b", TWO_PER_MINUTE).remaining, 1, "the evicted key starts afresh");
  // … and re-inserting "b" evicted the then-oldest key, "c".
  assert.equal(store.consume("c", TWO_PER_MINUTE).remaining, 1);
});

Deno.test("MemoryRateLimitStore refuses a bound that is not a positive integer", () => {
  assert.throws(() => new MemoryRateLimitStore({ maxKeys: 0 }), RangeError);
  assert.throws(() => new MemoryRateLimitStore({ maxKeys: 1.5 }), RangeError);
});

Deno.test("MemoryRateLimitStore.close() forgets every key", () => {
  const store = new MemoryRateLimitStore({ clock: clockAt().now });
  store.consume("a", TWO_PER_MINUTE);
  store.close();
  assert.equal(store.size, 0);
});
