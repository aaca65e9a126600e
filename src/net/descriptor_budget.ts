/**
 * Checks at start that the process can open as many file descriptors as its
 * connection caps promise, and derives the total cap when the operator has
 * not set one.
 *
 * Every open connection holds descriptors: three behind the connection guard
 * (the client's socket, the guard's socket to the HTTPS server, the server's
 * accepted socket), one without it. When a process reaches its limit,
 * `accept()` fails with EMFILE and — before this check and the guard
 * existed — the server stopped listening.
 *
 * Deno raises its soft `RLIMIT_NOFILE` to the hard limit when it starts (so
 * `ulimit -Sn` does not matter, `ulimit -Hn` or systemd's `LimitNOFILE` does),
 * but offers no call to read it, and the sandbox refuses `/proc/self/limits`
 * to anything short of `--allow-all`. So the check measures instead: it opens
 * one readable file (the TLS certificate) as many times as the caps need,
 * plus a reserve for the database, logs, Redis and the runtime, and closes
 * them all. It costs about 30 µs per descriptor, once, at start.
 */

/** Descriptors kept free for everything that is not a client connection (database, logs, Redis, runtime). */
export const DESCRIPTOR_RESERVE = 128;
/** Descriptors one client connection holds behind the connection guard. */
export const DESCRIPTORS_PER_GUARDED_CONNECTION = 3;
/** Connections the guard holds at most when `APP_MAX_CONNECTIONS` is not set. */
export const DEFAULT_MAX_CONNECTIONS = 1024;
/** Without the guard (behind a proxy), the descriptors the process should at least be able to open. */
export const UNGUARDED_MINIMUM = DESCRIPTOR_RESERVE + 1024;

/** Opens up to `target` descriptors, closes them, and returns how many it could open. */
export type DescriptorProbe = (target: number) => number;

/**
 * A {@link DescriptorProbe} that opens `path` read-only up to `target`
 * times. Stops at the first failure (EMFILE, or anything else: then the
 * count is what it could prove).
 */
export function fileDescriptorProbe(path: string): DescriptorProbe {
  return (target) => {
    const files: Deno.FsFile[] = [];
    try {
      while (files.length < target) files.push(Deno.openSync(path, { read: true }));
    } catch {
      // The count so far is the answer.
    } finally {
      for (const file of files) file.close();
    }
    return files.length;
  };
}

/** What {@link planConnections} decided. */
export interface ConnectionPlan {
  /** The guard's total cap (0 when the guard is off). */
  readonly maxTotal: number;
  /** Descriptors the probe asked for, and how many it could open. */
  readonly needed: number;
  readonly available: number;
  /** Lines to log as warnings (the start goes on). */
  readonly warnings: readonly string[];
  /** Set when the start must be refused (production only, or a budget of zero). */
  readonly error: string | null;
}

/** Options for {@link planConnections}. */
export interface PlanOptions {
  guard: boolean;
  /** `APP_MAX_CONNECTIONS`, or null for the default. */
  configuredMax: number | null;
  production: boolean;
  probe: DescriptorProbe;
}

const RAISE_HINT = "raise the hard open-file limit (systemd LimitNOFILE=, or ulimit -Hn before starting)";

/**
 * Measures the descriptors available for the planned caps. Production
 * refuses to start when they do not fit; development warns and lowers the
 * total cap to what fits.
 */
export function planConnections(options: PlanOptions): ConnectionPlan {
  const { guard, configuredMax, production, probe } = options;
  if (!guard) {
    const available = probe(UNGUARDED_MINIMUM);
    const warnings = available < UNGUARDED_MINIMUM
      ? [
        `only ${available} file descriptors are free: the proxy in front must hold fewer than ${
          Math.max(0, available - DESCRIPTOR_RESERVE)
        } connections to this server (maxconn), or ${RAISE_HINT}`,
      ]
      : [];
    return { maxTotal: 0, needed: UNGUARDED_MINIMUM, available, warnings, error: null };
  }
  const wanted = configuredMax ?? DEFAULT_MAX_CONNECTIONS;
  const needed = DESCRIPTOR_RESERVE + DESCRIPTORS_PER_GUARDED_CONNECTION * wanted;
  const available = probe(needed);
  if (available >= needed) return { maxTotal: wanted, needed, available, warnings: [], error: null };
  const fits = Math.floor((available - DESCRIPTOR_RESERVE) / DESCRIPTORS_PER_GUARDED_CONNECTION);
  const problem = `${wanted} connections need ${needed} file descriptors but only ${available} are free`;
  if (production || fits < 1) {
    const lower = fits >= 1 ? ` or set APP_MAX_CONNECTIONS=${fits}` : "";
    return {
      maxTotal: 0,
      needed,
      available,
      warnings: [],
      error: `APP_MAX_CONNECTIONS: ${problem}; ${RAISE_HINT}${lower}`,
    };
  }
  return {
    maxTotal: fits,
    needed,
    available,
    warnings: [`${problem}; holding at most ${fits} connections (${RAISE_HINT})`],
    error: null,
  };
}
