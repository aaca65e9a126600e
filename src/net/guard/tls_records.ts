/**
 * Tells, from the client's side of a TLS connection, when its handshake is
 * over — without decrypting anything.
 *
 * The connection guard relays TLS bytes untouched (the HTTPS server behind it
 * terminates TLS, so HTTP/2 by ALPN and the certificate stay where they
 * are), yet it must bound how long a client may take to finish the
 * handshake. The record layer is readable in clear (RFC 8446 §5.1, RFC 5246
 * §6.2): each record starts with a content type, a version and a length. The
 * first `application_data` (23) record the client sends marks the end of
 * its handshake: in TLS 1.3 it carries the client's `Finished` (everything
 * after ServerHello is wrapped as application data), in TLS 1.2 it is the
 * first request (its `Finished` is a handshake record). Either way a client
 * that has sent one has either finished the handshake or started talking.
 */

const CHANGE_CIPHER_SPEC = 20;
const APPLICATION_DATA = 23;
const HEADER_BYTES = 5;
/** Largest ciphertext record: 2^14 plus 2048 bytes of expansion (RFC 5246 §6.2.3; TLS 1.3 allows less). */
const MAX_RECORD_BYTES = 16_384 + 2_048;

/** What the client's bytes so far say about its handshake. */
export type HandshakeProgress = "handshaking" | "done" | "not-tls";

/** Fed with the client's bytes in order; reports when its handshake is over. */
export interface HandshakeWatcher {
  /** Reads the record headers in `bytes` (chunk boundaries anywhere) and returns the progress after them. */
  feed(bytes: Uint8Array): HandshakeProgress;
}

/**
 * Creates a watcher for one connection. Once the result is `done` or
 * `not-tls` it stops looking at bytes; `not-tls` (a record type or version
 * TLS does not have, or an oversize record) leaves the handshake deadline
 * running — the TLS server refuses such a peer anyway.
 */
export function createHandshakeWatcher(): HandshakeWatcher {
  let progress: HandshakeProgress = "handshaking";
  const header = new Uint8Array(HEADER_BYTES);
  let headerFill = 0;
  let skip = 0;
  return {
    feed(bytes) {
      let i = 0;
      while (progress === "handshaking" && i < bytes.length) {
        if (skip > 0) {
          const n = Math.min(skip, bytes.length - i);
          skip -= n;
          i += n;
          continue;
        }
        header[headerFill++] = bytes[i++]!;
        if (headerFill < HEADER_BYTES) continue;
        headerFill = 0;
        const type = header[0]!;
        const length = (header[3]! << 8) | header[4]!;
        if (type < CHANGE_CIPHER_SPEC || type > APPLICATION_DATA || header[1] !== 3 || length > MAX_RECORD_BYTES) {
          progress = "not-tls";
        } else if (type === APPLICATION_DATA) {
          progress = "done";
        } else {
          skip = length;
        }
      }
      return progress;
    },
  };
}
