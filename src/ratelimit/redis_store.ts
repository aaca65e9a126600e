/**
 * The Redis rate-limit store, so several API instances enforce one limit.
 *
 * One round trip per decision: a Lua script runs GCRA atomically inside
 * Redis (EVALSHA, falling back to EVAL when the script cache was flushed,
 * e.g. by a restart), using Redis's own clock (`TIME`) so instances with
 * skewed clocks still agree. Times are whole microseconds, as in
 * {@link gcra}, which Lua's doubles hold exactly. Each key holds one number
 * and expires when its TAT has passed, so Redis memory stays proportional to
 * the clients active within one window.
 *
 * Failure behaviour: the offline queue is disabled and every decision has a
 * deadline, so when Redis is down or hangs a decision fails fast with
 * {@link StoreUnavailableError} (the middleware then applies the policy:
 * `auth` closed, `api` open) instead of queueing or hanging. The deadline
 * is enforced here: node-redis's own command timeout stops counting once a
 * command is written to the socket, so it does not cover a Redis that
 * accepted the bytes and never answers. The client reconnects in the
 * background and decisions resume when Redis returns.
 */
import type { Logger } from "@logtape/logtape";
import { createHash } from "node:crypto";
import { createClient } from "redis";
import { describeDecision, emissionIntervalUs, type GCRADecision, type GCRAPolicy } from "./gcra.ts";
import { type RateLimitStore, StoreUnavailableError } from "./store.ts";

/**
 * The GCRA decision in Lua. KEYS[1] the key; ARGV the emission interval and
 * the burst capacity in µs. Returns {allowed (0/1), tat, now}, integers in µs.
 */
export const GCRA_SCRIPT = `
if redis.replicate_commands then redis.replicate_commands() end
local interval = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local tat = tonumber(redis.call('GET', KEYS[1]))
if not tat or tat < now then tat = now end
local new_tat = tat + interval
if new_tat - now <= capacity then
  redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000))
  return {1, new_tat, now}
end
return {0, tat, now}
`;

/** The SHA-1 Redis knows {@link GCRA_SCRIPT} by. */
// nosemgrep: weak-hash-algorithm -- Redis's EVALSHA names scripts by SHA-1; this names our own constant script, guards nothing
export const GCRA_SCRIPT_SHA: string = createHash("sha1").update(GCRA_SCRIPT).digest("hex");

/** Options for {@link RedisRateLimitStore.connect}. */
export interface RedisStoreOptions {
  /** Prefix of every key. Default `secure-api:rl:`. */
  prefix?: string;
  /** Longest a decision may take, in ms, before it counts as a failure. Default 250. */
  timeoutMs?: number;
  /** Longest wait for a TCP connection, in ms. Default 1000. */
  connectTimeoutMs?: number;
  /** Longest pause between reconnection attempts, in ms (backoff doubles from 100). Default 2000. */
  maxReconnectDelayMs?: number;
  /** Where connection trouble is reported. Default none. */
  logger?: Logger | null;
  /**
   * PEM of the CA (or self-signed certificate) that alone is trusted for a
   * `rediss://` connection, instead of the system store (`APP_REDIS_CA`,
   * ASVS 5.0 12.3.4). The host name is verified either way. Default none.
   */
  ca?: string | null;
}

function createRedisClient(url: string, connectTimeoutMs: number, maxReconnectDelayMs: number, ca: string | null) {
  // rediss:// turns TLS on (node-redis); a private CA replaces the system store for this connection only.
  const tls = new URL(url).protocol === "rediss:" && ca !== null ? { tls: true as const, ca } : {};
  return createClient({
    url,
    // Fail at once while disconnected rather than queue decisions for later.
    disableOfflineQueue: true,
    // Redis Enterprise maintenance notices are of no use here, and their handler reads
    // REDIS_DEBUG_MAINTENANCE from the environment, which the server's sandbox (APP_* only)
    // refuses: with them on, the handshake throws NotCapable and the store never connects.
    maintNotifications: "disabled",
    socket: {
      ...tls,
      connectTimeout: connectTimeoutMs,
      reconnectStrategy: (retries: number) => Math.min(100 * 2 ** Math.min(retries, 10), maxReconnectDelayMs),
    },
  });
}

