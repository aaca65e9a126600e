/**
 * Who is really on the other end of a relayed connection.
 *
 * Behind the connection guard the HTTPS server's peer is always the guard's
 * own loopback socket, `127.0.0.1:<port>`. The guard writes, before it relays
 * the first byte, which client that source port stands for; the server's
 * request handler reads it back, so rate limits and the audit log see the
 * real client. The table lives in a `SharedArrayBuffer`: the guard runs in a
 * Worker, and the handler must read the entry synchronously, with no message
 * that could arrive after the request.
 *
 * One slot per port (65,536), each a generation counter and a fixed-size
 * record (length, client port, address text). A writer makes the generation
 * odd while it writes and even again after, so a reader never returns a
 * half-written address (a seqlock). Only the guard's thread writes.
 */

const PORTS = 65_536;
/** Bytes per record: length, two bytes of client port, up to 45 characters of address (the longest IPv6 text). */
const SLOT_BYTES = 48;
const MAX_ADDRESS_LENGTH = SLOT_BYTES - 3;

/** Bytes of shared memory a table needs. */
export const PEER_TABLE_BYTES = PORTS * 4 + PORTS * SLOT_BYTES;

/** The guard's side: records and forgets which client a loopback port stands for. */
export interface PeerTableWriter {
  /** Records that loopback source `port` relays for `hostname:clientPort`. */
  set(port: number, hostname: string, clientPort: number): void;
  /** Forgets `port` (lookups of it return null again). */
  clear(port: number): void;
}

/** The server's side: resolves its peer's source port to the client. */
export interface PeerTableReader {
  /** The client behind loopback source `port`, or null when no relayed connection uses it. */
  get(port: number): Deno.NetAddr | null;
}

function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 0 || port >= PORTS) throw new RangeError(`not a port: ${port}`);
}

function views(buffer: SharedArrayBuffer) {
  if (buffer.byteLength !== PEER_TABLE_BYTES) throw new RangeError(`a peer table needs ${PEER_TABLE_BYTES} bytes`);
  return { generations: new Int32Array(buffer, 0, PORTS), records: new Uint8Array(buffer, PORTS * 4) };
}

/** A fresh, empty table's shared memory, to hand to both sides. */
export function createPeerTableBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(PEER_TABLE_BYTES);
}

/** The writer over `buffer` (use it in one thread only). */
export function peerTableWriter(buffer: SharedArrayBuffer): PeerTableWriter {
  const { generations, records } = views(buffer);
  const write = (port: number, text: string, clientPort: number) => {
    Atomics.add(generations, port, 1); // odd: being written
    const base = port * SLOT_BYTES;
    records[base] = text.length;
    records[base + 1] = clientPort >> 8;
    records[base + 2] = clientPort & 0xff;
    for (let i = 0; i < text.length; i++) records[base + 3 + i] = text.charCodeAt(i);
    Atomics.add(generations, port, 1); // even: readable
  };
  return {
    set(port, hostname, clientPort) {
      checkPort(port);
      checkPort(clientPort);
      // Addresses come from the kernel (digits, hex, '.', ':'); refuse anything else rather than store it.
      if (hostname.length === 0 || hostname.length > MAX_ADDRESS_LENGTH || !/^[0-9A-Za-z.:%]+$/.test(hostname)) {
        throw new RangeError("not an IP address");
      }
      write(port, hostname, clientPort);
    },
    clear(port) {
      checkPort(port);
      write(port, "", 0);
    },
  };
}

/**
 * The reader over `buffer`. Decoded addresses are cached per port and
 * generation, so a request on a kept-alive connection costs two array reads.
 */
export function peerTableReader(buffer: SharedArrayBuffer): PeerTableReader {
  const { generations, records } = views(buffer);
  const cachedGeneration = new Int32Array(PORTS);
  const cached: (Deno.NetAddr | null)[] = new Array(PORTS).fill(null);
  return {
    get(port) {
      if (!Number.isInteger(port) || port < 0 || port >= PORTS) return null;
      for (let attempt = 0; attempt < 4; attempt++) {
        const generation = Atomics.load(generations, port);
        if (generation === 0) return null;
        if ((generation & 1) === 1) continue;
        if (cachedGeneration[port] === generation) return cached[port]!;
        const base = port * SLOT_BYTES;
        const length = records[base]!;
        const clientPort = (records[base + 1]! << 8) | records[base + 2]!;
        const hostname = String.fromCharCode(...records.subarray(base + 3, base + 3 + length));
        if (Atomics.load(generations, port) !== generation) continue;
        const addr: Deno.NetAddr | null = length === 0
          ? null
          : Object.freeze({ transport: "tcp", hostname, port: clientPort });
        cachedGeneration[port] = generation;
        cached[port] = addr;
        return addr;
      }
      return null;
    },
  };
}
