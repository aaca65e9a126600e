import assert from "node:assert/strict";
import { MAX_WORKERS, parseWorkerCount } from "./worker_count.ts";

Deno.test("parseWorkerCount() defaults to 1 and reads `auto` as the number of cores", () => {
  assert.equal(parseWorkerCount(undefined, 16), 1);
  assert.equal(parseWorkerCount("", 16), 1);
  assert.equal(parseWorkerCount("auto", 16), 16);
  assert.equal(parseWorkerCount("auto", 0), 1, "a runtime that reports no cores still gets one worker");
  assert.equal(parseWorkerCount("auto", 1_000), MAX_WORKERS);
  assert.equal(parseWorkerCount("4", 2), 4, "an explicit count may exceed the cores");
});

Deno.test("parseWorkerCount() refuses anything but `auto` or 1–256", () => {
  for (const bad of ["0", "-1", "1.5", "257", "1e2", " 2", "two", "AUTO", "0x10"]) {
    assert.throws(() => parseWorkerCount(bad, 4), RangeError, bad);
  }
});
