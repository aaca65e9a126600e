/**
 * A real `redis-server` for tests, started on a free loopback port with no
 * persistence and stopped (or paused, or restarted on the same port) at the
 * test's command. CI needs only the `redis-server` and `redis-cli` binaries on
 * PATH; a test that needs Redis fails, never skips, when they are missing.
 */
import { freePort } from "./e2e_helpers.ts";

/** A Redis server owned by one test. */
export interface TestRedis {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** Runs `redis-cli` against this server; returns its stdout, trimmed. */
  cli(...args: string[]): Promise<string>;
  /** `INFO commandstats` as command name → calls. */
  commandCalls(): Promise<Record<string, number>>;
  /** Stops the server (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port (after {@link stop}); it comes back empty. */
  restart(): Promise<void>;
  /** Freezes the process (SIGSTOP): connections stay open, nothing is answered. */
  pause(): void;
  /** Thaws it (SIGCONT). */
  resume(): void;
}

async function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped", stdin: "null" }).output();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(`${cmd} is not on PATH: install Redis (Debian: apt-get install redis-server) to run this test`);
    }
    throw error;
  }
  const decoder = new TextDecoder();
  return { code: output.code, stdout: decoder.decode(output.stdout).trim(), stderr: decoder.decode(output.stderr) };
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Starts a fresh `redis-server` on a free port and waits until it answers PING. */
export async function startRedis(): Promise<TestRedis> {
  const port = freePort();
  let process: Deno.ChildProcess | null = null;

  const cli = async (...args: string[]) => {
    const result = await run("redis-cli", ["-h", "127.0.0.1", "-p", String(port), ...args]);
    if (result.code !== 0) throw new Error(`redis-cli ${args.join(" ")} failed: ${result.stderr}`);
    return result.stdout;
  };

  const launch = async () => {
    try {
      process = new Deno.Command("redis-server", {
        args: ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn();
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        throw new Error("redis-server is not on PATH: install Redis (Debian: apt-get install redis-server)");
      }
      throw error;
    }
    await waitUntil(`redis-server on port ${port}`, async () => {
      const result = await run("redis-cli", ["-h", "127.0.0.1", "-p", String(port), "PING"]);
      return result.stdout === "PONG";
    });
  };

  const stop = async () => {
    if (!process) return;
    const running = process;
    process = null;
    try {
      running.kill("SIGCONT");
      running.kill("SIGTERM");
    } catch {
      // Already gone.
    }
    await running.status;
  };

  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    cli,
    async commandCalls() {
      const calls: Record<string, number> = {};
      for (const line of (await cli("INFO", "commandstats")).split("\n")) {
        const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
        if (match) calls[match[1]!] = Number(match[2]);
      }
      return calls;
    },
    stop,
    async restart() {
      await stop();
      await launch();
    },
    pause() {
      process?.kill("SIGSTOP");
    },
    resume() {
      process?.kill("SIGCONT");
    },
  };
}

/** Polls `check` every 25 ms until it holds (default at most 10 s), for state that settles in real time. */
export { waitUntil };
