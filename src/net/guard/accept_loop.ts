/**
 * The guard's accept loop: it owns the public listener, admits or refuses
 * each connection, relays the admitted ones to the HTTPS server on loopback
 * and enforces their deadlines.
 *
 * Why the loop is ours: when `accept()` fails — above all with EMFILE, "too
 * many open files" — `Deno.serve` (2.9.6) ends its server for good, and the
 * process stops listening. This loop treats every accept failure as
 * transient: it reports the first failure of an episode, waits 5 ms, then
 * twice as long each time up to 1 s (as Go's net/http does), and accepts
 * again; the first success ends the episode. The total cap is chosen below
 * the descriptor limit, so with the defaults the loop refuses (accepts and
 * closes at once) long before the process runs out of descriptors.
 *
 * The real client is recorded in the peer table under the loopback source
 * port of the guard's connection to the server, before the first byte is
 * relayed. A port is not reused for another client for `quarantineMs` after
 * its connection ended, so a request the server reads late is never blamed
 * on the next client that happens to get the same port.
 */
import { type CIDR, cidrContains, clientKeyOf, formatIP, parseIP } from "../ip.ts";
import type { ConnectionCounter } from "./connection_limits.ts";
import type { PeerTableWriter } from "./peer_table.ts";
import { type CloseReason, type Deadlines, relay, type RelayedConnection, type Stream } from "./relay.ts";

/** A connection as the loop needs it. */
export type GuardConn = Stream & { readonly remoteAddr: Deno.Addr; readonly localAddr: Deno.Addr };

/** What the loop tells its owner; refusals and failed relays at most once per key and interval. */
export type GuardEvent =
  | { kind: "refused"; limit: "per-client" | "total"; client: string; max: number; refused: number }
  | { kind: "accept-failed"; error: string }
  | { kind: "accept-recovered"; failures: number; ms: number }
  | { kind: "connection-failed"; error: string; failures: number };

/** Options for {@link startAcceptLoop}. */
export interface AcceptLoopOptions {
  /** The public listener (plain TCP: TLS passes through to the server). */
  listener: { accept(): Promise<GuardConn>; close(): void };
  /** Opens a connection to the HTTPS server behind the guard. */
  connectBackend: () => Promise<GuardConn>;
  counter: ConnectionCounter;
  /** Caps, for the events only (the counter enforces them). */
  limits: { maxTotal: number; maxPerClient: number };
  peers: PeerTableWriter;
  deadlines: Deadlines;
  /** Peers exempt from the per-client cap (they carry many clients). Default none. */
  trustedProxies?: readonly CIDR[];
  report: (event: GuardEvent) => void;
  /** Monotonic milliseconds. Default `performance.now`. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** How long a loopback port is not reused after its connection ended. Default 10 s. */
  quarantineMs?: number;
  /** At most one refusal report per client and limit per this interval. Default 60 s. */
  reportIntervalMs?: number;
}

/** A running accept loop. */
export interface AcceptLoop {
  /** Applies every connection's deadlines and forgets ports past their quarantine. Call it on a timer. */
  sweep(): void;
  /** Closes the listener (new connections are refused); open ones go on. Resolves when the loop has ended. */
  stop(): Promise<void>;
  /** Closes every open connection now. */
  abortAll(): void;
  /** Connections being relayed. */
  readonly open: number;
  /** Counts since start, for tests and diagnostics. */
  readonly closed: Readonly<Record<CloseReason, number>>;
}

const PORTS = 65_536;
const MAX_BACKOFF_MS = 1_000;
/** Connects that may land on a quarantined port before one is used anyway (liveness over attribution). */
const MAX_CONNECT_ATTEMPTS = 8;
const MAX_REPORT_KEYS = 10_000;

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function parsePeer(hostname: string) {
  const bare = hostname.startsWith("[") ? hostname.slice(1, -1) : hostname;
  const zone = bare.indexOf("%");
  return parseIP(zone === -1 ? bare : bare.slice(0, zone));
}