type Client = ReturnType<typeof createRedisClient>;

/** Resolves like `promise`, or rejects with {@link StoreUnavailableError} after `ms`. */
function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StoreUnavailableError(`redis did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith("NOSCRIPT");
}

/** A rate-limit store shared through Redis. */
export class RedisRateLimitStore implements RateLimitStore {
  readonly #client: Client;
  readonly #prefix: string;
  readonly #timeoutMs: number;

  private constructor(client: Client, prefix: string, timeoutMs: number) {
    this.#client = client;
    this.#prefix = prefix;
    this.#timeoutMs = timeoutMs;
  }

  /**
   * Connects to `url`. Does not wait for Redis to be up: until it is,
   * decisions fail with {@link StoreUnavailableError} and the failure policy applies.
   */
  static connect(url: string, options: RedisStoreOptions = {}): RedisRateLimitStore {
    const {
      prefix = "secure-api:rl:",
      timeoutMs = 250,
      connectTimeoutMs = 1_000,
      maxReconnectDelayMs = 2_000,
      logger = null,
      ca = null,
    } = options;
    const client = createRedisClient(url, connectTimeoutMs, maxReconnectDelayMs, ca);
    // One warning per outage, one note when it ends: reconnection attempts are not news.
    let down = false;
    client.on("error", (error: Error) => {
      if (!down) logger?.warn("redis unavailable: {error}", { error: error.message });
      down = true;
    });
    client.on("ready", () => {
      if (down) logger?.info("redis available again");
      down = false;
    });
    client.connect().catch(() => {/* reported by the error event; reconnection continues */});
    return new RedisRateLimitStore(client, prefix, timeoutMs);
  }

  /** True while connected and able to decide. */
  get isReady(): boolean {
    return this.#client.isReady;
  }

  /** Waits until connected, at most `timeoutMs`; resolves whether it is. */
  waitUntilReady(timeoutMs: number): Promise<boolean> {
    if (this.#client.isReady) return Promise.resolve(true);
    return new Promise((resolve) => {
      const onReady = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.#client.off("ready", onReady);
        resolve(false);
      }, timeoutMs);
      this.#client.once("ready", onReady);
    });
  }

  /** Decides with one EVALSHA (plus one EVAL after Redis lost its script cache). */
  async consume(key: string, policy: GCRAPolicy): Promise<GCRADecision> {
    if (!this.#client.isReady) throw new StoreUnavailableError("redis is not connected");
    const interval = emissionIntervalUs(policy);
    const options = {
      keys: [this.#prefix + key],
      arguments: [String(interval), String(interval * policy.quota)],
    };
    const run = async () => {
      try {
        return await this.#client.evalSha(GCRA_SCRIPT_SHA, options);
      } catch (error) {
        if (!isNoScript(error)) throw error;
        return await this.#client.eval(GCRA_SCRIPT, options);
      }
    };
    let reply: unknown;
    try {
      reply = await withDeadline(run(), this.#timeoutMs);
    } catch (error) {
      if (error instanceof StoreUnavailableError) throw error;
      throw new StoreUnavailableError(`redis decision failed: ${(error as Error).message}`, { cause: error });
    }
    if (!Array.isArray(reply) || reply.length !== 3 || !reply.every((n) => typeof n === "number")) {
      throw new StoreUnavailableError("redis answered the rate-limit script with an unexpected reply");
    }
    const [allowed, tat, now] = reply as [number, number, number];
    return describeDecision(allowed === 1, tat, now, policy);
  }

  /** One PING within the decision deadline: what readiness checks. */
  async ping(): Promise<void> {
    if (!this.#client.isReady) throw new StoreUnavailableError("redis is not connected");
    try {
      await withDeadline(this.#client.ping(), this.#timeoutMs);
    } catch (error) {
      if (error instanceof StoreUnavailableError) throw error;
      throw new StoreUnavailableError(`redis ping failed: ${(error as Error).message}`, { cause: error });
    }
  }

  /** Closes the connection, waiting at most the decision deadline for commands in flight. */
  async close(): Promise<void> {
    if (!this.#client.isOpen) return;
    try {
      await withDeadline(this.#client.close(), this.#timeoutMs);
    } catch {
      this.#client.destroy();
    }
  }
}
