/**
 * Readiness (`GET /health/ready`): may this instance take traffic? Unlike
 * liveness (`/health`, which only proves the event loop answers), it checks
 * what a request needs: the database answers a trivial query, every
 * migration in `sql/` is applied unchanged, and — when the rate-limit store
 * is remote (Redis) — it answers a PING. A load balancer takes a not-ready
 * instance out of rotation instead of letting it fail requests.
 *
 * The report names each failed check and never carries an error message, a
 * path or a connection string (those go to the log, once per change of
 * state). Results are kept for `cacheMs`, so however often the endpoint is
 * called, the database and Redis see at most one probe per interval.
 */
import type { Logger } from "@logtape/logtape";
import type { DataStore } from "../db/store.ts";
import type { RateLimitStore } from "../ratelimit/store.ts";
import type { Clock } from "../util/clock.ts";

/** The outcome of one check. */
export type CheckState = "ok" | "failed" | "not used";

/** What {@link Readiness.check} reports. */
export interface ReadinessReport {
  readonly ready: boolean;
  readonly checks: {
    readonly database: CheckState;
    readonly migrations: CheckState;
    readonly rateLimitStore: CheckState;
  };
  /** One short phrase per failed check, safe to show anyone. */
  readonly problems: readonly string[];
}

/** Options for {@link Readiness}. */
export interface ReadinessOptions {
  /** The data store: `ping()` and `migrationStatus()` (against the migrations the code ships). */
  store: Pick<DataStore, "ping" | "migrationStatus">;
  rateLimitStore: RateLimitStore;
  /** How long a report is reused, in ms. Default 1000. */
  cacheMs?: number;
  /** The time. Default `Date.now`. */
  clock?: Clock;
  /** Where the causes of failed checks go. Default none. */
  logger?: Logger | null;
}

/** Runs and caches the readiness checks. */
export class Readiness {
  readonly #options: ReadinessOptions;
  readonly #cacheMs: number;
  readonly #clock: Clock;
  #last: { at: number; report: Promise<ReadinessReport> } | undefined;
  #wasReady = true;

  constructor(options: ReadinessOptions) {
    this.#options = options;
    this.#cacheMs = options.cacheMs ?? 1_000;
    this.#clock = options.clock ?? Date.now;
  }

  /** The current report, probing at most once per `cacheMs` (concurrent callers share one probe). */
  check(): Promise<ReadinessReport> {
    const now = this.#clock();
    if (this.#last && now - this.#last.at < this.#cacheMs) return this.#last.report;
    const report = this.#probe();
    this.#last = { at: now, report };
    return report;
  }

  async #probe(): Promise<ReadinessReport> {
    const { store: data, rateLimitStore, logger = null } = this.#options;
    const problems: string[] = [];
    const causes: Record<string, unknown> = {};
    let database: CheckState = "ok";
    let migrations: CheckState = "ok";
    try {
      await data.ping();
    } catch (error) {
      database = "failed";
      migrations = "failed";
      problems.push("the database does not answer");
      causes.database = error;
    }
    if (database === "ok") {
      try {
        const status = await data.migrationStatus();
        if (status.pending.length > 0) problems.push(`migrations not applied: ${status.pending.join(", ")}`);
        if (status.changed.length > 0) {
          problems.push(`migrations changed after they were applied: ${status.changed.join(", ")}`);
        }
        if (status.pending.length + status.changed.length > 0) migrations = "failed";
      } catch (error) {
        migrations = "failed";
        problems.push("the migration history cannot be read");
        causes.migrations = error;
      }
    }
    let store: CheckState = "not used";
    if (rateLimitStore.ping) {
      try {
        await rateLimitStore.ping();
        store = "ok";
      } catch (error) {
        store = "failed";
        problems.push("the rate-limit store (Redis) does not answer");
        causes.rateLimitStore = error instanceof Error ? error.message : String(error);
      }
    }
    const ready = problems.length === 0;
    if (ready !== this.#wasReady) {
      if (ready) logger?.info("ready again");
      else logger?.warning("not ready: {problems}", { problems, causes });
      this.#wasReady = ready;
    }
    return { ready, checks: { database, migrations, rateLimitStore: store }, problems };
  }
}
