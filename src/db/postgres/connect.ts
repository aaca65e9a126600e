/**
 * A PostgreSQL connection pool through `npm:postgres` (see docs/postgres.md
 * for why this client), configured so that nothing but the validated URL and
 * these options decides how it connects:
 *
 * - Every option the client would otherwise take from a `PG*` environment
 *   variable is passed explicitly, so the environment cannot change the pool
 *   (it still reads `PGAPPNAME`; the permission set ignores `PG*`).
 * - TLS verification is done here, not left to defaults: the client leaves
 *   the TLS server name empty for an IP address, and the runtime then checks
 *   the certificate against `localhost` — so `verify-full` passes the URL's
 *   host to the check explicitly.
 * - `int8` (ids, `count(*)`, millisecond times) arrives as a JavaScript
 *   number like SQLite's INTEGER, and a value beyond 2^53 fails the query
 *   instead of being silently rounded.
 * - Failures to connect become one line naming `host:port` and what to fix
 *   ({@link PostgresConnectError}), never the password.
 */
import { checkServerIdentity, type PeerCertificate } from "node:tls";
import postgres from "postgres";
import type { DatabaseUrl } from "./url.ts";

/** Options for {@link postgresOptions} and {@link connectPostgres}. */
export interface PostgresPoolOptions {
  /** Connections in the pool. Default 10. */
  max?: number;
  /** `statement_timeout` of every session, in ms; 0 for none (migrations). Default 5000. */
  statementTimeoutMs?: number;
  /** `lock_timeout`, in ms: a statement waiting longer for a row or table lock fails. Default 5000. */
  lockTimeoutMs?: number;
  /** `idle_in_transaction_session_timeout`, in ms: frees locks held by a stuck transaction. Default 15000. */
  idleInTransactionTimeoutMs?: number;
  /** Seconds to wait for a connection (TCP, TLS and login). Default 10. */
  connectTimeoutSeconds?: number;
  /** Seconds an unused connection stays open. Default 60. */
  idleTimeoutSeconds?: number;
  /** `application_name` shown in `pg_stat_activity`. Default `secure-api`. */
  applicationName?: string;
  /** Receives server notices (the client's default prints them to the console). Default: dropped. */
  onNotice?: (notice: postgres.Notice) => void;
}

/** Thrown when the pool cannot connect; the message is one line for the operator. */
export class PostgresConnectError extends Error {
  override name = "PostgresConnectError";
  /** What went wrong, for callers that react differently (retry on `unreachable`, stop on `credentials`). */
  readonly kind: "unreachable" | "credentials" | "database" | "tls" | "refused" | "sandbox";

  constructor(kind: PostgresConnectError["kind"], message: string, options?: ErrorOptions) {
    super(message, options);
    this.kind = kind;
  }
}

/** `int8` as a number, refusing what a number cannot hold exactly. */
function parseInt8(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new RangeError(`int8 value ${text} is beyond 2^53 and cannot be a number`);
  return value;
}

/** Reconnect delay after a failed connection attempt, in seconds: 0.1, 0.2, 0.4 … at most 5. */
function backoff(attempt: number): number {
  return Math.min(0.1 * 2 ** attempt, 5);
}

