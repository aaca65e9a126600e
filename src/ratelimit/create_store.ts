/**
 * Chooses the rate-limit store from the configuration: memory by default,
 * Redis when `APP_RATE_LIMIT_STORE` is a `redis://` URL.
 */
import type { Logger } from "@logtape/logtape";
import type { Config } from "../config.ts";
import { MemoryRateLimitStore } from "./memory_store.ts";
import type { RateLimitStore } from "./store.ts";

/** The store `config` asks for. */
export async function createRateLimitStore(config: Config, logger: Logger): Promise<RateLimitStore> {
  if (config.rateLimitStore.kind === "memory") return new MemoryRateLimitStore({ maxKeys: config.rateLimitMaxKeys });
  const { RedisRateLimitStore } = await import("./redis_store.ts");
  return RedisRateLimitStore.connect(config.rateLimitStore.url, { logger });
}
