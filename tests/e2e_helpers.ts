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

/** The connection guard's default loopback port (`APP_CONNECTION_GUARD_PORT`), also in the `server` set. */
export const DEFAULT_GUARD_PORT = 8444;

/** Options for {@link projectCopy}. */
export interface ProjectCopyOptions {
  /**
   * Rewrites the `server` permission set's listen entries from 8443 to this
   * port (as a user allowing another port would, README "The permission
   * sandbox"), so the real `deno task start` can run on a free port and a
   * test never binds the developer's 8443. Default: the set as shipped.
   */
  port?: number;
  /**
   * Rewrites the set's `127.0.0.1:8444` entry (the loopback port behind the
   * connection guard) to this port; the server must then be started with
   * `APP_CONNECTION_GUARD_PORT` set to it. Default: the set as shipped.
   */
  guardPort?: number;
}

/** Copies the files a server needs into a fresh temporary directory. */
export async function projectCopy(options: ProjectCopyOptions = {}): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "secure-api-e2e-" });
  for (const entry of ["deno.json", "deno.lock", "main.ts", "src", "sql"]) {
    await copy(new URL(entry, PROJECT_ROOT).pathname, `${dir}/${entry}`);
  }
  await Deno.mkdir(`${dir}/certs`);
  if (options.port !== undefined || options.guardPort !== undefined) {
    await allowPort(dir, options.port ?? DEFAULT_PORT, options.guardPort);
  }
  return dir;
}

/**
 * Replaces the `server` set's `…:8443` listen entries in `dir/deno.json` by
 * `…:port`, and its `127.0.0.1:8444` guard entry by `127.0.0.1:guardPort`
 * when one is given.
 */
export async function allowPort(dir: string, port: number, guardPort?: number): Promise<void> {
  const path = `${dir}/deno.json`;
  const config = JSON.parse(await Deno.readTextFile(path));
  const net: string[] = config.permissions.server.net;
  config.permissions.server.net = net.map((entry) => {
    if (guardPort !== undefined && entry === `127.0.0.1:${DEFAULT_GUARD_PORT}`) return `127.0.0.1:${guardPort}`;
    return entry.endsWith(`:${DEFAULT_PORT}`) ? `${entry.slice(0, -String(DEFAULT_PORT).length)}${port}` : entry;
  });
  await Deno.writeTextFile(path, JSON.stringify(config, null, 2));
}

/**
 * Free ports for one server run by `deno task start` in a project copy: the
 * public port and the guard's loopback port, with the `APP_*` variables that
 * select them (pass `port` and `guardPort` to {@link projectCopy}, `env` to the process).
 */
export function serverPorts(): { port: number; guardPort: number; env: Record<string, string> } {
  const port = freePort();
  let guardPort = freePort();
  while (guardPort === port) guardPort = freePort();
  return { port, guardPort, env: { APP_PORT: String(port), APP_CONNECTION_GUARD_PORT: String(guardPort) } };
}

/** A running server process. */
export interface ServerProcess {
  /** The project copy it runs in. */
  readonly dir: string;
  /** The port it listens on. */
  readonly port: number;
  /** The guard's loopback port, when this helper chose it (to start again in the same `dir`); else null. */
  readonly guardPort: number | null;
  readonly process: Deno.ChildProcess;
  /** `https://127.0.0.1:<port>` */
  readonly origin: string;
  /** Lines written so far to stdout (JSON logs) and stderr. */
  readonly stdout: string[];
  readonly stderr: string[];
  /** The one-time admin password printed on first start, if any. */
  readonly adminPassword: string | null;
  /** The bootstrap admin's name as printed on the first start (generated unless APP_ADMIN_USERNAME set it). */
  readonly adminUsername: string | null;
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
   * With such a flag and the connection guard on, a free loopback port for the HTTPS
   * server behind the guard is added to it and passed as `APP_CONNECTION_GUARD_PORT`,
   * unless `env` sets one.
   */
  args?: string[];
  /**
   * Port the server listens on; `APP_PORT` is set to it unless `env` says
   * otherwise. Default: a free port — never 8443, so the tests run beside a
   * developer's `deno task start`. A given `dir` must allow it.
   */
  port?: number;
  /**
   * Under the set's own net list (no `--allow-net` in `args`) with the guard
   * on: its loopback port, passed as `APP_CONNECTION_GUARD_PORT` — never 8444,
   * for the same reason. Default: a free port. A given `dir` must allow it.
   */
  guardPort?: number;
  /** How long to wait for "listening". Default 60 s. */
  timeoutMs?: number;
  /** Run under `sh -c 'ulimit -n N; exec deno …'`: an open-file limit (soft and hard) for the server alone. */
  fileLimit?: number;
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
  const wanted: Record<string, string> = { APP_PORT: String(port), ...options.env };
  const commandLine = options.args ?? ["task", "start"];
  // The set's own list allows the guard's loopback port, 8444 as shipped: the copy allows a free one instead.
  let guardPort: number | null = null;
  const underSetNet = !commandLine.some((arg) => arg.startsWith("--allow-net="));
  if (underSetNet && wanted.APP_CONNECTION_GUARD !== "off" && wanted.APP_CONNECTION_GUARD_PORT === undefined) {
    guardPort = options.guardPort ?? freePort();
    wanted.APP_CONNECTION_GUARD_PORT = String(guardPort);
  }
  const dir = options.dir ?? await projectCopy({ port, ...(guardPort === null ? {} : { guardPort }) });
  const { args, env } = withGuardPort(commandLine, wanted);
  const limited = options.fileLimit !== undefined;
  const process = new Deno.Command(limited ? "sh" : Deno.execPath(), {
    args: limited ? ["-c", `ulimit -n ${options.fileLimit} && exec "$0" "$@"`, Deno.execPath(), ...args] : args,
    cwd: dir,
    env: { APP_PBKDF2_ITERATIONS: "1000", NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout: string[] = [];
  const stderr: string[] = [];
  let adminPassword: string | null = null;
  let adminUsername: string | null = null;
  const { promise: listening, resolve, reject } = Promise.withResolvers<void>();
  const outDone = collect(process.stdout, stdout, (line) => {
    if (line.includes("listening on")) resolve();
  });
  const errDone = collect(process.stderr, stderr, (line) => {
    const match = /one-time password: (\S+)/.exec(line);
    if (match) adminPassword = match[1]!;
    const name = /created admin user "([^"]+)"/.exec(line);
    if (name) adminUsername = name[1]!;
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
    guardPort,
    process,
    origin: `https://127.0.0.1:${port}`,
    stdout,
    stderr,
    get adminPassword() {
      return adminPassword;
    },
    get adminUsername() {
      return adminUsername;
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

/**
 * An explicit `--allow-net=…` replaces the permission set's list, which holds the
 * guard's default loopback port: give the server behind the guard a free one.
 */
export function withGuardPort(
  args: readonly string[],
  env: Record<string, string>,
): { args: string[]; env: Record<string, string> } {
  const index = args.findIndex((arg) => arg.startsWith("--allow-net="));
  if (index === -1 || env.APP_CONNECTION_GUARD === "off" || env.APP_CONNECTION_GUARD_PORT !== undefined) {
    return { args: [...args], env };
  }
  const guardPort = freePort();
  const patched = [...args];
  patched[index] = `${args[index]},127.0.0.1:${guardPort}`;
  return { args: patched, env: { ...env, APP_CONNECTION_GUARD_PORT: String(guardPort) } };
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
