/**
 * `deploy/haproxy.cfg`, exactly as shipped, run by the real Debian `haproxy`
 * in front of the real server (connection guard off, `APP_TRUST_PROXY` =
 * the proxy), on free ports; only its documented environment variables are
 * set (addresses, certificate paths, 1 s timeouts, a per-client cap of 4).
 *
 * Proven here: the same idle and slow connections the guard closes are
 * closed by the proxy; one address is held to its cap while another gets
 * in; a legitimate request goes through and the API records the client's
 * real address, not the proxy's and not a forged `X-Forwarded-For`; and
 * the proxy verifies the API's certificate (a wrong name gets 503).
 *
 * `haproxy` must be installed (`apt-get install haproxy`; `.ci/run` does):
 * without it this test fails — it is never skipped.
 */
import assert from "node:assert/strict";
import type net from "node:net";
import {
  auditRows,
  checkDeadlines,
  connectFrom,
  failedLoginFrom,
  refusedAtOnce,
  type Target,
} from "./connection_attacks.ts";
import { freePort, type ServerProcess, startServer } from "./e2e_helpers.ts";
import { type Proxy, requireHaproxy, startProxy } from "./haproxy_helpers.ts";

async function startAPI(): Promise<ServerProcess> {
  const port = freePort();
  return await startServer({
    port,
    args: ["run", "-P=server", `--allow-net=127.0.0.1:${port}`, "main.ts"],
    env: {
      APP_PORT: String(port),
      APP_ADMIN_PASSWORD: "haproxy-test-passphrase",
      APP_CONNECTION_GUARD: "off",
      APP_TRUST_PROXY: "127.0.0.1/32",
    },
  });
}

async function healthThrough(proxy: Proxy, ca: string): Promise<number> {
  const client = Deno.createHttpClient({ caCerts: [ca] });
  try {
    const response = await fetch(`https://localhost:${proxy.port}/health`, { client });
    await response.body?.cancel();
    return response.status;
  } finally {
    client.close();
  }
}

Deno.test("haproxy: the shipped configuration bounds slow and idle connections and per-client counts, and passes the real client", async (t) => {
  const haproxy = await requireHaproxy();
  const server = await startAPI();
  const ca = await Deno.readTextFile(`${server.dir}/certs/dev-cert.pem`);
  let proxy: Proxy | null = null;
  try {
    proxy = await startProxy(haproxy, server);
    const target: Target = { port: proxy.port, ca };

    await t.step("a legitimate request goes through, over HTTP/2 and HTTP/1.1", async () => {
      const deadline = performance.now() + 15_000;
      while ((await healthThrough(proxy!, ca)) !== 200) {
        assert.ok(performance.now() < deadline, `the API never came up behind haproxy:\n${proxy!.log.join("")}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const login = await failedLoginFrom(target, "127.0.0.3", "X-Forwarded-For: 203.0.113.66\r\n");
      assert.equal(login, "HTTP/1.1 401 Unauthorized");
    });

    await checkDeadlines(t, target);

    await t.step("one address is held to its cap (4) while another still gets in", async () => {
      const held: net.Socket[] = [];
      try {
        for (let i = 0; i < 4; i++) held.push(await connectFrom("127.0.0.2", proxy!.port));
        assert.ok(await refusedAtOnce("127.0.0.2", proxy!.port), "the fifth connection is refused at once");
        assert.equal(await failedLoginFrom(target, "127.0.0.3"), "HTTP/1.1 401 Unauthorized");
      } finally {
        for (const socket of held) socket.destroy();
      }
    });
  } finally {
    await proxy?.stop();
    assert.equal(await server.stop(), 0);
  }
  const logins = auditRows(server.dir).filter((row) => row.event === "authn_login_fail");
  assert.deepEqual(
    logins.map((row) => row.client),
    ["127.0.0.3", "127.0.0.3"],
    "the API saw the client's address: not the proxy's, not the forged X-Forwarded-For",
  );
  await Deno.remove(server.dir, { recursive: true });
});

Deno.test("haproxy: the shipped configuration verifies the API's certificate (wrong name: 503, nothing reaches the API)", async () => {
  const haproxy = await requireHaproxy();
  const server = await startAPI();
  const ca = await Deno.readTextFile(`${server.dir}/certs/dev-cert.pem`);
  const proxy = await startProxy(haproxy, server, { SECURE_API_NAME: "not-the-api.example" });
  try {
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(await healthThrough(proxy, ca), 503);
    assert.match(proxy.log.join(""), /SSL handshake failure|certificate/i, proxy.log.join(""));
  } finally {
    await proxy.stop();
    assert.equal(await server.stop(), 0);
  }
  await Deno.remove(server.dir, { recursive: true });
});
