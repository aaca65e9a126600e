/**
 * `serveHTTPS()`: how `main.ts` puts the application on the network.
 *
 * 1. Checks that the process can open the descriptors its connection caps
 *    need ({@link planConnections}); production refuses to start when not.
 * 2. With the connection guard on (the default): the HTTPS server listens on
 *    `127.0.0.1:APP_CONNECTION_GUARD_PORT` and the guard on the public
 *    address, relaying each admitted connection to it, with per-client and
 *    total caps and handshake, request and idle deadlines. The handler sees
 *    the real client as `remoteAddr`; a request that did not come through
 *    the guard is refused (403).
 * 3. With it off (behind a proxy that bounds connections, see
 *    `deploy/haproxy.cfg`): the HTTPS server listens on the public address.
 *
 * Either way the server listens again when its listener dies
 * ({@link serveResiliently}); descriptor exhaustion is logged and audited,
 * never a crash.
 */
import type { Logger } from "@logtape/logtape";
import type { AuditLog } from "../audit/audit_log.ts";
import { type Config, ConfigError } from "../config.ts";
import { ApiError } from "../errors.ts";
import { problemResponse } from "../middleware/error_handler.ts";
import { connectionEvents } from "./connection_events.ts";
import { type ConnectionGuard, startConnectionGuard } from "../net/connection_guard.ts";
import {
  type ConnectionPlan,
  type DescriptorProbe,
  fileDescriptorProbe,
  planConnections,
} from "../net/descriptor_budget.ts";
import { serveResiliently } from "../net/resilient_server.ts";
import type { ListenAddress } from "../startup/preflight.ts";

/** How long the guard may take, after the server has shut down, to pass on the last bytes of its responses. */
const DRAIN_TIMEOUT_MS = 2_000;

/** A request handler, as `Deno.serve` calls it. */
export type Handler = (request: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>) => Response | Promise<Response>;

/** Options for {@link serveHTTPS}. */
export interface ServeHTTPSOptions {
  config: Pick<
    Config,
    | "env"
    | "host"
    | "port"
    | "trustProxy"
    | "connectionGuard"
    | "connectionGuardPort"
    | "maxConnections"
    | "maxConnectionsPerClient"
    | "handshakeTimeoutMs"
    | "idleTimeoutMs"
    | "requestTimeoutMs"
  >;
  /** PEM certificate chain and key. */
  cert: string;
  key: string;
  /** A file the sandbox lets the process read (the certificate): the descriptor check opens it. */
  probePath: string;
  handler: Handler;
  /** Called when the handler throws (`Deno.serve`'s `onError`). */
  onError: (error: unknown) => Response | Promise<Response>;
  log: Pick<Logger, "info" | "warning" | "error">;
  audit: Pick<AuditLog, "append">;
  /** The guard thread died: the caller should treat it as a crash. */
  onFatal: (error: unknown) => void;
  /** Replaces the descriptor check (tests). */
  probe?: DescriptorProbe;
}

/**
 * Binding one of the server's addresses failed: `address` says which (and
 * the variable that sets it), `cause` is what the bind threw (`AddrInUse`,
 * `NotCapable` … — `describeListenError` in `src/startup/preflight.ts` turns
 * it into one line).
 */
export class ListenError extends Error {
  override name = "ListenError";
  constructor(readonly address: ListenAddress, cause: unknown) {
    super(`cannot listen on ${address.host}:${address.port} (${address.variable})`, { cause });
  }
}

/** Runs `bind`, wrapping what it throws in a {@link ListenError} for `address`. */
async function binding<T>(address: ListenAddress, bind: () => T | Promise<T>): Promise<T> {
  try {
    return await bind();
  } catch (error) {
    throw new ListenError(address, error);
  }
}

/** The server, listening. */
export interface HTTPSService {
  /** `https://host:port` of the public address. */
  readonly url: string;
  /** The descriptor check's outcome and the total cap in force. */
  readonly plan: ConnectionPlan;
  /** Stops accepting, lets in-flight requests finish, then closes every connection. */
  shutdown(): Promise<void>;
}

function urlOf(addr: Deno.NetAddr): string {
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  return `https://${host}:${addr.port}`;
}

