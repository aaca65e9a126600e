/**
 * How many connections the guard holds open: in all, and per client.
 *
 * Every open connection costs file descriptors (three behind the guard: the
 * client's socket, the guard's socket to the HTTPS server, and that server's
 * accepted socket) and memory. Without a per-client cap one address can take
 * them all; without a total cap below the descriptor limit the process runs
 * out of descriptors, and then nobody can connect. A client is the key of
 * {@link clientKeyOf}: an IPv4 address or an IPv6 /64, so one end site cannot
 * multiply its share by walking its own prefix.
 *
 * The counter sits behind a small interface so that counts can later live in
 * shared memory across threads; this implementation is a plain map, owned by
 * the one thread that accepts connections.
 */

/** Why a connection was or was not admitted. */
export type Admission = "admitted" | "total" | "per-client";

/** Counts open connections in all and per client key. */
export interface ConnectionCounter {
  /**
   * Takes a slot for `key` if both caps allow it. An `exempt` key (a trusted
   * proxy, which multiplexes many clients) only counts toward the total.
   */
  acquire(key: string, exempt: boolean): Admission;
  /** Returns a slot taken by a successful {@link acquire} with the same arguments. */
  release(key: string, exempt: boolean): void;
  /** Connections held now. */
  readonly total: number;
  /** Connections held now by `key`. */
  countOf(key: string): number;
}

/** Options for {@link createConnectionCounter}. */
export interface ConnectionCounterOptions {
  /** Connections held at once, all clients together (≥ 1). */
  maxTotal: number;
  /** Connections held at once by one client key (≥ 1). */
  maxPerClient: number;
}

/** Builds the in-thread {@link ConnectionCounter}. Memory is bounded by `maxTotal` keys. */
export function createConnectionCounter(options: ConnectionCounterOptions): ConnectionCounter {
  const { maxTotal, maxPerClient } = options;
  for (const [name, value] of Object.entries({ maxTotal, maxPerClient })) {
    if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer`);
  }
  const perClient = new Map<string, number>();
  let total = 0;
  return {
    acquire(key, exempt) {
      if (total >= maxTotal) return "total";
      if (!exempt) {
        const held = perClient.get(key) ?? 0;
        if (held >= maxPerClient) return "per-client";
        perClient.set(key, held + 1);
      }
      total++;
      return "admitted";
    },
    release(key, exempt) {
      total = Math.max(0, total - 1);
      if (exempt) return;
      const held = perClient.get(key) ?? 0;
      if (held <= 1) perClient.delete(key);
      else perClient.set(key, held - 1);
    },
    get total() {
      return total;
    },
    countOf(key) {
      return perClient.get(key) ?? 0;
    },
  };
}
