import assert from "node:assert/strict";
import { createPeerTableBuffer, peerTableReader, peerTableWriter } from "./peer_table.ts";

Deno.test("peer table: a port maps to the client written for it, in both address families", () => {
  const buffer = createPeerTableBuffer();
  const writer = peerTableWriter(buffer);
  const reader = peerTableReader(buffer);
  assert.equal(reader.get(40_000), null, "an unknown port is nobody");
  writer.set(40_000, "192.0.2.7", 51_234);
  writer.set(40_001, "2001:db8:ffff:ffff:ffff:ffff:255.255.255.255", 65_535);
  assert.deepEqual(reader.get(40_000), { transport: "tcp", hostname: "192.0.2.7", port: 51_234 });
  assert.deepEqual(reader.get(40_001), {
    transport: "tcp",
    hostname: "2001:db8:ffff:ffff:ffff:ffff:255.255.255.255",
    port: 65_535,
  });
});

Deno.test("peer table: a rewritten or cleared port is never answered from the reader's cache", () => {
  const buffer = createPeerTableBuffer();
  const writer = peerTableWriter(buffer);
  const reader = peerTableReader(buffer);
  writer.set(50_000, "192.0.2.1", 1);
  assert.equal(reader.get(50_000)?.hostname, "192.0.2.1");
  writer.set(50_000, "198.51.100.9", 2);
  assert.equal(reader.get(50_000)?.hostname, "198.51.100.9");
  writer.clear(50_000);
  assert.equal(reader.get(50_000), null);
});

Deno.test("peer table: two readers over one buffer (the handler's threads) see the writer's entries", () => {
  const buffer = createPeerTableBuffer();
  peerTableWriter(buffer).set(1, "203.0.113.5", 443);
  assert.equal(peerTableReader(buffer).get(1)?.hostname, "203.0.113.5");
  assert.equal(peerTableReader(buffer).get(1)?.hostname, "203.0.113.5");
});

Deno.test("peer table: refuses text that is not an address and ports out of range", () => {
  const writer = peerTableWriter(createPeerTableBuffer());
  assert.throws(() => writer.set(1, "evil\nlog line", 1), RangeError);
  assert.throws(() => writer.set(1, "", 1), RangeError);
  assert.throws(() => writer.set(70_000, "192.0.2.1", 1), RangeError);
  assert.throws(() => peerTableWriter(new SharedArrayBuffer(16)), RangeError);
  assert.equal(peerTableReader(createPeerTableBuffer()).get(-1), null);
});
