import assert from "node:assert/strict";
import fc from "fast-check";
import { BruteForceGuard, type BruteForceLimiter, type BruteForceOptions, type Gate } from "./brute_force.ts";
import { createSharedBruteForceBuffers, SharedBruteForceGuard } from "./shared_brute_force.ts";

// The in-memory guard's tests (brute_force_test.ts), run against the shared guard, then a
// differential property test: both guards make the same decisions on any sequence of calls.

function setup(options: BruteForceOptions = {}) {
  const state = { now: 0 };
  const { maxKeys, ...rest } = options;
  const buffers = createSharedBruteForceBuffers(maxKeys === undefined ? {} : { maxKeys });
  const guard = new SharedBruteForceGuard(buffers, { clock: () => state.now, ...rest });
  return { state, guard };
}

/** One failed attempt, the way the authenticator makes it: begin, then record the failure. */
function fail(guard: BruteForceLimiter, username: string, client: string) {
  assert.equal(guard.begin(username, client).allowed, true, `begin ${username}@${client}`);
  return guard.recordFailure(username, client);
}

function retryAfter(gate: Gate): number {
  assert.equal(gate.allowed, false);
  return (gate as { retryAfterMs: number }).retryAfterMs;
}

Deno.test("SharedBruteForceGuard allows 5 failures per (username, client), then backs off 1 s doubling", () => {
  const { state, guard } = setup();
  for (let i = 0; i < 4; i++) {
    assert.equal(guard.check("alice", "c1").allowed, true);
    assert.equal(fail(guard, "alice", "c1").pairMaxReached, false);
  }
  assert.equal(guard.check("alice", "c1").allowed, true);
  assert.equal(fail(guard, "alice", "c1").pairMaxReached, true);
  assert.equal(retryAfter(guard.check("alice", "c1")), 1_000);
  const delays: number[] = [];
  for (let i = 0; i < 4; i++) {
    state.now += retryAfter(guard.check("alice", "c1"));
    assert.equal(guard.check("alice", "c1").allowed, true);
    fail(guard, "alice", "c1");
    delays.push(retryAfter(guard.check("alice", "c1")));
  }
  assert.deepEqual(delays, [2_000, 4_000, 8_000, 16_000]);
});

Deno.test("SharedBruteForceGuard caps the backoff at 15 minutes", () => {
  const { state, guard } = setup({ accountThreshold: 1_000, clientMaxFailures: 1_000 });
  for (let i = 0; i < 40; i++) {
    state.now += 900_000;
    fail(guard, "alice", "c1");
  }
  assert.equal(retryAfter(guard.check("alice", "c1")), 900_000);
});

Deno.test("SharedBruteForceGuard: the backoff of one pair does not touch another client or user", () => {
  const { guard } = setup();
  for (let i = 0; i < 5; i++) fail(guard, "alice", "c1");
  assert.equal(guard.check("alice", "c1").allowed, false);
  assert.equal(guard.check("alice", "c2").allowed, true);
  assert.equal(guard.check("bob", "c1").allowed, true);
});

Deno.test("SharedBruteForceGuard: success resets the pair", () => {
  const { state, guard } = setup();
  for (let i = 0; i < 5; i++) fail(guard, "alice", "c1");
  state.now += 1_000;
  assert.equal(guard.begin("alice", "c1").allowed, true);
  guard.recordSuccess("alice", "c1");
  for (let i = 0; i < 4; i++) fail(guard, "alice", "c1");
  assert.equal(guard.check("alice", "c1").allowed, true);
});

Deno.test("SharedBruteForceGuard locks an account after 100 consecutive failures across clients, for 15 minutes", () => {
  const { state, guard } = setup();
  let locked = 0;
  for (let i = 0; i < 100; i++) {
    const client = `10.0.${i >> 4}.${i & 15}`; // 100 clients, 1 failure each: no pair or client limit trips
    assert.equal(guard.check("alice", client).allowed, true, `attempt ${i}`);
    if (fail(guard, "alice", client).accountLocked) locked++;
  }
  assert.equal(locked, 1);
  const gate = guard.check("ALICE", "203.0.113.9");
  assert.equal(gate.allowed, false);
  assert.equal((gate as { reason: string }).reason, "account");
  assert.equal(retryAfter(gate), 900_000);
  state.now += 900_000;
  assert.equal(guard.check("alice", "203.0.113.9").allowed, true);
});

