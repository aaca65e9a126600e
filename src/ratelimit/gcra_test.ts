import assert from "node:assert/strict";
import fc from "fast-check";
import { emissionIntervalUs, gcra, type GCRADecision, type GCRAPolicy } from "./gcra.ts";

const EPOCH = Date.parse("2026-01-01T00:00:00.000Z");
const TEN_PER_MINUTE: GCRAPolicy = { quota: 10, windowMs: 60_000 };

/** Runs requests at the given times (ms) against one key; returns each decision. */
function run(policy: GCRAPolicy, times: readonly number[]): GCRADecision[] {
  let tat: number | undefined;
  return times.map((now) => {
    const decision = gcra(tat, now, policy);
    tat = decision.tat;
    return decision;
  });
}

function allowedCount(decisions: readonly GCRADecision[]): number {
  return decisions.filter((d) => d.allowed).length;
}

Deno.test("gcra() allows exactly the quota at one instant and refuses the next request", () => {
  const decisions = run(TEN_PER_MINUTE, new Array(11).fill(EPOCH));
  assert.deepEqual(decisions.map((d) => d.allowed), [...new Array(10).fill(true), false]);
  assert.deepEqual(decisions.map((d) => d.remaining), [9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0]);
});

Deno.test("gcra() refills one request per emission interval, not earlier", () => {
  const burst = new Array(10).fill(EPOCH);
  // T = 6 s. One microsecond short of T the key is still empty; at T exactly one request fits.
  const decisions = run(TEN_PER_MINUTE, [...burst, EPOCH + 5_999.999, EPOCH + 6_000, EPOCH + 6_000]);
  assert.deepEqual(decisions.slice(10).map((d) => d.allowed), [false, true, false]);
  // Sustained at exactly the rate: always allowed, never more.
  const steady = run(TEN_PER_MINUTE, [...burst, ...Array.from({ length: 30 }, (_, i) => EPOCH + 6_000 * (i + 1))]);
  assert.equal(allowedCount(steady), 40);
});

Deno.test("gcra() gives no double allowance at a window edge", () => {
  // The fixed-window attack: spend the quota just before a window boundary and again just after.
  const before = new Array(10).fill(EPOCH + 59_999);
  const after = new Array(10).fill(EPOCH + 60_001);
  const decisions = run(TEN_PER_MINUTE, [...before, ...after]);
  assert.equal(allowedCount(decisions.slice(0, 10)), 10);
  // 2 ms later only what refilled in 2 ms (nothing) is available.
  assert.equal(allowedCount(decisions.slice(10)), 0);
});

Deno.test("gcra() restores the full burst after a full window of idleness, a partial one after less", () => {
  const first = run(TEN_PER_MINUTE, new Array(10).fill(EPOCH));
  assert.equal(allowedCount(first), 10);
  let tat = first.at(-1)!.tat;
  // After 30 s idle: 5 requests refilled.
  let partial = 0;
  for (let i = 0; i < 10; i++) {
    const d = gcra(tat, EPOCH + 30_000, TEN_PER_MINUTE);
    if (d.allowed) partial++;
    tat = d.tat;
  }
  assert.equal(partial, 5);
  // After long idleness the burst is the quota, never more (the TAT does not bank credit).
  const later = EPOCH + 3_600_000;
  let full = 0;
  for (let i = 0; i < 15; i++) {
    const d = gcra(tat, later, TEN_PER_MINUTE);
    if (d.allowed) full++;
    tat = d.tat;
  }
  assert.equal(full, 10);
});

Deno.test("gcra() reports reset and retry-after exactly", () => {
  const first = gcra(undefined, EPOCH, TEN_PER_MINUTE);
  assert.deepEqual(
    { allowed: first.allowed, remaining: first.remaining, resetMs: first.resetMs, retry: first.retryAfterMs },
    { allowed: true, remaining: 9, resetMs: 6_000, retry: 0 },
  );
  const burst = run(TEN_PER_MINUTE, new Array(10).fill(EPOCH));
  const last = burst.at(-1)!;
  assert.equal(last.resetMs, 60_000);
  const refused = gcra(last.tat, EPOCH + 1_500, TEN_PER_MINUTE);
  assert.equal(refused.allowed, false);
  assert.equal(refused.tat, last.tat, "a refusal must not move the TAT");
  assert.equal(refused.remaining, 0);
  assert.equal(refused.resetMs, 58_500);
  assert.equal(refused.retryAfterMs, 4_500);
});

