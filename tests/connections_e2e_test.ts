/**
 * Connection exhaustion against the real server process (issue: idle
 * connections killed the server, no login needed). Each test is the attack
 * as it was reproduced, run on a free port in a project copy, with the
 * server's open-file limit lowered for it alone (`ulimit -n 256`) so that
 * exhausting it takes a few hundred sockets, not thousands:
 *
 * 1. Hundreds of bare TCP connections from one address, beyond the
 *    descriptor limit — with the connection guard (default) and without it
 *    (behind a proxy). Before: EMFILE ended `Deno.serve`, the crash handler
 *    wrote `sys_crash` and exited 70, and nothing listened any more. Now the
 *    process stays up, a kept-alive connection keeps answering, the limit is
 *    audited once, and a normal request succeeds once the sockets close.
 * 2. A bare connect, a completed TLS handshake with no request, half-sent
 *    headers trickled forever (slowloris) and an idle keep-alive are each
 *    closed by their deadline (1 s here), while a busy connection is not.
 * 3. One address cannot hold more than its cap while another address still
 *    gets in, and the application sees each client's real address.
 * 4. In production, a descriptor limit too low for the caps refuses the
 *    start with one line naming the fix.
 *
 * Deadlines are 1 s and the assertions allow up to 6 s, so a loaded machine
 * does not fail them; "not closed at once" is checked with a lower bound.
 */
import assert from "node:assert/strict";
import type net from "node:net";
import {
  auditRows,
  checkDeadlines,
  closeAll,
  connectFrom,
  connectionLimitRows,
  connectTls,
  eventually,
  failedLoginFrom,
  flood,
  getOn,
  refusedAtOnce,
  type Target,
} from "./connection_attacks.ts";
import { generateDevCertificate } from "../src/tls/dev_cert.ts";
import { freePort, projectCopy, type ServerProcess, startServer } from "./e2e_helpers.ts";

const FILE_LIMIT = 256;
const PASSWORD = "connection-test-passphrase";

async function serve(env: Record<string, string>, fileLimit?: number): Promise<ServerProcess> {
  const port = freePort();
  return await startServer({
    port,
    args: ["run", "-P=server", `--allow-net=127.0.0.1:${port}`, "main.ts"],
    env: { APP_PORT: String(port), APP_ADMIN_PASSWORD: PASSWORD, ...env },
    ...(fileLimit === undefined ? {} : { fileLimit }),
  });
}

async function target(server: ServerProcess): Promise<Target> {
  return { port: Number(new URL(server.origin).port), ca: await Deno.readTextFile(`${server.dir}/certs/dev-cert.pem`) };
}

async function stillRunning(server: ServerProcess): Promise<boolean> {
  const exited = await Promise.race([
    server.process.status.then(() => true),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 100)),
  ]);
  return !exited;
}

for (const guard of ["on", "off"] as const) {
  Deno.test(`connections: 400 bare connections from one address beyond the descriptor limit do not stop the server (guard ${guard})`, async () => {
    const server = await serve({ APP_CONNECTION_GUARD: guard, APP_MAX_CONNECTIONS_PER_CLIENT: "1000" }, FILE_LIMIT);
    let attack: Deno.Conn[] = [];
    try {
      const { port, ca } = await target(server);
      const keptAlive = await connectTls({ port, ca });
      assert.equal(await getOn(keptAlive, "/health"), 200);

      attack = await flood(port, 400);
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.ok(await stillRunning(server), `the server exited:\n${server.stderr.join("\n")}`);
      assert.equal(await getOn(keptAlive, "/health"), 200, "a kept-alive connection still answers while saturated");

      closeAll(attack);
      await eventually("a new HTTPS request succeeds once the sockets are closed", async () => {
        const response = await fetch(`${server.origin}/health`, { client: server.client });
        await response.body?.cancel();
        return response.status === 200;
      });
      keptAlive.close();
      assert.equal(await server.stop(), 0, "a clean SIGTERM exit, not a crash");
    } catch (error) {
      closeAll(attack);
      await server.stop("SIGKILL");
      throw error;
    }
    const rows = auditRows(server.dir);
    assert.deepEqual(rows.filter((row) => row.event === "sys_crash"), []);
    const limits = connectionLimitRows(rows);
    if (guard === "on") {
      // The guard refuses beyond its total cap, which the start-up check fitted under the descriptor limit.
      assert.ok(
        limits.some((row) => row.detail.limit === "connections" && row.client === "local"),
        JSON.stringify(rows),
      );
    } else {
      // Without the guard the listener does die of EMFILE: one audited episode, then it listens again.
      const exhausted = limits.filter((row) => row.detail.limit === "file-descriptors");
      assert.equal(exhausted.length, 1, JSON.stringify(limits));
      assert.equal(exhausted[0]!.level, "critical");
      assert.match(String(exhausted[0]!.detail.error), /os error 24/);
    }
    await Deno.remove(server.dir, { recursive: true });
  });
}

