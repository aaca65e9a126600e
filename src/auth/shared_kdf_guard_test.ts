import assert from "node:assert/strict";
import { ApiError } from "../errors.ts";
import { KDFGuard } from "./kdf_guard.ts";
import { createSharedKDFBuffer, SharedKDFGuard } from "./shared_kdf_guard.ts";

function gate() {
  const { promise, resolve } = Promise.withResolvers<void>();
  return { promise, open: resolve };
}

/** Lets queued waiters observe a release (waitAsync resolves on a later task, not a microtask). */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 20));
}

Deno.test("SharedKDFGuard runs at most `concurrency` tasks at once and queues the rest in order", async () => {
  const guard = new SharedKDFGuard(createSharedKDFBuffer({ concurrency: 2, maxQueue: 10 }));
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
  await settle();
  assert.equal(guard.active, 2);
  assert.equal(guard.queued, 4);
  release.open();
  assert.deepEqual(await Promise.all(tasks), [0, 1, 2, 3, 4, 5]);
  assert.equal(peak, 2);
  assert.deepEqual(order, [0, 1, 2, 3, 4, 5]);
  assert.equal(guard.active, 0);
  assert.equal(guard.queued, 0);
});

Deno.test("SharedKDFGuard refuses with the same 503 and Retry-After as KDFGuard when the queue is full", async () => {
  const buffer = createSharedKDFBuffer({ concurrency: 1, maxQueue: 1 });
  const guard = new SharedKDFGuard(buffer, { retryAfterSeconds: 2 });
  const release = gate();
  const first = guard.run(() => release.promise);
  const second = guard.run(() => Promise.resolve());
  const refusal = (error: unknown) => {
    assert.ok(error instanceof ApiError);
    return error;
  };
  const shared = refusal(await guard.run(() => Promise.resolve()).catch((error) => error));
  // Another worker's handle on the same buffer is refused too: the queue is host-wide.
  const other = refusal(await new SharedKDFGuard(buffer).run(() => Promise.resolve()).catch((error) => error));
  const local = new KDFGuard({ concurrency: 1, maxQueue: 0, retryAfterSeconds: 2 });
  const hold = gate();
  const busy = local.run(() => hold.promise);
  const reference = refusal(await local.run(() => Promise.resolve()).catch((error) => error));
  for (const error of [shared, other]) {
    assert.equal(error.status, 503);
    assert.equal(error.kind, reference.kind);
    assert.equal(error.message, reference.message);
  }
  assert.equal(shared.headers["Retry-After"], "2");
  release.open();
  hold.open();
  await Promise.all([first, second, busy]);
});

Deno.test("SharedKDFGuard frees the slot when a task throws", async () => {
  const guard = new SharedKDFGuard(createSharedKDFBuffer({ concurrency: 1, maxQueue: 0 }));
  await assert.rejects(guard.run(() => Promise.reject(new Error("boom"))), /boom/);
  assert.equal(guard.active, 0);
  assert.equal(await guard.run(() => Promise.resolve(42)), 42);
});

Deno.test("SharedKDFGuard: two handles on one buffer share one limit (the N-workers case)", async () => {
  const buffer = createSharedKDFBuffer({ concurrency: 1, maxQueue: 5 });
  const [a, b] = [new SharedKDFGuard(buffer), new SharedKDFGuard(buffer)];
  const release = gate();
  let running = 0;
  let peak = 0;
  const task = async () => {
    running++;
    peak = Math.max(peak, running);
    await release.promise;
    running--;
  };
  const all = [a.run(task), b.run(task), a.run(task), b.run(task)];
  await settle();
  assert.equal(a.active, 1);
  assert.equal(b.queued, 3);
  release.open();
  await Promise.all(all);
  assert.equal(peak, 1);
});
