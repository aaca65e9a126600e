/**
 * One relayed connection: bytes copied both ways between the client and the
 * HTTPS server behind the guard, with the three deadlines that server lacks.
 *
 * `Deno.serve` (2.9.6) never closes a connection on its own: a bare TCP
 * connect, a TLS handshake that never ends, headers sent one byte a minute
 * (slowloris) and an idle keep-alive all stay open for as long as the client
 * likes. The relay sees every byte and its direction, which is enough to
 * bound each case without decrypting:
 *
 * - **handshake**: from accept until the client's first TLS application-data
 *   record ({@link createHandshakeWatcher}). Covers a bare connect and a
 *   stalled or trickled handshake.
 * - **request**: client bytes the server has not answered yet. The clock
 *   starts with the first client byte after the server last spoke, and any
 *   server byte stops it. Covers half-sent headers, a trickled body and a
 *   handler that never answers.
 * - **idle**: nothing pending and no byte either way. Covers an idle
 *   keep-alive, a completed handshake with no request, and a client that
 *   stops reading its response.
 *
 * The deadlines are checked by {@link RelayedConnection.check}, which the
 * guard calls for every connection on one timer: per-chunk work is a clock
 * read and two assignments, never a timer reset.
 */
import { createHandshakeWatcher } from "./tls_records.ts";

/** The time limits of one connection, in milliseconds. */
export interface Deadlines {
  /** From accept until the client's TLS handshake is over. */
  handshakeMs: number;
  /** Between requests: no byte either way and nothing pending. */
  idleMs: number;
  /** Client bytes without any answer from the server. */
  requestMs: number;
}

/** Why a relayed connection ended. */
export type CloseReason = "handshake-timeout" | "idle-timeout" | "request-timeout" | "closed" | "error" | "aborted";

/** The part of a `Deno.Conn` the relay uses (tests pass in-memory pairs). */
export type Stream = Pick<Deno.Conn, "read" | "write" | "close" | "closeWrite">;

/** Options for {@link relay}. */
export interface RelayOptions {
  deadlines: Deadlines;
  /** Monotonic milliseconds. Default `performance.now`. */
  now?: () => number;
  /** Read buffer per direction. Default 16 KiB: one full TLS record per read. */
  bufferBytes?: number;
}

/** A connection being relayed. */
export interface RelayedConnection {
  /** Closes the deadline that has passed at `now`, if any, and returns its reason. */
  check(now: number): CloseReason | null;
  /** Closes both sides at once. */
  abort(): void;
  /** Settles once both sides are closed, with the reason. Never rejects. */
  readonly done: Promise<CloseReason>;
}

/**
 * Starts copying between `client` and `backend`. An end of stream in one
 * direction is passed on as a half-close (`closeWrite`), so a response still
 * reaches a client that has finished sending; both sockets are closed once
 * both directions have ended, a deadline passes, or either side fails.
 */
export function relay(client: Stream, backend: Stream, options: RelayOptions): RelayedConnection {
  const { deadlines, now = () => performance.now(), bufferBytes = 16 * 1024 } = options;
  const watcher = createHandshakeWatcher();
  const acceptedAt = now();
  let lastActivity = acceptedAt;
  let pendingSince = -1;
  let handshakeDone = false;
  let reason: CloseReason | null = null;

  const closeBoth = (why: CloseReason) => {
    if (reason !== null) return;
    reason = why;
    for (const stream of [client, backend]) {
      try {
        stream.close();
      } catch { /* already closed */ }
    }
  };

  const pump = async (from: Stream, to: Stream, upstream: boolean) => {
    const buffer = new Uint8Array(bufferBytes);
    try {
      for (;;) {
        const n = await from.read(buffer);
        if (n === null) break;
        const at = now();
        lastActivity = at;
        if (!upstream) {
          pendingSince = -1;
        } else {
          if (!handshakeDone) handshakeDone = watcher.feed(buffer.subarray(0, n)) === "done";
          // The record that ends the handshake may be the first request (TLS 1.2) or carry one: pending too.
          if (handshakeDone && pendingSince < 0) pendingSince = at;
        }
        for (let offset = 0; offset < n;) offset += await to.write(buffer.subarray(offset, n));
        // A write the peer is slow to take counts as activity once it completes (a slow reader is not idle).
        lastActivity = now();
      }
      if (reason === null) await to.closeWrite();
    } catch {
      closeBoth("error");
    }
  };

  const done = Promise.all([pump(client, backend, true), pump(backend, client, false)]).then(() => {
    closeBoth("closed");
    return reason ?? "closed";
  });

  return {
    check(at) {
      if (reason !== null) return null;
      let passed: CloseReason | null = null;
      if (!handshakeDone) {
        if (at - acceptedAt >= deadlines.handshakeMs) passed = "handshake-timeout";
      } else if (pendingSince >= 0) {
        if (at - pendingSince >= deadlines.requestMs) passed = "request-timeout";
      } else if (at - lastActivity >= deadlines.idleMs) {
        passed = "idle-timeout";
      }
      if (passed !== null) closeBoth(passed);
      return passed;
    },
    abort() {
      closeBoth("aborted");
    },
    done,
  };
}
