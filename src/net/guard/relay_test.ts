import assert from "node:assert/strict";
import { memoryPipe } from "../../../tests/memory_pipe.ts";
import { type Deadlines, relay } from "./relay.ts";

const DEADLINES: Deadlines = { handshakeMs: 10_000, idleMs: 30_000, requestMs: 20_000 };

/** A TLS record header and body: 22 = handshake, 23 = application data. */
function record(type: number, length: number): Uint8Array {
  return new Uint8Array([type, 3, 3, length >> 8, length & 0xff, ...new Uint8Array(length).fill(0xaa)]);
}

/** client ⇄ [relay] ⇄ server, on a clock the test moves. */
function setup(deadlines: Deadlines = DEADLINES) {
  const clock = { t: 0 };
  const [client, relayClientSide] = memoryPipe();
  const [relayServerSide, server] = memoryPipe();
  const relayed = relay(relayClientSide, relayServerSide, { deadlines, now: () => clock.t });
  const buffer = new Uint8Array(64 * 1024);
  /** Sends from `from` at time `at` and waits until the relay has passed it on (the other side has it). */
  const send = async (from: "client" | "server", at: number, bytes: Uint8Array) => {
    clock.t = at;
    await (from === "client" ? client : server).write(bytes);
    const n = await (from === "client" ? server : client).read(buffer);
    assert.equal(n, bytes.length);
  };
  /** The client's handshake records and the server's answer, then nothing pending. */
  const handshake = async (at: number) => {
    await send("client", at, record(22, 40));
    await send("server", at, record(22, 90));
    await send("client", at, record(23, 30)); // TLS 1.3: the client's Finished
    await send("server", at, record(23, 200)); // e.g. a session ticket
  };
  return { clock, client, server, relayed, send, handshake };
}

Deno.test("relay() copies both ways and passes each half-close on", async () => {
  const { client, server, relayed } = setup();
  await client.write(new TextEncoder().encode("ping"));
  await client.closeWrite();
  assert.equal(await server.readAll(), "ping");
  await server.write(new TextEncoder().encode("pong"));
  await server.closeWrite();
  assert.equal(await client.readAll(), "pong");
  assert.equal(await relayed.done, "closed");
});

Deno.test("relay() closes a connection that has not finished its TLS handshake at handshakeMs, however it trickles", async () => {
  const { clock, client, server, relayed, send } = setup();
  const hello = record(22, 300);
  for (let i = 0; i < 9; i++) await send("client", i * 1_000, hello.subarray(i * 10, i * 10 + 10));
  assert.equal(relayed.check(9_999), null);
  clock.t = 10_000;
  assert.equal(relayed.check(10_000), "handshake-timeout");
  assert.equal(await relayed.done, "handshake-timeout");
  assert.equal(await client.ended(), "eof");
  assert.equal(await server.ended(), "eof");
});

Deno.test("relay() closes a bare connection (no byte at all) at handshakeMs", async () => {
  const { relayed } = setup();
  assert.equal(relayed.check(9_999), null);
  assert.equal(relayed.check(10_000), "handshake-timeout");
  assert.equal(await relayed.done, "handshake-timeout");
});

Deno.test("relay() cuts client bytes the server never answers at requestMs, even while they keep coming (slowloris)", async () => {
  const { relayed, send, handshake } = setup();
  await handshake(0);
  await send("client", 1_000, record(23, 20)); // the start of a request
  for (let t = 5_000; t <= 20_000; t += 5_000) {
    assert.equal(relayed.check(t), null, `closed too early at ${t}`);
    await send("client", t, record(23, 1)); // one more header byte, wrapped in a record
  }
  assert.equal(relayed.check(20_999), null);
  assert.equal(relayed.check(21_000), "request-timeout");
  assert.equal(await relayed.done, "request-timeout");
});

Deno.test("relay() closes an idle keep-alive connection at idleMs after the last byte", async () => {
  const { relayed, send, handshake } = setup();
  await handshake(0);
  await send("client", 100, record(23, 50)); // request
  await send("server", 200, record(23, 500)); // response: nothing pending now
  assert.equal(relayed.check(30_199), null);
  assert.equal(relayed.check(30_200), "idle-timeout");
});

Deno.test("relay() closes a completed handshake that never sends a request", async () => {
  const { relayed, handshake } = setup();
  await handshake(0);
  assert.equal(relayed.check(30_000), "idle-timeout");
});

Deno.test("relay() never takes a slow answer for idleness: while a request is pending only requestMs applies", async () => {
  const { relayed, send, handshake } = setup({ handshakeMs: 10_000, idleMs: 1_000, requestMs: 5_000 });
  await handshake(0);
  await send("client", 0, record(23, 50));
  assert.equal(relayed.check(4_999), null, "a pending request outlived the idle deadline");
  await send("server", 4_000, record(23, 500));
  assert.equal(relayed.check(4_999), null);
  assert.equal(relayed.check(5_000), "idle-timeout");
});

Deno.test("relay() ends both sides when one fails, and abort() closes both at once", async () => {
  const first = setup();
  first.server.close();
  await first.client.write(new Uint8Array([22, 3, 1, 0, 1, 1]));
  assert.equal(await first.relayed.done, "error");
  assert.equal(await first.client.ended(), "eof");

  const second = setup();
  second.relayed.abort();
  assert.equal(await second.relayed.done, "aborted");
  assert.equal(second.relayed.check(1e9), null, "a closed connection has no deadline left");
});
