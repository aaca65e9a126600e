/**
 * The `APP_*` variables of the connection guard, as a schema fragment that
 * `src/config.ts` merges into its own, so the settings live beside the code
 * that uses them and the shared configuration file changes in one block.
 */
import { z } from "zod";

/** The connection settings. Every field documents its variable and default. */
export interface ConnectionConfig {
  /** `APP_CONNECTION_GUARD`: `on` (default) or `off` — off only behind a proxy that bounds connections. */
  readonly guard: boolean;
  /** `APP_CONNECTION_GUARD_PORT` (default 8444): loopback port of the HTTPS server behind the guard. */
  readonly guardPort: number;
  /** `APP_MAX_CONNECTIONS`: connections held at once; null means the default, 1024, checked against the descriptor limit. */
  readonly maxConnections: number | null;
  /** `APP_MAX_CONNECTIONS_PER_CLIENT` (default 64): per IPv4 address or IPv6 /64; trusted proxies are exempt. */
  readonly maxConnectionsPerClient: number;
  /** `APP_HANDSHAKE_TIMEOUT_MS` (default 10000): from connect until the TLS handshake is over. */
  readonly handshakeTimeoutMs: number;
  /** `APP_IDLE_TIMEOUT_MS` (default 30000): a connection with nothing in flight and no byte either way. */
  readonly idleTimeoutMs: number;
  /** `APP_REQUEST_TIMEOUT_MS` (default 30000): client bytes (headers, body) the server has not answered. */
  readonly requestTimeoutMs: number;
}

/** The variables this fragment reads. */
export const CONNECTION_VARIABLES = [
  "APP_CONNECTION_GUARD",
  "APP_CONNECTION_GUARD_PORT",
  "APP_MAX_CONNECTIONS",
  "APP_MAX_CONNECTIONS_PER_CLIENT",
  "APP_HANDSHAKE_TIMEOUT_MS",
  "APP_IDLE_TIMEOUT_MS",
  "APP_REQUEST_TIMEOUT_MS",
] as const;

function whole(min: number, max: number) {
  return z.string().trim().regex(/^[0-9]+$/, "must be a whole number").transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));
}

/** The zod fields, keyed by variable; merge them into the configuration schema. */
export const connectionSchema = {
  APP_CONNECTION_GUARD: z.enum(["on", "off"]).default("on"),
  APP_CONNECTION_GUARD_PORT: whole(1, 65535).default(8444),
  APP_MAX_CONNECTIONS: whole(1, 1_000_000).optional(),
  APP_MAX_CONNECTIONS_PER_CLIENT: whole(1, 1_000_000).default(64),
  APP_HANDSHAKE_TIMEOUT_MS: whole(100, 600_000).default(10_000),
  APP_IDLE_TIMEOUT_MS: whole(100, 3_600_000).default(30_000),
  APP_REQUEST_TIMEOUT_MS: whole(100, 3_600_000).default(30_000),
};

type Parsed = z.infer<z.ZodObject<typeof connectionSchema>>;

/** What the connection settings are checked against. */
export interface ConnectionContext {
  /** `APP_PORT`. */
  publicPort: number;
  production: boolean;
  /** True when `APP_TRUST_PROXY` names a proxy. */
  proxied: boolean;
}

/**
 * Builds the {@link ConnectionConfig} from the parsed fields, or returns a
 * one-line problem (`VARIABLE: message`) for `src/config.ts` to raise.
 * Production refuses the guard off with no proxy trusted: that is
 * `Deno.serve` facing the network with nothing bounding its connections.
 */
export function connectionConfigOf(parsed: Parsed, context: ConnectionContext): ConnectionConfig | string {
  const guard = parsed.APP_CONNECTION_GUARD === "on";
  if (guard && parsed.APP_CONNECTION_GUARD_PORT === context.publicPort) {
    return "APP_CONNECTION_GUARD_PORT: must differ from APP_PORT (the guard listens there)";
  }
  if (!guard && context.production && !context.proxied) {
    return "APP_CONNECTION_GUARD: off in production only behind a proxy that bounds connections " +
      "(deploy/haproxy.cfg), named in APP_TRUST_PROXY";
  }
  return {
    guard,
    guardPort: parsed.APP_CONNECTION_GUARD_PORT,
    maxConnections: parsed.APP_MAX_CONNECTIONS ?? null,
    maxConnectionsPerClient: parsed.APP_MAX_CONNECTIONS_PER_CLIENT,
    handshakeTimeoutMs: parsed.APP_HANDSHAKE_TIMEOUT_MS,
    idleTimeoutMs: parsed.APP_IDLE_TIMEOUT_MS,
    requestTimeoutMs: parsed.APP_REQUEST_TIMEOUT_MS,
  };
}
