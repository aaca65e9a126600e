/**
 * The shared-state structures under real concurrency: N worker threads of
 * this process, each with its own handle on the same SharedArrayBuffers,
 * released at the same instant. Each test states the limit that must hold
 * host-wide and checks it is exact — not merely "about right" — because a
 * lost update under contention is precisely the bug these structures exist
 * to prevent.
 */
import assert from "node:assert/strict";
import { createSharedBruteForceBuffers, SharedBruteForceGuard } from "../src/auth/shared_brute_force.ts";
import { createSharedKDFBuffer, SharedKDFGuard } from "../src/auth/shared_kdf_guard.ts";
import { createSharedRateLimitBuffer } from "../src/ratelimit/shared_store.ts";
import { type Command, GATE, PEAK, RUNNING } from "./fixtures/shared_state_worker.ts";

const WORKER = new URL("./fixtures/shared_state_worker.ts", import.meta.url);
const NOW = Date.parse("2026-01-01T00:00:00.000Z");

/** Starts `count` workers, sends each its command, releases them together, collects their messages. */
async function inWorkers<T>(
  count: number,
  command: (worker: number, start: SharedArrayBuffer) => Command,
  messagesEach = 1,
  between?: (messages: T[]) => void | Promise<void>,
): Promise<T[][]> {
  const start = new SharedArrayBuffer(4);
  const workers = Array.from({ length: count }, () => new Worker(WORKER, { type: "module" }));
  try {
    const inboxes = workers.map((worker) => {
      const received: T[] = [];
      const waiters: ((value: T) => void)[] = [];
      worker.onmessage = (event: MessageEvent<T>) => {
        const waiter = waiters.shift();
        if (waiter) waiter(event.data);
        else received.push(event.data);
      };
      worker.onerror = (event) => {
        event.preventDefault();
        throw new Error(`worker failed: ${event.message}`);
      };
      return {
        next: () => received.length > 0 ? Promise.resolve(received.shift()!) : new Promise<T>((r) => waiters.push(r)),
      };
    });
    workers.forEach((worker, i) => worker.postMessage(command(i, start)));
    await Promise.all(inboxes.map((inbox) => inbox.next())); // each worker's { ready: true }
    Atomics.store(new Int32Array(start), 0, 1);
    Atomics.notify(new Int32Array(start), 0);
    const results: T[][] = workers.map(() => []);
    for (let round = 0; round < messagesEach; round++) {
      const batch = await Promise.all(inboxes.map((inbox) => inbox.next()));
      batch.forEach((message, i) => results[i]!.push(message));
      if (round < messagesEach - 1) await between?.(batch);
    }
    return results;
  } finally {
    for (const worker of workers) worker.terminate();
  }
}

Deno.test("shared GCRA table: 4 workers hammering one key allow exactly the quota in total", async () => {
  // The large quota keeps all four threads deciding at once for its whole length: a lost
  // update anywhere in those million decisions lets one request too many through.
  for (const [quota, attempts] of [[1, 1_000], [10, 1_000], [600, 1_000], [1_000_000, 300_000]] as const) {
    const buffer = createSharedRateLimitBuffer({ maxKeys: 1_000 });
    const policy = { quota, windowMs: 60_000 };
    const results = await inWorkers<{ allowed: number }>(4, (_, start) => ({
      kind: "gcra",
      buffer,
      start,
      key: "api:c:203.0.113.7",
      policy,
      attempts,
      now: NOW,
    }));
    const allowed = results.map(([r]) => r!.allowed);
    assert.equal(allowed.reduce((a, b) => a + b, 0), quota, `quota ${quota}: allowed per worker ${allowed}`);
  }
});

Deno.test("shared brute-force guard: 100 concurrent guesses over 4 workers run exactly 5 KDFs", async () => {
  const buffers = createSharedBruteForceBuffers({ maxKeys: 1_000 });
  const kdfRuns = new SharedArrayBuffer(4);
  const results = await inWorkers<{ failed: number }>(4, (_, start) => ({
    kind: "guesses",
    buffers,
    start,
    kdfRuns,
    username: "alice",
    client: "203.0.113.9",
    attempts: 25,
    now: NOW,
  }));
  assert.equal(Atomics.load(new Int32Array(kdfRuns), 0), 5, "derivations run across all workers");
  assert.equal(results.reduce((sum, [r]) => sum + r!.failed, 0), 5);
  const gate = new SharedBruteForceGuard(buffers, { clock: () => NOW }).check("alice", "203.0.113.9");
  assert.deepEqual(gate, { allowed: false, reason: "pair", retryAfterMs: 1_000 });
});

