/**
 * `APP_DATABASE_URL` and `APP_DATABASE_OWNER_URL`: parsed and checked once,
 * strictly, before anything connects. A setting the client would silently
 * ignore or downgrade (a misspelt `sslmode`, `sslmode=prefer`, a parameter we
 * do not pass on) is refused with one line naming the variable — never the
 * URL itself, which holds a password.
 *
 * TLS follows libpq's `sslmode` words (PostgreSQL docs, "SSL Support"), minus
 * the two that fall back to plain text without telling anyone (`allow`,
 * `prefer`). Without `sslmode`, a loopback host means `disable`; any other
 * host must say what it wants, so a password never crosses a network in the
 * clear by default (ASVS 5.0 12.3.1, 12.3.3).
 */

/** libpq's TLS modes that this project accepts. */
export type SSLMode = "disable" | "require" | "verify-ca" | "verify-full";

/** A validated PostgreSQL URL. `password` is here for the client only: log {@link DatabaseUrl.redacted}. */
export interface DatabaseUrl {
  /** Host name or IP address (IPv6 without brackets). */
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  readonly sslmode: SSLMode;
  /**
   * For `verify-ca`/`verify-full`: the CA file (PEM) that must have signed the
   * server certificate, or `"system"` for the runtime's trust store.
   */
  readonly sslrootcert: string | null;
  /** The URL without its password, for logs and error messages. */
  readonly redacted: string;
  /** `host:port` as an error message names it (`[::1]:5432` for IPv6). */
  readonly address: string;
}

/** Thrown for a URL that cannot be used; the message is one line and never contains the URL's password. */
export class DatabaseUrlError extends Error {
  override name = "DatabaseUrlError";
}

const SSL_MODES: readonly string[] = ["disable", "require", "verify-ca", "verify-full"];
const PARAMETERS: readonly string[] = ["sslmode", "sslrootcert"];

/** True for `localhost`, 127.0.0.0/8 and `::1`: traffic that never leaves the machine. */
export function isLoopbackHost(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

function decode(part: string, what: string, variable: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new DatabaseUrlError(`${variable}: the ${what} is not valid percent-encoding`);
  }
}

/**
 * Parses `postgres://user:password@host:port/database?sslmode=…&sslrootcert=…`.
 * `variable` names the setting in error messages.
 */
