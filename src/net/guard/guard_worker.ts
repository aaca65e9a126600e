/**
 * The connection guard's thread. It owns the public TCP listener and relays
 * each admitted connection to the HTTPS server on loopback; the request
 * handlers stay on the main thread, which this thread's copying therefore
 * does not slow down.
 *
 * Loaded by `connection_guard.ts` with the parent's permissions. A Worker
 * must be allowed to read its own module files, so this file imports only
 * `src/net/guard/` and `src/net/ip.ts` (listed in the server permission set);
 * no logger lives here — events go to the main thread, which logs and audits
 * them.
 */
/// <reference lib="deno.worker" />
import { parseCIDR } from "../ip.ts";
import { type AcceptLoop, type GuardEvent, startAcceptLoop } from "./accept_loop.ts";
import { createConnectionCounter } from "./connection_limits.ts";
import { peerTableWriter } from "./peer_table.ts";
import type { Deadlines } from "./relay.ts";

/** The message that starts the guard. */
export interface GuardStartMessage {
  type: "start";
  hostname: string;
  port: number;
  backendPort: number;
  limits: { maxTotal: number; maxPerClient: number };
  deadlines: Deadlines;
  /** CIDRs in text form. */
  trustedProxies: string[];
  peerTable: SharedArrayBuffer;
}

/** Messages the main thread sends. */
export type GuardCommand =
  | GuardStartMessage
  | { type: "stop" }
  | { type: "drain"; timeoutMs: number }
  | { type: "abort-all" };

/** Messages this thread sends. */
export type GuardReply =
  | { type: "listening"; hostname: string; port: number }
  /** `kind`: the error's class name (`AddrInUse`, `NotCapable` …), so the main thread can throw the same class. */
  | { type: "listen-failed"; error: string; kind: string }
  | { type: "event"; event: GuardEvent }
  | { type: "stopped" }
  | { type: "drained"; open: number };

const post = (reply: GuardReply) => self.postMessage(reply);
let loop: AcceptLoop | null = null;

function start(message: GuardStartMessage): void {
  let listener: Deno.TcpListener;
  try {
    // Plain TCP, but never plain HTTP: every byte goes to Deno.serve on loopback, which has the cert and key
    // and answers anything that is not TLS 1.2/1.3 with an alert (tests/tls_test.ts runs through this listener).
    listener = Deno.listen({ hostname: message.hostname, port: message.port, transport: "tcp" }); // nosemgrep: deno-serve-without-tls
  } catch (error) {
    const kind = error instanceof Error ? error.name : "Error";
    post({ type: "listen-failed", error: error instanceof Error ? `${kind}: ${error.message}` : String(error), kind });
    return;
  }
  const { deadlines, limits } = message;
  loop = startAcceptLoop({
    listener,
    connectBackend: () => Deno.connect({ hostname: "127.0.0.1", port: message.backendPort }),
    counter: createConnectionCounter(limits),
    limits,
    peers: peerTableWriter(message.peerTable),
    deadlines,
    trustedProxies: message.trustedProxies.map((text) => parseCIDR(text)).filter((cidr) => cidr !== null),
    report: (event) => post({ type: "event", event }),
  });
  const shortest = Math.min(deadlines.handshakeMs, deadlines.idleMs, deadlines.requestMs);
  // The sweep runs until the worker is terminated, also after stop: open connections keep their deadlines.
  setInterval(() => loop?.sweep(), Math.min(1_000, Math.max(25, Math.floor(shortest / 4))));
  const addr = listener.addr;
  post({ type: "listening", hostname: addr.hostname, port: addr.port });
}

self.onmessage = async (event: MessageEvent<GuardCommand>) => {
  const command = event.data;
  if (command.type === "start") start(command);
  else if (command.type === "abort-all") loop?.abortAll();
  else if (command.type === "drain") {
    // After the server behind has shut down, each relay ends once it has passed on the server's last bytes.
    const deadline = performance.now() + command.timeoutMs;
    while ((loop?.open ?? 0) > 0 && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    post({ type: "drained", open: loop?.open ?? 0 });
  } else if (command.type === "stop") {
    await loop?.stop();
    post({ type: "stopped" });
  }
};
