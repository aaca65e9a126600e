/**
 * End-to-end helpers: run the real server — the real `deno task start`, its
 * permission set, real TLS — in a throwaway copy of the project, so a test
 * sees a genuine first start (migrations, certificate, bootstrap admin) and
 * never touches the developer's `data/` or `certs/`.
 */
import { copy } from "./fs_copy.ts";

/** The project root (this file lives in `tests/`). */
export const PROJECT_ROOT = new URL("../", import.meta.url);

/** Copies the files a server needs into a fresh temporary directory. */
export async function projectCopy(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "secure-api-e2e-" });
  for (const entry of ["deno.json", "deno.lock", "main.ts", "src", "sql"]) {
    await copy(new URL(entry, PROJECT_ROOT).pathname, `${dir}/${entry}`);
  }
  await Deno.mkdir(`${dir}/certs`);
  return dir;
}

/** A running server process. */
export interface ServerProcess {
  /** The project copy it runs in. */
  readonly dir: string;
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
  /** Run in this project copy (default: a new one). */
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
  /** Port the server listens on (must match `env`/`args`). Default 8443. */
  port?: number;
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
  const dir = options.dir ?? await projectCopy();
  const port = options.port ?? 8443;
  const { args, env } = withGuardPort(options.args ?? ["task", "start"], options.env ?? {});
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
