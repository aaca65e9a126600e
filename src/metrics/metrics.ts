/**
 * Prometheus metrics (`GET /metrics`), built with prom-client — the
 * maintained Prometheus client for JavaScript, which runs unchanged under
 * Deno and the server's permission set (checked: it needs no file, env or
 * network access when only a `Registry` and metric objects are used).
 *
 * Everything lives in one `Registry` made by {@link createMetrics}: never
 * prom-client's default global registry, which is module state. One
 * registry per application keeps tests independent and is what N worker
 * threads will need: each worker keeps its own, the main thread collects
 * `snapshot()` (prom-client's `getMetricsAsJSON()`) from each over
 * `postMessage`, and `AggregatorRegistry.aggregate(snapshots)` (prom-client's
 * cluster aggregator, usable without `node:cluster`) sums counters and
 * histograms into one exposition — gauges like the KDF queue then need an
 * explicit aggregation (`aggregator: "sum"`/`"max"` per metric).
 *
 * What is measured, and why each label is bounded (an attacker must not be
 * able to grow the registry):
 *
 * - `http_requests_total{method,route,status}` and
 *   `http_request_duration_seconds{method,route}`: `route` is the declared
 *   pattern (`/products/:id`) or `unmatched`, never the raw path; `method`
 *   is one of the standard methods or `other`; `status` is a 3-digit code.
 * - `rate_limit_refused_total{policy,scope}`: 429s from the rate limiter.
 * - `kdf_active`, `kdf_queued`, `kdf_refused_total`: the password-hashing
 *   guard — a rising queue or refusals mean a password flood.
 * - `credential_cache_hits_total`, `_misses_total`, `_hit_ratio`,
 *   `_entries`: how much of authentication the cache absorbs.
 * - `audit_chain_head_seq`: the audit log's last `seq`, to alert when it
 *   stops moving or goes backwards (a truncated table).
 */
import { Counter, Gauge, Histogram, type MetricObjectWithValues, type MetricValue, Registry } from "prom-client";

/** Where the gauges and mirrored counters read their values, at scrape time. */
export interface MetricSources {
  /** The KDF guard: derivations running, waiting, and refused since start. */
  kdf(): { readonly active: number; readonly queued: number; readonly refused: number };
  /** The credential cache: lookups that hit and missed since start, and entries now. */
  credentialCache(): { readonly hits: number; readonly misses: number; readonly entries: number };
  /** The `seq` of the audit chain's head (0 when empty); a data-store read, so it may be a promise. */
  auditHeadSeq(): number | Promise<number>;
}

/** The application's metrics; {@link createMetrics} makes one per application. */
export interface Metrics {
  /** Records one finished HTTP request. `route` is the declared pattern, or null when none matched. */
  observeRequest(method: string, route: string | null, status: number, seconds: number): void;
  /** Records one rate-limit refusal. */
  rateLimitRefused(policy: string, scope: string): void;
  /** The Prometheus text exposition. */
  render(): Promise<string>;
  /** Its `Content-Type` (text format 0.0.4). */
  readonly contentType: string;
  /** Every metric as data, for aggregation across workers (`AggregatorRegistry.aggregate`). */
  snapshot(): Promise<MetricObjectWithValues<MetricValue<string>>[]>;
}

/** Options for {@link createMetrics}. */
export interface MetricsOptions {
  /** Prefix of every metric name. Default `secure_api_`. */
  prefix?: string;
  /** Latency histogram buckets, in seconds. Default 1 ms … 10 s. */
  buckets?: readonly number[];
}

/** The methods kept as a label value; anything else is counted as `other`. */
const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]);

/** The `method` label of `method`. */
export function methodLabel(method: string): string {
  return METHODS.has(method) ? method : "other";
}

/** Builds the metrics over `sources` in a registry of their own. */
export function createMetrics(sources: MetricSources, options: MetricsOptions = {}): Metrics {
  const { prefix = "secure_api_", buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10] } =
    options;
  const registry = new Registry();
  const registers = [registry];

  const requests = new Counter({
    name: `${prefix}http_requests_total`,
    help: "HTTP requests answered, by method, declared route and status.",
    labelNames: ["method", "route", "status"] as const,
    registers,
  });
  const latency = new Histogram({
    name: `${prefix}http_request_duration_seconds`,
    help: "Time from receiving a request to its response, by method and declared route.",
    labelNames: ["method", "route"] as const,
    buckets: [...buckets],
    registers,
  });
  const refused = new Counter({
    name: `${prefix}rate_limit_refused_total`,
    help: "Requests refused (429) by the rate limiter, by policy and scope (client or user).",
    labelNames: ["policy", "scope"] as const,
    registers,
  });
  new Gauge({
    name: `${prefix}kdf_active`,
    help: "Password derivations running now.",
    registers,
    collect() {
      this.set(sources.kdf().active);
    },
  });
  new Gauge({
    name: `${prefix}kdf_queued`,
    help: "Password derivations waiting for a slot now.",
    registers,
    collect() {
      this.set(sources.kdf().queued);
    },
  });
  mirroredCounter(
    `${prefix}kdf_refused_total`,
    "Password derivations refused (503) because the queue was full.",
    () => sources.kdf().refused,
  );
  mirroredCounter(
    `${prefix}credential_cache_hits_total`,
    "Credential-cache lookups that found a fresh entry.",
    () => sources.credentialCache().hits,
  );
  mirroredCounter(
    `${prefix}credential_cache_misses_total`,
    "Credential-cache lookups that found none.",
    () => sources.credentialCache().misses,
  );
  new Gauge({
    name: `${prefix}credential_cache_hit_ratio`,
    help: "Hits / lookups of the credential cache since start (0 before the first lookup).",
    registers,
    collect() {
      const { hits, misses } = sources.credentialCache();
      this.set(hits + misses === 0 ? 0 : hits / (hits + misses));
    },
  });
  new Gauge({
    name: `${prefix}credential_cache_entries`,
    help: "Credentials cached now.",
    registers,
    collect() {
      this.set(sources.credentialCache().entries);
    },
  });
  new Gauge({
    name: `${prefix}audit_chain_head_seq`,
    help: "Sequence number of the last audit row (the chain head).",
    registers,
    async collect() {
      // A database that cannot answer must not fail the whole scrape: the gauge keeps its last value
      // (and /health/ready reports the database).
      try {
        this.set(await sources.auditHeadSeq());
      } catch { /* kept */ }
    },
  });

  /** A counter whose value is kept elsewhere and copied at scrape time. */
  function mirroredCounter(name: string, help: string, read: () => number): void {
    new Counter({
      name,
      help,
      registers,
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  }

  return {
    observeRequest(method, route, status, seconds) {
      const labels = { method: methodLabel(method), route: route ?? "unmatched" };
      requests.inc({ ...labels, status: String(status) });
      latency.observe(labels, seconds);
    },
    rateLimitRefused(policy, scope) {
      refused.inc({ policy, scope });
    },
    render: () => registry.metrics(),
    contentType: registry.contentType,
    snapshot: () => registry.getMetricsAsJSON(),
  };
}
