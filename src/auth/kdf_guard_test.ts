import assert from "node:assert/strict";
import { ApiError } from "../errors.ts";
import { KDFGuard } from "./kdf_guard.ts";

function gate() {
  const { promise, resolve } = Promise.withResolvers<void>();
  return { promise, open: resolve };
}

Deno.test("KDFGuard runs at most `concurrency` tasks at once and queues the rest in order", async () => {
  const guard = new KDFGuard({ concurrency: 2, maxQueue: 10 });
  const release = gate();
  let running = 0;
  let peak = 0;
  const order: number[] = [];
  const tasks = Array.from({ length: 6 }, (_, i) =>
    guard.run(async () => {
      running++;
      peak = Math.max(peak, running);
      order.push(i);
      await release.promise;
      running--;
      return i;
    }));
  await Promise.resolve();
  assert.equal(guard.active, 2);
  assert.equal(guard.queued, 4);
  release.open();
  assert.deepEqual(await Promise.all(tasks), [0, 1, 2, 3, 4, 5]);
  assert.equal(peak, 2);
  assert.deepEqual(order, [0, 1, 2, 3, 4, 5]);
  assert.equal(guard.active, 0);
});

Deno.test("KDFGuard refuses with 503 and Retry-After when the queue is full", async () => {
  const guard = new KDFGuard({ concurrency: 1, maxQueue: 1, retryAfterSeconds: 2 });
  const release = gate();
  const first = guard.run(() => release.promise);
  const second = guard.run(() => Promise.resolve());
  await assert.rejects(guard.run(() => Promise.resolve()), (error: unknown) => {
    assert.ok(error instanceof ApiError);
    assert.equal(error.status, 503);
    assert.equal(error.headers["Retry-After"], "2");
    return true;
  });
  release.open();
  await Promise.all([first, second]);
});

Deno.test("KDFGuard frees the slot when a task throws", async () => {
  const guard = new KDFGuard({ concurrency: 1, maxQueue: 0 });
  await assert.rejects(guard.run(() => Promise.reject(new Error("boom"))), /boom/);
  assert.equal(guard.active, 0);
  assert.equal(await guard.run(() => Promise.resolve(42)), 42);
});
