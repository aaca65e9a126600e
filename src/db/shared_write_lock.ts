/**
 * One SQLite writer at a time across the worker threads of a process,
 * taken asynchronously *before* `BEGIN IMMEDIATE`.
 *
 * Why: `node:sqlite` is synchronous. When worker B holds SQLite's write
 * lock and worker A begins a transaction, A's thread sleeps inside SQLite's
 * busy handler — its whole event loop stops, every request on A waits,
 * reads included — for up to `busy_timeout`, and then the write fails with
 * `database is locked`. The busy handler polls with growing sleeps, so the
 * lock is not fair either: a steady writer can starve the others until
 * they time out (docs/workers.md has the measurements).
 *
 * With this lock a worker waits its turn in `Atomics.waitAsync` (a FIFO
 * ticket semaphore of one in shared memory), its event loop free to serve
 * reads, and only then runs its synchronous transaction; within the
 * process SQLite's lock is then always free, so `busy_timeout` is only a
 * backstop for other processes (the admin CLI). The transaction callback
 * must be synchronous, as `Database.tx` already requires: holding the lock
 * across an `await` would stall every writer of the host behind one request.
 */
import { createSharedSemaphore, SharedSemaphore } from "../util/shared_semaphore.ts";

/** Options for {@link createSharedWriteLock}. */
export interface SharedWriteLockOptions {
  /**
   * Writers allowed to wait, host-wide, before {@link WriteQueueFullError}.
   * Default 10000: a bound on memory and on waiting, far above a healthy queue.
   */
  maxQueue?: number;
}

/** Allocates the lock's shared counters; the main thread does this once and posts the buffer to every worker. */
export function createSharedWriteLock(options: SharedWriteLockOptions = {}): SharedArrayBuffer {
  const { maxQueue = 10_000 } = options;
  return createSharedSemaphore({ concurrency: 1, maxQueue });
}

/** Too many writers are already waiting: the caller should answer 503, not queue without bound. */
export class WriteQueueFullError extends Error {
  override name = "WriteQueueFullError";
}

/** One thread's handle on the host-wide SQLite write lock. */
export class SharedWriteLock {
  readonly #semaphore: SharedSemaphore;

  /** Wraps `buffer` from {@link createSharedWriteLock}. */
  constructor(buffer: SharedArrayBuffer) {
    this.#semaphore = new SharedSemaphore(buffer);
    if (this.#semaphore.concurrency !== 1) throw new TypeError("a write lock admits one writer");
  }

  /** Writers holding the lock (0 or 1) and waiting for it, host-wide. */
  get state(): { active: number; queued: number } {
    return { active: this.#semaphore.active, queued: this.#semaphore.queued };
  }

  /**
   * Runs `write` (typically `() => db.tx(…)`) once this thread holds the
   * lock, waiting without blocking the event loop; writers run in arrival
   * order across threads. `write` must not return a promise.
   */
  async run<T>(write: () => T): Promise<T> {
    const outcome = await this.#semaphore.run(() => {
      const result = write();
      if (result instanceof Promise) throw new TypeError("SharedWriteLock.run: the write must be synchronous");
      return result;
    });
    if (outcome === null) throw new WriteQueueFullError("too many database writes are waiting");
    return outcome.value;
  }
}
