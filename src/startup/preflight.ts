/**
 * Start-up checks that run before anything is created: a mistake in the
 * environment ends the start with one line that names the variable and says
 * what to change — never a Deno stack trace, never Deno's own hint to pass
 * `--allow-net`/`--allow-read` (an explicit flag *replaces* that category of
 * the permission set, which is exactly what the README warns against), and
 * never after the database file was already made.
 *
 * In order: the bootstrap password against the password policy; the database
 * file, the log file and the TLS files against the permission set (and the
 * TLS files' existence); each listen address against the set's net list, then
 * each being free. There are two addresses with the connection guard on (the
 * default): the public one (`APP_HOST`:`APP_PORT`, bound by the guard's
 * Worker) and the loopback port of the HTTPS server behind it
 * (`127.0.0.1:APP_CONNECTION_GUARD_PORT`); a mistake in either names its own
 * variable. `main.ts` runs {@link preflight} right after parsing the
 * configuration, and maps a late failure of `serveHTTPS` (a port taken in
 * between) with {@link describeListenError}.
 */
import { dirname } from "node:path";
import { passwordProblem } from "../auth/password_policy.ts";
import type { Config } from "../config.ts";

/** One address the server binds, with the variable that sets its port. */
export interface ListenAddress {
  /** `APP_PORT` (the public address) or `APP_CONNECTION_GUARD_PORT` (loopback, behind the guard). */
  readonly variable: "APP_PORT" | "APP_CONNECTION_GUARD_PORT";
  readonly host: string;
  readonly port: number;
}

/** The addresses `serveHTTPS` binds for `config`: the public one, and with the guard on its loopback port. */
export function listenAddresses(
  config: Pick<Config, "host" | "port" | "connectionGuard" | "connectionGuardPort">,
): ListenAddress[] {
  const addresses: ListenAddress[] = [{ variable: "APP_PORT", host: config.host, port: config.port }];
  if (config.connectionGuard) {
    addresses.push({ variable: "APP_CONNECTION_GUARD_PORT", host: "127.0.0.1", port: config.connectionGuardPort });
  }
  return addresses;
}

/** What the address is, for the port behind the guard (an operator may never have heard of it). */
function role(address: ListenAddress): string {
  return address.variable === "APP_CONNECTION_GUARD_PORT" ? " (the HTTPS server behind the connection guard)" : "";
}

/** The permission set `deno task start` runs under, as named in `deno.json`. */
export const SERVER_SET = "permissions.server";

/** The permission checks and probes {@link preflight} uses; tests replace them. */
export interface PreflightOptions {
  /** Whether the process holds a permission. Default `Deno.permissions.querySync`. */
  query?: (descriptor: Deno.PermissionDescriptor) => Deno.PermissionState;
  /** File metadata, or a thrown `Deno.errors.NotFound`. Default `Deno.statSync`. */
  stat?: (path: string) => Deno.FileInfo;
  /** Binds and releases the listen address, throwing `Deno.errors.AddrInUse` when taken. Default `Deno.listen`. */
  probeListen?: (hostname: string, port: number) => void;
}

function denoProbe(hostname: string, port: number): void {
  // A bind probe, closed at once: it never serves (the server itself is Deno.serve with TLS in main.ts).
  Deno.listen({ hostname, port, transport: "tcp" }).close(); // nosemgrep: deno-serve-without-tls
}

/** `host:port` as Deno's net permission writes it (IPv6 in brackets). */
export function netEntry(host: string, port: number): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The one line for a listen address the permission set does not allow. */
export function netNotAllowed(address: ListenAddress): string {
  const { variable, host, port } = address;
  const entry = netEntry(host, port);
  return `${variable}=${port}: the server permission set does not allow listening on ${entry}${role(address)}; ` +
    `add "${entry}" to ${SERVER_SET}.net in deno.json (do not pass --allow-net: it replaces the whole list, Redis included)`;
}

/** The one line for a port another process holds. */
export function portInUse(address: ListenAddress): string {
  const { variable, host, port } = address;
  return `${variable}=${port}: ${netEntry(host, port)}${role(address)} is already in use (another secure-api, ` +
    `or "deno task start" in another terminal?); stop it or set ${variable} to a free port allowed in deno.json`;
}

/**
 * The one line for an error binding `address` threw (`Deno.serve`, or the
 * guard's listener, whose Worker passes the same error class on), or null
 * when it is something else (then it is a bug and keeps its stack trace).
 */
export function describeListenError(error: unknown, address: ListenAddress): string | null {
  if (error instanceof Deno.errors.AddrInUse) return portInUse(address);
  if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
    return netNotAllowed(address);
  }
  if (error instanceof Deno.errors.AddrNotAvailable) {
    return `APP_HOST=${address.host}: not an address of this machine; use 127.0.0.1, ::1 or 0.0.0.0`;
  }
  return null;
}

/** Checks `config` against the process's permissions and the machine. Returns the first problem as one line, or null. */
export function preflight(config: Config, options: PreflightOptions = {}): string | null {
  const {
    query = (descriptor) => Deno.permissions.querySync(descriptor).state,
    stat = Deno.statSync,
    probeListen = denoProbe,
  } = options;
  const granted = (descriptor: Deno.PermissionDescriptor) => query(descriptor) === "granted";

  // 1. Before anything exists: a bootstrap password the policy refuses would otherwise surface only after
  //    the database file was created and migrated.
  if (config.adminPassword !== null) {
    const problem = passwordProblem(config.adminPassword, config.adminUsername ?? "");
    if (problem) return `APP_ADMIN_PASSWORD: ${problem} (the password policy is in SECURITY.md)`;
  }

  // 2. Files: the database (and its -wal/-shm beside it), the log file, the TLS files.
  if (config.dbPath !== ":memory:") {
    // Relative paths are resolved by Deno against the working directory, as the database open will be.
    const folder = dirname(config.dbPath);
    if (!granted({ name: "write", path: folder }) || !granted({ name: "read", path: folder })) {
      return `APP_DB=${config.dbPath}: the server may only read and write under data/; keep the database there ` +
        `(e.g. data/app.db) or add its folder to ${SERVER_SET}.read and .write in deno.json`;
    }
  }
  if (config.logFile !== null && !granted({ name: "write", path: config.logFile })) {
    return `APP_LOG_FILE=${config.logFile}: the server may only write under data/; put the log there ` +
      `or add its folder to ${SERVER_SET}.write in deno.json`;
  }
  for (const [name, path] of [["APP_TLS_CERT", config.tlsCertFile], ["APP_TLS_KEY", config.tlsKeyFile]] as const) {
    if (path === null) continue;
    if (!granted({ name: "read", path })) {
      return `${name}=${path}: outside the folders the server may read; put it under certs/ ` +
        `or add its folder to ${SERVER_SET}.read in deno.json`;
    }
    try {
      if (!stat(path).isFile) return `${name}=${path}: not a file`;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return `${name}=${path}: no such file`;
      return `${name}=${path}: cannot be read (${(error as Error).message})`;
    }
  }

  // 3. The listen addresses: each allowed by the set, then each free.
  const addresses = listenAddresses(config);
  for (const address of addresses) {
    if (!granted({ name: "net", host: netEntry(address.host, address.port) })) return netNotAllowed(address);
  }
  for (const address of addresses) {
    try {
      probeListen(address.host, address.port);
    } catch (error) {
      const line = describeListenError(error, address);
      if (line) return line;
      throw error;
    }
  }
  return null;
}
