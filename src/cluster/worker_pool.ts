/**
 * The main thread's side of `APP_WORKERS=N`: it starts N server workers
 * (Web Workers: threads of this process, so they can share
 * `SharedArrayBuffer`s), waits until every one listens, watches them, and
 * drains them all on shutdown. Each worker calls `Deno.serve` with
 * `reusePort` on the same TLS address and the kernel spreads new
 * connections (not requests) over the listeners. One-time work —
 * migrations, the bootstrap admin, `sys_startup`, `sys_shutdown` — stays on
 * the main thread, which serves nothing itself.
 *
 * A worker that dies ends the process with a non-zero status; it is not
 * restarted. The reasons: an uncaught error is a bug, and the single-thread
 * server already exits on one (status 70, `sys_crash`) so that the
 * supervisor restarts it clean; a dead worker can leave host-wide state
 * half-done that nothing else can undo — KDF semaphore tickets that never
 * finish (lost capacity), brute-force reservations counted as in flight
 * forever; and a process that quietly restarts threads can crash-loop
 * unseen. The pool reports the death (which worker, why), lets the other
 * workers finish their requests, and the caller exits.
 *
 * Death is seen two ways: the Worker's `error` event (an uncaught exception
 * or rejection in the worker) and a heartbeat that stops moving. The second
 * catches what raises no event: `Deno.exit()` inside a worker ends only
 * that thread, silently, and a worker stuck in a loop keeps its listening
 * socket, so the kernel would keep handing it a share of the connections.
 */
import type { Logger } from "@logtape/logtape";
import { type FromWorker, isFromWorker, type ToWorker } from "./protocol.ts";

/** Options for {@link WorkerPool.start}. */
export interface WorkerPoolOptions<Init> {
  /** The worker module; it calls `serveWorker()` from `worker_host.ts`. */
  module: URL;
  /** Workers to start (see `parseWorkerCount`). */
  count: number;
  /** The application payload of worker `id`: shared buffers, TLS material, settings. */
  init: (id: number) => Init;
  /** Where the pool reports starts, deaths and drains. */
  logger: Pick<Logger, "info" | "error">;
  /** How long every worker has to report ready, in ms. Default 30000. */
  readyTimeoutMs?: number;
  /** How often a worker beats, in ms. Default 1000. */
  heartbeatIntervalMs?: number;
  /** A heartbeat that has not moved for this long means the worker is gone or stuck, in ms. Default 15000. */
  stallLimitMs?: number;
  /**
   * The workers' permissions. Default `"inherit"`: the main thread's set.
   * Anything narrower needs `--unstable-worker-options` in Deno 2.9.
   */
  permissions?: Deno.PermissionOptions;
}

/** Which worker died and how. */
export interface WorkerDeath {
  readonly id: number;
  readonly reason: string;
}

type State = "starting" | "ready" | "draining" | "drained" | "dead";

/** N server workers, started together and stopped together. */
export class WorkerPool {
  /** Workers started. */
  readonly count: number;
  /** Resolves with the first worker death; never rejects. */
  readonly died: Promise<WorkerDeath>;
  readonly #workers: Worker[];
  readonly #states: State[];
  readonly #logger: Pick<Logger, "info" | "error">;
  readonly #onDeath: (death: WorkerDeath) => void;
  readonly #ready = new Map<number, () => void>();
  readonly #drained = new Map<number, (outcome: "drained" | "timeout") => void>();
  #monitor: ReturnType<typeof setInterval> | undefined;

  private constructor(count: number, logger: Pick<Logger, "info" | "error">) {
    this.count = count;
    this.#logger = logger;
    this.#workers = [];
    this.#states = new Array<State>(count).fill("starting");
    const { promise, resolve } = Promise.withResolvers<WorkerDeath>();
    this.died = promise;
    this.#onDeath = resolve;
  }

