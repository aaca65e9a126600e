import assert from "node:assert/strict";
import { ConnectionGate } from "./gate.ts";

Deno.test("ConnectionGate.read() runs at once, synchronously, when no transaction holds the connection", async () => {
  const gate = new ConnectionGate();
  const ran: string[] = [];
  const result = gate.read(() => (ran.push("read"), 42));
  assert.deepEqual(ran, ["read"], "the statement ran before read() returned");
  assert.equal(await result, 42);
  await assert.rejects(
    gate.read(() => {
      throw new Error("bad statement");
    }),
    /bad statement/,
  );
});

Deno.test("ConnectionGate.read() waits while a transaction holds the connection, and runs before the next one", async () => {
  const gate = new ConnectionGate();
  const order: string[] = [];
  await gate.acquire();
  order.push("tx1 begins");
  const read = gate.read(() => order.push("read"));
  const tx2 = gate.acquire().then(() => order.push("tx2 begins"));
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.deepEqual(order, ["tx1 begins"], "neither the read nor the second transaction ran inside the first");
  assert.equal(gate.busy, true);
  order.push("tx1 ends");
  gate.release();
  await read;
  await tx2;
  assert.deepEqual(order, ["tx1 begins", "tx1 ends", "read", "tx2 begins"]);
  assert.equal(gate.busy, true, "the second transaction holds it now");
  const late = gate.read(() => order.push("late read"));
  gate.release();
  await late;
  assert.deepEqual(order.at(-1), "late read");
  assert.equal(gate.busy, false);
});

Deno.test("ConnectionGate.acquire() hands the connection to waiting transactions one at a time, in arrival order", async () => {
  const gate = new ConnectionGate();
  const order: number[] = [];
  const transactions = [1, 2, 3].map(async (n) => {
    await gate.acquire();
    order.push(n);
    await new Promise((resolve) => setTimeout(resolve, 2));
    order.push(-n);
    gate.release();
  });
  await Promise.all(transactions);
  assert.deepEqual(order, [1, -1, 2, -2, 3, -3]);
});
