/**
 * The worker's side of `APP_WORKERS=N`: a worker module calls
 * {@link serveWorker} with a setup function; on `start` it builds the
 * application from what the main thread sent (shared buffers, TLS material,
 * settings), serves it over TLS with `reusePort` on the common address,
 * beats its heartbeat and reports `ready`; on `drain` it shuts the server
 * down gracefully (no new connections, requests in flight finish within the
 * deadline), releases what the application holds, reports `drained` and
 * ends its thread.
 *
 * `reusePort` with TLS is an unstable API in Deno 2.9: the process needs
 * `--unstable-net` (`"unstable": ["net"]` in deno.json). Workers inherit
 * the main thread's permissions, and loading the worker module and its
 * local imports needs read permission on them.
 *
 * Errors are not caught here: an uncaught one reaches the main thread as
 * the Worker's `error` event, and the pool ends the process.
 */
import type { DrainMessage, FromWorker, StartMessage } from "./protocol.ts";

/** What a worker serves, built by the setup function from the start payload. */
export interface WorkerApp {
  /** Handles one request (a Hono app's `fetch`). */
  fetch: (request: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>) => Response | Promise<Response>;
  /** The common address, the same in every worker; certificate and key as PEM text. */
  listen: { hostname: string; port: number; cert: string; key: string };
  /** Answers when `fetch` itself throws (the app's own error handler covers the rest). */
  onError?: (error: unknown) => Response | Promise<Response>;
  /** Releases the application's resources once the server has stopped (database, log sinks). */
  close?: () => void | Promise<void>;
}

/** The parts of a worker's global scope used here (the project type-checks against the window lib). */
interface WorkerScope {
  postMessage(message: FromWorker): void;
  onmessage: ((event: MessageEvent<StartMessage<unknown> | DrainMessage>) => void) | null;
  close(): void;
}

/**
 * Makes this worker serve what `setup` builds. Call it once, at the top
 * level of the worker module, before any `await` (a message arriving before
 * the handler is set would be lost).
 */
export function serveWorker<Init>(setup: (init: Init, id: number) => WorkerApp | Promise<WorkerApp>): void {
  const scope = globalThis as unknown as WorkerScope;
  let started:
    | Promise<
      { server: Deno.HttpServer<Deno.NetAddr>; app: WorkerApp; beat: ReturnType<typeof setInterval>; id: number }
    >
    | undefined;

  const start = async (message: StartMessage<Init>) => {
    const { id, heartbeatIntervalMs } = message;
    const app = await setup(message.init, id);
    const cells = new Int32Array(message.heartbeats);
    Atomics.add(cells, id, 1);
    const beat = setInterval(() => Atomics.add(cells, id, 1), heartbeatIntervalMs);
    const { hostname, port } = app.listen;
    const server = Deno.serve({
      hostname,
      port,
      reusePort: true,
      cert: app.listen.cert,
      key: app.listen.key,
      onListen: (address) => scope.postMessage({ type: "ready", id, address: `${address.hostname}:${address.port}` }),
      ...(app.onError ? { onError: app.onError } : {}),
    }, app.fetch);
    return { server, app, beat, id };
  };

  const drain = async (message: DrainMessage) => {
    if (!started) {
      scope.close();
      return;
    }
    const { server, app, beat, id } = await started;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const outcome = await Promise.race([
      server.shutdown().then(() => "drained" as const),
      new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), message.deadlineMs);
      }),
    ]);
    clearTimeout(timer);
    await app.close?.();
    clearInterval(beat);
    scope.postMessage({ type: "drained", id, outcome });
    scope.close();
  };

  scope.onmessage = (event) => {
    const message = event.data;
    if (message.type === "start" && !started) started = start(message as StartMessage<Init>);
    else if (message.type === "drain") void drain(message);
  };
}
