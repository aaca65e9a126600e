import assert from "node:assert/strict";
import { getLogger } from "@logtape/logtape";
import { WorkerPool } from "./worker_pool.ts";

// The serving paths (ready, drain, crash, silent exit) run against real TLS workers in tests/cluster_test.ts.

const logger = getLogger(["secure-api", "test", "pool"]);

/** A worker module from source text: what it does on `start` is the test's subject. */
function moduleOf(source: string): URL {
  return new URL(`data:application/typescript,${encodeURIComponent(source)}`);
}

Deno.test("WorkerPool.start() fails, naming the worker, when a worker cannot load its module", async () => {
  const module = new URL("./no_such_worker_module.ts", import.meta.url);
  await assert.rejects(
    WorkerPool.start({ module, count: 2, init: () => ({}), logger, readyTimeoutMs: 30_000 }),
    /worker [01] died while starting: ./,
  );
});

Deno.test("WorkerPool.start() fails when a worker says something outside the protocol", async () => {
  const module = moduleOf(
    `(globalThis as any).onmessage = (e: any) => (globalThis as any).postMessage({ type: "hello", id: e.data.id });`,
  );
  await assert.rejects(
    WorkerPool.start({ module, count: 1, init: () => ({}), logger }),
    /worker 0 died while starting: sent a message outside the protocol/,
  );
});

Deno.test("WorkerPool.start() gives up after readyTimeoutMs when a worker never listens", async () => {
  const module = moduleOf(`(globalThis as any).onmessage = () => {};`);
  await assert.rejects(
    WorkerPool.start({ module, count: 1, init: () => ({}), logger, readyTimeoutMs: 200 }),
    /not every worker was ready within 200 ms/,
  );
});

Deno.test("WorkerPool.start() refuses a count that is not a positive integer", async () => {
  const module = moduleOf("");
  await assert.rejects(WorkerPool.start({ module, count: 0, init: () => ({}), logger }), RangeError);
});
