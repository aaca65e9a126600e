/**
 * Runs the password-strength estimate (`password_strength.ts`) where it
 * cannot stall the server: {@link WorkerStrengthEstimator} sends each
 * password to one Worker, started at the first use, and waits for its
 * verdict. At most `maxPending` estimates wait at once; beyond that the
 * request is answered 503 with `Retry-After`, like an overloaded KDF —
 * registrations from many addresses cannot queue work without bound.
 *
 * {@link InlineStrengthEstimator} runs the same estimate on the calling
 * thread: for the admin CLI (a one-shot process with nothing else to serve,
 * whose permission set need not read the Worker's module) and for tests.
 */
import { ApiError } from "../errors.ts";
import { createZxcvbn, estimateStrength, type StrengthEstimate } from "./password_strength.ts";
import type { StrengthRequest } from "./strength_worker.ts";

/** Estimates password strength. */
export interface StrengthEstimator {
  /** The estimate of `password`, with `context` (username, context words) counted as the most common words. */
  estimate(password: string, context: readonly string[]): Promise<StrengthEstimate>;
  /** Stops the Worker, if any; pending estimates are rejected. */
  close(): void;
}

/** The estimate on this thread; the estimator is built at the first call. */
export class InlineStrengthEstimator implements StrengthEstimator {
  #zxcvbn: ReturnType<typeof createZxcvbn> | null = null;

  estimate(password: string, context: readonly string[]): Promise<StrengthEstimate> {
    this.#zxcvbn ??= createZxcvbn();
    return Promise.resolve(estimateStrength(this.#zxcvbn, password, context));
  }

  close(): void {}
}

/** Options for {@link WorkerStrengthEstimator}. */
export interface WorkerStrengthEstimatorOptions {
  /** Estimates waiting or running at once; more are refused with 503. Default 32. */
  maxPending?: number;
  /** Longest an estimate may wait and run before it fails (the Worker is then replaced). Default 30000 ms. */
  timeoutMs?: number;
}

interface Pending {
  resolve(estimate: StrengthEstimate): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

/** The estimate in a Worker, so the event loop keeps serving while it runs. */
export class WorkerStrengthEstimator implements StrengthEstimator {
  readonly #maxPending: number;
  readonly #timeoutMs: number;
  readonly #pending = new Map<number, Pending>();
  #worker: Worker | null = null;
  #nextId = 0;

  constructor(options: WorkerStrengthEstimatorOptions = {}) {
    const { maxPending = 32, timeoutMs = 30_000 } = options;
    this.#maxPending = maxPending;
    this.#timeoutMs = timeoutMs;
  }

  estimate(password: string, context: readonly string[]): Promise<StrengthEstimate> {
    if (this.#pending.size >= this.#maxPending) {
      return Promise.reject(
        new ApiError("service-unavailable", "Too many password checks are waiting; retry shortly.", {
          headers: { "Retry-After": "1" },
        }),
      );
    }
    const worker = this.#worker ??= this.#start();
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => this.#fail(new Error("the password-strength Worker did not answer")),
        this.#timeoutMs,
      );
      this.#pending.set(id, { resolve, reject, timer });
      worker.postMessage({ id, password, context: [...context] } satisfies StrengthRequest);
    });
  }

  close(): void {
    this.#fail(new Error("the password-strength estimator was closed"));
  }

  #start(): Worker {
    const worker = new Worker(new URL("./strength_worker.ts", import.meta.url), {
      type: "module",
      name: "password-strength",
    });
    worker.onmessage = (event: MessageEvent<{ id: number; estimate: StrengthEstimate }>) => {
      const pending = this.#pending.get(event.data.id);
      if (!pending) return;
      this.#pending.delete(event.data.id);
      clearTimeout(pending.timer);
      pending.resolve(event.data.estimate);
    };
    worker.onerror = (event) => {
      event.preventDefault();
      this.#fail(new Error(`the password-strength Worker failed: ${event.message}`));
    };
    return worker;
  }

  /** Ends the Worker and rejects everything pending (the next estimate starts a new one). */
  #fail(error: Error): void {
    this.#worker?.terminate();
    this.#worker = null;
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    this.#pending.clear();
  }
}
