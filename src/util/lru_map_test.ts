import assert from "node:assert/strict";
import fc from "fast-check";
import { LRUMap } from "./lru_map.ts";

Deno.test("LRUMap evicts the least recently used entry, and get() counts as use but peek() does not", () => {
  const lru = new LRUMap<string, number>(3);
  lru.set("a", 1);
  lru.set("b", 2);
  lru.set("c", 3);
  assert.equal(lru.get("a"), 1); // a is now the most recent; b the oldest
  assert.equal(lru.peek("b"), 2); // peeking does not save b
  lru.set("d", 4);
  assert.deepEqual([...lru.keys()], ["d", "a", "c"]);
  assert.equal(lru.peek("b"), undefined);
  lru.set("c", 30); // updating is use
  lru.set("e", 5);
  assert.deepEqual([...lru.keys()], ["e", "c", "d"]);
  assert.equal(lru.get("c"), 30);
});

Deno.test("LRUMap stays at its bound under a flood of fresh keys", () => {
  const lru = new LRUMap<string, number>(1_000);
  for (let i = 0; i < 100_000; i++) {
    lru.set(`k${i}`, i);
    if (lru.size > 1_000) throw new Error(`size ${lru.size} after ${i + 1}`);
  }
  assert.equal(lru.size, 1_000);
  assert.equal(lru.peek("k98999"), undefined);
  assert.equal(lru.peek("k99000"), 99_000);
  assert.equal([...lru.keys()][0], "k99999");
});

Deno.test("LRUMap reuses deleted slots and clears completely", () => {
  const lru = new LRUMap<string, number>(2);
  lru.set("a", 1);
  assert.equal(lru.delete("a"), true);
  assert.equal(lru.delete("a"), false);
  assert.equal(lru.size, 0);
  lru.set("b", 2);
  lru.set("c", 3);
  assert.deepEqual([...lru.keys()], ["c", "b"]);
  lru.clear();
  assert.equal(lru.size, 0);
  assert.deepEqual([...lru.keys()], []);
  lru.set("d", 4);
  assert.equal(lru.get("d"), 4);
});

Deno.test("LRUMap refuses a bound that is not a positive integer", () => {
  for (const bad of [0, -1, 1.5, Number.NaN]) assert.throws(() => new LRUMap(bad), RangeError);
});

Deno.test("LRUMap behaves like a reference LRU for any sequence of operations (property)", () => {
  type Op =
    | { op: "get" | "peek" | "delete"; key: number }
    | { op: "set"; key: number; value: number }
    | { op: "clear" };
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 5, arbitrary: fc.record({ op: fc.constant("set" as const), key: fc.nat(12), value: fc.nat() }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constantFrom("get" as const, "peek" as const), key: fc.nat(12) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant("delete" as const), key: fc.nat(12) }) },
    { weight: 1, arbitrary: fc.constant({ op: "clear" as const }) },
  );
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 6 }), fc.array(op, { maxLength: 200 }), (max, ops) => {
      const lru = new LRUMap<number, number>(max);
      let model: [number, number][] = []; // most recent first
      for (const o of ops) {
        const at = "key" in o ? model.findIndex(([k]) => k === o.key) : -1;
        if (o.op === "set") {
          if (at !== -1) model.splice(at, 1);
          model.unshift([o.key, o.value]);
          if (model.length > max) model.pop();
          lru.set(o.key, o.value);
        } else if (o.op === "get") {
          const expected = at === -1 ? undefined : model[at]![1];
          if (at !== -1) model.unshift(...model.splice(at, 1));
          if (lru.get(o.key) !== expected) return false;
        } else if (o.op === "peek") {
          if (lru.peek(o.key) !== (at === -1 ? undefined : model[at]![1])) return false;
        } else if (o.op === "delete") {
          if (at !== -1) model.splice(at, 1);
          if (lru.delete(o.key) !== (at !== -1)) return false;
        } else {
          model = [];
          lru.clear();
        }
        if (lru.size !== model.length) return false;
        if (JSON.stringify([...lru.keys()]) !== JSON.stringify(model.map(([k]) => k))) return false;
      }
      return true;
    }),
    { numRuns: 500 },
  );
});
