/**
 * Raw clients for the connection-exhaustion tests: bare sockets, TLS
 * connections that stop at any point, sockets from a chosen loopback
 * address, and the deadline checks shared by the guard's and HAProxy's
 * tests (`tests/connections_e2e_test.ts`, `tests/haproxy_e2e_test.ts`).
 */
import assert from "node:assert/strict";
import net from "node:net";
import tls from "node:tls";
import { openDatabase } from "../src/db/sqlite/database.ts";

/** Where to attack: a TLS port on 127.0.0.1 and the CA that verifies it. */
export interface Target {
  port: number;
  /** PEM of the certificate authority (the development certificate itself). */
  ca: string;
}

/** Resolves with the time the peer closed `conn` (end of stream or reset), reading and dropping what comes. */
async function closedAt(conn: { read(buffer: Uint8Array): Promise<number | null> }): Promise<number> {
  const buffer = new Uint8Array(16_384);
  try {
    while ((await conn.read(buffer)) !== null);
  } catch { /* reset or closed: closed either way */ }
  return performance.now();
}

/** Milliseconds from `since` until `conn` is closed by the peer, or Infinity after `limitMs`. */
export async function msUntilClosed(conn: Deno.Conn, since: number, limitMs = 6_000): Promise<number> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<number>((resolve) => (timer = setTimeout(() => resolve(Infinity), limitMs)));
  const ms = await Promise.race([closedAt(conn).then((at) => at - since), timeout]);
  clearTimeout(timer);
  try {
    conn.close();
  } catch { /* already closed */ }
  return ms;
}

/** A TLS connection (HTTP/1.1 by ALPN) whose handshake has completed. */
export async function connectTls(target: Target): Promise<Deno.TlsConn> {
  const conn = await Deno.connectTls({
    hostname: "127.0.0.1",
    port: target.port,
    caCerts: [target.ca],
    alpnProtocols: ["http/1.1"],
  });
  await conn.handshake();
  return conn;
}

/** Sends GET `path` on a kept-alive HTTP/1.1 connection and returns the status. */
export async function getOn(conn: Deno.Conn, path: string): Promise<number> {
  await conn.write(new TextEncoder().encode(`GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`));
  const buffer = new Uint8Array(65_536);
  let text = "";
  for (;;) {
    const n = await conn.read(buffer);
    if (n === null) throw new Error(`connection closed; got ${JSON.stringify(text)}`);
    text += new TextDecoder().decode(buffer.subarray(0, n));
    const end = text.indexOf("\r\n\r\n");
    if (end === -1) continue;
    const length = Number(/content-length: (\d+)/i.exec(text.slice(0, end))?.[1] ?? 0);
    if (text.length >= end + 4 + length) return Number(text.slice(9, 12));
  }
}

/** A TCP connection from a chosen loopback source address (`Deno.connect` cannot choose one). */
export function connectFrom(localAddress: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port, localAddress });
    socket.once("connect", () => resolve(socket));
    socket.once("error", reject);
  });
}

/** Milliseconds until `socket` is closed by the peer, or Infinity after `limitMs`. */
export function socketClosedWithin(socket: net.Socket, limitMs: number): Promise<number> {
  const since = performance.now();
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(Infinity), limitMs);
    const done = () => {
      clearTimeout(timer);
      resolve(performance.now() - since);
    };
    socket.once("close", done);
    socket.once("end", done);
    socket.on("error", () => {});
    socket.resume();
  });
}

/**
 * True when a connection from `localAddress` is refused at once: reset during
 * connect (HAProxy's `tcp-request connection reject`) or closed within `limitMs`.
 */
export async function refusedAtOnce(localAddress: string, port: number, limitMs = 900): Promise<boolean> {
  let socket: net.Socket;
  try {
    socket = await connectFrom(localAddress, port);
  } catch {
    return true;
  }
  const ms = await socketClosedWithin(socket, limitMs);
  socket.destroy();
  return ms < limitMs;
}

/** POST /auth/login as admin with a wrong password, over TLS from `localAddress`; returns the status line. */
export async function failedLoginFrom(target: Target, localAddress: string, headers = ""): Promise<string> {
  const raw = await connectFrom(localAddress, target.port);
  const socket = tls.connect({ socket: raw, ca: target.ca, servername: "localhost", ALPNProtocols: ["http/1.1"] });
  await new Promise((resolve, reject) => {
    socket.once("secureConnect", resolve);
    socket.once("error", reject);
  });
  socket.write(
    `POST /auth/login HTTP/1.1\r\nHost: localhost\r\nAuthorization: Basic ${btoa("admin:not the password")}\r\n` +
      `${headers}Content-Length: 0\r\nConnection: close\r\n\r\n`,
  );
  let response = "";
  socket.on("data", (chunk) => (response += chunk));
  await new Promise((resolve) => socket.once("end", resolve));
  socket.destroy();
  return response.split("\r\n")[0]!;
}

/** Opens `count` bare TCP connections to `port`; those refused outright are left out. */
export async function flood(port: number, count: number): Promise<Deno.Conn[]> {
  const conns: Deno.Conn[] = [];
  for (let i = 0; i < count; i++) {
    try {
      conns.push(await Deno.connect({ hostname: "127.0.0.1", port }));
    } catch { /* refused while the listener is down: part of the attack's outcome */ }
  }
  return conns;
}

