/**
 * Configuration: every setting is an `APP_*` environment variable, parsed once
 * into a typed, deeply frozen object. Each variable is declared once, in
 * {@link SETTINGS}: its name, its parser (a zod schema over the variable's
 * text), its default (as it would be written in the environment) and what it
 * means. The list of variables and the {@link Config} type are derived from
 * that table. Parsing is pure (no `Deno.env` access, no exit): `main.ts`
 * reads the variables by name — the sandbox grants only `APP_*` — and turns
 * a {@link ConfigError} into one line.
 */
import { z } from "zod";
import { USERNAME_PATTERN, USERNAME_RULE } from "./domain/username.ts";
import { type CIDR, parseCIDR } from "./net/ip.ts";

/** PBKDF2 iterations below this are refused in production (OWASP 2023, ASVS 5.0 appendix C). */
export const MIN_PRODUCTION_ITERATIONS = 600_000;

/** A quota of `quota` requests per `windowSeconds`, e.g. `10/60`. */
export interface RatePolicyConfig {
  readonly quota: number;
  readonly windowSeconds: number;
}

/** One pepper of `APP_PEPPERS`: its version id (recorded in each hash it made) and its secret. */
export interface PepperConfig {
  readonly id: string;
  readonly secret: string;
}

/** Names an administrator must not have: the ones every credential-stuffing list tries first (ASVS 5.0 6.3.2). */
export const WELL_KNOWN_ADMIN_NAMES: ReadonlySet<string> = new Set([
  "admin",
  "administrator",
  "root",
  "sa",
  "su",
  "superuser",
  "sysadmin",
  "system",
  "operator",
  "manager",
  "test",
  "guest",
  "user",
]);

/** Where rate-limit decisions are kept. */
export type RateLimitStoreConfig = { readonly kind: "memory" } | { readonly kind: "redis"; readonly url: string };

/** Thrown by {@link parseConfig}; its message is one line naming the variable. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

const text = z.string().trim().min(1);
/** An optional setting: null when the variable is unset. */
const optional = <T extends z.ZodType<unknown, string>>(schema: T) => schema.optional().transform((v) => v ?? null);

function integer(min: number, max: number) {
  return z.string().trim().regex(/^[0-9]+$/, "must be a whole number").transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));
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

