/**
 * One synchronous SQLite connection shared by asynchronous callers.
 *
 * `node:sqlite` runs each statement synchronously, so statements never
 * interleave — but a transaction whose code awaits (a service that reads,
 * decides, then writes) leaves the connection inside `BEGIN … COMMIT` while
 * other requests run. Any statement they ran on the shared connection then
 * would join that transaction: a read would see its uncommitted rows, a
 * write would commit or roll back with it. The gate prevents both:
 *
 * - a transaction takes the gate exclusively for its whole life
 *   ({@link ConnectionGate.acquire} … {@link ConnectionGate.release});
 *   transactions run one at a time, in arrival order;
 * - a read outside a transaction runs at once when the gate is free — the
 *   uncontended case costs one flag test, no timer, no extra turn of the
 *   event loop — and otherwise waits in the same queue, so it runs after the
 *   transaction ahead of it has committed or rolled back, and before any
 *   transaction that arrived after it.
 *
 * Queued work runs synchronously inside {@link ConnectionGate.release}, in
 * order, until a queued transaction takes the gate again. Across processes,
 * `BEGIN IMMEDIATE` and SQLite's file lock serialise writers as before.
 */

/** Serialises transactions and holds reads back while one is open. */
export class ConnectionGate {
  #busy = false;
  readonly #queue: (() => void)[] = [];

  /** True while a transaction holds the connection. */
  get busy(): boolean {
    return this.#busy;
  }

  /** Runs `fn` (one or more statements, synchronously) when no transaction holds the connection. */
  read<T>(fn: () => T): Promise<T> {
    if (!this.#busy) {
      try {
        return Promise.resolve(fn());
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return new Promise<T>((resolve, reject) => {
      this.#queue.push(() => {
        try {
          resolve(fn());
        } catch (error) {
          reject(error);
        }
      });
    });
  }

  /** Resolves once the caller holds the connection exclusively; end with {@link ConnectionGate.release}. */
  acquire(): Promise<void> {
    if (!this.#busy) {
      this.#busy = true;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      this.#queue.push(() => {
        this.#busy = true;
        resolve();
      });
    });
  }

  /** Gives the connection up: queued reads run now, up to the next queued transaction, which takes it. */
  release(): void {
    this.#busy = false;
    while (!this.#busy && this.#queue.length > 0) this.#queue.shift()!();
  }
}
