/**
 * The Redis rate-limit store, so several API instances enforce one limit.
 *
 * One round trip per decision: a Lua script runs GCRA atomically inside
 * Redis (EVALSHA, falling back to EVAL once after a restart flushes the
 * script cache), using Redis's own clock so instances with skewed clocks
 * still agree. Each key holds one number and expires when its TAT has
 * passed, so Redis memory stays proportional to active clients.
 *
 * Failure behaviour: the offline queue is disabled and every command has a
 * timeout, so when Redis is down a decision fails fast with
 * {@link StoreUnavailableError} (the middleware then applies the policy:
 * `auth` closed, `api` open) instead of hanging; the client reconnects in the
 * background and decisions resume when Redis returns.
 */
import type { Logger } from "@logtape/logtape";
import { createHash } from "node:crypto";
import { createClient } from "redis";
import { describeDecision, type GCRADecision, type GCRAPolicy } from "./gcra.ts";
import { type RateLimitStore, StoreUnavailableError } from "./store.ts";

/** The GCRA decision in Lua; returns {allowed (0/1), tat, now} with times in ms. */
export const GCRA_SCRIPT = `
local interval = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local new_tat = tat + interval
if new_tat - now <= window then
  redis.call('SET', KEYS[1], string.format('%.3f', new_tat), 'PX', math.ceil(new_tat - now))
  return {1, string.format('%.3f', new_tat), tostring(now)}
end
return {0, string.format('%.3f', tat), tostring(now)}
`;

const SCRIPT_SHA = createHash("sha1").update(GCRA_SCRIPT).digest("hex");

/** Options for {@link RedisRateLimitStore.connect}. */
export interface RedisStoreOptions {
  /** Prefix of every key. Default `secure-api:rl:`. */
  prefix?: string;
  /** Per-command timeout in ms. Default 250. */
  timeoutMs?: number;
  /** Where connection trouble is reported. Default none. */
  logger?: Logger | null;
}

function createRedisClient(url: string, timeoutMs: number) {
  return createClient({
    url,
    disableOfflineQueue: true,
    commandOptions: { timeout: timeoutMs },
    socket: { connectTimeout: 1_000, reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 2_000) },
  });
}

type Client = ReturnType<typeof createRedisClient>;

/** A rate-limit store shared through Redis. */
export class RedisRateLimitStore implements RateLimitStore {
  readonly #client: Client;
  readonly #prefix: string;

  private constructor(client: Client, prefix: string) {
    this.#client = client;
    this.#prefix = prefix;
  }

  /**
   * Connects to `url`. Does not wait for Redis to be up: until it is,
   * decisions fail with {@link StoreUnavailableError} and the failure policy applies.
   */
  static connect(url: string, options: RedisStoreOptions = {}): RedisRateLimitStore {
    const { prefix = "secure-api:rl:", timeoutMs = 250, logger = null } = options;
    const client = createRedisClient(url, timeoutMs);
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
    return new RedisRateLimitStore(client, prefix);
  }

  async consume(key: string, policy: GCRAPolicy): Promise<GCRADecision> {
    if (!this.#client.isReady) throw new StoreUnavailableError("redis is not connected");
    const options = {
      keys: [this.#prefix + key],
      arguments: [String(policy.windowMs / policy.quota), String(policy.windowMs)],
    };
    let reply: unknown;
    try {
      try {
        reply = await this.#client.evalSha(SCRIPT_SHA, options);
      } catch (error) {
        if (!String((error as Error).message).includes("NOSCRIPT")) throw error;
        reply = await this.#client.eval(GCRA_SCRIPT, options);
      }
    } catch (error) {
      throw new StoreUnavailableError(`redis decision failed: ${(error as Error).message}`, { cause: error });
    }
    const [allowed, tat, now] = reply as [number, string, string];
    return describeDecision(allowed === 1, Number(tat), Number(now), policy);
  }

  async close(): Promise<void> {
    if (this.#client.isOpen) await this.#client.close();
  }
}
