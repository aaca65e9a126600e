/**
 * `deno task bench:http` — HTTP throughput and latency over TLS, in one run
 * on one machine, against the physical limit.
 *
 * Starts (1) a bare `Deno.serve` returning the same JSON over the same TLS
 * certificate, and (2) the real server (real PBKDF2 iterations, real
 * middleware, its permission set), drives each with `wrk` at a fixed
 * connection count, and prints requests/s, p50, p99 and the ratio to the
 * bare limit. Rate limits are raised for the run (they would otherwise be
 * the thing measured); every other security layer is on.
 *
 * Flood scenarios: cached users' throughput with and without 50 connections
 * sending wrong passwords — once from a single source (the brute-force guard
 * answers 429 without a KDF) and once from random sources behind a trusted
 * proxy (each wrong password reaches the KDF guard, which bounds the work).
 *
 * Environment: BENCH_DURATION (default 10s), BENCH_CONNECTIONS (default 50),
 * BENCH_THREADS (default 2), BENCH_KDF_CONCURRENCY (default: the server's, the CPU count).
 */
import { freePort, projectCopy, startServer } from "../tests/e2e_helpers.ts";

const DURATION = Deno.env.get("BENCH_DURATION") ?? "10s";
const CONNECTIONS = Number(Deno.env.get("BENCH_CONNECTIONS") ?? 50);
const THREADS = Number(Deno.env.get("BENCH_THREADS") ?? 2);
/** Overrides the server's KDF concurrency (default: CPU count) to show the CPU-share trade-off. */
const KDF_CONCURRENCY = Deno.env.get("BENCH_KDF_CONCURRENCY");
const ADMIN_PASSWORD = "bench operator passphrase 2026";
/** A flood runs long enough to cover both measurements of cached users taken during it. */
const longDuration = `${2 * Number.parseInt(DURATION)}s`;

/** One wrk measurement. */
export interface Result {
  scenario: string;
  rps: number;
  p50ms: number;
  p99ms: number;
  non2xx: number;
  requests: number;
}

