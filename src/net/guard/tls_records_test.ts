import assert from "node:assert/strict";
import fc from "fast-check";
import { generateDevCertificate } from "../../tls/dev_cert.ts";
import { createHandshakeWatcher } from "./tls_records.ts";

function record(type: number, length: number, version = 0x03): Uint8Array {
  return new Uint8Array([type, version, 0x03, length >> 8, length & 0xff, ...new Uint8Array(length).fill(0x17)]);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(parts.flatMap((part) => [...part]));
}

Deno.test("createHandshakeWatcher() is done at the client's first application-data record, not before", () => {
  const watcher = createHandshakeWatcher();
  assert.equal(watcher.feed(record(22, 512)), "handshaking"); // ClientHello
  assert.equal(watcher.feed(record(20, 1)), "handshaking"); // middlebox-compatibility ChangeCipherSpec
  assert.equal(watcher.feed(record(23, 0).subarray(0, 4)), "handshaking", "a header cut short says nothing yet");
  assert.equal(watcher.feed(new Uint8Array([53])), "done");
  assert.equal(watcher.feed(new Uint8Array([1, 2, 3])), "done", "stays done");
});

Deno.test("createHandshakeWatcher() skips record bodies, so payload bytes that look like headers never count", () => {
  const watcher = createHandshakeWatcher();
  const hello = record(22, 10);
  hello.set([23, 3, 3, 0, 1], 5); // an application-data header inside the body
  assert.equal(watcher.feed(hello), "handshaking");
});

Deno.test("createHandshakeWatcher() calls anything that is not a TLS record stream not-tls", () => {
  assert.equal(createHandshakeWatcher().feed(new TextEncoder().encode("GET / HTTP/1.1\r\n")), "not-tls");
  assert.equal(createHandshakeWatcher().feed(record(22, 10, 0x02)), "not-tls", "SSL 2 version byte");
  assert.equal(createHandshakeWatcher().feed(record(24, 1)), "not-tls", "heartbeat is not part of a handshake");
  assert.equal(createHandshakeWatcher().feed(new Uint8Array([22, 3, 3, 0xff, 0xff])), "not-tls", "oversize record");
});

Deno.test("createHandshakeWatcher() gives the same answer however the bytes are split (property)", () => {
  const stream = concat(record(22, 300), record(20, 1), record(22, 40), record(23, 60), record(23, 500));
  const doneAt = 300 + 5 + 1 + 5 + 40 + 5 + 5; // the byte that completes the first application-data header
  fc.assert(
    fc.property(fc.uniqueArray(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 40 }), (cuts) => {
      const watcher = createHandshakeWatcher();
      let last = 0;
      for (const cut of [...cuts.sort((a, b) => a - b), stream.length]) {
        const progress = watcher.feed(stream.subarray(last, cut));
        assert.equal(progress, cut >= doneAt ? "done" : "handshaking", `after ${cut} bytes`);
        last = cut;
      }
    }),
    { seed: 12, numRuns: 300 },
  );
});

Deno.test("createHandshakeWatcher() sees a real TLS 1.3 handshake end before the first request is sent", async () => {
  const { cert, key } = await generateDevCertificate();
  const server = Deno.listenTls({ hostname: "127.0.0.1", port: 0, cert, key });
  // A test tap that copies a real TLS client's bytes to a TLS server: it serves nothing itself.
  const tap = Deno.listen({ hostname: "127.0.0.1", port: 0 }); // nosemgrep: deno-serve-without-tls
  const progress: string[] = [];
  const served = (async () => {
    const fromClient = await tap.accept();
    const toServer = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
    const tlsSide = await server.accept();
    const watcher = createHandshakeWatcher();
    const buffer = new Uint8Array(16_384);
    const upstream = (async () => {
      for (let n = await fromClient.read(buffer); n !== null; n = await fromClient.read(buffer)) {
        progress.push(watcher.feed(buffer.subarray(0, n)));
        await toServer.write(buffer.slice(0, n));
      }
    })().catch(() => {});
    const down = new Uint8Array(16_384);
    const downstream = (async () => {
      for (let n = await toServer.read(down); n !== null; n = await toServer.read(down)) {
        await fromClient.write(down.slice(0, n));
      }
    })().catch(() => {});
    await tlsSide.handshake();
    return { fromClient, toServer, tlsSide, pumps: Promise.all([upstream, downstream]) };
  })();
  const client = await Deno.connectTls({ hostname: "127.0.0.1", port: tap.addr.port, caCerts: [cert] });
  await client.handshake();
  // The server's handshake ends when the client's Finished reached it — through the tap, so it was fed.
  const side = await served;
  assert.equal(progress.at(-1), "done", `progress: ${progress.join(", ")}`);
  assert.equal(progress.filter((p) => p === "done").length, 1, "done only with the last flight");
  client.close();
  side.tlsSide.close();
  side.fromClient.close();
  side.toServer.close();
  await side.pumps;
  tap.close();
  server.close();
});