/** Closes every connection, ignoring those already closed. */
export function closeAll(conns: { close(): void }[]): void {
  for (const conn of conns) {
    try {
      conn.close();
    } catch { /* already closed */ }
  }
}

/** Retries `attempt` every 200 ms until it returns true, failing after `limitMs`. */
export async function eventually(what: string, attempt: () => Promise<boolean>, limitMs = 15_000): Promise<void> {
  const deadline = performance.now() + limitMs;
  while (performance.now() < deadline) {
    if (await attempt().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.fail(`not within ${limitMs} ms: ${what}`);
}

/** An audit row as the tests read it. */
export interface AuditRow {
  event: string;
  level: string;
  client: string;
  target: string | null;
  detail: string;
}

/** Every audit row of the database in a project copy (read after the server stopped). */
export function auditRows(dir: string): AuditRow[] {
  const db = openDatabase(`${dir}/data/app.db`, { readOnly: true });
  try {
    return db.prepare("SELECT event, level, client, target, detail FROM audit_log ORDER BY seq").all<AuditRow>();
  } finally {
    db.close();
  }
}

/** The connection-limit rows, detail parsed. */
export function connectionLimitRows(rows: AuditRow[]) {
  return rows.filter((row) => row.event === "excess_rate_limit_exceeded" && row.target === "connections")
    .map((row) => ({ ...row, detail: JSON.parse(row.detail) as Record<string, unknown> }));
}

/**
 * The four ways to hold a connection without using it, each of which must be
 * closed within 6 s when the deadlines are 1 s (and not at once: ≥ 500 ms),
 * and a busy connection that must not be.
 */
export async function checkDeadlines(t: Deno.TestContext, target: Target): Promise<void> {
  const inWindow = (ms: number, what: string) => {
    assert.ok(ms !== Infinity, `${what}: still open after 6 s`);
    assert.ok(ms >= 500, `${what}: closed after ${ms.toFixed(0)} ms, before its deadline`);
  };
  await t.step("a bare TCP connection (no TLS at all) is closed", async () => {
    const since = performance.now();
    inWindow(await msUntilClosed(await Deno.connect({ hostname: "127.0.0.1", port: target.port }), since), "bare");
  });
  await t.step("a completed TLS handshake that never sends a request is closed", async () => {
    const conn = await connectTls(target);
    inWindow(await msUntilClosed(conn, performance.now()), "idle handshake");
  });
  await t.step("headers trickled one line every 250 ms (slowloris) are cut off", async () => {
    const conn = await connectTls(target);
    const since = performance.now();
    await conn.write(new TextEncoder().encode("GET /health HTTP/1.1\r\nHost: localhost\r\n"));
    const trickle = setInterval(() => conn.write(new TextEncoder().encode("X-Slow: 1\r\n")).catch(() => {}), 250);
    const ms = await msUntilClosed(conn, since);
    clearInterval(trickle);
    inWindow(ms, "slowloris");
  });
  await t.step("a kept-alive connection is closed after its response", async () => {
    const conn = await connectTls(target);
    assert.equal(await getOn(conn, "/health"), 200);
    inWindow(await msUntilClosed(conn, performance.now()), "idle keep-alive");
  });
  await t.step("while a connection that keeps sending requests stays open", async () => {
    const conn = await connectTls(target);
    const until = performance.now() + 3_000;
    let requests = 0;
    while (performance.now() < until) {
      assert.equal(await getOn(conn, "/health"), 200, `request ${requests + 1} on the busy connection`);
      requests++;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    assert.ok(requests >= 5);
    conn.close();
  });
}

/** A running {@link connectionFlood}. */
export interface ConnectionFlood {
  /** Connections opened so far (accepted by the kernel, whatever the server did with them). */
  readonly opened: number;
  /** Closes every socket and stops reopening. */
  stop(): void;
}

/**
 * Keeps `sockets` bare TCP connections open against `port` from `from` (a
 * loopback address): each one, once the server closes it, is reopened
 * `reopenMs` later. Nothing is ever sent. This is the idle-connection attack
 * at a steady rate the attacker chooses (at most `sockets / reopenMs` per ms).
 */
export function connectionFlood(
  port: number,
  options: { from: string; sockets: number; reopenMs: number },
): ConnectionFlood {
  const open = new Set<net.Socket>();
  let stopped = false;
  let opened = 0;
  const slot = async () => {
    while (!stopped) {
      let socket: net.Socket;
      try {
        socket = await connectFrom(options.from, port);
        opened++;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, options.reopenMs));
        continue;
      }
      if (stopped) {
        socket.destroy();
        return;
      }
      open.add(socket);
      socket.on("error", () => {});
      socket.resume();
      await new Promise((resolve) => socket.once("close", resolve));
      open.delete(socket);
      await new Promise((resolve) => setTimeout(resolve, options.reopenMs));
    }
  };
  for (let i = 0; i < options.sockets; i++) void slot();
  return {
    get opened() {
      return opened;
    },
    stop() {
      stopped = true;
      for (const socket of open) socket.destroy();
    },
  };
}