/** Installs wrk from Debian when it is missing. */
export async function ensureWrk(): Promise<void> {
  const found = await new Deno.Command("sh", { args: ["-c", "command -v wrk"], stdout: "null" }).output();
  if (found.success) return;
  console.error("wrk is missing; installing it from Debian (apt-get install wrk)…");
  const root = Deno.uid() === 0;
  const cmd = (args: string[]) => new Deno.Command(root ? args[0]! : "sudo", { args: root ? args.slice(1) : args });
  for (const args of [["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "wrk"]]) {
    const { success } = await cmd(args).output();
    if (!success) throw new Error(`could not run: ${args.join(" ")} — install wrk and retry`);
  }
}

function toMs(text: string): number {
  const match = /^([\d.]+)(us|ms|s)$/.exec(text.trim());
  if (!match) return NaN;
  const value = Number(match[1]);
  return match[2] === "us" ? value / 1000 : match[2] === "s" ? value * 1000 : value;
}

/** Runs wrk and parses its report. */
export async function wrk(
  scenario: string,
  url: string,
  options: { headers?: Record<string, string>; script?: string; connections?: number; duration?: string } = {},
): Promise<Result> {
  const connections = String(options.connections ?? CONNECTIONS);
  const args = ["-t", String(THREADS), "-c", connections, "-d", options.duration ?? DURATION, "--latency"];
  for (const [name, value] of Object.entries(options.headers ?? {})) args.push("-H", `${name}: ${value}`);
  if (options.script) args.push("-s", options.script);
  args.push(url);
  const output = await new Deno.Command("wrk", { args, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(output.stdout);
  if (!output.success) throw new Error(`wrk failed for ${scenario}: ${new TextDecoder().decode(output.stderr)}`);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1]);
  const p50 = toMs(/\s50%\s+(\S+)/.exec(text)?.[1] ?? "");
  const p99 = toMs(/\s99%\s+(\S+)/.exec(text)?.[1] ?? "");
  const requests = Number(/(\d+) requests in/.exec(text)?.[1]);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? 0);
  return { scenario, rps, p50ms: p50, p99ms: p99, non2xx, requests };
}

async function writeScript(dir: string, name: string, lua: string): Promise<string> {
  const path = `${dir}/${name}.lua`;
  await Deno.writeTextFile(path, lua);
  return path;
}

/** An HTTP Basic `Authorization` value. */
export function basic(user: string, password: string): string {
  return `Basic ${btoa(`${user}:${password}`)}`;
}

async function main(): Promise<void> {
  await ensureWrk();
  const dir = await projectCopy();
  const port = freePort();
  const server = await startServer({
    dir,
    port,
    args: ["run", "-P=server", `--allow-net=127.0.0.1:${port}`, "main.ts"],
    env: {
      APP_PORT: String(port),
      APP_PBKDF2_ITERATIONS: "600000",
      APP_ADMIN_PASSWORD: ADMIN_PASSWORD,
      APP_RATE_LIMIT_API: "50000000/60",
      APP_RATE_LIMIT_AUTH: "50000000/60",
      APP_TRUST_PROXY: "127.0.0.1/32",
      ...(KDF_CONCURRENCY ? { APP_KDF_CONCURRENCY: KDF_CONCURRENCY } : {}),
    },
  });
  const bare = { process: null as Deno.ChildProcess | null };
  try {
    const api = async (method: string, path: string, auth: string, body?: unknown) => {
      const response = await fetch(`${server.origin}${path}`, {
        method,
        client: server.client,
        headers: { Authorization: auth, ...(body ? { "Content-Type": "application/json" } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
      return response.status === 204 ? null : await response.json();
    };
    const admin = basic("admin", ADMIN_PASSWORD);
    const userPassword = "benchmark user passphrase";
    const registered = await fetch(`${server.origin}/auth/register`, {
      method: "POST",
      client: server.client,
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username: "bencher", password: userPassword }),
    }).then((r) => r.json());
    await api("PUT", `/users/${registered.id}/roles`, admin, { roles: ["editor"] });
    const user = basic("bencher", userPassword);
    const product = await api("POST", "/products", user, {
      name: "Benchmark kettle",
      description: "A product of typical size for the benchmark.",
      priceCents: 3500,
      stock: 12,
    });
    const { token } = await api("POST", "/auth/login", user);
    const productUrl = `${server.origin}/products/${product.id}`;

    const bodyFile = `${dir}/bare_body.json`;
    await Deno.writeTextFile(bodyFile, JSON.stringify(product));
    const barePort = freePort();
    bare.process = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        `--allow-net=127.0.0.1:${barePort}`,
        `--allow-read=${dir}`,
        new URL("./bare_server.ts", import.meta.url).pathname,
        String(barePort),
        `${dir}/certs/dev-cert.pem`,
        `${dir}/certs/dev-key.pem`,
        bodyFile,
      ],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const reader = bare.process.stdout.pipeThrough(new TextDecoderStream()).getReader();
    while (!(await reader.read()).value?.includes("listening"));
    reader.releaseLock();

    const legit = { Authorization: user, "X-Forwarded-For": "10.0.0.1" };
    const post = await writeScript(
      dir,
      "post",
      `wrk.method = "POST"
wrk.body = '{"name":"Bench item","priceCents":100,"stock":1}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "${user}"
wrk.headers["X-Forwarded-For"] = "10.0.0.1"`,
    );
    const floodSingle = await writeScript(
      dir,
      "flood_single",
      `wrk.headers["Authorization"] = "${basic("bencher", "a wrong password guess")}"
wrk.headers["X-Forwarded-For"] = "10.66.0.1"`,
    );
    // Random usernames from random addresses: no pair, account or client counter ever trips, so
    // every request reaches the KDF guard — the worst case for password checking.
    const credentials = Array.from({ length: 1000 }, (_, n) => `"${basic(`victim${n}`, "a wrong password guess")}"`);
    const floodDistributed = await writeScript(
      dir,
      "flood_distributed",
      `local credentials = { ${credentials.join(", ")} }
math.randomseed(os.time())
request = function()
  local xff = "10." .. math.random(0, 255) .. "." .. math.random(0, 255) .. "." .. math.random(1, 254)
  local authorization = credentials[math.random(1, #credentials)]
  return wrk.format("GET", nil, { ["Authorization"] = authorization, ["X-Forwarded-For"] = xff })
end`,
    );

    // Warm the credential cache and the JIT before measuring.
    await wrk("warm-up", productUrl, { headers: legit, connections: 4 });

    const results: Result[] = [];
    const limit = await wrk("bare Deno.serve (limit)", `https://127.0.0.1:${barePort}/`);
    results.push(limit);
    results.push(await wrk("GET /health", `${server.origin}/health`, { headers: { "X-Forwarded-For": "10.0.0.1" } }));
    const cached = await wrk("GET /products/:id Basic (cached)", productUrl, { headers: legit });
    results.push(cached);
    results.push(
      await wrk("GET /products/:id Bearer", productUrl, {
        headers: { Authorization: `Bearer ${token}`, "X-Forwarded-For": "10.0.0.1" },
      }),
    );
    results.push(await wrk("POST /products Basic", `${server.origin}/products`, { script: post }));

    // Each flood runs for WARM-UP + DURATION; cached users are measured twice: over the whole
    // overlap (the flood's first second included) and in the flood's steady state.
    for (const [name, script] of [["single-source", floodSingle], ["distributed", floodDistributed]] as const) {
      const flood = wrk(`  flood (${name}, wrong passwords)`, productUrl, { script, duration: longDuration });
      const whole = await wrk(`GET /products/:id Basic, ${name} flood (from its start)`, productUrl, {
        headers: legit,
      });
      const steady = await wrk(`GET /products/:id Basic, ${name} flood (steady state)`, productUrl, {
        headers: legit,
      });
      results.push(whole, steady, await flood);
    }

    const table = [
      `| scenario | req/s | p50 ms | p99 ms | non-2xx | ratio to limit |`,
      `|---|---:|---:|---:|---:|---:|`,
      ...results.map((r) =>
        `| ${r.scenario} | ${r.rps.toFixed(0)} | ${r.p50ms.toFixed(2)} | ${r.p99ms.toFixed(2)} | ${r.non2xx} | ${
          (r.rps / limit.rps * 100).toFixed(0)
        }% |`
      ),
    ];
    const flood = results.filter((r) => r.scenario.startsWith("GET") && r.scenario.includes(" flood ("));
    console.log(
      `\nwrk -t${THREADS} -c${CONNECTIONS} -d${DURATION}, ${navigator.hardwareConcurrency} CPUs, Deno ${Deno.version.deno}\n`,
    );
    console.log(table.join("\n"));
    for (const r of flood) {
      console.log(`\n${r.scenario}: ${(r.rps / cached.rps * 100).toFixed(0)}% of the unloaded cached-Basic throughput`);
    }
    await Deno.mkdir("reports", { recursive: true });
    await Deno.writeTextFile(
      "reports/bench-http.json",
      JSON.stringify({ duration: DURATION, connections: CONNECTIONS, results }, null, 2),
    );
  } finally {
    try {
      bare.process?.kill("SIGTERM");
      await bare.process?.status;
    } catch { /* already gone */ }
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) await main();
