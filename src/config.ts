/**
 * Configuration: every setting is an `APP_*` environment variable, parsed once
 * by a zod schema into a typed, deeply frozen object. Parsing is pure (no
 * `Deno.env` access, no exit): `main.ts` reads the variables by name — the
 * sandbox grants only `APP_*` — and turns a {@link ConfigError} into one line.
 */
import { z } from "zod";
import { USERNAME_PATTERN, USERNAME_RULE } from "./auth/username.ts";
import { type CIDR, parseCIDR } from "./net/ip.ts";
// --- connection guard: its variables live in src/net/connection_config.ts ---
import {
  CONNECTION_VARIABLES,
  type ConnectionConfig,
  connectionConfigOf,
  connectionSchema,
} from "./net/connection_config.ts";

/** PBKDF2 iterations below this are refused in production (OWASP 2023, ASVS 5.0 appendix C). */
export const MIN_PRODUCTION_ITERATIONS = 600_000;

/** A quota of `quota` requests per `windowSeconds`, e.g. `10/60`. */
export interface RatePolicyConfig {
  readonly quota: number;
  readonly windowSeconds: number;
}

/** The parsed configuration. Every field documents its variable and default. */
export interface Config {
  /** `APP_ENV`: `development` (default) or `production`. */
  readonly env: "development" | "production";
  /** `APP_HOST` (default `127.0.0.1`). */
  readonly host: string;
  /** `APP_PORT` (default `8443`). */
  readonly port: number;
  /** `APP_DB` (default `data/app.db`); `:memory:` for throwaway runs. */
  readonly dbPath: string;
  /** `APP_TLS_CERT` and `APP_TLS_KEY`: both or neither; neither means the development certificate in `certs/`. */
  readonly tls: { readonly certFile: string; readonly keyFile: string } | null;
  /** `APP_PBKDF2_ITERATIONS` (default 600000). */
  readonly pbkdf2Iterations: number;
  /** `APP_PEPPER`: optional secret (≥ 32 characters) mixed into every password hash with HMAC-SHA-256. */
  readonly pepper: string | null;
  /** `APP_TRUST_PROXY`: CIDRs whose `X-Forwarded-For` is believed (default: none). */
  readonly trustProxy: readonly CIDR[];
  /** `APP_RATE_LIMIT_STORE`: `memory` (default) or a `redis://host:port` URL. */
  readonly rateLimitStore: { readonly kind: "memory" } | { readonly kind: "redis"; readonly url: string };
  /** `APP_RATE_LIMIT_AUTH` (default `10/60`): register, login and password change, per client. */
  readonly rateLimitAuth: RatePolicyConfig;
  /** `APP_RATE_LIMIT_API` (default `600/60`): every other route, per client and per user. */
  readonly rateLimitApi: RatePolicyConfig;
  /** `APP_RATE_LIMIT_MAX_KEYS` (default 100000): keys kept by the in-memory store before LRU eviction. */
  readonly rateLimitMaxKeys: number;
  /** `APP_CORS_ORIGINS`: exact origins allowed to call the API from a browser (default: none). */
  readonly corsOrigins: readonly string[];
  /** `APP_LOG_LEVEL` (default `info`). */
  readonly logLevel: "trace" | "debug" | "info" | "warning" | "error" | "fatal";
  /** `APP_LOG_FORMAT`: `json` (default, one JSON object per line) or `pretty`. */
  readonly logFormat: "json" | "pretty";
  /** `APP_LOG_FILE`: optional rotating JSON-lines file, in addition to stdout. */
  readonly logFile: string | null;
  /** `APP_ADMIN_USERNAME` (default `admin`): the bootstrap administrator. */
  readonly adminUsername: string;
  /** `APP_ADMIN_PASSWORD`: the bootstrap password; when unset on first start a random one is printed once. */
  readonly adminPassword: string | null;
  /** `APP_KDF_CONCURRENCY` (default: CPU count): password derivations run at once. */
  readonly kdfConcurrency: number;
  /** `APP_KDF_QUEUE` (default 64): derivations allowed to wait; beyond it, 503. */
  readonly kdfQueue: number;
  /** `APP_SHUTDOWN_TIMEOUT_MS` (default 10000): how long in-flight requests may finish after SIGTERM. */
  readonly shutdownTimeoutMs: number;
  // --- connection guard ---
  /** The connection guard, caps and deadlines (`APP_CONNECTION_GUARD`, `APP_MAX_CONNECTIONS*`, `APP_*_TIMEOUT_MS`). */
  readonly connections: ConnectionConfig;
}