Deno.test("shared brute-force guard: 4 workers × 20,000 begin/give-back cycles on one pair lose no update", async () => {
  const buffers = createSharedBruteForceBuffers({ maxKeys: 1_000 });
  const results = await inWorkers<{ refused: number }>(4, (_, start) => ({
    kind: "cycles",
    buffers,
    start,
    username: "alice",
    client: "203.0.113.9",
    cycles: 20_000,
    now: NOW,
  }));
  assert.equal(results.reduce((sum, [r]) => sum + r!.refused, 0), 0, "at most 4 in flight: never refused");
  // Every reservation was returned: the pair has its 5 attempts and the client its 20 failures.
  const guard = new SharedBruteForceGuard(buffers, { clock: () => NOW });
  for (let i = 0; i < 5; i++) assert.equal(guard.begin("alice", "203.0.113.9").allowed, true, `pair attempt ${i}`);
  assert.equal((guard.begin("alice", "203.0.113.9") as { reason?: string }).reason, "pair");
  for (let i = 0; i < 15; i++) {
    assert.equal(guard.begin(`user${i}`, "203.0.113.9").allowed, true, `client attempt ${i}`);
  }
  assert.equal((guard.begin("someone", "203.0.113.9") as { reason?: string }).reason, "client");
});

Deno.test("shared brute-force guard: 100 failures spread over 4 workers lock the account exactly once", async () => {
  const buffers = createSharedBruteForceBuffers({ maxKeys: 1_000 });
  const results = await inWorkers<{ locks: number; refused: number }>(4, (worker, start) => ({
    kind: "account",
    buffers,
    start,
    worker,
    username: "victim",
    failures: 30, // 120 in all: the lock comes at the 100th, the rest are refused
    now: NOW,
  }));
  assert.equal(results.reduce((sum, [r]) => sum + r!.locks, 0), 1, "one authn_login_lock");
  assert.equal(results.reduce((sum, [r]) => sum + r!.refused, 0), 20, "everything after the 100th refused");
  const gate = new SharedBruteForceGuard(buffers, { clock: () => NOW }).check("Victim", "192.0.2.1");
  assert.equal((gate as { reason?: string }).reason, "account", "locked for a client none of the workers saw");
});

Deno.test("shared KDF guard: 4 workers × 10 tasks never exceed the concurrency and refuse beyond the queue", async () => {
  const concurrency = 3;
  const maxQueue = 5;
  const buffer = createSharedKDFBuffer({ concurrency, maxQueue });
  const gauges = new SharedArrayBuffer(12);
  const view = new Int32Array(gauges);
  const guard = new SharedKDFGuard(buffer);
  type Message = { phase: "submitted"; refused: number } | { phase: "done"; ran: number };
  const results = await inWorkers<Message>(
    4,
    (_, start) => ({ kind: "kdf", buffer, start, gauges, tasks: 10 }),
    2,
    (submitted) => {
      const refused = submitted.reduce((sum, m) => sum + (m as { refused: number }).refused, 0);
      assert.equal(refused, 40 - concurrency - maxQueue, "refused at once, host-wide");
      assert.equal(guard.active, concurrency);
      assert.equal(guard.queued, maxQueue);
      Atomics.store(view, GATE, 1); // let the running tasks finish; the queued ones follow
      Atomics.notify(view, GATE);
    },
  );
  const ran = results.reduce((sum, [, done]) => sum + (done as { ran: number }).ran, 0);
  assert.equal(ran, concurrency + maxQueue);
  assert.equal(Atomics.load(view, PEAK), concurrency, "never more than the concurrency at once");
  assert.equal(Atomics.load(view, RUNNING), 0);
  assert.equal(guard.active + guard.queued, 0);
});

Deno.test("shared KDF guard: 4 workers × 8,000 short tasks in 8 chains each never exceed the concurrency", async () => {
  const concurrency = 3;
  const buffer = createSharedKDFBuffer({ concurrency, maxQueue: 8 });
  const gauges = new SharedArrayBuffer(12);
  const results = await inWorkers<{ ran: number; refused: number }>(4, (_, start) => ({
    kind: "kdfStress",
    buffer,
    start,
    gauges,
    chains: 8,
    tasks: 8_000,
  }));
  const ran = results.reduce((sum, [r]) => sum + r!.ran, 0);
  const refused = results.reduce((sum, [r]) => sum + r!.refused, 0);
  assert.equal(ran + refused, 32_000);
  assert.ok(ran > 0 && refused > 0, `ran ${ran}, refused ${refused}: both limits were reached`);
  assert.equal(Atomics.load(new Int32Array(gauges), PEAK), concurrency);
  const guard = new SharedKDFGuard(buffer);
  assert.equal(guard.active + guard.queued, 0, "every ticket finished");
});
