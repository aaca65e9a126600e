/**
 * A counting semaphore with a bounded, first-come-first-served wait queue,
 * in a `SharedArrayBuffer`: the limit holds across every worker thread of
 * the process, and waiting never blocks an event loop (`Atomics.waitAsync`).
 * It limits the host's concurrent password derivations (the KDF guard) and
 * serialises SQLite writers across workers (the write lock, concurrency 1).
 *
 * It is a ticket semaphore. Two counters, both only ever increased:
 * `issued` (tickets handed out) and `done` (tasks finished). Ticket t may
 * run once `t − done < concurrency`; so at most `concurrency` tickets run at
 * any time, and they start in ticket order across all threads (strict FIFO,
 * no barging). A ticket is issued only while `issued − done < concurrency +
 * maxQueue`, by compare-and-swap on `issued`; beyond that the caller is
 * refused at once. `done` can only grow between the read and the swap, so
 * the check errs towards refusing, never towards admitting too many.
 * Finishing adds one to `done` and wakes every waiter on that word; each
 * checks its own ticket. Counters are int32 and compared by wrapping
 * difference, so 2^31 tasks later nothing breaks.
 *
 * Waiting: `Atomics.waitAsync` on `done` with the value just read, so a
 * release between the read and the wait is never missed (the wait returns
 * "not-equal" at once). In Deno a pending `waitAsync` does not keep the
 * event loop alive, so a timer is held while waiting.
 *
 * A thread that dies holding a ticket never finishes it: the capacity is
 * lost until the process restarts. The worker runtime therefore ends the
 * process when a worker dies rather than restarting the worker.
 *
 * Layout: int32 [magic, concurrency, maxQueue, issued, done].
 */

const MAGIC = 0x53454d31; // "SEM1"
const I_MAGIC = 0;
const I_CONCURRENCY = 1;
const I_MAX_QUEUE = 2;
const I_ISSUED = 3;
const I_DONE = 4;
const WORDS = 5;
/** Longest single `waitAsync`; the loop re-checks after it, so a lost wake-up would cost at most this. */
const WAIT_SLICE_MS = 1_000;

/** Options for {@link createSharedSemaphore}. */
export interface SharedSemaphoreLimits {
  /** Tasks running at once, host-wide. A positive integer. */
  concurrency: number;
  /** Tasks allowed to wait, host-wide; further ones are refused. A non-negative integer. */
  maxQueue: number;
}

/** Allocates a semaphore's buffer; the main thread does this once and posts it to every worker. */
export function createSharedSemaphore(limits: SharedSemaphoreLimits): SharedArrayBuffer {
  const { concurrency, maxQueue } = limits;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 2 ** 20) {
    throw new RangeError("concurrency must be a positive integer");
  }
  if (!Number.isInteger(maxQueue) || maxQueue < 0 || maxQueue > 2 ** 20) {
    throw new RangeError("maxQueue must be a non-negative integer");
  }
  const buffer = new SharedArrayBuffer(WORDS * 4);
  const words = new Int32Array(buffer);
  words[I_MAGIC] = MAGIC;
  words[I_CONCURRENCY] = concurrency;
  words[I_MAX_QUEUE] = maxQueue;
  return buffer;
}

/** One thread's handle on a shared semaphore. */
export class SharedSemaphore {
  /** Tasks running at once, host-wide. */
  readonly concurrency: number;
  /** Tasks allowed to wait, host-wide. */
  readonly maxQueue: number;
  readonly #words: Int32Array;

  /** Wraps `buffer` from {@link createSharedSemaphore}. */
  constructor(buffer: SharedArrayBuffer) {
    const words = new Int32Array(buffer);
    if (words.length !== WORDS || words[I_MAGIC] !== MAGIC) throw new TypeError("not a shared semaphore buffer");
    this.#words = words;
    this.concurrency = words[I_CONCURRENCY]!;
    this.maxQueue = words[I_MAX_QUEUE]!;
  }

  /** Tasks running now, across all threads. */
  get active(): number {
    const outstanding = this.#outstanding();
    return Math.min(outstanding, this.concurrency);
  }

  /** Tasks waiting now, across all threads. */
  get queued(): number {
    return Math.max(0, this.#outstanding() - this.concurrency);
  }

  /**
   * Takes a ticket, or returns null when `concurrency + maxQueue` tasks are
   * already running or waiting. A ticket must be passed to {@link wait} and
   * then {@link release}d exactly once.
   */
  tryAcquire(): number | null {
    const words = this.#words;
    const limit = this.concurrency + this.maxQueue;
    for (;;) {
      const issued = Atomics.load(words, I_ISSUED);
      if (((issued - Atomics.load(words, I_DONE)) | 0) >= limit) return null;
      if (Atomics.compareExchange(words, I_ISSUED, issued, (issued + 1) | 0) === issued) return issued;
    }
  }

  /** Resolves when `ticket` may run (at once when a slot is free). Never blocks the event loop. */
  async wait(ticket: number): Promise<void> {
    const words = this.#words;
    let done = Atomics.load(words, I_DONE);
    if (((ticket - done) | 0) < this.concurrency) return;
    // A pending waitAsync does not keep Deno's event loop alive; this timer does.
    const keepAlive = setInterval(() => {}, WAIT_SLICE_MS);
    try {
      while (((ticket - done) | 0) >= this.concurrency) {
        const result = Atomics.waitAsync(words, I_DONE, done, WAIT_SLICE_MS);
        if (result.async) await result.value;
        done = Atomics.load(words, I_DONE);
      }
    } finally {
      clearInterval(keepAlive);
    }
  }

  /** Finishes one admitted task and wakes the waiters (the next ticket in line starts). */
  release(): void {
    Atomics.add(this.#words, I_DONE, 1);
    Atomics.notify(this.#words, I_DONE);
  }

  /** Runs `task` under the semaphore; returns null (without running it) when refused. */
  async run<T>(task: () => T | Promise<T>): Promise<{ value: T } | null> {
    const ticket = this.tryAcquire();
    if (ticket === null) return null;
    try {
      await this.wait(ticket);
      return { value: await task() };
    } finally {
      this.release();
    }
  }

  #outstanding(): number {
    return (Atomics.load(this.#words, I_ISSUED) - Atomics.load(this.#words, I_DONE)) | 0;
  }
}
