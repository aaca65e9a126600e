import assert from "node:assert/strict";
import { createSharedWriteLock, SharedWriteLock, WriteQueueFullError } from "./shared_write_lock.ts";
import { createSharedSemaphore, SharedSemaphore } from "../util/shared_semaphore.ts";

/** Takes the lock as another thread would and keeps it until `release()`. */
async function holdLock(buffer: SharedArrayBuffer): Promise<() => void> {
  const semaphore = new SharedSemaphore(buffer);
  const ticket = semaphore.tryAcquire();
  assert.notEqual(ticket, null);
  await semaphore.wait(ticket!);
  return () => semaphore.release();
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

Deno.test("SharedWriteLock runs one write at a time across handles, in arrival order", async () => {
  const buffer = createSharedWriteLock();
  const [a, b] = [new SharedWriteLock(buffer), new SharedWriteLock(buffer)];
  const release = await holdLock(buffer);
  const order: string[] = [];
  const writes = [a.run(() => order.push("a1")), b.run(() => order.push("b1")), a.run(() => order.push("a2"))];
  await sleep(20);
  assert.deepEqual(order, [], "nothing runs while another thread holds the lock");
  assert.deepEqual(a.state, { active: 1, queued: 3 });
  release();
  await Promise.all(writes);
  assert.deepEqual(order, ["a1", "b1", "a2"]);
  assert.deepEqual(b.state, { active: 0, queued: 0 });
});

Deno.test("SharedWriteLock: a writer waiting for the lock leaves its event loop free", async () => {
  const buffer = createSharedWriteLock();
  const release = await holdLock(buffer);
  let written = false;
  const write = new SharedWriteLock(buffer).run(() => (written = true));
  let ticks = 0;
  const ticker = setInterval(() => ticks++, 1);
  await sleep(50);
  clearInterval(ticker);
  assert.ok(ticks >= 5, `${ticks} timer ticks while the write waited`);
  assert.equal(written, false);
  release();
  assert.equal(await write, true);
});

Deno.test("SharedWriteLock refuses beyond its queue, and refuses an async write", async () => {
  const buffer = createSharedWriteLock({ maxQueue: 1 });
  const lock = new SharedWriteLock(buffer);
  const release = await holdLock(buffer);
  const queued = lock.run(() => "queued");
  await assert.rejects(lock.run(() => "one too many"), WriteQueueFullError);
  release();
  assert.equal(await queued, "queued");
  await assert.rejects(lock.run(() => Promise.resolve(1)), /must be synchronous/);
  assert.equal(await lock.run(() => 2), 2, "the lock was released after the refused write");
  assert.throws(() => new SharedWriteLock(createSharedSemaphore({ concurrency: 2, maxQueue: 0 })), TypeError);
});