Deno.test("gcra() is exact for fractional intervals such as 7 per minute at any epoch", () => {
  const policy: GCRAPolicy = { quota: 7, windowMs: 60_000 };
  assert.equal(emissionIntervalUs(policy), 8_571_429, "T is rounded up to a whole microsecond");
  for (const start of [EPOCH, EPOCH + 1, Date.now(), 1_767_225_600_123, 4_102_444_800_000]) {
    const decisions = run(policy, new Array(8).fill(start));
    assert.deepEqual(decisions.map((d) => d.allowed), [true, true, true, true, true, true, true, false], `at ${start}`);
    assert.equal(decisions[7]!.retryAfterMs, 8_571.429);
    // The eighth fits exactly one interval (rounded up to the µs) later, and not a microsecond before.
    const tat = decisions[6]!.tat;
    assert.equal(gcra(tat, start + 8_571.428, policy).allowed, false);
    assert.equal(gcra(tat, start + 8_571.429, policy).allowed, true);
  }
});

Deno.test("gcra() allows exactly the quota for policies whose interval is not a whole microsecond", () => {
  for (const [quota, windowSeconds] of [[11, 3], [7, 60], [13, 7], [9_999, 60], [600, 7]] as const) {
    const policy = { quota, windowMs: windowSeconds * 1000 };
    for (const start of [EPOCH, Date.now(), 1_767_225_600_123]) {
      const decisions = run(policy, new Array(quota + 1).fill(start));
      assert.equal(allowedCount(decisions), quota, `${quota}/${windowSeconds} at ${start}`);
      assert.equal(decisions.at(-1)!.allowed, false);
    }
  }
});

Deno.test("gcra() admits at most quota + Δ/T requests in any span Δ (property)", () => {
  // The GCRA guarantee: a burst of at most `quota`, then the steady rate. A fixed window would let
  // 2 × quota through in the instant around its boundary; GCRA never lets more than quota through at once.
  fc.assert(
    fc.property(
      fc.record({
        quota: fc.integer({ min: 1, max: 50 }),
        windowSeconds: fc.integer({ min: 1, max: 120 }),
        start: fc.integer({ min: 0, max: 4_102_444_800_000 }),
        gapsUs: fc.array(fc.integer({ min: 0, max: 5_000_000 }), { minLength: 1, maxLength: 150 }),
      }),
      ({ quota, windowSeconds, start, gapsUs }) => {
        const policy = { quota, windowMs: windowSeconds * 1000 };
        const interval = emissionIntervalUs(policy);
        let t = start * 1000;
        const timesUs = gapsUs.map((gap) => (t += gap));
        const decisions = run(policy, timesUs.map((us) => us / 1000));
        const admitted = timesUs.filter((_, i) => decisions[i]!.allowed);
        for (let i = 0; i < admitted.length; i++) {
          for (let j = i + quota; j < admitted.length; j++) {
            const count = j - i + 1;
            if (admitted[j]! - admitted[i]! < (count - quota) * interval) return false;
          }
        }
        return true;
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("gcra() admits a request after a full idle window, whatever came before (property)", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 100 }),
      fc.integer({ min: 1, max: 3600 }),
      fc.array(fc.integer({ min: 0, max: 10_000 }), { maxLength: 300 }),
      (quota, windowSeconds, offsets) => {
        const policy = { quota, windowMs: windowSeconds * 1000 };
        const decisions = run(policy, offsets.map((o) => EPOCH + o).sort((a, b) => a - b));
        const tat = decisions.at(-1)?.tat;
        const after = gcra(tat, EPOCH + 10_000 + policy.windowMs + 1, policy);
        return after.allowed && after.remaining === quota - 1;
      },
    ),
    { numRuns: 200 },
  );
});