Deno.test("connections: bare connect, idle handshake, slowloris and idle keep-alive are each closed by their deadline", async (t) => {
  const server = await serve({
    APP_HANDSHAKE_TIMEOUT_MS: "1000",
    APP_REQUEST_TIMEOUT_MS: "1000",
    APP_IDLE_TIMEOUT_MS: "1000",
  });
  try {
    await checkDeadlines(t, await target(server));
  } finally {
    assert.equal(await server.stop(), 0);
    await Deno.remove(server.dir, { recursive: true });
  }
});

Deno.test("connections: one address is held to its cap while another still gets in, and the app sees real addresses", async () => {
  const server = await serve({ APP_MAX_CONNECTIONS_PER_CLIENT: "4" });
  const { port, ca } = await target(server);
  const held: net.Socket[] = [];
  try {
    for (let i = 0; i < 4; i++) held.push(await connectFrom("127.0.0.2", port));
    assert.ok(await refusedAtOnce("127.0.0.2", port), "the connection beyond the cap is closed at once");
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (const socket of held) assert.equal(socket.readyState, "open", "the four within the cap stay open");

    const login = await failedLoginFrom({ port, ca }, "127.0.0.3");
    assert.equal(login, "HTTP/1.1 401 Unauthorized", "another address gets in");
    const health = await fetch(`${server.origin}/health`, { client: server.client });
    assert.equal(health.status, 200);
    await health.body?.cancel();
  } finally {
    for (const socket of held) socket.destroy();
    assert.equal(await server.stop(), 0);
  }
  const rows = auditRows(server.dir);
  const refused = connectionLimitRows(rows);
  assert.deepEqual(refused.map((row) => [row.client, row.detail.limit, row.detail.max]), [
    ["127.0.0.2", "connections-per-client", 4],
  ]);
  const failedLogin = rows.find((row) => row.event === "authn_login_fail");
  assert.equal(failedLogin?.client, "127.0.0.3", "rate limits and the audit log see the relayed client, not the guard");
  await Deno.remove(server.dir, { recursive: true });
});

Deno.test("connections: in production, too few file descriptors for the caps refuse the start with one line", async () => {
  const dir = await projectCopy();
  const { cert, key } = await generateDevCertificate();
  await Deno.writeTextFile(`${dir}/certs/cert.pem`, cert);
  await Deno.writeTextFile(`${dir}/certs/key.pem`, key, { mode: 0o600 });
  const port = freePort();
  const started = startServer({
    dir,
    port,
    fileLimit: FILE_LIMIT,
    args: ["run", "-P=server", `--allow-net=127.0.0.1:${port}`, "main.ts"],
    env: {
      APP_ENV: "production",
      APP_PORT: String(port),
      APP_TLS_CERT: "certs/cert.pem",
      APP_TLS_KEY: "certs/key.pem",
      APP_PBKDF2_ITERATIONS: "600000",
      APP_ADMIN_PASSWORD: PASSWORD,
    },
  });
  await assert.rejects(
    started,
    /server exited \(1\) before listening:[\s\S]*secure-api: configuration error: APP_MAX_CONNECTIONS: 1024 connections need 3200 file descriptors but only \d+ are free; raise the hard open-file limit/,
  );
  await Deno.remove(dir, { recursive: true });
});
