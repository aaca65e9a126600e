/**
 * The messages between the main thread and its server workers (see
 * `worker_pool.ts` for the main side, `worker_host.ts` for the worker side).
 *
 * Main → worker: `start` once (the worker's number, its heartbeat cell and
 * whatever the application needs: shared buffers, TLS material, settings),
 * then at most one `drain`. Worker → main: `ready` once it listens, then
 * `drained` once its server has shut down. A worker that fails says nothing:
 * the main thread learns it from the Worker's `error` event or from its
 * heartbeat stopping.
 */

/** Sent once to each worker, first. */
export interface StartMessage<Init> {
  readonly type: "start";
  /** The worker's number, 0 … N−1. */
  readonly id: number;
  /** One int32 cell per worker; worker `id` adds one to cell `id` every heartbeat interval. */
  readonly heartbeats: SharedArrayBuffer;
  readonly heartbeatIntervalMs: number;
  /** What the application's setup function receives. Structured-cloned; SharedArrayBuffers are shared. */
  readonly init: Init;
}

/** Asks a worker to stop accepting, finish its requests within `deadlineMs`, release its resources and report. */
export interface DrainMessage {
  readonly type: "drain";
  readonly deadlineMs: number;
}

/** Anything the main thread sends. */
export type ToWorker<Init> = StartMessage<Init> | DrainMessage;

/** The worker listens. */
export interface ReadyMessage {
  readonly type: "ready";
  readonly id: number;
  /** `host:port` it listens on. */
  readonly address: string;
}

/** The worker's server has stopped: every request finished (`drained`) or the deadline passed (`timeout`). */
export interface DrainedMessage {
  readonly type: "drained";
  readonly id: number;
  readonly outcome: "drained" | "timeout";
}

/** Anything a worker sends. */
export type FromWorker = ReadyMessage | DrainedMessage;

/** Narrows an incoming message; anything else is a protocol error. */
export function isFromWorker(value: unknown): value is FromWorker {
  if (typeof value !== "object" || value === null) return false;
  const message = value as Record<string, unknown>;
  if (!Number.isInteger(message.id)) return false;
  if (message.type === "ready") return typeof message.address === "string";
  return message.type === "drained" && (message.outcome === "drained" || message.outcome === "timeout");
}
