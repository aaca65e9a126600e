/**
 * Probes of the real server's transport, through the connection guard as
 * deployed (SECURITY.md "Transport and response hardening"):
 *
 * - cipher suites (ASVS 5.0 12.1.2): `openssl s_client` offers every suite
 *   OpenSSL knows (weak ones included, `@SECLEVEL=0`), takes out each one the
 *   server picks and asks again until the server refuses — so every suite the
 *   server would ever accept is found — and each TLS 1.3 suite alone;
 * - request smuggling (ASVS 5.0 4.2.1): HTTP/1.1 messages whose framing is
 *   ambiguous (Content-Length with Transfer-Encoding, two Content-Lengths, an
 *   obfuscated Transfer-Encoding), each with a second request hidden behind
 *   the first body. The server must refuse the message and close the
 *   connection, so the hidden request never runs, and the application must
 *   see neither.
 */
import assert from "node:assert/strict";
import { connectTls } from "./connection_attacks.ts";
import { freePort, jsonLines, type ServerProcess, startServer } from "./e2e_helpers.ts";

/** What the ASVS and NIST SP 800-52r2 recommend for TLS 1.2: ECDHE (forward secrecy) with an AEAD. */
const RECOMMENDED_TLS12 = /^ECDHE-(ECDSA|RSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$/;
const TLS13_RECOMMENDED = ["TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256"];
const TLS13_OTHERS = ["TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256"];

async function run(args: string[]): Promise<string> {
  const { stdout, stderr } = await new Deno.Command("openssl", { args, stdin: "null" }).output();
  return new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
}

/** The suite the server chose for a handshake offering `flags`, or null when it refused. */
async function negotiated(server: ServerProcess, flags: string[]): Promise<string | null> {
  const { port } = new URL(server.origin);
  const out = await run(["s_client", ...flags, "-connect", `127.0.0.1:${port}`, "-servername", "localhost"]);
  const match = /^New, TLSv1\.[23], Cipher is ([A-Z0-9_-]+)$/m.exec(out);
  return match ? match[1]! : null;
}

async function serve(): Promise<ServerProcess> {
  const port = freePort();
  return await startServer({
    port,
    args: ["run", "-P=server", `--allow-net=127.0.0.1:${port}`, "main.ts"],
    env: { APP_PORT: String(port), APP_ADMIN_PASSWORD: "transport-probe-passphrase" },
  });
}

Deno.test("the server accepts only recommended cipher suites: ECDHE with AES-GCM or ChaCha20-Poly1305", async () => {
  const server = await serve();
  try {
    // Every TLS 1.2-capable suite OpenSSL has, weak and export-grade ones included.
    const all = (await run(["ciphers", "-v", "ALL:COMPLEMENTOFALL:@SECLEVEL=0"])).split("\n")
      .filter((line) => /\s(SSLv3|TLSv1|TLSv1\.2)\s/.test(line)).map((line) => line.split(/\s+/)[0]!);
    assert.ok(all.length > 100, `OpenSSL offers ${all.length} suites`);
    assert.ok(all.some((name) => /-CBC-|RC4|DES|NULL|EXP/.test(name)), "weak suites are among those offered");
    const accepted: string[] = [];
    let offer = [...all];
    for (;;) {
      const chosen = await negotiated(server, ["-tls1_2", "-cipher", `${offer.join(":")}:@SECLEVEL=0`]);
      if (chosen === null) break;
      accepted.push(chosen);
      offer = offer.filter((name) => name !== chosen);
      assert.ok(accepted.length <= all.length, "the probe terminates");
    }
    assert.ok(accepted.length > 0, "TLS 1.2 is served");
    for (const suite of accepted) assert.match(suite, RECOMMENDED_TLS12, `TLS 1.2 accepts ${suite}`);

    for (const suite of TLS13_RECOMMENDED) {
      assert.equal(await negotiated(server, ["-tls1_3", "-ciphersuites", suite]), suite, `TLS 1.3 ${suite}`);
    }
    for (const suite of TLS13_OTHERS) {
      assert.equal(await negotiated(server, ["-tls1_3", "-ciphersuites", suite]), null, `TLS 1.3 refuses ${suite}`);
    }
  } finally {
    await server.stop();
    await Deno.remove(server.dir, { recursive: true });
  }
});

/** Sends `raw` on a fresh HTTP/1.1 TLS connection; returns what came back until the server closed it. */
async function exchange(server: ServerProcess, raw: string): Promise<{ text: string; closed: boolean }> {
  const conn = await connectTls({
    port: Number(new URL(server.origin).port),
    ca: await Deno.readTextFile(`${server.dir}/certs/dev-cert.pem`),
  });
  await conn.write(new TextEncoder().encode(raw));
  const buffer = new Uint8Array(65_536);
  let text = "";
  let closed = false;
  const timer = setTimeout(() => conn.close(), 10_000); // a server that kept waiting fails the test below
  try {
    for (let n = await conn.read(buffer); n !== null; n = await conn.read(buffer)) {
      text += new TextDecoder().decode(buffer.subarray(0, n));
    }
    closed = true;
  } catch { /* closed by the timer */ }
  clearTimeout(timer);
  try {
    conn.close();
  } catch { /* already closed */ }
  return { text, closed };
}

const HEAD = "POST /auth/register HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n";
const HIDDEN = "GET /smuggled HTTP/1.1\r\nHost: localhost\r\n\r\n";

Deno.test("ambiguous HTTP/1.1 framing is refused with 400 and the connection closed: no smuggled request runs", async () => {
  const server = await serve();
  let stopped = false;
  try {
    // Control: a well-framed pipeline is served request by request, so a refusal below is about framing.
    const control = await exchange(
      server,
      `${HEAD}Content-Length: 2\r\n\r\n{}${HIDDEN.replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n")}`,
    );
    assert.deepEqual([...control.text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => m[1]), ["422", "404"], control.text);

    const probes: Record<string, string> = {
      "CL.TE: Content-Length and Transfer-Encoding":
        `${HEAD}Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${HIDDEN}`,
      "TE.CL: Transfer-Encoding and Content-Length":
        `${HEAD}Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n5c\r\n${HIDDEN}x=1\r\n0\r\n\r\n`,
      "two different Content-Lengths": `${HEAD}Content-Length: 2\r\nContent-Length: 40\r\n\r\n{}${HIDDEN}`,
      "an unknown Transfer-Encoding": `${HEAD}Content-Length: 2\r\nTransfer-Encoding: xchunked\r\n\r\n{}${HIDDEN}`,
      "a space before the colon": `${HEAD}Content-Length: 2\r\nTransfer-Encoding : chunked\r\n\r\n{}${HIDDEN}`,
      "chunked not last": `${HEAD}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n${HIDDEN}`,
    };
    for (const [label, raw] of Object.entries(probes)) {
      const { text, closed } = await exchange(server, raw);
      assert.deepEqual([...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => m[1]), ["400"], `${label}: ${text}`);
      assert.ok(closed, `${label}: the server closed the connection`);
      assert.doesNotMatch(text, /x-request-id/i, `${label}: refused before the application`);
    }
    // The application saw the control's two requests and nothing of the probes.
    stopped = true;
    assert.equal(await server.stop(), 0);
    // The access log (one line per request the application answered) names each path.
    const paths = jsonLines(server.stdout).map((line) => (line.properties as { path?: string } | undefined)?.path);
    assert.equal(paths.filter((p) => p === "/smuggled").length, 1, "only the control's GET /smuggled ran");
    assert.equal(paths.filter((p) => p === "/auth/register").length, 1, "only the control's POST reached the app");
  } finally {
    if (!stopped) await server.stop();
    await Deno.remove(server.dir, { recursive: true });
  }
});
