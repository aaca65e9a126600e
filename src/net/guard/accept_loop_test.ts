import assert from "node:assert/strict";
import { type MemoryEnd, memoryPipe } from "../../../tests/memory_pipe.ts";
import { parseCIDR } from "../ip.ts";
import { type AcceptLoopOptions, type GuardConn, type GuardEvent, startAcceptLoop } from "./accept_loop.ts";
import { createConnectionCounter } from "./connection_limits.ts";
import { createPeerTableBuffer, peerTableReader, peerTableWriter } from "./peer_table.ts";

const tcp = (hostname: string, port: number): Deno.NetAddr => ({ transport: "tcp", hostname, port });

function conn(end: MemoryEnd, remote: Deno.NetAddr, local: Deno.NetAddr): GuardConn {
  return Object.assign(end, { remoteAddr: remote, localAddr: local });
}

/** A listener fed by the test: connections, or errors to throw from accept(). */
function fakeListener() {
  const queue: (GuardConn | Error)[] = [];
  let waiter: (() => void) | null = null;
  let closed = false;
  return {
    push(item: GuardConn | Error) {
      queue.push(item);
      waiter?.();
    },
    async accept(): Promise<GuardConn> {
      while (queue.length === 0) {
        if (closed) throw new Deno.errors.BadResource("listener closed");
        await new Promise<void>((resolve) => (waiter = resolve));
      }
      const item = queue.shift()!;
      if (item instanceof Error) throw item;
      return item;
    },
    close() {
      closed = true;
      waiter?.();
    },
  };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  assert.fail(`timed out waiting for: ${what}`);
}

function setup(overrides: Partial<AcceptLoopOptions> = {}, limits = { maxTotal: 100, maxPerClient: 2 }) {
  const clock = { t: 0 };
  const listener = fakeListener();
  const events: GuardEvent[] = [];
  const sleeps: number[] = [];
  const backendPorts: number[] = [];
  let nextPort = 40_000;
  const servers: MemoryEnd[] = [];
  const table = createPeerTableBuffer();
  const loop = startAcceptLoop({
    listener,
    connectBackend: () => {
      const [relaySide, serverSide] = memoryPipe();
      servers.push(serverSide);
      const port = backendPorts.shift() ?? nextPort++;
      return Promise.resolve(conn(relaySide, tcp("127.0.0.1", 8444), tcp("127.0.0.1", port)));
    },
    counter: createConnectionCounter(limits),
    limits,
    peers: peerTableWriter(table),
    deadlines: { handshakeMs: 10_000, idleMs: 30_000, requestMs: 30_000 },
    report: (event) => events.push(event),
    now: () => clock.t,
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
    ...overrides,
  });
  /** A client connecting from `address`; returns the client's end. */
  let nextClientPort = 50_000;
  const connect = (address: string, port = nextClientPort++) => {
    const [clientSide, guardSide] = memoryPipe();
    listener.push(conn(guardSide, tcp(address, port), tcp("0.0.0.0", 8443)));
    return clientSide;
  };
  return { clock, listener, loop, events, sleeps, backendPorts, servers, peers: peerTableReader(table), connect };
}

Deno.test("accept loop: one address gets maxPerClient connections, the next is closed at once, another address still gets in", async () => {
  const { loop, events, connect } = setup();
  const a1 = connect("192.0.2.1");
  const a2 = connect("192.0.2.1");
  await until(() => loop.open === 2, "two admitted");
  const a3 = connect("192.0.2.1");
  assert.equal(await a3.ended(), "eof", "the third connection from one address is closed");
  const b1 = connect("192.0.2.2");
  await until(() => loop.open === 3, "another address admitted");
  assert.equal(events.length, 1);
  assert.deepEqual(events[0], { kind: "refused", limit: "per-client", client: "192.0.2.1", max: 2, refused: 1 });
  for (const end of [a1, a2, b1]) assert.equal(end.closed, false);
  connect("192.0.2.1");
  await until(() => events.length === 1 && loop.open === 3, "a second refusal");
  assert.equal(events.length, 1, "refusals of one client are reported at most once per interval");
});

Deno.test("accept loop: an IPv6 /64 is one client, and a trusted proxy is exempt from the per-client cap", async () => {
  const { loop, events, connect } = setup({ trustedProxies: [parseCIDR("10.0.0.0/8")!] });
  connect("2001:db8::1");
  connect("2001:db8::ffff:2");
  await until(() => loop.open === 2, "two from one /64");
  const third = connect("2001:db8:0:0:8000::3");
  assert.equal(await third.ended(), "eof");
  assert.equal(events[0]?.kind === "refused" && events[0].client, "2001:db8::8000:0:0:3");
  for (let i = 0; i < 5; i++) connect("10.1.2.3");
  await until(() => loop.open === 7, "five from the trusted proxy");
});

