import assert from "node:assert/strict";
import { createConnectionCounter } from "./connection_limits.ts";

Deno.test("createConnectionCounter() refuses a client's connection beyond maxPerClient while others are admitted", () => {
  const counter = createConnectionCounter({ maxTotal: 100, maxPerClient: 2 });
  assert.equal(counter.acquire("192.0.2.1", false), "admitted");
  assert.equal(counter.acquire("192.0.2.1", false), "admitted");
  assert.equal(counter.acquire("192.0.2.1", false), "per-client");
  assert.equal(counter.acquire("192.0.2.2", false), "admitted");
  assert.equal(counter.countOf("192.0.2.1"), 2);
  assert.equal(counter.total, 3, "a refusal takes no slot");
  counter.release("192.0.2.1", false);
  assert.equal(counter.acquire("192.0.2.1", false), "admitted", "a released slot is free again");
});

Deno.test("createConnectionCounter() refuses everyone beyond maxTotal, and exempt peers count only toward it", () => {
  const counter = createConnectionCounter({ maxTotal: 3, maxPerClient: 1 });
  assert.equal(counter.acquire("proxy", true), "admitted");
  assert.equal(counter.acquire("proxy", true), "admitted", "a trusted proxy is not held to the per-client cap");
  assert.equal(counter.countOf("proxy"), 0);
  assert.equal(counter.acquire("192.0.2.1", false), "admitted");
  assert.equal(counter.acquire("192.0.2.2", false), "total");
  assert.equal(counter.acquire("proxy", true), "total", "nor is it above the total");
  counter.release("proxy", true);
  assert.equal(counter.total, 2);
  assert.equal(counter.acquire("192.0.2.2", false), "admitted");
});

Deno.test("createConnectionCounter() forgets a client whose connections are all closed (memory stays bounded)", () => {
  const counter = createConnectionCounter({ maxTotal: 10, maxPerClient: 10 });
  for (let i = 0; i < 5; i++) counter.acquire("2001:db8::/64", false);
  for (let i = 0; i < 5; i++) counter.release("2001:db8::/64", false);
  assert.equal(counter.countOf("2001:db8::/64"), 0);
  assert.equal(counter.total, 0);
  assert.throws(() => createConnectionCounter({ maxTotal: 0, maxPerClient: 1 }), RangeError);
});
