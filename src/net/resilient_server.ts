/**
 * A `Deno.serve` server that listens again when its listener dies.
 *
 * In Deno 2.9.6, when `accept()` fails — typically EMFILE, "Too many open
 * files" — the server's `finished` promise rejects and its listener is gone
 * for good, though the connections it already accepted keep being served.
 * Unhandled, that rejection reached the crash handler and the process
 * exited. Here a new server generation is started on the same address
 * instead. While descriptors stay exhausted the new listener dies at its
 * first accept, so the delay before the next one doubles from 5 ms up to
 * 1 s (as Go's net/http backs off on accept errors); the first generation
 * that lives on after the descriptors free up serves again.
 *
 * An episode — from the first failure until a generation has lived
 * `stableMs` — is reported once at its start and once at its end, however
 * many generations die in between. Dead generations are kept so their
 * connections (a health check on a kept-alive connection) go on being
 * served; beyond `maxGenerations` the oldest is shut down gracefully, so a
 * long attack cannot make the list grow without bound.
 */

/** Options for {@link serveResiliently}. */
export interface ResilientServerOptions {
  /** Starts one server generation (`Deno.serve(...)`); throws when it cannot listen. */
  listen: () => Deno.HttpServer<Deno.NetAddr>;
  /** The listener died, starting an episode. */
  onFailure: (error: unknown) => void;
  /** A generation has lived `stableMs`: the episode of `failures` failures over `ms` milliseconds is over. */
  onRecovered: (failures: number, ms: number) => void;
  /** How long a new generation must live to end an episode. Default 5 s. */
  stableMs?: number;
  /** Generations kept (the listening one and dead ones still serving their connections). Default 8. */
  maxGenerations?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Monotonic milliseconds. Default `performance.now`. */
  now?: () => number;
}

/** A server that survives the loss of its listener. */
export interface ResilientServer {
  /** The address of the first generation (later ones listen on the same). */
  readonly addr: Deno.NetAddr;
  /** Stops restarting, then shuts every generation down gracefully. */
  shutdown(): Promise<void>;
}

const MIN_BACKOFF_MS = 5;
const MAX_BACKOFF_MS = 1_000;

/** Starts the first generation (throwing if it cannot listen) and keeps one listening until shutdown. */
export function serveResiliently(options: ResilientServerOptions): ResilientServer {
  const {
    listen,
    onFailure,
    onRecovered,
    stableMs = 5_000,
    maxGenerations = 8,
    sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
    now = () => performance.now(),
  } = options;
  const generations: Deno.HttpServer<Deno.NetAddr>[] = [];
  let stopping = false;
  let restarting: Promise<void> = Promise.resolve();
  let delay = 0;
  let episode: { since: number; failures: number } | null = null;
  let stableTimer: ReturnType<typeof setTimeout> | undefined;
  const retired: Promise<void>[] = [];

  const restart = async () => {
    for (;;) {
      await sleep(delay);
      if (stopping) return;
      try {
        start();
        return;
      } catch {
        delay = Math.min(delay * 2, MAX_BACKOFF_MS);
      }
    }
  };

  const start = () => {
    const server = listen();
    const startedAt = now();
    generations.push(server);
    while (generations.length > maxGenerations) {
      retired.push(generations.shift()!.shutdown().catch(() => {}));
    }
    clearTimeout(stableTimer);
    stableTimer = setTimeout(() => {
      if (episode === null || stopping) return;
      onRecovered(episode.failures, Math.round(now() - episode.since));
      episode = null;
    }, stableMs);
    server.finished.catch((error: unknown) => {
      if (stopping) return;
      const lived = now() - startedAt;
      delay = lived >= stableMs || delay === 0 ? MIN_BACKOFF_MS : Math.min(delay * 2, MAX_BACKOFF_MS);
      if (episode === null) {
        episode = { since: now(), failures: 1 };
        onFailure(error);
      } else {
        episode.failures++;
      }
      restarting = restart();
    });
    return server;
  };

  const first = start();
  return {
    addr: first.addr,
    async shutdown() {
      stopping = true;
      clearTimeout(stableTimer);
      await restarting;
      await Promise.all([...generations.map((server) => server.shutdown().catch(() => {})), ...retired]);
    },
  };
}