Deno.test("accept loop: accept failures (EMFILE) never end it; it backs off 5 ms doubling to 1 s and reports one episode", async () => {
  const { loop, listener, events, sleeps, connect } = setup();
  for (let i = 0; i < 12; i++) listener.push(new Error("Too many open files (os error 24)"));
  connect("192.0.2.1");
  await until(() => loop.open === 1, "the connection after the failures admitted");
  assert.deepEqual(sleeps, [5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000, 1000, 1000]);
  assert.deepEqual(events, [
    { kind: "accept-failed", error: "Error: Too many open files (os error 24)" },
    { kind: "accept-recovered", failures: 12, ms: 0 },
  ]);
  listener.push(new Error("Too many open files (os error 24)"));
  connect("192.0.2.2");
  await until(() => loop.open === 2, "admitted after a second episode");
  assert.equal(sleeps.at(-1), 5, "the backoff starts again after a success");
  assert.equal(events.filter((e) => e.kind === "accept-failed").length, 2);
});

Deno.test("accept loop: the client is in the peer table before any byte reaches the server", async () => {
  const { loop, servers, peers, connect } = setup();
  const client = connect("198.51.100.4", 61_000);
  await until(() => loop.open === 1, "admitted");
  await client.write(new Uint8Array([22, 3, 1, 0, 0]));
  const buffer = new Uint8Array(16);
  assert.equal(await servers[0]!.read(buffer), 5);
  assert.deepEqual(peers.get(40_000), tcp("198.51.100.4", 61_000));
});

Deno.test("accept loop: a loopback port is not reused for another client during its quarantine, then forgotten", async () => {
  const { clock, loop, backendPorts, peers, connect, servers } = setup({ quarantineMs: 10_000 });
  backendPorts.push(40_100);
  const first = connect("192.0.2.1");
  await until(() => loop.open === 1, "first admitted");
  first.close();
  await servers[0]!.ended(); // the client's end of stream was passed on; the server closes too
  servers[0]!.close();
  await until(() => loop.open === 0, "first closed");
  clock.t = 5_000;
  backendPorts.push(40_100, 40_101); // the kernel hands out the same port first: it must be skipped
  connect("192.0.2.2");
  await until(() => loop.open === 1, "second admitted");
  assert.equal(peers.get(40_101)?.hostname, "192.0.2.2");
  assert.equal(peers.get(40_100)?.hostname, "192.0.2.1", "a late request on the old connection is still attributed");
  clock.t = 10_000;
  loop.sweep();
  assert.equal(peers.get(40_100), null, "forgotten after the quarantine");
});

Deno.test("accept loop: sweep() enforces the deadlines and frees the slots they held", async () => {
  const { clock, loop, connect } = setup({}, { maxTotal: 1, maxPerClient: 1 });
  const idle = connect("192.0.2.1");
  await until(() => loop.open === 1, "admitted");
  const refused = connect("192.0.2.2");
  assert.equal(await refused.ended(), "eof", "the total cap is reached");
  clock.t = 10_000;
  loop.sweep();
  assert.equal(await idle.ended(), "eof");
  await until(() => loop.open === 0, "released");
  assert.equal(loop.closed["handshake-timeout"], 1);
  connect("192.0.2.2");
  await until(() => loop.open === 1, "the freed slot is available");
});

Deno.test("accept loop: stop() closes the listener and ends the loop; open connections go on", async () => {
  const { loop, connect, servers } = setup();
  const client = connect("192.0.2.1");
  await until(() => loop.open === 1, "admitted");
  await loop.stop();
  await client.write(new Uint8Array([22, 3, 1, 0, 0]));
  assert.equal(await servers[0]!.read(new Uint8Array(8)), 5, "still relayed after stop");
  loop.abortAll();
  assert.equal(await client.ended(), "eof");
});

Deno.test("accept loop: when the server behind cannot be reached the client is closed, its slot freed, the failure reported once", async () => {
  const { loop, events, connect } = setup(
    { connectBackend: () => Promise.reject(new Deno.errors.ConnectionRefused("Connection refused (os error 111)")) },
    { maxTotal: 1, maxPerClient: 1 },
  );
  assert.equal(await connect("192.0.2.1").ended(), "eof");
  assert.equal(await connect("192.0.2.1").ended(), "eof", "the slot of the failed connection was returned");
  await until(() => events.length > 0, "a report");
  assert.deepEqual(events, [
    { kind: "connection-failed", error: "ConnectionRefused: Connection refused (os error 111)", failures: 1 },
  ]);
  assert.equal(loop.open, 0);
});
