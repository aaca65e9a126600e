/**
 * Graceful shutdown of the real server process (README "Durability and shutdown", `sys_shutdown`):
 * on SIGTERM or SIGINT it stops accepting connections at once, lets the
 * requests in flight finish within `APP_SHUTDOWN_TIMEOUT_MS`, records
 * `sys_shutdown`, closes the database cleanly (WAL checkpointed and
 * removed) and exits 0 — or exits 1 when the deadline passes first.
 *
 * The slow in-flight request is an honest one, with no test hook in the
 * server: a wrong Basic password costs one PBKDF2 derivation, and a high
 * `APP_PBKDF2_ITERATIONS` makes that take a measurable time.
 *
 * The signal is sent only once the server itself reports the derivation
 * running (`secure_api_kdf_active` in `GET /metrics`). Waiting a fixed share
 * of the calibrated duration instead failed under CPU load ("fetch failed",
 * connection refused): the request had not reached the server yet, so it
 * was sent after the listener closed — a test of nothing.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { AuditLog } from "../src/audit/audit_log.ts";
import { openDatabase } from "../src/db/sqlite/database.ts";
import { openSQLiteStore } from "../src/db/sqlite/sqlite_store.ts";
import { basicAuth } from "./helpers.ts";
import { freePort, jsonLines, type ServerProcess, startServer } from "./e2e_helpers.ts";

const ADMIN = basicAuth("stop-admin", "graceful-stop-test-passphrase");

/** Starts the server under its permission set on a free port. */
async function serve(env: Record<string, string>): Promise<ServerProcess> {
  const port = freePort();
  return await startServer({
    port,
    args: ["run", "-P=server", `--allow-net=127.0.0.1:${port}`, "main.ts"],
    env: {
      APP_PORT: String(port),
      APP_ADMIN_USERNAME: "stop-admin",
      APP_ADMIN_PASSWORD: "graceful-stop-test-passphrase",
      ...env,
    },
  });
}

/** A wrong-password request: one full PBKDF2 derivation, then 401. */
function slowRequest(server: ServerProcess, username: string): Promise<Response> {
  return fetch(`${server.origin}/auth/me`, {
    client: server.client,
    headers: { Authorization: basicAuth(username, "not-the-password") },
  });
}

/** Password derivations the server is running now, from its own metrics. */
async function kdfActive(server: ServerProcess): Promise<number> {
  const res = await fetch(`${server.origin}/metrics`, { client: server.client, headers: { Authorization: ADMIN } });
  assert.equal(res.status, 200);
  const line = (await res.text()).split("\n").find((l) => l.startsWith("secure_api_kdf_active "));
  return Number(line?.split(" ")[1]);
}