Deno.test("SharedBruteForceGuard: the account lock treats unknown and real usernames the same (keyed by name)", () => {
  const { guard } = setup({ accountThreshold: 3, pairThreshold: 100 });
  for (let i = 0; i < 3; i++) fail(guard, "no-such-user", `c${i}`);
  assert.equal((guard.check("no-such-user", "c9") as { reason?: string }).reason, "account");
});

Deno.test("SharedBruteForceGuard refuses a client with more than 20 failures a minute across usernames", () => {
  const { state, guard } = setup();
  for (let i = 0; i < 20; i++) {
    assert.equal(guard.check(`user${i}`, "c1").allowed, true);
    fail(guard, `user${i}`, "c1");
  }
  const gate = guard.check("someone-new", "c1");
  assert.equal((gate as { reason?: string }).reason, "client");
  assert.equal(retryAfter(gate), 3_000); // one failure's worth of the 20/60 s budget refills every 3 s
  assert.equal(guard.check("someone-new", "c2").allowed, true);
  state.now += 3_000;
  assert.equal(guard.check("someone-new", "c1").allowed, true);
});

Deno.test("SharedBruteForceGuard keeps at most maxKeys entries per map", () => {
  const { guard } = setup({ maxKeys: 50 });
  for (let i = 0; i < 500; i++) fail(guard, `user${i}`, `client${i}`);
  // The oldest pairs were evicted; the newest still count.
  for (let i = 0; i < 4; i++) fail(guard, "user499", "client499");
  assert.equal(guard.check("user499", "client499").allowed, false);
});

Deno.test("SharedBruteForceGuard.begin() counts attempts still running: concurrency cannot bypass the pair limit", () => {
  const { guard } = setup();
  for (let i = 0; i < 5; i++) assert.equal(guard.begin("alice", "c1").allowed, true, `attempt ${i}`);
  const sixth = guard.begin("alice", "c1");
  assert.equal(sixth.allowed, false);
  assert.equal((sixth as { reason: string }).reason, "pair");
  assert.equal(guard.check("alice", "c2").allowed, true);
});

Deno.test("SharedBruteForceGuard.begin() charges the client's 20-a-minute budget up front", () => {
  const { guard } = setup();
  for (let i = 0; i < 20; i++) assert.equal(guard.begin(`user${i}`, "c1").allowed, true, `attempt ${i}`);
  assert.equal((guard.begin("user99", "c1") as { reason?: string }).reason, "client");
});

Deno.test("SharedBruteForceGuard: a success refunds its reservation; only failures use the client's budget", () => {
  const { guard } = setup();
  for (let i = 0; i < 50; i++) {
    assert.equal(guard.begin(`user${i}`, "office-nat").allowed, true, `login ${i}`);
    guard.recordSuccess(`user${i}`, "office-nat");
  }
  for (let i = 0; i < 20; i++) fail(guard, `typo${i}`, "office-nat");
  assert.equal(guard.check("someone", "office-nat").allowed, false);
});

Deno.test("SharedBruteForceGuard.abandon() releases an attempt that reached no verdict (KDF queue full)", () => {
  const { guard } = setup();
  for (let i = 0; i < 40; i++) {
    assert.equal(guard.begin("alice", "c1").allowed, true, `attempt ${i}`);
    guard.abandon("alice", "c1");
  }
  for (let i = 0; i < 4; i++) fail(guard, "alice", "c1");
  assert.equal(guard.check("alice", "c1").allowed, true);
});

