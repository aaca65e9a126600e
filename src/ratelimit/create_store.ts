/**
 * Chooses the rate-limit store from the configuration: memory by default,
 * Redis when `APP_RATE_LIMIT_STORE` is a `redis://` or `rediss://` URL (with
 * `APP_REDIS_CA`, only that CA is trusted for its certificate).
 */
import type { Logger } from "@logtape/logtape";
import type { Config } from "../config.ts";
import { MemoryRateLimitStore } from "./memory_store.ts";
import type { RateLimitStore } from "./store.ts";

/** Options for {@link createRateLimitStore}. */
export interface CreateStoreOptions {
  /** How long start-up waits for Redis before serving without it, in ms. Default 2000. */
  connectWaitMs?: number;
}

/**
 * The store `config` asks for. A Redis store is given a moment to connect
 * so the server does not start serving with the brake off; if Redis is
 * still unreachable the server starts anyway (auth routes answer 503, api
 * routes run unlimited, both with warnings) and picks Redis up when it appears.
 */
export async function createRateLimitStore(
  config: Config,
  logger: Logger,
  options: CreateStoreOptions = {},
): Promise<RateLimitStore> {
  const { connectWaitMs = 2_000 } = options;
  if (config.rateLimitStore.kind === "memory") return new MemoryRateLimitStore({ maxKeys: config.rateLimitMaxKeys });
  const { RedisRateLimitStore } = await import("./redis_store.ts");
  // The CA is a certificate, not a secret: keep it in certs/ (or /run/secrets), which the server may read.
  const ca = config.redisCA === null ? null : await Deno.readTextFile(config.redisCA);
  const store = RedisRateLimitStore.connect(config.rateLimitStore.url, { logger, ca });
  if (!(await store.waitUntilReady(connectWaitMs))) {
    logger.warn("starting without redis after {ms} ms: auth routes answer 503 until it is reachable", {
      ms: connectWaitMs,
    });
  }
  return store;
}