/**
 * Listens and resolves once the public address accepts connections. Throws
 * a {@link ConfigError} when the descriptor check refuses the start, and a
 * {@link ListenError} naming the address when a bind fails.
 */
export async function serveHTTPS(options: ServeHTTPSOptions): Promise<HTTPSService> {
  const { config, cert, key, handler, onError, log, audit, onFatal } = options;
  const connections = {
    guard: config.connectionGuard,
    guardPort: config.connectionGuardPort,
    maxConnections: config.maxConnections,
    maxConnectionsPerClient: config.maxConnectionsPerClient,
    handshakeTimeoutMs: config.handshakeTimeoutMs,
    idleTimeoutMs: config.idleTimeoutMs,
    requestTimeoutMs: config.requestTimeoutMs,
  };
  const plan = planConnections({
    guard: connections.guard,
    configuredMax: connections.maxConnections,
    production: config.env === "production",
    probe: options.probe ?? fileDescriptorProbe(options.probePath),
  });
  if (plan.error !== null) throw new ConfigError(plan.error);
  for (const warning of plan.warnings) log.warning("{warning}", { warning });
  const events = connectionEvents({ log, audit });

  const serve = (where: string, hostname: string, port: number, serveHandler: Handler) =>
    serveResiliently({
      listen: () => Deno.serve({ hostname, port, cert, key, onListen: () => {}, onError }, serveHandler),
      onFailure: (error) => events.listenerFailed(where, error),
      onRecovered: (failures, ms) => events.listenerRecovered(where, failures, ms),
    });

  const publicAddress: ListenAddress = { variable: "APP_PORT", host: config.host, port: config.port };
  if (!connections.guard) {
    const server = await binding(publicAddress, () => serve("public", config.host, config.port, handler));
    log.info("connection guard off: connections are bounded by the proxy in front ({available} descriptors free)", {
      available: plan.available,
    });
    return { url: urlOf(server.addr), plan, shutdown: () => server.shutdown() };
  }

  let guard: ConnectionGuard | null = null;
  const refuse = (request: Request) =>
    problemResponse(
      new ApiError("forbidden", "Connect through the service's public address."),
      new URL(request.url).pathname,
      crypto.randomUUID(),
    );
  const behindGuard: ListenAddress = {
    variable: "APP_CONNECTION_GUARD_PORT",
    host: "127.0.0.1",
    port: connections.guardPort,
  };
  const server = await binding(
    behindGuard,
    () =>
      serve("behind-guard", "127.0.0.1", connections.guardPort, (request, info) => {
        const relayed = guard?.clientInfo(info) ?? null;
        return relayed === null ? refuse(request) : handler(request, relayed);
      }),
  );
  try {
    guard = await binding(publicAddress, () =>
      startConnectionGuard({
        hostname: config.host,
        port: config.port,
        backendPort: connections.guardPort,
        limits: { maxTotal: plan.maxTotal, maxPerClient: connections.maxConnectionsPerClient },
        deadlines: {
          handshakeMs: connections.handshakeTimeoutMs,
          idleMs: connections.idleTimeoutMs,
          requestMs: connections.requestTimeoutMs,
        },
        trustedProxies: config.trustProxy,
        onEvent: (event) => events.guard(event),
        onFatal,
      }));
  } catch (error) {
    await server.shutdown();
    throw error;
  }
  log.info(
    "connection guard on: at most {maxTotal} connections, {maxPerClient} per client; handshake {handshakeMs} ms, request {requestMs} ms, idle {idleMs} ms",
    {
      maxTotal: plan.maxTotal,
      maxPerClient: connections.maxConnectionsPerClient,
      handshakeMs: connections.handshakeTimeoutMs,
      requestMs: connections.requestTimeoutMs,
      idleMs: connections.idleTimeoutMs,
    },
  );
  const running = guard;
  return {
    url: urlOf(running.addr),
    plan,
    async shutdown() {
      await running.stopAccepting();
      await server.shutdown();
      // Terminating the guard at once could cut a response the server has written but the relay not yet passed on.
      const left = await running.drain(DRAIN_TIMEOUT_MS);
      if (left > 0) log.warning("{left} relayed connections still open at shutdown; closing them", { left });
      running.terminate();
    },
  };
}
