/**
 * `deno task bench:connections` — what bounding connections costs, measured
 * three ways in one run on one machine, with wrk over TLS on the cached
 * Basic `GET /products/:id` (the hot authenticated path):
 *
 * - **direct**: the server with `APP_CONNECTION_GUARD=off`; wrk talks to
 *   `Deno.serve` itself (no connection bound at all — the baseline);
 * - **guard**: the server as shipped; wrk talks to the connection guard's
 *   Worker, which relays to `Deno.serve` on loopback;
 * - **haproxy**: `deploy/haproxy.cfg` (TLS terminated, re-encrypted and
 *   verified to the API) in front of the guard-off server.
 *
 * Each mode is measured twice, in the order direct, guard, haproxy, then
 * reversed, so drift on a shared machine does not favour one; the table
 * shows both and their mean, requests/s relative to direct, and the CPU time
 * (user + system, all threads, from /proc) each process spent per request.
 *
 * Then the same cached users under the attack of the issue that motivated
 * the guard: 1,000 bare connections from another address (127.0.0.2), each
 * reopened 500 ms after the server closes it. The servers run with
 * `ulimit -n 1024`, as in the report, and both front ends with their default
 * per-client cap (64), which wrk's 50 connections fit.
 *
 * Environment: BENCH_DURATION (default 10s), BENCH_CONNECTIONS (default 50), BENCH_THREADS (default 2).
 */
import { freePort, projectCopy, type ServerProcess, startServer } from "../tests/e2e_helpers.ts";
import { connectionFlood } from "../tests/connection_attacks.ts";
import { requireHaproxy, startProxy } from "../tests/haproxy_helpers.ts";
import { basic, ensureWrk, type Result, wrk } from "./http.ts";

const ADMIN_PASSWORD = "bench operator passphrase 2026";
const USER_PASSWORD = "benchmark user passphrase";
const CONNECTIONS = Number(Deno.env.get("BENCH_CONNECTIONS") ?? 50);
const THREADS = Number(Deno.env.get("BENCH_THREADS") ?? 2);
const DURATION = Deno.env.get("BENCH_DURATION") ?? "10s";
/** The open-file limit of the servers, as on the machine where the attack was reported. */
const FILE_LIMIT = 1024;

/**
 * CPU seconds (user + system, every thread) a process has used so far. Read by `cat`: Deno refuses
 * /proc/<pid>/ to anything short of --allow-all, and this task may run subprocesses.
 */
