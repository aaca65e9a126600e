import assert from "node:assert/strict";
import { createSharedSemaphore, SharedSemaphore } from "./shared_semaphore.ts";

Deno.test("SharedSemaphore admits `concurrency`, queues `maxQueue`, refuses the rest at once", () => {
  const semaphore = new SharedSemaphore(createSharedSemaphore({ concurrency: 2, maxQueue: 3 }));
  const tickets = Array.from({ length: 7 }, () => semaphore.tryAcquire());
  assert.deepEqual(tickets, [0, 1, 2, 3, 4, null, null]);
  assert.equal(semaphore.active, 2);
  assert.equal(semaphore.queued, 3);
  semaphore.release();
  assert.equal(semaphore.tryAcquire(), 5, "a finished task makes room for one more");
  assert.equal(semaphore.tryAcquire(), null);
});

Deno.test("SharedSemaphore starts waiting tickets in order, one per finished task", async () => {
  const semaphore = new SharedSemaphore(createSharedSemaphore({ concurrency: 1, maxQueue: 5 }));
  const started: number[] = [];
  const tickets = [0, 1, 2].map(() => semaphore.tryAcquire()!);
  const waits = tickets.map((t) => semaphore.wait(t).then(() => started.push(t)));
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(started, [0]);
  semaphore.release();
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(started, [0, 1]);
  semaphore.release();
  await Promise.all(waits);
  assert.deepEqual(started, [0, 1, 2]);
});

Deno.test("SharedSemaphore keeps counting correctly across the int32 wrap of its counters", async () => {
  const buffer = createSharedSemaphore({ concurrency: 2, maxQueue: 2 });
  const words = new Int32Array(buffer);
  words[3] = 2 ** 31 - 3; // issued
  words[4] = 2 ** 31 - 3; // done: nothing outstanding, two tickets before the wrap
  const semaphore = new SharedSemaphore(buffer);
  const runs: Promise<unknown>[] = [];
  const order: number[] = [];
  for (let i = 0; i < 6; i++) {
    runs.push(semaphore.run(async () => {
      order.push(i);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }));
  }
  const outcomes = await Promise.all(runs);
  assert.deepEqual(outcomes.map((o) => o !== null), [true, true, true, true, false, false]);
  assert.deepEqual(order, [0, 1, 2, 3]);
  assert.equal(semaphore.active + semaphore.queued, 0);
  assert.ok(words[3]! < 0, "the counters did wrap");
});

Deno.test("SharedSemaphore refuses bad limits and foreign buffers", () => {
  assert.throws(() => createSharedSemaphore({ concurrency: 0, maxQueue: 0 }), RangeError);
  assert.throws(() => createSharedSemaphore({ concurrency: 1, maxQueue: -1 }), RangeError);
  assert.throws(() => new SharedSemaphore(new SharedArrayBuffer(20)), TypeError);
});
