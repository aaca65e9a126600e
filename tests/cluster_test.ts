/**
 * The worker runtime end to end: a real process (`tests/fixtures/cluster_demo/`)
 * whose main thread starts N workers, each serving the same TLS port with
 * `reusePort`. The client opens a new TLS connection for every request, as
 * a reconnecting attacker does, so the kernel spreads the requests over the
 * workers. Shows that the shared GCRA table keeps the quota exact across
 * workers where per-worker memory stores hand out N times it; that SIGTERM
 * drains every worker (requests in flight finish) with one startup and one
 * shutdown record; and that a worker that crashes or silently ends makes the
 * process exit non-zero with a line saying which worker and why.
 */
import assert from "node:assert/strict";
import { generateDevCertificate } from "../src/tls/dev_cert.ts";
import { freePort, jsonLines } from "./e2e_helpers.ts";

const ROOT = new URL("../", import.meta.url).pathname;

interface Demo {
  readonly port: number;
  readonly cert: string;
  readonly stdout: string[];
  readonly stderr: string[];
  /** Resolves when stdout has a line containing `text`. */
  waitFor(text: string, count?: number): Promise<void>;
  readonly status: Promise<Deno.CommandStatus>;
  kill(signal: Deno.Signal): void;
}

async function startDemo(
  env: Record<string, string>,
  flags: string[] = [],
  readable = `${ROOT}src,${ROOT}tests/fixtures/cluster_demo`,
): Promise<Demo> {
  const dir = await Deno.makeTempDir({ prefix: "secure-api-cluster-" });
  const { cert, key } = await generateDevCertificate();
  await Deno.writeTextFile(`${dir}/cert.pem`, cert);
  await Deno.writeTextFile(`${dir}/key.pem`, key);
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...flags,
      `--allow-net=127.0.0.1:${port}`,
      `--allow-read=${readable},${dir}`,
      "--allow-env=DEMO_PORT,DEMO_WORKERS,DEMO_CERT,DEMO_KEY,DEMO_STORE,DEMO_QUOTA,DEMO_STALL_MS,DEMO_NARROW",
      "tests/fixtures/cluster_demo/main.ts",
    ],
    cwd: ROOT,
    env: { DEMO_PORT: String(port), DEMO_CERT: `${dir}/cert.pem`, DEMO_KEY: `${dir}/key.pem`, NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout: string[] = [];
  const stderr: string[] = [];
  const watchers: { text: string; count: number; resolve: () => void }[] = [];
  const check = () => {
    for (const w of [...watchers]) {
      if (stdout.filter((line) => line.includes(w.text)).length >= w.count) {
        watchers.splice(watchers.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  const pump = async (stream: ReadableStream<Uint8Array>, lines: string[]) => {
    let rest = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop()!;
      lines.push(...parts);
      check();
    }
  };
  const pumped = Promise.all([pump(child.stdout, stdout), pump(child.stderr, stderr)]);
  const status = child.status.then(async (s) => {
    await pumped;
    await Deno.remove(dir, { recursive: true });
    return s;
  });
  const demo: Demo = {
    port,
    cert,
    stdout,
    stderr,
    status,
    kill: (signal) => child.kill(signal),
    waitFor: (text, count = 1) => {
      const { promise, resolve, reject } = Promise.withResolvers<void>();
      watchers.push({ text, count, resolve });
      check();
      const timer = setTimeout(
        () => reject(new Error(`no "${text}" ×${count} in time:\n${stderr.join("\n")}`)),
        60_000,
      );
      void status.then(() =>
        setTimeout(() => reject(new Error(`exited before "${text}":\n${stderr.join("\n")}`)), 100)
      );
      return promise.finally(() => clearTimeout(timer));
    },
  };
  try {
    await demo.waitFor("sys_startup");
  } catch (error) {
    try {
      child.kill("SIGKILL");
    } catch { /* it already exited */ }
    await status;
    throw error;
  }
  return demo;
}

/** One HTTP/1.1 request on its own, new TLS connection; the status and the worker that answered. */
async function freshRequest(demo: Demo, path: string): Promise<{ status: number; worker: string; body: string }> {
  const conn = await Deno.connectTls({ hostname: "127.0.0.1", port: demo.port, caCerts: [demo.cert] });
  try {
    await conn.write(new TextEncoder().encode(`GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`));
    const text = await new Response(conn.readable).text();
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
    const worker = /\r\nx-worker: (\d+)\r\n/i.exec(text)?.[1] ?? "?";
    return { status, worker, body: text.slice(text.indexOf("\r\n\r\n") + 4) };
  } finally {
    try {
      conn.close();
    } catch { /* closed by the server already */ }
  }
}

/** Sends `n` requests one after another, each on a new connection. */
async function reconnectingClient(demo: Demo, n: number) {
  const results = [];
  for (let i = 0; i < n; i++) results.push(await freshRequest(demo, "/limited"));
  return {
    allowed: results.filter((r) => r.status === 200).length,
    refused: results.filter((r) => r.status === 429).length,
    workers: new Set(results.map((r) => r.worker)),
  };
}

/** The messages of the demo's error-level log lines. */
function errorLines(demo: Demo): string[] {
  return jsonLines(demo.stdout).filter((l) => String(l.level).toLowerCase() === "error").map((l) => String(l.message));
}

/** The messages of all the demo's log lines. */
function messages(demo: Demo): string[] {
  return jsonLines(demo.stdout).map((l) => String(l.message));
}

async function stopDemo(demo: Demo): Promise<Deno.CommandStatus> {
  demo.kill("SIGTERM");
  return await demo.status;
}

const QUOTA = 10;

Deno.test("workers: a reconnecting client gets exactly its quota across 2 workers with the shared table", async () => {
  const demo = await startDemo({ DEMO_WORKERS: "2", DEMO_STORE: "shared", DEMO_QUOTA: String(QUOTA) });
  try {
    const { allowed, refused, workers } = await reconnectingClient(demo, 40);
    assert.deepEqual([...workers].sort(), ["0", "1"], "the kernel spread the connections over both workers");
    assert.equal(allowed, QUOTA);
    assert.equal(refused, 40 - QUOTA);
  } finally {
    assert.equal((await stopDemo(demo)).code, 0);
  }
});

Deno.test("workers: with a memory store per worker the same client gets more than its quota (the bug)", async () => {
  const demo = await startDemo({ DEMO_WORKERS: "2", DEMO_STORE: "memory", DEMO_QUOTA: String(QUOTA) });
  try {
    const { allowed, workers } = await reconnectingClient(demo, 40);
    assert.deepEqual([...workers].sort(), ["0", "1"]);
    // Each worker allows up to QUOTA of its own: up to 2 × QUOTA in all.
    assert.ok(allowed > QUOTA && allowed <= 2 * QUOTA, `${allowed} allowed with per-worker stores`);
  } finally {
    assert.equal((await stopDemo(demo)).code, 0);
  }
});

Deno.test("workers: SIGTERM drains every worker, in-flight requests finish, one startup and one shutdown", async () => {
  const demo = await startDemo({ DEMO_WORKERS: "2" });
  // Twelve slow requests on twelve connections: both workers hold some (all on one: p = 2^-11).
  const slow = Array.from({ length: 12 }, () => freshRequest(demo, "/slow?ms=1500"));
  await demo.waitFor("slow-start", 12);
  demo.kill("SIGTERM");
  const responses = await Promise.all(slow);
  const status = await demo.status;
  assert.deepEqual(responses.map((r) => r.status), new Array(12).fill(200), "every request in flight finished");
  assert.deepEqual(new Set(responses.map((r) => r.worker)), new Set(["0", "1"]));
  assert.equal(status.code, 0);
  const logged = messages(demo);
  assert.equal(logged.filter((m) => m.startsWith("sys_startup")).length, 1);
  assert.equal(logged.filter((m) => m.startsWith("sys_shutdown")).length, 1);
  assert.ok(logged.includes("worker 0 drained") && logged.includes("worker 1 drained"), logged.join("\n"));
  await assert.rejects(Deno.connect({ hostname: "127.0.0.1", port: demo.port }), Deno.errors.ConnectionRefused);
});

Deno.test("workers: a worker that crashes makes the process exit non-zero, naming the worker and the error", async () => {
  const demo = await startDemo({ DEMO_WORKERS: "2" });
  const crash = await freshRequest(demo, "/crash");
  assert.equal(crash.status, 202);
  const status = await demo.status;
  assert.equal(status.code, 70);
  const errors = errorLines(demo);
  assert.equal(errors.length, 1, errors.join("\n"));
  assert.match(errors[0]!, new RegExp(`^worker ${crash.worker} died: ".*demo crash in a request handler"$`));
  const survivor = crash.worker === "0" ? "1" : "0";
  const logged = messages(demo);
  assert.ok(logged.includes(`worker ${survivor} drained`), "the other worker was drained, not cut off");
  assert.ok(logged.some((m) => m.startsWith(`sys_shutdown: "worker ${crash.worker} died"`)));
});

Deno.test("workers: a worker that ends silently (Deno.exit in a worker) is caught by its heartbeat", async () => {
  const demo = await startDemo({ DEMO_WORKERS: "2", DEMO_STALL_MS: "3000" });
  const exit = await freshRequest(demo, "/exit");
  assert.equal(exit.status, 202);
  const status = await demo.status;
  assert.equal(status.code, 70);
  const errors = errorLines(demo);
  assert.match(
    errors.join("\n"),
    new RegExp(`^worker ${exit.worker} died: "no heartbeat for \\d+ ms \\(the thread exited or is stuck\\)"$`),
  );
});

Deno.test("workers: worker permissions can be narrowed below the main thread's (no env in workers)", async () => {
  const demo = await startDemo({ DEMO_WORKERS: "2", DEMO_NARROW: "1" }, ["--unstable-worker-options"]);
  try {
    assert.equal((await freshRequest(demo, "/env")).body, "prompt", "the worker was not granted env");
  } finally {
    assert.equal((await stopDemo(demo)).code, 0);
  }
  const inheriting = await startDemo({ DEMO_WORKERS: "1" });
  try {
    assert.equal((await freshRequest(inheriting, "/env")).body, "granted", "by default a worker inherits");
  } finally {
    assert.equal((await stopDemo(inheriting)).code, 0);
  }
});

Deno.test("workers: a worker needs read permission on its modules, which the main thread does not", async () => {
  // Only the worker module's own directory is readable: main.ts still loads (its imports need no
  // permission), the workers cannot load theirs — so the server's set must grant read on ./src.
  await assert.rejects(
    startDemo({ DEMO_WORKERS: "2" }, [], `${ROOT}tests/fixtures/cluster_demo`),
    /Requires read access to "[^"]*\/src\/cluster\/worker_host\.ts"/,
  );
});