/** Resolves once the server is running at least one derivation: the slow request is in flight, server-side. */
async function derivationRunning(server: ServerProcess, timeoutMs = 30_000): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (await kdfActive(server) < 1) {
    if (performance.now() > until) throw new Error("the slow request never reached the server");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** How long one slow request takes on this machine now. */
async function calibrate(server: ServerProcess): Promise<number> {
  const started = performance.now();
  const res = await slowRequest(server, "calibration");
  await res.body?.cancel();
  assert.equal(res.status, 401);
  const duration = performance.now() - started;
  // The admin's first request costs one derivation too; afterwards its credentials are cached and
  // every metrics read is cheap.
  assert.equal(await kdfActive(server), 0);
  return duration;
}

/** Resolves with the time at which a new TCP connection to the port is first refused. */
async function refusedAt(port: number, timeoutMs: number): Promise<number> {
  const until = performance.now() + timeoutMs;
  while (performance.now() < until) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
    } catch (error) {
      if (error instanceof Deno.errors.ConnectionRefused) return performance.now();
      throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error("the port still accepted connections");
}

/** The database after the process is gone: integrity, WAL state, audit chain and its last row. */
async function inspect(dir: string) {
  const path = `${dir}/data/app.db`;
  const walLeft = existsSync(`${path}-wal`) ? Deno.statSync(`${path}-wal`).size : 0;
  const db = openDatabase(path, { readOnly: true });
  try {
    const integrity = db.prepare("PRAGMA integrity_check").all<{ integrity_check: string }>();
    await using store = await openSQLiteStore(path, { readOnly: true });
    const audit = new AuditLog(store);
    const last = db.prepare("SELECT event, detail FROM audit_log ORDER BY seq DESC LIMIT 1")
      .get<{ event: string; detail: string }>()!;
    return {
      walLeft,
      integrity: integrity.map((row) => row.integrity_check),
      chain: await audit.verify(),
      last: { event: last.event, detail: JSON.parse(last.detail) as Record<string, unknown> },
    };
  } finally {
    db.close();
  }
}

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.test(`${signal} drains the in-flight request, refuses new connections, records sys_shutdown, exits 0`, async () => {
    const server = await serve({ APP_PBKDF2_ITERATIONS: "3000000" });
    const port = Number(new URL(server.origin).port);
    let exitCode: number | null = null;
    try {
      const health = await fetch(`${server.origin}/health`, { client: server.client });
      assert.equal(health.status, 200);
      await health.body?.cancel();
      await calibrate(server);

      const inFlight = slowRequest(server, `victim-${signal}`).then(async (res) => {
        await res.body?.cancel();
        return { status: res.status, challenge: res.headers.get("WWW-Authenticate"), at: performance.now() };
      });
      await derivationRunning(server);
      const signalledAt = performance.now();
      server.process.kill(signal);

      const refused = await refusedAt(port, 10_000);
      const finished = await inFlight;
      assert.equal(finished.status, 401, "the in-flight request completed with its normal status");
      assert.equal(finished.challenge, 'Basic realm="secure-api", charset="UTF-8"');
      assert.ok(finished.at > signalledAt, "the request was still in flight when the signal arrived");
      assert.ok(refused < finished.at, "new connections were refused while the in-flight request was served");

      exitCode = await server.stop(signal);
      assert.equal(exitCode, 0, server.stderr.join("\n"));
    } finally {
      if (exitCode === null) await server.stop("SIGKILL");
    }

    const state = await inspect(server.dir);
    await Deno.remove(server.dir, { recursive: true });
    assert.deepEqual(state.integrity, ["ok"]);
    assert.equal(state.walLeft, 0, "a clean close checkpoints and removes the WAL");
    assert.equal(state.chain.ok, true);
    assert.equal(state.last.event, "sys_shutdown");
    assert.deepEqual(state.last.detail, { signal, outcome: "drained" });
    const lines = jsonLines(server.stdout);
    assert.ok(lines.some((line) => String(line.message).includes("stopping")), "the shutdown is logged");
    assert.ok(
      lines.some((line) => (line.properties as Record<string, unknown> | undefined)?.event === "sys_shutdown"),
      "the sys_shutdown audit line reached the log before exit (logs flushed)",
    );
  });
}

Deno.test("past APP_SHUTDOWN_TIMEOUT_MS a stopping server stops waiting and exits 1, still recording it", async () => {
  const server = await serve({ APP_PBKDF2_ITERATIONS: "6000000", APP_SHUTDOWN_TIMEOUT_MS: "200" });
  let exitCode: number | null = null;
  let signalledAt = 0;
  let duration = 0;
  try {
    duration = await calibrate(server);
    const inFlight = slowRequest(server, "too-slow").then(
      (res) => ({ status: res.status }),
      (error: Error) => ({ error }),
    );
    await derivationRunning(server);
    signalledAt = performance.now();
    exitCode = await server.stop("SIGTERM");
    const exitedAfter = performance.now() - signalledAt;
    assert.equal(exitCode, 1, "a shutdown that missed its deadline is not a clean exit");
    assert.ok(
      exitedAfter < duration * 0.75,
      `exited ${exitedAfter.toFixed(0)} ms after the signal; the request needed ${duration.toFixed(0)} ms`,
    );
    const outcome = await inFlight;
    assert.ok("error" in outcome, "the unfinished request was cut off, not answered");
  } finally {
    if (exitCode === null) await server.stop("SIGKILL");
  }
  const state = await inspect(server.dir);
  await Deno.remove(server.dir, { recursive: true });
  assert.deepEqual(state.integrity, ["ok"]);
  assert.equal(state.chain.ok, true);
  assert.equal(state.last.event, "sys_shutdown");
  assert.deepEqual(state.last.detail, { signal: "SIGTERM", outcome: "timeout" });
});