export function parseDatabaseUrl(text: string, variable = "APP_DATABASE_URL"): DatabaseUrl {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new DatabaseUrlError(`${variable} is not a URL (expected postgres://user:password@host:port/database)`);
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
    throw new DatabaseUrlError(`${variable} must start with postgres:// (not ${url.protocol}//)`);
  }
  // Opaque hosts of non-special schemes are not lower-cased by URL; DNS names are case-insensitive.
  const bracketed = url.hostname.toLowerCase();
  const host = bracketed.startsWith("[") ? bracketed.slice(1, -1) : bracketed;
  if (!host) throw new DatabaseUrlError(`${variable} has no host`);
  if (host.includes(",") || host.includes("%")) {
    throw new DatabaseUrlError(`${variable}: one host only, by name or address`);
  }
  const port = url.port === "" ? 5432 : Number(url.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new DatabaseUrlError(`${variable} has a bad port`);
  const user = decode(url.username, "user name", variable);
  if (!user) throw new DatabaseUrlError(`${variable} has no user name`);
  const password = decode(url.password, "password", variable);
  if (!password) {
    throw new DatabaseUrlError(`${variable} has no password (PG* variables and ~/.pgpass are not read)`);
  }
  const path = url.pathname.replace(/^\//, "");
  const database = decode(path, "database name", variable);
  if (!database || path.includes("/")) throw new DatabaseUrlError(`${variable} must name one database: /name`);
  if (url.hash) throw new DatabaseUrlError(`${variable} must not have a #fragment`);

  const seen = new Set<string>();
  for (const key of url.searchParams.keys()) {
    if (!PARAMETERS.includes(key)) {
      throw new DatabaseUrlError(`${variable}: parameter ${key} is not supported (only ${PARAMETERS.join(", ")})`);
    }
    if (seen.has(key)) throw new DatabaseUrlError(`${variable}: parameter ${key} is given twice`);
    seen.add(key);
  }
  const given = url.searchParams.get("sslmode");
  if (given === "allow" || given === "prefer") {
    throw new DatabaseUrlError(
      `${variable}: sslmode=${given} falls back to plain text silently; use require, verify-ca or verify-full`,
    );
  }
  if (given !== null && !SSL_MODES.includes(given)) {
    throw new DatabaseUrlError(`${variable}: sslmode must be one of ${SSL_MODES.join(", ")}`);
  }
  if (given === null && !isLoopbackHost(host)) {
    throw new DatabaseUrlError(
      `${variable}: set sslmode for a non-loopback host (verify-full with sslrootcert, or disable on a trusted network)`,
    );
  }
  const sslmode = (given ?? "disable") as SSLMode;
  const sslrootcert = url.searchParams.get("sslrootcert");
  const verifies = sslmode === "verify-ca" || sslmode === "verify-full";
  if (verifies && !sslrootcert) {
    throw new DatabaseUrlError(
      `${variable}: sslmode=${sslmode} needs sslrootcert (the CA file, or "system" for the trust store)`,
    );
  }
  if (!verifies && sslrootcert !== null) {
    throw new DatabaseUrlError(`${variable}: sslrootcert is used only with sslmode=verify-ca or verify-full`);
  }
  if (sslrootcert === "system" && sslmode !== "verify-full") {
    // libpq refuses this too: a public CA signs certificates for anyone's host name.
    throw new DatabaseUrlError(`${variable}: sslrootcert=system needs sslmode=verify-full`);
  }

  const address = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
  const redacted = new URL(`postgres://${address}/`);
  redacted.username = url.username;
  redacted.pathname = `/${path}`;
  if (given !== null) redacted.searchParams.set("sslmode", given);
  if (sslrootcert !== null) redacted.searchParams.set("sslrootcert", sslrootcert);
  return { host, port, user, password, database, sslmode, sslrootcert, redacted: redacted.href, address };
}

/** Both URLs of a PostgreSQL deployment, checked together. */
export interface PostgresUrls {
  /** `APP_DATABASE_URL`: the role the application runs as. */
  readonly app: DatabaseUrl;
  /** `APP_DATABASE_OWNER_URL`: the role migrations run as; null when not set (they then run as `app`). */
  readonly owner: DatabaseUrl | null;
}

/**
 * Reads both variables from `env` (a plain record: parsing stays pure).
 * Returns null when `APP_DATABASE_URL` is unset (SQLite is used). The owner
 * URL must reach the same server and database as the application URL:
 * migrating one database and serving another is refused, not discovered later.
 */
export function parsePostgresUrls(env: Readonly<Record<string, string | undefined>>): PostgresUrls | null {
  const appText = env.APP_DATABASE_URL?.trim();
  const ownerText = env.APP_DATABASE_OWNER_URL?.trim();
  if (!appText) {
    if (ownerText) throw new DatabaseUrlError("APP_DATABASE_OWNER_URL is set but APP_DATABASE_URL is not");
    return null;
  }
  const app = parseDatabaseUrl(appText, "APP_DATABASE_URL");
  if (!ownerText) return { app, owner: null };
  const owner = parseDatabaseUrl(ownerText, "APP_DATABASE_OWNER_URL");
  if (owner.host !== app.host || owner.port !== app.port || owner.database !== app.database) {
    throw new DatabaseUrlError(
      `APP_DATABASE_OWNER_URL must name the same host, port and database as APP_DATABASE_URL (${app.address}/${app.database})`,
    );
  }
  return { app, owner };
}
