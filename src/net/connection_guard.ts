/**
 * The connection guard, seen from the main thread: starts the guard Worker
 * (`guard/guard_worker.ts`) on the public port and tells the request handler
 * who each relayed connection really comes from.
 *
 * Why a guard at all: `Deno.serve` 2.9.6 has no idle, handshake or header
 * timeout and no connection cap (a `keepAliveTimeout` option is proposed in
 * denoland/deno#34172, not released), and it stops listening for good when
 * `accept()` fails with EMFILE. The guard owns the accept loop and bounds
 * all of that; the HTTPS server listens on a loopback port behind it and
 * still terminates TLS itself, so the certificate, ALPN (HTTP/2) and TLS
 * versions are exactly those of the server. See SECURITY.md for the
 * measured cost and the alternative (HAProxy, `deploy/haproxy.cfg`).
 */
import type { CIDR } from "./ip.ts";
import { formatIP } from "./ip.ts";
import type { GuardEvent } from "./guard/accept_loop.ts";
import type { GuardCommand, GuardReply } from "./guard/guard_worker.ts";
import { createPeerTableBuffer, peerTableReader } from "./guard/peer_table.ts";
import type { Deadlines } from "./guard/relay.ts";

/** The loopback address the guard connects from (and the only peer the server accepts relayed requests from). */
export const GUARD_SOURCE_ADDRESS = "127.0.0.1";

/** Options for {@link startConnectionGuard}. */
export interface ConnectionGuardOptions {
  /** The public address. */
  hostname: string;
  port: number;
  /** The loopback port of the HTTPS server behind the guard. */
  backendPort: number;
  limits: { maxTotal: number; maxPerClient: number };
  deadlines: Deadlines;
  /** Exempt from the per-client cap (`APP_TRUST_PROXY`). */
  trustedProxies: readonly CIDR[];
  /** Refusals, accept failures and recoveries, already throttled by the guard. */
  onEvent: (event: GuardEvent) => void;
  /** The guard thread failed: the public port is no longer served. */
  onFatal: (error: unknown) => void;
  /** How long to wait for the guard to listen. Default 30 s. */
  startTimeoutMs?: number;
}

/** A running guard. */
export interface ConnectionGuard {
  /** The public address it listens on. */
  readonly addr: Deno.NetAddr;
  /**
   * The handler info as the application must see it: the relayed client as
   * `remoteAddr`. Null when the request did not come through the guard (a
   * local process connecting to the loopback port directly): refuse it.
   */
  clientInfo(info: Deno.ServeHandlerInfo<Deno.NetAddr>): Deno.ServeHandlerInfo<Deno.NetAddr> | null;
  /** Stops accepting (new connections are refused); relayed connections go on. */
  stopAccepting(): Promise<void>;
  /**
   * Waits (at most `timeoutMs`) until every relayed connection has ended:
   * call it after the server behind has shut down, so the last bytes of its
   * responses reach the clients before {@link ConnectionGuard.terminate}.
   * Resolves with the number still open at the deadline.
   */
  drain(timeoutMs: number): Promise<number>;
  /** Ends the guard thread and every connection it relays. */
  terminate(): void;
}

function cidrText(cidr: CIDR): string {
  return `${formatIP({ version: cidr.version, bytes: cidr.bytes })}/${cidr.prefix}`;
}

/**
 * The error for a listener the guard's thread could not open: the same
 * `Deno.errors` class the bind threw there (`AddrInUse`, `NotCapable` …), so
 * callers tell a taken or forbidden port from a bug as they would for a
 * listener of their own; a plain `Error` for anything else.
 */
function listenFailure(kind: string, message: string): Error {
  const known = (Deno.errors as unknown as Record<string, (new (message: string) => Error) | undefined>)[kind];
  return known ? new known(message) : new Error(message);
}

/** Starts the guard and resolves once it listens; rejects when it cannot (see {@link listenFailure}). */
export async function startConnectionGuard(options: ConnectionGuardOptions): Promise<ConnectionGuard> {
  const { onEvent, onFatal, startTimeoutMs = 30_000 } = options;
  const peerTable = createPeerTableBuffer();
  const peers = peerTableReader(peerTable);
  const worker = new Worker(new URL("./guard/guard_worker.ts", import.meta.url), {
    type: "module",
    name: "connection-guard",
  });
  const send = (command: GuardCommand) => worker.postMessage(command);
  const listening = Promise.withResolvers<Deno.NetAddr>();
  let stopped: PromiseWithResolvers<void> | null = null;
  let drained: PromiseWithResolvers<number> | null = null;
  let started = false;
  worker.onmessage = (event: MessageEvent<GuardReply>) => {
    const reply = event.data;
    if (reply.type === "listening") {
      started = true;
      listening.resolve({ transport: "tcp", hostname: reply.hostname, port: reply.port });
    } else if (reply.type === "listen-failed") {
      listening.reject(listenFailure(reply.kind, `the connection guard could not listen: ${reply.error}`));
    } else if (reply.type === "event") {
      onEvent(reply.event);
    } else if (reply.type === "stopped") {
      stopped?.resolve();
    } else if (reply.type === "drained") {
      drained?.resolve(reply.open);
    }
  };
  worker.onerror = (event) => {
    event.preventDefault();
    const error = event.error ?? new Error(event.message);
    if (started) onFatal(error);
    else listening.reject(error);
  };
  send({
    type: "start",
    hostname: options.hostname,
    port: options.port,
    backendPort: options.backendPort,
    limits: options.limits,
    deadlines: options.deadlines,
    trustedProxies: options.trustedProxies.map(cidrText),
    peerTable,
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("the connection guard did not start in time")), startTimeoutMs);
  });
  let addr: Deno.NetAddr;
  try {
    addr = await Promise.race([listening.promise, timeout]);
  } catch (error) {
    worker.terminate();
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return {
    addr,
    clientInfo(info) {
      const { hostname, port } = info.remoteAddr;
      if (hostname !== GUARD_SOURCE_ADDRESS) return null;
      const remoteAddr = peers.get(port);
      if (remoteAddr === null) return null;
      return {
        remoteAddr,
        get completed() {
          return info.completed;
        },
      };
    },
    stopAccepting() {
      stopped ??= Promise.withResolvers<void>();
      send({ type: "stop" });
      return stopped.promise;
    },
    drain(timeoutMs) {
      drained ??= Promise.withResolvers<number>();
      send({ type: "drain", timeoutMs });
      return drained.promise;
    },
    terminate() {
      worker.terminate();
    },
  };
}