  /**
   * Starts `count` workers and resolves once every one listens. If one dies
   * or the deadline passes first, every worker is stopped and this rejects.
   */
  static async start<Init>(options: WorkerPoolOptions<Init>): Promise<WorkerPool> {
    const {
      module,
      count,
      init,
      logger,
      readyTimeoutMs = 30_000,
      heartbeatIntervalMs = 1_000,
      stallLimitMs = 15_000,
      permissions = "inherit",
    } = options;
    if (!Number.isInteger(count) || count < 1) throw new RangeError("count must be a positive integer");
    const pool = new WorkerPool(count, logger);
    const heartbeats = new SharedArrayBuffer(4 * count);
    const ready = Array.from({ length: count }, (_, id) => new Promise<void>((r) => pool.#ready.set(id, r)));
    for (let id = 0; id < count; id++) {
      const worker = permissions === "inherit"
        ? new Worker(module, { type: "module", name: `worker-${id}` })
        : new Worker(module, { type: "module", name: `worker-${id}`, deno: { permissions } });
      pool.#workers.push(worker);
      worker.onmessage = (event: MessageEvent<unknown>) => pool.#receive(id, event.data);
      worker.onmessageerror = () => pool.#die(id, "sent a message that could not be read");
      worker.onerror = (event: ErrorEvent) => {
        event.preventDefault(); // the pool decides what a death means, not the runtime's default exit
        pool.#die(id, event.message);
      };
      const start: ToWorker<Init> = { type: "start", id, heartbeats, heartbeatIntervalMs, init: init(id) };
      worker.postMessage(start);
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const failure = Promise.race([
      pool.died.then((death) => `worker ${death.id} died while starting: ${death.reason}`),
      new Promise<string>((resolve) => {
        timer = setTimeout(() => resolve(`not every worker was ready within ${readyTimeoutMs} ms`), readyTimeoutMs);
      }),
    ]);
    const outcome = await Promise.race([Promise.all(ready).then(() => null), failure]);
    clearTimeout(timer);
    if (outcome !== null) {
      pool.terminate();
      throw new Error(outcome);
    }
    pool.#watch(new Int32Array(heartbeats), heartbeatIntervalMs, stallLimitMs);
    return pool;
  }

  /**
   * Asks every live worker to stop accepting and finish its requests within
   * `deadlineMs`, waits for their reports (a second more at most), then
   * ends every thread. `drained` only if every live worker finished in time.
   */
  async drain(deadlineMs: number): Promise<"drained" | "timeout"> {
    clearInterval(this.#monitor);
    const waits: Promise<"drained" | "timeout">[] = [];
    this.#states.forEach((state, id) => {
      if (state !== "ready" && state !== "starting") return;
      this.#states[id] = "draining";
      waits.push(new Promise((resolve) => this.#drained.set(id, resolve)));
      const message: ToWorker<never> = { type: "drain", deadlineMs };
      this.#workers[id]!.postMessage(message);
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), deadlineMs + 1_000);
    });
    const outcomes = await Promise.race([Promise.all(waits), late]);
    clearTimeout(timer);
    this.terminate();
    return outcomes !== "timeout" && outcomes.every((o) => o === "drained") ? "drained" : "timeout";
  }

  /** Ends every worker thread at once, without draining. */
  terminate(): void {
    clearInterval(this.#monitor);
    for (const worker of this.#workers) worker.terminate();
  }

  #receive(id: number, data: unknown): void {
    if (!isFromWorker(data) || data.id !== id) {
      this.#die(id, "sent a message outside the protocol");
      return;
    }
    const message: FromWorker = data;
    if (message.type === "ready" && this.#states[id] === "starting") {
      this.#states[id] = "ready";
      this.#logger.info("worker {id} listening on {address}", { id, address: message.address });
      this.#ready.get(id)?.();
    } else if (message.type === "drained" && this.#states[id] === "draining") {
      this.#states[id] = "drained";
      if (message.outcome === "drained") this.#logger.info("worker {id} drained", { id });
      else this.#logger.error("worker {id} passed the drain deadline with requests unfinished", { id });
      this.#drained.get(id)?.(message.outcome);
    } else {
      this.#die(id, `sent "${message.type}" out of order`);
    }
  }

  #die(id: number, reason: string): void {
    const state = this.#states[id];
    if (state === "dead" || state === "drained") return;
    this.#states[id] = "dead";
    this.#logger.error("worker {id} died: {reason}", { id, reason });
    this.#drained.get(id)?.("timeout");
    this.#onDeath({ id, reason });
  }

  #watch(cells: Int32Array, intervalMs: number, stallLimitMs: number): void {
    const seen = Array.from(cells, (_, id) => ({ value: Atomics.load(cells, id), at: performance.now() }));
    this.#monitor = setInterval(() => {
      const now = performance.now();
      seen.forEach((last, id) => {
        if (this.#states[id] !== "ready") return;
        const value = Atomics.load(cells, id);
        if (value !== last.value) {
          last.value = value;
          last.at = now;
        } else if (now - last.at > stallLimitMs) {
          this.#die(id, `no heartbeat for ${Math.round(now - last.at)} ms (the thread exited or is stuck)`);
        }
      });
    }, intervalMs);
  }
}