const ratePolicy = () =>
  z.string().trim().transform((raw, ctx): RatePolicyConfig => {
    const match = /^([1-9][0-9]{0,8})\/([1-9][0-9]{0,5})$/.exec(raw);
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

function isTLSRedis(url: string): boolean {
  return new URL(url).protocol === "rediss:";
}

/**
 * Why a production Redis URL is refused, or null (ASVS 5.0 12.3.1, 13.2.1,
 * 13.2.3): it must be `rediss://` (TLS, the certificate verified) and name
 * an ACL user of its own with a password — not Redis's shared, all-powerful
 * `default` user, and never no credentials at all.
 */
function productionRedisProblem(store: RateLimitStoreConfig): string | null {
  if (store.kind !== "redis") return null;
  const url = new URL(store.url);
  if (url.protocol !== "rediss:") return "production needs rediss:// (TLS) for Redis";
  if (url.username === "" || url.password === "") {
    return "production needs Redis credentials: rediss://<acl user>:<password>@host:port";
  }
  if (decodeURIComponent(url.username) === "default") {
    return "production needs a Redis ACL user of its own, not the shared default user";
  }
  return null;
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

/** `id:secret[,id:secret…]`, newest first; never echoes a secret. */
function pepperList() {
  return z.string().optional().transform((raw, ctx): PepperConfig[] => {
    const peppers: PepperConfig[] = [];
    for (const [index, part] of (raw ?? "").split(",").map((s) => s.trim()).filter(Boolean).entries()) {
      const colon = part.indexOf(":");
      const id = colon > 0 ? part.slice(0, colon) : "";
      const secret = colon > 0 ? part.slice(colon + 1) : "";
      const problem = !/^[a-z0-9]{1,16}$/.test(id)
        ? `entry ${index + 1} must be "<id>:<secret>" with an id of 1-16 of [a-z0-9]`
        : secret.length < 32
        ? `the secret of "${id}" must be at least 32 characters`
        : peppers.some((p) => p.id === id)
        ? `"${id}" is given twice`
        : null;
      if (problem) {
        ctx.addIssue({ code: "custom", message: problem });
        return z.NEVER;
      }
      peppers.push({ id, secret });
    }
    return peppers;
  });
}

/** One configuration variable. */
export interface Setting<T> {
  /** The environment variable. */
  readonly name: `APP_${string}`;
  /** Parses the variable's text (the default's when unset; `undefined` when neither). */
  readonly schema: z.ZodType<T, string | undefined>;
  /** The value used when the variable is unset or empty, written as in the environment. */
  readonly default?: string;
  /** What it means, for the README and `--help` texts. */
  readonly doc: string;
  /**
   * A secret: it may instead be read from the file named by `<name>_FILE`
   * (see `src/config_secrets.ts`), so an orchestrator or vault agent can mount
   * it, and it is never echoed in an error.
   */
  readonly secret?: true;
}

function setting<T>(declaration: Setting<T>): Setting<T> {
  return declaration;
}

/** Every configuration variable, keyed by its field in {@link Config}. */
export const SETTINGS = {
  env: setting({
    name: "APP_ENV",
    schema: z.enum(["development", "production"]),
    default: "development",
    doc: "`development` or `production`; production refuses a generated certificate and weak settings.",
  }),
  host: setting({ name: "APP_HOST", schema: text, default: "127.0.0.1", doc: "The address to listen on." }),
  port: setting({ name: "APP_PORT", schema: integer(1, 65535), default: "8443", doc: "The HTTPS port." }),
  dbPath: setting({
    name: "APP_DB",
    schema: text,
    default: "data/app.db",
    doc: "The SQLite database file; `:memory:` for throwaway runs.",
  }),
  tlsCertFile: setting({
    name: "APP_TLS_CERT",
    schema: optional(text),
    doc: "PEM certificate chain; with APP_TLS_KEY, or neither for the development certificate in `certs/`.",
  }),
  tlsKeyFile: setting({ name: "APP_TLS_KEY", schema: optional(text), doc: "PEM private key of APP_TLS_CERT." }),
  pbkdf2Iterations: setting({
    name: "APP_PBKDF2_ITERATIONS",
    schema: integer(1_000, 10_000_000),
    default: String(MIN_PRODUCTION_ITERATIONS),
    doc: `PBKDF2-HMAC-SHA-256 iterations for new hashes; at least ${MIN_PRODUCTION_ITERATIONS} in production.`,
  }),
  pepper: setting({
    name: "APP_PEPPER",
    schema: optional(z.string().min(32, "must be at least 32 characters")),
    doc: "Optional unversioned secret (≥ 32 characters) mixed into password hashes with HMAC-SHA-256; " +
      "APP_PEPPERS supersedes it, and it then only verifies the hashes it made (until each is rehashed).",
    secret: true,
  }),
  peppers: setting({
    name: "APP_PEPPERS",
    schema: pepperList(),
    doc: "Versioned peppers `id:secret,…`, newest first: new hashes use the first and record its id; " +
      "older ids still verify, and a login rehashes to the newest (docs/crypto_inventory.md).",
    secret: true,
  }),
  trustProxy: setting({
    name: "APP_TRUST_PROXY",
    schema: list(parseTrustedProxy, "an IP address or CIDR of your proxies (a /0 trusts everyone)"),
    doc: "Comma-separated CIDRs whose `X-Forwarded-For` is believed.",
  }),
  rateLimitStore: setting({
    name: "APP_RATE_LIMIT_STORE",
    schema: z.string().trim().refine(isRateLimitStore, 'must be "memory" or a redis://host:port URL')
      .transform((v): RateLimitStoreConfig => v === "memory" ? { kind: "memory" } : { kind: "redis", url: v }),
    default: "memory",
    doc: "`memory`, or a `redis://host:port` URL shared by several instances; production needs " +
      "`rediss://user:password@host:port` (TLS, an ACL user of its own).",
    secret: true,
  }),
  redisCA: setting({
    name: "APP_REDIS_CA",
    schema: optional(text),
    doc: "PEM file of the CA (or certificate) that alone is trusted for `rediss://`; default the system store.",
  }),
  rateLimitAuth: setting({
    name: "APP_RATE_LIMIT_AUTH",
    schema: ratePolicy(),
    default: "10/60",
    doc: "`quota/window seconds` for register, login and password change, per client.",
  }),
  rateLimitApi: setting({
    name: "APP_RATE_LIMIT_API",
    schema: ratePolicy(),
    default: "600/60",
    doc: "`quota/window seconds` for every other route, per client and per user.",
  }),
  rateLimitMaxKeys: setting({
    name: "APP_RATE_LIMIT_MAX_KEYS",
    schema: integer(100, 10_000_000),
    default: "100000",
    doc: "Keys the in-memory stores keep before evicting the least recently used.",
  }),
  corsOrigins: setting({
    name: "APP_CORS_ORIGINS",
    schema: list(parseOrigin, "an exact origin like https://app.example.com (never *)"),
    doc: "Exact origins allowed to call the API from a browser; never `*`.",
  }),
  logLevel: setting({
    name: "APP_LOG_LEVEL",
    schema: z.enum(["trace", "debug", "info", "warning", "error", "fatal"]),
    default: "info",
    doc: "The least severe level logged; `debug` and `trace` are refused in production.",
  }),
  logFormat: setting({
    name: "APP_LOG_FORMAT",
    schema: z.enum(["json", "pretty"]),
    default: "json",
    doc: "`json` (one object per line) or `pretty` for a terminal.",
  }),
  accessLog: setting({
    name: "APP_ACCESS_LOG",
    schema: z.enum(["on", "off"]).transform((value) => value === "on"),
    default: "on",
    doc:
      "One line per request (category `secure-api.access`): method, route, path, status, duration, user, client; `off` to disable.",
  }),
  logFile: setting({
    name: "APP_LOG_FILE",
    schema: optional(text),
    doc: "Optional rotating JSON-lines file, in addition to stdout.",
  }),
  maxSessionsPerUser: setting({
    name: "APP_MAX_SESSIONS_PER_USER",
    schema: integer(1, 1_000),
    default: "10",
    doc: "Bearer tokens a user may hold at once; a login beyond it ends their oldest (docs/authentication.md).",
  }),
  passwordContextWords: setting({
    name: "APP_PASSWORD_CONTEXT_WORDS",
    schema: list((word) => word.replace(/[\s._-]/g, "").length >= 4 ? word : null, "a word of at least 4 letters"),
    doc: "Comma-separated words no password may contain (your organisation's and product's names), " +
      "besides the built-in ones (docs/authentication.md).",
  }),
  adminUsername: setting({
    name: "APP_ADMIN_USERNAME",
    schema: optional(
      z.string().regex(USERNAME_PATTERN, USERNAME_RULE).refine(
        (name) => !WELL_KNOWN_ADMIN_NAMES.has(name.toLowerCase()),
        "must not be a well-known administrator name (admin, root …): choose one an attacker cannot guess",
      ),
    ),
    doc: "The bootstrap administrator, created on the first start; when unset, a name `admin-<random>` is " +
      "generated and printed once.",
  }),
  adminPassword: setting({
    name: "APP_ADMIN_PASSWORD",
    schema: optional(z.string().min(1)),
    doc: "The bootstrap password; when unset on the first start, a random one is printed once and must be " +
      "changed at first use.",
    secret: true,
  }),
  kdfConcurrency: setting({
    name: "APP_KDF_CONCURRENCY",
    schema: integer(1, 256),
    default: String(Math.max(1, navigator.hardwareConcurrency ?? 1)),
    doc: "Password derivations that run at once (default: the CPU count).",
  }),
  kdfQueue: setting({
    name: "APP_KDF_QUEUE",
    schema: integer(0, 100_000),
    default: "64",
    doc: "Derivations allowed to wait; beyond it, 503.",
  }),
  secretsDir: setting({
    name: "APP_SECRETS_DIR",
    schema: text,
    default: "/run/secrets",
    doc: "The folder `APP_*_FILE` secrets must be in (the server's permission set reads /run/secrets).",
  }),
  watch: setting({
    name: "APP_WATCH",
    schema: z.enum(["on", "off"]).transform((value) => value === "on"),
    default: "off",
    doc: "`on` under `deno run --watch` (`deno task dev` sets it): SIGINT/SIGTERM are left to Deno's watcher, " +
      "which restarts on a change and exits on a signal; no graceful shutdown.",
  }),
  shutdownTimeoutMs: setting({
    name: "APP_SHUTDOWN_TIMEOUT_MS",
    schema: integer(0, 600_000),
    default: "10000",
    doc: "How long in-flight requests may finish after SIGTERM, in ms.",
  }),
  // The connection guard (src/net/guard/): caps and deadlines Deno.serve itself lacks.
  connectionGuard: setting({
    name: "APP_CONNECTION_GUARD",
    schema: z.enum(["on", "off"]).transform((v) => v === "on"),
    default: "on",
    doc: "`on`, or `off` only behind a proxy that bounds connections (deploy/haproxy.cfg).",
  }),
  connectionGuardPort: setting({
    name: "APP_CONNECTION_GUARD_PORT",
    schema: integer(1, 65535),
    default: "8444",
    doc: "Loopback port of the HTTPS server behind the guard.",
  }),
  maxConnections: setting({
    name: "APP_MAX_CONNECTIONS",
    schema: optional(integer(1, 1_000_000)),
    doc: "Connections held at once; unset means 1024, checked against the descriptor limit at start.",
  }),
  maxConnectionsPerClient: setting({
    name: "APP_MAX_CONNECTIONS_PER_CLIENT",
    schema: integer(1, 1_000_000),
    default: "64",
    doc: "Connections per IPv4 address or IPv6 /64; trusted proxies are exempt.",
  }),
  handshakeTimeoutMs: setting({
    name: "APP_HANDSHAKE_TIMEOUT_MS",
    schema: integer(100, 600_000),
    default: "10000",
    doc: "From connect until the TLS handshake is over, in ms.",
  }),
  idleTimeoutMs: setting({
    name: "APP_IDLE_TIMEOUT_MS",
    schema: integer(100, 3_600_000),
    default: "30000",
    doc: "A connection with nothing in flight and no byte either way, in ms.",
  }),
  requestTimeoutMs: setting({
    name: "APP_REQUEST_TIMEOUT_MS",
    schema: integer(100, 3_600_000),
    default: "30000",
    doc: "Client bytes (headers, body) the server has not answered yet, in ms.",
  }),
} as const;

type DeepReadonly<T> = T extends Uint8Array ? T
  : T extends readonly (infer U)[] ? readonly DeepReadonly<U>[]
  : T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
  : T;

/** The parsed configuration: one field per entry of {@link SETTINGS}, deeply frozen. */
export type Config = DeepReadonly<{ [K in keyof typeof SETTINGS]: z.output<(typeof SETTINGS)[K]["schema"]> }>;

/** The `<name>_FILE` variable of each secret setting (see `src/config_secrets.ts`). */
export const SECRET_FILE_VARIABLES: readonly string[] = Object.values(SETTINGS as Record<string, Setting<unknown>>)
  .filter((s) => s.secret).map((s) => `${s.name}_FILE`);

/**
 * The variables `main.ts` and the CLIs fetch: every setting, and the
 * `_FILE` form of each secret (resolved by `resolveSecretFiles` before
 * {@link parseConfig}).
 */
export const CONFIG_VARIABLES: readonly string[] = [
  ...Object.values(SETTINGS).map((s) => s.name),
  ...SECRET_FILE_VARIABLES,
];

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
  // A secret named by file and not read would leave the setting empty (an unpeppered hash, a
  // Redis without credentials): fail closed.
  const unread = SECRET_FILE_VARIABLES.find((name) => env[name] !== undefined && env[name] !== "");
  if (unread) throw new ConfigError(`${unread}: secret files are read by resolveSecretFiles() before parseConfig()`);
  const values: Record<string, unknown> = {};
  for (const [field, declaration] of Object.entries(SETTINGS) as [string, Setting<unknown>][]) {
    const given = env[declaration.name];
    const raw = given === undefined || given === "" ? declaration.default : given;
    const result = declaration.schema.safeParse(raw);
    if (!result.success) throw new ConfigError(`${declaration.name}: ${result.error.issues[0]!.message}`);
    values[field] = result.data;
  }
  const config = values as Config;
  if ((config.tlsCertFile === null) !== (config.tlsKeyFile === null)) {
    throw new ConfigError("APP_TLS_CERT: APP_TLS_CERT and APP_TLS_KEY must be set together");
  }
  if (config.connectionGuard && config.connectionGuardPort === config.port) {
    throw new ConfigError("APP_CONNECTION_GUARD_PORT: must differ from APP_PORT (the guard listens there)");
  }
  if (config.env === "production") {
    if (!config.connectionGuard && config.trustProxy.length === 0) {
      // Deno.serve facing the network with nothing bounding its connections.
      throw new ConfigError(
        "APP_CONNECTION_GUARD: off in production only behind a proxy that bounds connections " +
          "(deploy/haproxy.cfg), named in APP_TRUST_PROXY",
      );
    }
    if (config.pbkdf2Iterations < MIN_PRODUCTION_ITERATIONS) {
      throw new ConfigError(`APP_PBKDF2_ITERATIONS: must be at least ${MIN_PRODUCTION_ITERATIONS} in production`);
    }
    if (config.tlsCertFile === null) {
      throw new ConfigError(
        "APP_TLS_CERT: production needs a real certificate; the self-signed development one is refused",
      );
    }
    if (config.logLevel === "debug" || config.logLevel === "trace") {
      throw new ConfigError(`APP_LOG_LEVEL: ${config.logLevel} is refused in production (it may log request detail)`);
    }
    const redisProblem = productionRedisProblem(config.rateLimitStore);
    if (redisProblem) throw new ConfigError(`APP_RATE_LIMIT_STORE: ${redisProblem}`);
  }
  const store = config.rateLimitStore;
  if (config.redisCA !== null && (store.kind !== "redis" || !isTLSRedis(store.url))) {
    throw new ConfigError("APP_REDIS_CA: needs a rediss:// APP_RATE_LIMIT_STORE (TLS)");
  }
  return deepFreeze(config);
}
