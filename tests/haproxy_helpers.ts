/**
 * Runs `deploy/haproxy.cfg`, exactly as shipped, with the real `haproxy` in
 * front of a server started by `tests/e2e_helpers.ts`; only the file's
 * documented environment variables are set. Used by
 * `tests/haproxy_e2e_test.ts` and `bench/connections.ts`.
 */
import assert from "node:assert/strict";
import { freePort, PROJECT_ROOT, type ServerProcess } from "./e2e_helpers.ts";

const CONFIG = new URL("deploy/haproxy.cfg", PROJECT_ROOT).pathname;

async function output(command: string, args: string[]): Promise<string> {
  const result = await new Deno.Command(command, { args, stdin: "null", stdout: "piped", stderr: "piped" }).output();
  return new TextDecoder().decode(result.stdout).trim();
}

/** The haproxy binary: on PATH, or where Debian puts it (/usr/sbin is not on a non-root user's PATH). */
export async function requireHaproxy(): Promise<string> {
  for (const candidate of ["haproxy", "/usr/sbin/haproxy"]) {
    try {
      const version = await output(candidate, ["-v"]);
      assert.match(version, /^HAProxy version (2\.([6-9]|\d\d)|[3-9]\.)/, version);
      return candidate;
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  return assert.fail("haproxy is not installed: apt-get install haproxy (CI installs it; this test is never skipped)");
}

/** A running haproxy with the shipped configuration. */
export interface Proxy {
  readonly port: number;
  readonly pid: number;
  readonly log: string[];
  stop(): Promise<void>;
}

/**
 * Starts haproxy with the shipped configuration in front of `server` on a free
 * port, after `haproxy -c` accepted it: 1 s timeouts and 4 connections per
 * client unless `env` overrides them. Resolves once it accepts connections.
 */
export async function startProxy(
  haproxy: string,
  server: ServerProcess,
  env: Record<string, string> = {},
): Promise<Proxy> {
  const port = freePort();
  const pem = `${server.dir}/data/haproxy.pem`;
  const certs = `${server.dir}/certs`;
  await Deno.writeTextFile(
    pem,
    (await Deno.readTextFile(`${certs}/dev-cert.pem`)) + (await Deno.readTextFile(`${certs}/dev-key.pem`)),
    { mode: 0o600 },
  );
  const fullEnv = {
    HAPROXY_BIND: `127.0.0.1:${port}`,
    HAPROXY_CERT: pem,
    HAPROXY_USER: await output("id", ["-un"]),
    HAPROXY_GROUP: await output("id", ["-gn"]),
    HAPROXY_MAX_CONN_PER_CLIENT: "4",
    HAPROXY_TIMEOUT_CLIENT: "1s",
    HAPROXY_TIMEOUT_REQUEST: "1s",
    HAPROXY_TIMEOUT_KEEP_ALIVE: "1s",
    SECURE_API_ADDR: `127.0.0.1:${new URL(server.origin).port}`,
    SECURE_API_CA: `${certs}/dev-cert.pem`,
    SECURE_API_NAME: "localhost",
    ...env,
  };
  const check = await new Deno.Command(haproxy, { args: ["-c", "-f", CONFIG], env: fullEnv, stdin: "null" }).output();
  assert.equal(check.code, 0, new TextDecoder().decode(check.stdout) + new TextDecoder().decode(check.stderr));
  const child = new Deno.Command(haproxy, {
    args: ["-db", "-f", CONFIG],
    env: fullEnv,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const log: string[] = [];
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) log.push(chunk);
  };
  const collected = Promise.all([collect(child.stdout), collect(child.stderr)]);
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    await child.status;
    await collected;
  };
  // Listening, and its first health check of the API passed.
  const deadline = performance.now() + 20_000;
  for (;;) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      break;
    } catch {
      if (performance.now() > deadline) {
        await stop();
        assert.fail(`haproxy did not listen:\n${log.join("")}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return { port, pid: child.pid, log, stop };
}