Deno.test("SharedBruteForceGuard: two handles on one set of tables count as one guard (the N-workers case)", () => {
  const state = { now: 0 };
  const buffers = createSharedBruteForceBuffers();
  const workers = [0, 1, 2, 3].map(() => new SharedBruteForceGuard(buffers, { clock: () => state.now }));
  // Five attempts begun on four different workers: the sixth, on any worker, must wait.
  for (let i = 0; i < 5; i++) assert.equal(workers[i % 4]!.begin("alice", "c1").allowed, true, `attempt ${i}`);
  for (const worker of workers) assert.equal((worker.begin("alice", "c1") as { reason?: string }).reason, "pair");
  for (let i = 0; i < 5; i++) workers[(i + 1) % 4]!.recordFailure("alice", "c1");
  assert.equal(retryAfter(workers[3]!.check("alice", "c1")), 1_000);
});

Deno.test("SharedBruteForceGuard makes the same decisions as BruteForceGuard (property)", () => {
  const op = fc.record({
    kind: fc.constantFrom("check", "begin", "failure", "success", "abandon", "tick"),
    user: fc.constantFrom("alice", "ALICE", "bob", "carol"),
    client: fc.constantFrom("c1", "c2", "c3"),
    ms: fc.integer({ min: 0, max: 70_000 }),
  });
  const options = { pairThreshold: 3, accountThreshold: 6, clientMaxFailures: 4, baseDelayMs: 500, maxDelayMs: 8_000 };
  fc.assert(
    fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
      const state = { now: 0 };
      const clock = () => state.now;
      const memory = new BruteForceGuard({ ...options, clock });
      const shared = new SharedBruteForceGuard(createSharedBruteForceBuffers({ maxKeys: 64 }), { ...options, clock });
      // The protocol: only attempts that were begun (and allowed) are finished, once each.
      const open = new Map<string, number>();
      for (const { kind, user, client, ms } of ops) {
        const key = `${user.toLowerCase()} ${client}`;
        if (kind === "tick") state.now += ms;
        else if (kind === "check") assert.deepEqual(shared.check(user, client), memory.check(user, client));
        else if (kind === "begin") {
          const gate = memory.begin(user, client);
          assert.deepEqual(shared.begin(user, client), gate);
          if (gate.allowed) open.set(key, (open.get(key) ?? 0) + 1);
        } else if ((open.get(key) ?? 0) > 0) {
          open.set(key, open.get(key)! - 1);
          if (kind === "failure") {
            assert.deepEqual(shared.recordFailure(user, client), memory.recordFailure(user, client));
          } else if (kind === "success") {
            shared.recordSuccess(user, client);
            memory.recordSuccess(user, client);
          } else {
            shared.abandon(user, client);
            memory.abandon(user, client);
          }
        }
      }
    }),
    { seed: 16, numRuns: 300 },
  );
});

Deno.test("SharedBruteForceGuard: a client that authenticated as the user is neither refused nor counted by the account lock, for 30 days", () => {
  const { state, guard } = setup();
  const home = "203.0.113.7";
  assert.equal(guard.begin("alice", home).allowed, true);
  guard.recordSuccess("alice", home);
  // Four typos from home: the pair counts them, the account does not.
  for (let i = 0; i < 4; i++) assert.equal(fail(guard, "alice", home).accountLocked, false);
  let locked = 0;
  for (let i = 0; i < 100; i++) if (fail(guard, "alice", `10.0.${i >> 4}.${i & 15}`).accountLocked) locked++;
  assert.equal(locked, 1, "exactly 100 strangers' failures lock it; home's did not count");
  const stranger = guard.check("alice", "198.51.100.1");
  assert.equal(stranger.allowed, false);
  assert.equal((stranger as { reason: string }).reason, "account");
  assert.equal(guard.check("alice", home).allowed, true, "the lock does not refuse a trusted client");
  assert.equal(guard.check("bob", home).allowed, true);
  // Trust lasts 30 days from the last success.
  state.now += 30 * 24 * 3_600_000;
  for (let i = 0; i < 100; i++) fail(guard, "alice", `10.1.${i >> 4}.${i & 15}`);
  assert.equal(guard.check("alice", home).allowed, false, "trust has expired");
});