async function cpuSeconds(pid: number): Promise<number> {
  const { stdout } = await new Deno.Command("cat", { args: [`/proc/${pid}/stat`], stdout: "piped" }).output();
  const stat = new TextDecoder().decode(stdout);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 14 and 15 of /proc/<pid>/stat (utime, stime), counted after the command name; clock ticks of 1/100 s.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function serve(guard: boolean): Promise<ServerProcess> {
  const dir = await projectCopy();
  const port = freePort();
  return await startServer({
    dir,
    port,
    fileLimit: FILE_LIMIT,
    args: ["run", "-P=server", `--allow-net=127.0.0.1:${port}`, "main.ts"],
    env: {
      APP_PORT: String(port),
      APP_PBKDF2_ITERATIONS: "600000",
      APP_ADMIN_PASSWORD: ADMIN_PASSWORD,
      APP_RATE_LIMIT_API: "50000000/60",
      APP_RATE_LIMIT_AUTH: "50000000/60",
      APP_TRUST_PROXY: "127.0.0.1/32",
      APP_CONNECTION_GUARD: guard ? "on" : "off",
    },
  });
}

function caOf(server: ServerProcess): Promise<string> {
  return Deno.readTextFile(`${server.dir}/certs/dev-cert.pem`);
}

/** An editor with one product; returns the product's path. */
async function seed(server: ServerProcess): Promise<string> {
  const call = async (method: string, path: string, auth: string | null, body?: unknown) => {
    const response = await fetch(`${server.origin}${path}`, {
      method,
      client: server.client,
      headers: { ...(auth ? { Authorization: auth } : {}), ...(body ? { "Content-Type": "application/json" } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    return response.status === 204 ? null : await response.json();
  };
  const user = await call("POST", "/auth/register", null, { username: "bencher", password: USER_PASSWORD });
  await call("PUT", `/users/${user.id}/roles`, basic("admin", ADMIN_PASSWORD), { roles: ["editor"] });
  const product = await call("POST", "/products", basic("bencher", USER_PASSWORD), {
    name: "Benchmark kettle",
    description: "A product of typical size for the benchmark.",
    priceCents: 3500,
    stock: 12,
  });
  return `/products/${product.id}`;
}

interface Mode {
  name: "direct" | "guard" | "haproxy";
  url: string;
  /** Processes whose CPU time counts for this mode. */
  pids: number[];
  /** The certificate this mode presents (PEM). */
  ca: string;
}

interface Measurement extends Result {
  cpuMicrosPerRequest: number;
}

async function measure(mode: Mode, headers: Record<string, string>): Promise<Measurement> {
  const before = await Promise.all(mode.pids.map(cpuSeconds));
  const result = await wrk(mode.name, mode.url, { headers });
  const after = await Promise.all(mode.pids.map(cpuSeconds));
  const cpu = after.reduce((sum, value, i) => sum + value - before[i]!, 0);
  return { ...result, cpuMicrosPerRequest: cpu / result.requests * 1e6 };
}

/** How long after the flood stopped a new connection gets /health: "120 ms", or "not within 15 s (error)". */
async function msUntilServed(mode: Mode): Promise<string> {
  const since = performance.now();
  let last = "";
  while (performance.now() - since < 15_000) {
    // A fresh client each time: a new connection, not one kept alive from before the flood.
    const client = Deno.createHttpClient({ caCerts: [mode.ca] });
    try {
      const response = await fetch(new URL("/health", mode.url), { client });
      await response.body?.cancel();
      if (response.ok) return `${Math.round(performance.now() - since)} ms`;
      last = `status ${response.status}`;
    } catch (error) {
      last = error instanceof Error ? error.message.slice(0, 80) : String(error);
    } finally {
      client.close();
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return `not within 15 s (${last})`;
}

async function main(): Promise<void> {
  await ensureWrk();
  const haproxyBinary = await requireHaproxy();
  const direct = await serve(false);
  const guarded = await serve(true);
  const proxy = await startProxy(haproxyBinary, direct, {
    HAPROXY_MAX_CONN_PER_CLIENT: "64",
    HAPROXY_TIMEOUT_CLIENT: "30s",
    HAPROXY_TIMEOUT_REQUEST: "10s",
    HAPROXY_TIMEOUT_KEEP_ALIVE: "30s",
  });
  try {
    const directPath = await seed(direct);
    const guardedPath = await seed(guarded);
    const headers = { Authorization: basic("bencher", USER_PASSWORD), "X-Forwarded-For": "10.0.0.1" };
    const modes: Mode[] = [
      { name: "direct", url: `${direct.origin}${directPath}`, pids: [direct.process.pid], ca: await caOf(direct) },
      { name: "guard", url: `${guarded.origin}${guardedPath}`, pids: [guarded.process.pid], ca: await caOf(guarded) },
      {
        name: "haproxy",
        url: `https://127.0.0.1:${proxy.port}${directPath}`,
        pids: [proxy.pid, direct.process.pid],
        ca: await caOf(direct), // haproxy presents the same development certificate
      },
    ];
    // Warm the credential caches, the JIT and haproxy's connection pool.
    for (const mode of modes) await wrk(`warm-up ${mode.name}`, mode.url, { headers, connections: 4, duration: "3s" });

    const runs: Record<string, Measurement[]> = { direct: [], guard: [], haproxy: [] };
    for (const order of [modes, [...modes].reverse()]) {
      for (const mode of order) runs[mode.name]!.push(await measure(mode, headers));
    }
    const mean = (name: string, pick: (m: Measurement) => number) =>
      runs[name]!.reduce((sum, m) => sum + pick(m), 0) / runs[name]!.length;
    const base = mean("direct", (m) => m.rps);
    const lines = [
      `wrk -t${THREADS} -c${CONNECTIONS} -d${DURATION} over TLS, cached Basic GET /products/:id, ` +
      `${navigator.hardwareConcurrency} CPUs, Deno ${Deno.version.deno}`,
      "",
      "| mode | req/s (run 1, run 2) | mean req/s | vs direct | p50 ms | p99 ms | CPU µs/request | non-2xx |",
      "|---|---:|---:|---:|---:|---:|---:|---:|",
      ...Object.keys(runs).map((name) => {
        const [a, b] = runs[name]!;
        return `| ${name} | ${a!.rps.toFixed(0)}, ${b!.rps.toFixed(0)} | ${mean(name, (m) => m.rps).toFixed(0)} | ${
          (mean(name, (m) => m.rps) / base * 100).toFixed(0)
        }% | ${mean(name, (m) => m.p50ms).toFixed(2)} | ${mean(name, (m) => m.p99ms).toFixed(2)} | ${
          mean(name, (m) => m.cpuMicrosPerRequest).toFixed(0)
        } | ${runs[name]!.reduce((sum, m) => sum + m.non2xx, 0)} |`;
      }),
      "",
      "CPU µs/request: the server process (all threads, the guard's Worker included); for haproxy, haproxy + server.",
    ];
    console.log(lines.join("\n"));

    // Cached users while an attacker holds and reopens idle connections from another address.
    const flooded: Record<string, { rps: number; p99ms: number; non2xx: number; opened: number; servedAfter: string }> =
      {};
    for (const mode of modes) {
      const port = Number(new URL(mode.url).port);
      const flood = connectionFlood(port, { from: "127.0.0.2", sockets: 1000, reopenMs: 500 });
      await new Promise((resolve) => setTimeout(resolve, 3_000)); // the flood reaches its steady state
      const result = await wrk(`${mode.name} under a connection flood`, mode.url, { headers });
      flood.stop();
      flooded[mode.name] = { ...result, opened: flood.opened, servedAfter: await msUntilServed(mode) };
    }
    const floodLines = [
      "",
      `Cached users during a flood of 1,000 idle connections from 127.0.0.2, each reopened 500 ms after it is closed ` +
      `(servers under ulimit -n ${FILE_LIMIT}):`,
      "",
      "| mode | req/s | vs unloaded | p99 ms | non-2xx | flood connections opened | a new connection served after the flood |",
      "|---|---:|---:|---:|---:|---:|---|",
      ...Object.entries(flooded).map(([name, r]) =>
        `| ${name} | ${r.rps.toFixed(0)} | ${(r.rps / mean(name, (m) => m.rps) * 100).toFixed(0)}% | ${
          r.p99ms.toFixed(2)
        } | ${r.non2xx} | ${r.opened} | ${r.servedAfter} |`
      ),
    ];
    console.log(floodLines.join("\n"));
    await Deno.mkdir("reports", { recursive: true });
    await Deno.writeTextFile("reports/bench-connections.json", JSON.stringify({ runs, flooded }, null, 2));
  } finally {
    await proxy.stop();
    for (const server of [direct, guarded]) {
      await server.stop();
      await Deno.remove(server.dir, { recursive: true });
    }
  }
}

if (import.meta.main) await main();
