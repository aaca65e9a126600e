/**
 * `deno task dev` (README "Development"): the real task in a project copy on
 * a free port restarts on a file change and serves again, and stops at once
 * on SIGTERM and on SIGINT. Under `deno run --watch`, Deno 2.9 hands signals
 * (and a synthetic SIGTERM on every change) to the script's own listeners
 * when it has any, and then neither restarts nor exits: with the server's
 * graceful-shutdown listeners installed, the task hung at "Waiting for
 * graceful termination..." with the server gone, spinning a core and
 * ignoring Ctrl-C. The dev task therefore sets `APP_WATCH=on`, and the
 * server leaves signals to the watcher.
 */
import assert from "node:assert/strict";
import { projectCopy, serverPorts } from "./e2e_helpers.ts";

/** Generous: the deadline here is about hanging forever, not about speed (the machine may be loaded). */
const EXIT_DEADLINE_MS = 15_000;

interface DevTask {
  readonly port: number;
  readonly output: string[];
  /** Resolves when "listening on" has been printed `count` times in all. */
  listening(count: number, timeoutMs?: number): Promise<void>;
  readonly status: Promise<Deno.CommandStatus>;
  readonly child: Deno.ChildProcess;
}

function startDev(dir: string, port: number, portEnv: Record<string, string>): DevTask {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["task", "dev"],
    cwd: dir,
    env: {
      ...portEnv,
      APP_ADMIN_PASSWORD: "dev-task-test-passphrase",
      APP_PBKDF2_ITERATIONS: "1000",
      NO_COLOR: "1",
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output: string[] = [];
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) output.push(chunk);
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
  const status = child.status.then(async (s) => {
    await pumps;
    return s;
  });
  return {
    port,
    output,
    child,
    status,
    async listening(count, timeoutMs = 60_000) {
      const until = Date.now() + timeoutMs;
      while ((output.join("").match(/listening on/g) ?? []).length < count) {
        if (Date.now() > until) throw new Error(`not listening ${count} time(s) in time:\n${output.join("")}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
  };
}

/** The ids of `pid`'s descendants (`ps --ppid`; Deno refuses to list /proc without all permissions). */
function descendants(pid: number): number[] {
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const { stdout } = new Deno.Command("ps", { args: ["-o", "pid=", "--ppid", String(queue.shift())] }).outputSync();
    const children = new TextDecoder().decode(stdout).split("\n").map((line) => line.trim()).filter(Boolean).map(
      Number,
    );
    out.push(...children);
    queue.push(...children);
  }
  return out;
}

/** SIGKILLs `pid` and every process it started, by id. */
function killTree(pid: number): void {
  for (const id of [...descendants(pid), pid]) {
    try {
      Deno.kill(id, "SIGKILL");
    } catch { /* already gone */ }
  }
}

async function health(dir: string, port: number): Promise<number> {
  const client = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(`${dir}/certs/dev-cert.pem`)] });
  try {
    const res = await fetch(`https://127.0.0.1:${port}/health`, { client });
    await res.body?.cancel();
    return res.status;
  } finally {
    client.close();
  }
}

/** Resolves with the exit status, or rejects when the process outlives the deadline. */
async function exitsWithin(task: DevTask, ms: number): Promise<Deno.CommandStatus> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`still running ${ms} ms after the signal:\n${task.output.join("")}`)),
      ms,
    );
  });
  try {
    return await Promise.race([task.status, late]);
  } finally {
    clearTimeout(timer);
  }
}

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.test(`deno task dev restarts on a change, serves again, and stops on ${signal}`, async () => {
    const { port, guardPort, env } = serverPorts();
    const dir = await projectCopy({ port, guardPort });
    const task = startDev(dir, port, env);
    try {
      await task.listening(1);
      assert.equal(await health(dir, port), 200);
      await Deno.writeTextFile(`${dir}/src/routes/health.ts`, "\n// changed by dev_task_test\n", { append: true });
      await task.listening(2);
      assert.match(task.output.join(""), /Restarting! File change detected/);
      assert.equal(await health(dir, port), 200, "the restarted server serves");

      const signalled = performance.now();
      task.child.kill(signal);
      const status = await exitsWithin(task, EXIT_DEADLINE_MS);
      assert.notEqual(status.code, 0, "stopped by the signal");
      assert.doesNotMatch(task.output.join(""), /Waiting for graceful termination/);
      assert.ok(performance.now() - signalled < EXIT_DEADLINE_MS);
      await assert.rejects(health(dir, port), "nothing listens any more");
    } finally {
      // SIGKILL to `deno task` alone would orphan the watcher it started (which, when hung, keeps the pipes open).
      killTree(task.child.pid);
      await task.status;
      await Deno.remove(dir, { recursive: true });
    }
  });
}
