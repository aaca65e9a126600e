import assert from "node:assert/strict";
import { attachSharedState, createSharedState, type SharedStateBuffers } from "./shared_state.ts";

/** Posts `buffers` through a MessageChannel, as the main thread does to a worker (structured clone). */
function posted(buffers: SharedStateBuffers): Promise<SharedStateBuffers> {
  const { port1, port2 } = new MessageChannel();
  const { promise, resolve } = Promise.withResolvers<SharedStateBuffers>();
  port2.onmessage = (event: MessageEvent<SharedStateBuffers>) => {
    port1.close();
    port2.close();
    resolve(event.data);
  };
  port1.postMessage(buffers);
  return promise;
}

Deno.test("createSharedState(): what one worker records, another sees after the buffers are posted", async () => {
  const now = () => Date.parse("2026-01-01T00:00:00.000Z");
  const buffers = createSharedState({ maxKeys: 1_000, kdfConcurrency: 1, kdfQueue: 0 });
  const first = attachSharedState(await posted(buffers), { clock: now });
  const second = attachSharedState(await posted(buffers), { clock: now });
  const policy = { quota: 1, windowMs: 60_000 };
  assert.equal(first.rateLimitStore.consume("c:198.51.100.1", policy).allowed, true);
  assert.equal(second.rateLimitStore.consume("c:198.51.100.1", policy).allowed, false);
  for (let i = 0; i < 5; i++) {
    assert.equal(first.bruteForce.begin("alice", "c1").allowed, true);
    first.bruteForce.recordFailure("alice", "c1");
  }
  assert.equal(second.bruteForce.check("alice", "c1").allowed, false);
  const hold = Promise.withResolvers<void>();
  const running = first.kdfGuard.run(() => hold.promise);
  await assert.rejects(second.kdfGuard.run(() => Promise.resolve()), { status: 503 });
  hold.resolve();
  await running;
  assert.equal(await second.writeLock.run(() => "written"), "written");
});

Deno.test("createSharedState(): the sizes are fixed by maxKeys", () => {
  const small = createSharedState({ maxKeys: 1_000 });
  const large = createSharedState({ maxKeys: 100_000 });
  const bytes = (b: SharedStateBuffers) =>
    b.rateLimit.byteLength + b.bruteForce.accounts.byteLength + b.bruteForce.pairs.byteLength +
    b.bruteForce.clients.byteLength + b.kdf.byteLength + b.writeLock.byteLength;
  assert.ok(bytes(small) < 300_000, `${bytes(small)} bytes for 1,000 keys`);
  assert.ok(bytes(large) < 24 * 1024 * 1024, `${bytes(large)} bytes for 100,000 keys`);
});