/** Thrown by {@link parseConfig}; its message is one line naming the variable. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** The variables {@link parseConfig} reads, so `main.ts` can fetch exactly these. */
export const CONFIG_VARIABLES = [
  "APP_ENV",
  "APP_HOST",
  "APP_PORT",
  "APP_DB",
  "APP_TLS_CERT",
  "APP_TLS_KEY",
  "APP_PBKDF2_ITERATIONS",
  "APP_PEPPER",
  "APP_TRUST_PROXY",
  "APP_RATE_LIMIT_STORE",
  "APP_RATE_LIMIT_AUTH",
  "APP_RATE_LIMIT_API",
  "APP_RATE_LIMIT_MAX_KEYS",
  "APP_CORS_ORIGINS",
  "APP_LOG_LEVEL",
  "APP_LOG_FORMAT",
  "APP_LOG_FILE",
  "APP_ADMIN_USERNAME",
  "APP_ADMIN_PASSWORD",
  "APP_KDF_CONCURRENCY",
  "APP_KDF_QUEUE",
  "APP_SHUTDOWN_TIMEOUT_MS",
  // --- connection guard ---
  ...CONNECTION_VARIABLES,
] as const;

const optionalText = z.string().trim().min(1).optional();

function integer(min: number, max: number, fallback: number) {
  return z.string().trim().regex(/^[0-9]+$/, "must be a whole number").transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`))
    .optional().transform((v) => v ?? fallback);
}

function list<T>(item: (text: string) => T | null, what: string) {
  return z.string().optional().transform((raw, ctx) => {
    const out: T[] = [];
    for (const part of (raw ?? "").split(",").map((s) => s.trim()).filter(Boolean)) {
      const parsed = item(part);
      if (parsed === null) {
        ctx.addIssue({ code: "custom", message: `"${part}" is not ${what}` });
        return z.NEVER;
      }
      out.push(parsed);
    }
    return out;
  });
}

const ratePolicy = (fallback: string) =>
  z.string().trim().optional().transform((raw, ctx): RatePolicyConfig => {
    const match = /^([1-9][0-9]{0,8})\/([1-9][0-9]{0,5})$/.exec(raw ?? fallback);
    if (!match) {
      ctx.addIssue({ code: "custom", message: 'must be "<quota>/<window seconds>", e.g. 600/60' });
      return z.NEVER;
    }
    const quota = Number(match[1]);
    const windowSeconds = Number(match[2]);
    // GCRA spaces requests by window/quota in whole microseconds: finer than that is not a rate.
    if (quota > windowSeconds * 1_000_000) {
      ctx.addIssue({ code: "custom", message: "allows more than one request per microsecond" });
      return z.NEVER;
    }
    return { quota, windowSeconds };
  });

/** `memory`, or a redis:// / rediss:// URL with a host. Never echoes the value: it may hold a password. */
function isRateLimitStore(value: string): boolean {
  if (value === "memory") return true;
  try {
    const url = new URL(value);
    return (url.protocol === "redis:" || url.protocol === "rediss:") && url.hostname !== "";
  } catch {
    return false;
  }
}

/** A trusted-proxy block; `/0` is refused because it would let every client write its own address. */
function parseTrustedProxy(text: string): CIDR | null {
  const cidr = parseCIDR(text);
  return cidr && cidr.prefix > 0 ? cidr : null;
}

function parseOrigin(text: string): string | null {
  if (text === "*") return null;
  try {
    const url = new URL(text);
    if (url.protocol !== "https:" && url.protocol !== "http:") return null;
    // An origin is scheme://host[:port] with nothing after it.
    return url.origin === text ? url.origin : null;
  } catch {
    return null;
  }
}

const schema = z.object({
  APP_ENV: z.enum(["development", "production"]).default("development"),
  APP_HOST: z.string().trim().min(1).default("127.0.0.1"),
  APP_PORT: integer(1, 65535, 8443),
  APP_DB: z.string().trim().min(1).default("data/app.db"),
  APP_TLS_CERT: optionalText,
  APP_TLS_KEY: optionalText,
  APP_PBKDF2_ITERATIONS: integer(1_000, 10_000_000, 600_000),
  APP_PEPPER: z.string().min(32, "must be at least 32 characters").optional(),
  APP_TRUST_PROXY: list(parseTrustedProxy, "an IP address or CIDR of your proxies (a /0 trusts everyone)"),
  APP_RATE_LIMIT_STORE: z.string().trim().default("memory").refine(
    isRateLimitStore,
    'must be "memory" or a redis://host:port URL',
  ),
  APP_RATE_LIMIT_AUTH: ratePolicy("10/60"),
  APP_RATE_LIMIT_API: ratePolicy("600/60"),
  APP_RATE_LIMIT_MAX_KEYS: integer(100, 10_000_000, 100_000),
  APP_CORS_ORIGINS: list(parseOrigin, "an exact origin like https://app.example.com (never *)"),
  APP_LOG_LEVEL: z.enum(["trace", "debug", "info", "warning", "error", "fatal"]).default("info"),
  APP_LOG_FORMAT: z.enum(["json", "pretty"]).default("json"),
  APP_LOG_FILE: optionalText,
  APP_ADMIN_USERNAME: z.string().regex(USERNAME_PATTERN, USERNAME_RULE)
    .default("admin"),
  APP_ADMIN_PASSWORD: z.string().min(1).optional(),
  APP_KDF_CONCURRENCY: integer(1, 256, Math.max(1, navigator.hardwareConcurrency ?? 1)),
  APP_KDF_QUEUE: integer(0, 100_000, 64),
  APP_SHUTDOWN_TIMEOUT_MS: integer(0, 600_000, 10_000),
  // --- connection guard ---
  ...connectionSchema,
});

function deepFreeze<T>(value: T): T {
  // Typed arrays (CIDR bytes) cannot be frozen; they are never handed out for mutation.
  if (value && typeof value === "object" && !ArrayBuffer.isView(value) && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

/**
 * Parses the environment into a frozen {@link Config}. Throws a
 * {@link ConfigError} whose message names the first bad variable.
 * Production refuses settings that are only acceptable on a laptop.
 */
export function parseConfig(env: Readonly<Record<string, string | undefined>>): Config {
  const input: Record<string, string> = {};
  for (const name of CONFIG_VARIABLES) {
    const value = env[name];
    if (value !== undefined && value !== "") input[name] = value;
  }
  const result = schema.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const variable = String(issue.path[0] ?? "configuration");
    throw new ConfigError(`${variable}: ${issue.message}`);
  }
  const v = result.data;
  if ((v.APP_TLS_CERT === undefined) !== (v.APP_TLS_KEY === undefined)) {
    throw new ConfigError("APP_TLS_CERT: APP_TLS_CERT and APP_TLS_KEY must be set together");
  }
  if (v.APP_ENV === "production") {
    if (v.APP_PBKDF2_ITERATIONS < MIN_PRODUCTION_ITERATIONS) {
      throw new ConfigError(
        `APP_PBKDF2_ITERATIONS: must be at least ${MIN_PRODUCTION_ITERATIONS} in production`,
      );
    }
    if (v.APP_TLS_CERT === undefined) {
      throw new ConfigError(
        "APP_TLS_CERT: production needs a real certificate; the self-signed development one is refused",
      );
    }
  }
  // --- connection guard ---
  const connections = connectionConfigOf(v, {
    publicPort: v.APP_PORT,
    production: v.APP_ENV === "production",
    proxied: v.APP_TRUST_PROXY.length > 0,
  });
  if (typeof connections === "string") throw new ConfigError(connections);
  const store = v.APP_RATE_LIMIT_STORE === "memory"
    ? { kind: "memory" as const }
    : { kind: "redis" as const, url: v.APP_RATE_LIMIT_STORE };
  const config: Config = {
    env: v.APP_ENV,
    host: v.APP_HOST,
    port: v.APP_PORT,
    dbPath: v.APP_DB,
    tls: v.APP_TLS_CERT !== undefined && v.APP_TLS_KEY !== undefined
      ? { certFile: v.APP_TLS_CERT, keyFile: v.APP_TLS_KEY }
      : null,
    pbkdf2Iterations: v.APP_PBKDF2_ITERATIONS,
    pepper: v.APP_PEPPER ?? null,
    trustProxy: v.APP_TRUST_PROXY,
    rateLimitStore: store,
    rateLimitAuth: v.APP_RATE_LIMIT_AUTH,
    rateLimitApi: v.APP_RATE_LIMIT_API,
    rateLimitMaxKeys: v.APP_RATE_LIMIT_MAX_KEYS,
    corsOrigins: v.APP_CORS_ORIGINS,
    logLevel: v.APP_LOG_LEVEL,
    logFormat: v.APP_LOG_FORMAT,
    logFile: v.APP_LOG_FILE ?? null,
    adminUsername: v.APP_ADMIN_USERNAME,
    adminPassword: v.APP_ADMIN_PASSWORD ?? null,
    kdfConcurrency: v.APP_KDF_CONCURRENCY,
    kdfQueue: v.APP_KDF_QUEUE,
    shutdownTimeoutMs: v.APP_SHUTDOWN_TIMEOUT_MS,
    connections,
  };
  return deepFreeze(config);
}