/** Starts accepting on `options.listener`. */
export function startAcceptLoop(options: AcceptLoopOptions): AcceptLoop {
  const {
    listener,
    connectBackend,
    counter,
    limits,
    peers,
    deadlines,
    trustedProxies = [],
    report,
    now = () => performance.now(),
    sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
    quarantineMs = 10_000,
    reportIntervalMs = 60_000,
  } = options;
  const open = new Set<RelayedConnection>();
  const closed: Record<CloseReason, number> = {
    "handshake-timeout": 0,
    "idle-timeout": 0,
    "request-timeout": 0,
    "closed": 0,
    "error": 0,
    "aborted": 0,
  };
  const releasedAt = new Float64Array(PORTS).fill(-Infinity);
  const released: { port: number; at: number }[] = [];
  let releasedHead = 0;
  const lastReport = new Map<string, { at: number; refused: number }>();
  let stopped = false;

  /** True when this key should be reported now; otherwise counts the event for the next report. */
  const throttle = (key: string, at: number): number | null => {
    const entry = lastReport.get(key);
    if (entry && at - entry.at < reportIntervalMs) {
      entry.refused++;
      return null;
    }
    if (lastReport.size >= MAX_REPORT_KEYS) {
      for (const [k, v] of lastReport) if (at - v.at >= reportIntervalMs) lastReport.delete(k);
      if (lastReport.size >= MAX_REPORT_KEYS) lastReport.clear();
    }
    lastReport.set(key, { at, refused: 0 });
    return (entry?.refused ?? 0) + 1;
  };

  const closeQuietly = (stream: Stream) => {
    try {
      stream.close();
    } catch { /* already closed */ }
  };

  /** Connects to the server within the handshake deadline, avoiding quarantined source ports. */
  const connect = async (): Promise<GuardConn> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("connecting to the server timed out")), deadlines.handshakeMs);
    });
    try {
      for (let attempt = 1;; attempt++) {
        const attemptPromise = connectBackend();
        const backend = await Promise.race([attemptPromise, timeout]).catch((error) => {
          attemptPromise.then(closeQuietly, () => {});
          throw error;
        });
        const port = (backend.localAddr as Deno.NetAddr).port;
        if (now() - releasedAt[port]! >= quarantineMs || attempt >= MAX_CONNECT_ATTEMPTS) return backend;
        closeQuietly(backend);
      }
    } finally {
      clearTimeout(timer);
    }
  };

  /** Connects to the server, records the client under the source port, relays until both sides are closed. */
  const relayToBackend = async (client: GuardConn, address: string) => {
    const backend = await connect();
    const port = (backend.localAddr as Deno.NetAddr).port;
    try {
      peers.set(port, address, (client.remoteAddr as Deno.NetAddr).port);
    } catch (error) {
      closeQuietly(backend);
      throw error;
    }
    releasedAt[port] = -Infinity;
    for (const conn of [client, backend]) (conn as Partial<Deno.TcpConn>).setNoDelay?.(true);
    const relayed = relay(client, backend, { deadlines, now });
    open.add(relayed);
    const reason = await relayed.done;
    open.delete(relayed);
    closed[reason]++;
    const at = now();
    releasedAt[port] = at;
    released.push({ port, at });
  };

  let failedConnections = 0;
  /** Never throws: whatever fails, the client is closed and its slot returned. */
  const serve = async (client: GuardConn, address: string, key: string, exempt: boolean) => {
    try {
      await relayToBackend(client, address);
    } catch (error) {
      closeQuietly(client);
      failedConnections++;
      if (throttle("connection-failed", now()) !== null) {
        report({ kind: "connection-failed", error: describe(error), failures: failedConnections });
        failedConnections = 0;
      }
    } finally {
      counter.release(key, exempt);
    }
  };

  const admit = (client: GuardConn) => {
    const ip = parsePeer((client.remoteAddr as Deno.NetAddr).hostname ?? "");
    if (ip === null) {
      closeQuietly(client); // a peer that is not an IP address (never from TCP) cannot be attributed: refused
      return;
    }
    const address = formatIP(ip);
    const key = clientKeyOf(ip);
    const exempt = trustedProxies.some((cidr) => cidrContains(cidr, ip));
    const admission = counter.acquire(key, exempt);
    if (admission === "admitted") {
      void serve(client, address, key, exempt);
      return;
    }
    closeQuietly(client);
    const refused = throttle(`${admission}\n${admission === "total" ? "" : key}`, now());
    if (refused !== null) {
      const max = admission === "total" ? limits.maxTotal : limits.maxPerClient;
      report({ kind: "refused", limit: admission, client: address, max, refused });
    }
  };

  const loop = (async () => {
    let delay = 0;
    let failures = 0;
    let failingSince = 0;
    for (;;) {
      let client: GuardConn;
      try {
        client = await listener.accept();
      } catch (error) {
        if (stopped) return;
        if (failures++ === 0) {
          failingSince = now();
          report({ kind: "accept-failed", error: describe(error) });
        }
        delay = delay === 0 ? 5 : Math.min(delay * 2, MAX_BACKOFF_MS);
        await sleep(delay);
        continue;
      }
      if (stopped) {
        closeQuietly(client);
        return;
      }
      if (failures > 0) {
        report({ kind: "accept-recovered", failures, ms: Math.round(now() - failingSince) });
        failures = 0;
        delay = 0;
      }
      admit(client);
    }
  })();

  return {
    sweep() {
      const at = now();
      for (const relayed of open) relayed.check(at);
      while (releasedHead < released.length && at - released[releasedHead]!.at >= quarantineMs) {
        const { port, at: releasedTime } = released[releasedHead++]!;
        if (releasedAt[port] === releasedTime) peers.clear(port);
      }
      if (releasedHead > 1024 && releasedHead * 2 > released.length) {
        released.splice(0, releasedHead);
        releasedHead = 0;
      }
    },
    async stop() {
      if (!stopped) {
        stopped = true;
        try {
          listener.close();
        } catch { /* already closed */ }
      }
      await loop;
    },
    abortAll() {
      for (const relayed of open) relayed.abort();
    },
    get open() {
      return open.size;
    },
    closed,
  };
}
