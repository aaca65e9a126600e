/**
 * Transport (ASVS 5.0 12.1.1 / 4.1.2; SECURITY.md "Transport and response hardening") against the real server
 * process: TLS 1.0 and 1.1 handshakes are refused by the server, TLS 1.2 and
 * 1.3 complete with a verified certificate, HTTP/2 is chosen by ALPN, and
 * the port has no plain-HTTP listener.
 *
 * The old-protocol probes use `openssl s_client` with `@SECLEVEL=0`, so the
 * client is willing to speak TLS 1.0/1.1; the test checks that the client
 * really sent such a ClientHello and that the refusal is the server's
 * fatal alert, not a client that never tried.
 */
import assert from "node:assert/strict";
import { freePort, type ServerProcess, startServer } from "./e2e_helpers.ts";

async function serve(): Promise<ServerProcess> {
  const port = freePort();
  return await startServer({
    port,
    args: ["run", "-P=server", `--allow-net=127.0.0.1:${port}`, "main.ts"],
    env: { APP_PORT: String(port), APP_ADMIN_PASSWORD: "transport-test-passphrase" },
  });
}

/** `openssl s_client` with `flags` against the server; returns stdout and stderr together. */
async function sClient(server: ServerProcess, flags: string[]): Promise<string> {
  const { port } = new URL(server.origin);
  const { stdout, stderr } = await new Deno.Command("openssl", {
    args: [
      "s_client",
      ...flags,
      "-msg",
      "-connect",
      `127.0.0.1:${port}`,
      "-servername",
      "localhost",
      "-CAfile",
      `${server.dir}/certs/dev-cert.pem`,
    ],
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  return decoder.decode(stdout) + decoder.decode(stderr);
}

Deno.test("the server speaks only TLS 1.2 and 1.3, HTTP/2 by ALPN, and no plain-HTTP listener", async (t) => {
  const server = await serve();
  const { port } = new URL(server.origin);
  const cert = await Deno.readTextFile(`${server.dir}/certs/dev-cert.pem`);
  try {
    for (const [flag, label] of [["-tls1", "1.0"], ["-tls1_1", "1.1"]] as const) {
      await t.step(`a TLS ${label} handshake is refused by the server`, async () => {
        const out = await sClient(server, [flag, "-cipher", "DEFAULT:@SECLEVEL=0"]);
        assert.match(out, new RegExp(`^>>> TLS ${label.replace(".", "\\.")}, Handshake .*ClientHello`, "m"), out);
        assert.match(out, /^<<< TLS [0-9.]+, Alert .*fatal/m, "the server answered with a fatal alert");
        assert.doesNotMatch(out, /ServerHello/);
        assert.match(out, /Cipher is \(NONE\)/);
      });
    }

    for (const [flag, label] of [["-tls1_2", "TLSv1.2"], ["-tls1_3", "TLSv1.3"]] as const) {
      await t.step(`a ${label} handshake completes with a verified certificate`, async () => {
        const out = await sClient(server, [flag]);
        // The handshake summary; the later "SSL-Session … Protocol :" block depends on a TLS 1.3
        // session ticket arriving before s_client exits, which is timing, not the protocol.
        assert.match(out, new RegExp(`^New, ${label.replace(".", "\\.")}, Cipher is [A-Z0-9_-]+$`, "m"), out);
        assert.match(out, /^<<< TLS [0-9.]+, Handshake .*ServerHello/m);
        assert.doesNotMatch(out, /Cipher is \(NONE\)/);
        assert.match(out, /Verify return code: 0 \(ok\)/);
      });
    }

    await t.step("ALPN selects h2 when offered, http/1.1 otherwise", async () => {
      for (const [offered, expected] of [[["h2", "http/1.1"], "h2"], [["http/1.1"], "http/1.1"]] as const) {
        const conn = await Deno.connectTls({
          hostname: "127.0.0.1",
          port: Number(port),
          caCerts: [cert],
          alpnProtocols: [...offered],
        });
        try {
          const { alpnProtocol } = await conn.handshake();
          assert.equal(alpnProtocol, expected);
        } finally {
          conn.close();
        }
      }
      // And a real request over the negotiated protocol works.
      const health = await fetch(`${server.origin}/health`, { client: server.client });
      assert.equal(health.status, 200);
      await health.body?.cancel();
    });

    await t.step("a plain-HTTP request on the port gets no HTTP response, only a TLS alert", async () => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
      const received: number[] = [];
      try {
        await conn.write(new TextEncoder().encode("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
        const buffer = new Uint8Array(4096);
        const deadline = setTimeout(() => conn.close(), 5_000);
        try {
          for (;;) {
            const n = await conn.read(buffer);
            if (n === null) break;
            received.push(...buffer.subarray(0, n));
          }
        } catch (error) {
          if (!(error instanceof Deno.errors.BadResource || error instanceof Deno.errors.ConnectionReset)) throw error;
        } finally {
          clearTimeout(deadline);
        }
      } finally {
        try {
          conn.close();
        } catch { /* already closed */ }
      }
      const text = new TextDecoder().decode(new Uint8Array(received));
      assert.ok(!text.includes("HTTP/"), `plain HTTP was answered: ${JSON.stringify(text)}`);
      // 0x15 is a TLS alert record: the server only speaks TLS on this port.
      assert.ok(received.length === 0 || received[0] === 0x15, `unexpected bytes ${received.slice(0, 8)}`);
    });
  } finally {
    assert.equal(await server.stop(), 0);
    await Deno.remove(server.dir, { recursive: true });
  }
});
