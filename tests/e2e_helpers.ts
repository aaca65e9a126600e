/**
 * End-to-end helpers: run the real server — the real `deno task start`, its
 * permission set, real TLS — in a throwaway copy of the project, so a test
 * sees a genuine first start (migrations, certificate, bootstrap admin) and
 * never touches the developer's `data/` or `certs/`.
 */
import { copy } from "./fs_copy.ts";

/** The project root (this file lives in `tests/`). */
export const PROJECT_ROOT = new URL("../", import.meta.url);

/** The port `deno task start` listens on by default, and the one the `server` permission set names. */
export const DEFAULT_PORT = 8443;

/** Options for {@link projectCopy}. */
export interface ProjectCopyOptions {
  /**
   * Rewrites the `server` permission set's listen entries from 8443 to this
   * port (as a user allowing another port would, README "The permission
   * sandbox"), so the real `deno task start` can run on a free port and a
   * test never binds the developer's 8443. Default: the set as shipped.
   */
  port?: number;
}

/** Copies the files a server needs into a fresh temporary directory. */
export async function projectCopy(options: ProjectCopyOptions = {}): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "secure-api-e2e-" });
  for (const entry of ["deno.json", "deno.lock", "main.ts", "src", "sql"]) {
    await copy(new URL(entry, PROJECT_ROOT).pathname, `${dir}/${entry}`);
  }
  await Deno.mkdir(`${dir}/certs`);
  if (options.port !== undefined) await allowPort(dir, options.port);
  return dir;
}

/** Replaces the `server` set's `…:8443` listen entries in `dir/deno.json` by `…:port`. */
export async function allowPort(dir: string, port: number): Promise<void> {
  const path = `${dir}/deno.json`;
  const config = JSON.parse(await Deno.readTextFile(path));
  const net: string[] = config.permissions.server.net;
  config.permissions.server.net = net.map((entry) =>
    entry.endsWith(`:${DEFAULT_PORT}`) ? `${entry.slice(0, -String(DEFAULT_PORT).length)}${port}` : entry
  );
  await Deno.writeTextFile(path, JSON.stringify(config, null, 2));
}

/** A running server process. */
export interface ServerProcess {
  /** The project copy it runs in. */
  readonly dir: string;
  /** The port it listens on. */
  readonly port: number;
  readonly process: Deno.ChildProcess;
  /** `https://127.0.0.1:<port>` */
  readonly origin: string;
  /** Lines written so far to stdout (JSON logs) and stderr. */
  readonly stdout: string[];
  readonly stderr: string[];
  /** The one-time admin password printed on first start, if any. */
  readonly adminPassword: string | null;
  /** An HTTP client trusting the server's development certificate. */
  readonly client: Deno.HttpClient;
  /** Sends a signal and waits for exit; returns the exit code. */
  stop(signal?: Deno.Signal): Promise<number>;
}

/** Options for {@link startServer}. */
export interface StartOptions {
  /**
   * Run in this project copy. Default: a new one whose `server` set allows
   * {@link StartOptions.port} (see {@link projectCopy}).
   */
  dir?: string;
  /** `APP_*` variables. */
  env?: Record<string, string>;
  /**
   * The command after `deno`: default the real `task start`. Other ports need
   * `run -P=server --allow-net=… main.ts` (an explicit flag replaces the set's net list).
   */
  args?: string[];
  /**
   * Port the server listens on; `APP_PORT` is set to it unless `env` says
   * otherwise. Default: a free port — never 8443, so the tests run beside a
   * developer's `deno task start`. A given `dir` must allow it.
   */
  port?: number;
  /** How long to wait for "listening". Default 60 s. */
  timeoutMs?: number;
}

async function collect(
  stream: ReadableStream<Uint8Array>,
  lines: string[],
  onLine: (line: string) => void,
): Promise<void> {
  let buffer = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    const parts = buffer.split("\n");
    buffer = parts.pop() ?? "";
    for (const line of parts) {
      lines.push(line);
      onLine(line);
    }
  }
  if (buffer !== "") {
    lines.push(buffer);
    onLine(buffer);
  }
}

/** Starts the server and resolves once it logs that it is listening. */
export async function startServer(options: StartOptions = {}): Promise<ServerProcess> {
  const port = options.port ?? freePort();
  const dir = options.dir ?? await projectCopy({ port });
  const args = options.args ?? ["task", "start"];
  const process = new Deno.Command(Deno.execPath(), {
    args,
    cwd: dir,
    env: { APP_PBKDF2_ITERATIONS: "1000", NO_COLOR: "1", APP_PORT: String(port), ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout: string[] = [];
  const stderr: string[] = [];
  let adminPassword: string | null = null;
  const { promise: listening, resolve, reject } = Promise.withResolvers<void>();
  const outDone = collect(process.stdout, stdout, (line) => {
    if (line.includes("listening on")) resolve();
  });
  const errDone = collect(process.stderr, stderr, (line) => {
    const match = /one-time password: (\S+)/.exec(line);
    if (match) adminPassword = match[1]!;
  });
  const exited = process.status.then((status) => {
    reject(new Error(`server exited (${status.code}) before listening:\n${stderr.join("\n")}`));
    return status;
  });
  const timer = setTimeout(
    () => reject(new Error(`server did not listen in time:\n${stderr.join("\n")}`)),
    options.timeoutMs ?? 60_000,
  );
  try {
    await listening;
  } catch (error) {
    try {
      process.kill("SIGKILL");
    } catch { /* already gone */ }
    await exited;
    await Promise.all([outDone, errDone]);
    throw error;
  } finally {
    clearTimeout(timer);
  }
  const client = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(`${dir}/certs/dev-cert.pem`)] });
  return {
    dir,
    port,
    process,
    origin: `https://127.0.0.1:${port}`,
    stdout,
    stderr,
    get adminPassword() {
      return adminPassword;
    },
    client,
    async stop(signal: Deno.Signal = "SIGTERM") {
      try {
        process.kill(signal);
      } catch { /* already gone */ }
      const status = await exited;
      await Promise.all([outDone, errDone]);
      client.close();
      return status.code;
    },
  };
}

/** Parses the JSON log lines of a server. */
export function jsonLines(lines: readonly string[]): Record<string, unknown>[] {
  return lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}