async function tlsOptions(url: DatabaseUrl): Promise<false | "require" | Record<string, unknown>> {
  if (url.sslmode === "disable") return false;
  // Encrypted, not authenticated: the caller was told by the URL parser's docs.
  if (url.sslmode === "require") return "require";
  let ca = {};
  if (url.sslrootcert !== "system") {
    try {
      ca = { ca: await Deno.readTextFile(url.sslrootcert!) };
    } catch (error) {
      throw new PostgresConnectError(
        "tls",
        `sslrootcert ${url.sslrootcert} cannot be read: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }
  return {
    ...ca,
    rejectUnauthorized: true,
    // verify-ca: the chain must lead to the CA; any name in the certificate will do.
    // verify-full: the certificate must also name the URL's host (RFC 6125), checked here
    // because the client would check an IP address host against "localhost".
    checkServerIdentity: url.sslmode === "verify-full"
      ? (_name: string, cert: PeerCertificate) => checkServerIdentity(url.host, cert)
      : () => undefined,
  };
}

/**
 * The client options for `url`: everything explicit. Reads the `sslrootcert`
 * file, so the process needs read access to it.
 */
export async function postgresOptions(
  url: DatabaseUrl,
  options: PostgresPoolOptions = {},
): Promise<postgres.Options<Record<string, postgres.PostgresType>>> {
  const {
    max = 10,
    statementTimeoutMs = 5_000,
    lockTimeoutMs = 5_000,
    idleInTransactionTimeoutMs = 15_000,
    connectTimeoutSeconds = 10,
    idleTimeoutSeconds = 60,
    applicationName = "secure-api",
    onNotice = () => {},
  } = options;
  return {
    host: url.host,
    port: url.port,
    user: url.user,
    pass: url.password,
    database: url.database,
    ssl: await tlsOptions(url),
    // Each of these would otherwise come from PG<NAME> when set (the client's parseOptions).
    sslnegotiation: null,
    max,
    idle_timeout: idleTimeoutSeconds,
    connect_timeout: connectTimeoutSeconds,
    max_lifetime: 30 * 60,
    max_pipeline: 100,
    backoff,
    keep_alive: 60,
    prepare: true,
    debug: false,
    fetch_types: true,
    publications: "alltables",
    // The application writes: a read-only standby is refused at connect. Given
    // explicitly, this also keeps PGTARGETSESSIONATTRS from being read.
    target_session_attrs: "read-write",
    types: { int8: { to: 20, from: [20], serialize: (value: number) => String(value), parse: parseInt8 } },
    onnotice: onNotice,
    connection: {
      application_name: applicationName,
      statement_timeout: statementTimeoutMs,
      lock_timeout: lockTimeoutMs,
      idle_in_transaction_session_timeout: idleInTransactionTimeoutMs,
    },
  } as postgres.Options<Record<string, postgres.PostgresType>>;
}

const TLS_REASONS: Record<string, string> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "the server certificate is not signed by the CA in sslrootcert",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "the server certificate is not signed by the CA in sslrootcert",
  SELF_SIGNED_CERT_IN_CHAIN: "the server certificate is not signed by the CA in sslrootcert",
  DEPTH_ZERO_SELF_SIGNED_CERT: "the server certificate is self-signed",
  CERT_HAS_EXPIRED: "the server certificate has expired",
  CERT_NOT_YET_VALID: "the server certificate is not yet valid",
  ERR_TLS_CERT_ALTNAME_INVALID: "the server certificate does not name this host",
};

const UNREACHABLE: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ENOTFOUND: "host name not found",
  EAI_AGAIN: "host name lookup failed",
  ETIMEDOUT: "timed out",
  CONNECT_TIMEOUT: "timed out",
  CONNECTION_CLOSED: "the server closed the connection",
  CONNECTION_ENDED: "the server closed the connection",
  CONNECTION_DESTROYED: "the connection was dropped",
};

/**
 * Turns whatever connecting threw into one line for the operator: where
 * (`host:port`), what, and which setting to look at. The password never
 * appears, even if a lower layer put it in a message.
 */
export function describeConnectError(error: unknown, url: DatabaseUrl): PostgresConnectError {
  const e = (error ?? {}) as { code?: unknown; message?: unknown; database?: unknown };
  const code = typeof e.code === "string" ? e.code : "";
  const where = `PostgreSQL at ${url.address}`;
  const scrub = (text: string) => text.split(url.password).join("***").split("\n")[0]!;
  const make = (kind: PostgresConnectError["kind"], message: string) =>
    new PostgresConnectError(kind, scrub(message), { cause: error });

  if (error instanceof postgres.PostgresError) {
    if (code === "28P01") {
      return make("credentials", `${where} refused user "${url.user}": wrong password or no such role`);
    }
    if (code === "28000") return make("credentials", `${where} refused user "${url.user}": ${error.message}`);
    if (code === "3D000") return make("database", `${where} has no database "${url.database}"`);
    if (code === "42501") return make("refused", `${where} refused user "${url.user}": ${error.message}`);
    if (code === "53300") return make("refused", `${where} has no free connection slot (max_connections)`);
    if (code === "57P03") return make("unreachable", `${where} is starting up or shutting down`);
    return make("refused", `${where} refused the connection: ${code} ${error.message}`);
  }
  if (TLS_REASONS[code]) {
    return make("tls", `TLS to ${where} failed: ${TLS_REASONS[code]} (sslmode=${url.sslmode})`);
  }
  if (UNREACHABLE[code]) return make("unreachable", `${where} is unreachable: ${UNREACHABLE[code]}`);
  // Deno's sandbox: the node:net/node:dns layer reports a refused net permission as EPERM.
  if (code === "EPERM" || error instanceof Deno.errors.NotCapable) {
    return make("sandbox", `${where}: the permission set does not grant net access to ${url.address}`);
  }
  if (code === "SASL_SIGNATURE_MISMATCH") {
    return make("credentials", `${where} failed SCRAM server authentication: the server is not who it claims`);
  }
  const message = typeof e.message === "string" ? e.message : String(error);
  if (/certificate|tls|ssl/i.test(message)) {
    return make("tls", `TLS to ${where} failed: ${message} (sslmode=${url.sslmode})`);
  }
  return make("unreachable", `${where} could not be reached: ${code ? `${code} ` : ""}${message}`);
}

/**
 * Opens a pool for `url` and proves it works with one round trip, so a bad
 * host, password, database or certificate stops the start with one line
 * instead of failing the first request. The pool is closed again on failure.
 */
export async function connectPostgres(url: DatabaseUrl, options: PostgresPoolOptions = {}): Promise<postgres.Sql> {
  const sql = postgres(await postgresOptions(url, options));
  try {
    await sql`SELECT 1`;
    return sql;
  } catch (error) {
    await sql.end({ timeout: 0 }).catch(() => {});
    throw describeConnectError(error, url);
  }
}
