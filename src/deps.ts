/**
 * Builds everything the application needs from a config and an open data
 * store: the audit log, the authentication machinery and the services.
 * `main.ts`, the CLI and the tests all wire through here, with overrides
 * (clock, KDF, store) where a test needs control.
 */
import { getLogger, type Logger } from "@logtape/logtape";
import { AuditLog } from "./audit/audit_log.ts";
import { Authenticator } from "./auth/authenticator.ts";
import { BruteForceGuard } from "./auth/brute_force.ts";
import { CredentialCache } from "./auth/credential_cache.ts";
import { KDFGuard } from "./auth/kdf_guard.ts";
import { PrincipalCache } from "./auth/principal_cache.ts";
import type { Config } from "./config.ts";
import { type KDF, PasswordHasher } from "./crypto/password.ts";
import type { DataStore } from "./db/store.ts";
import { createMetrics, type Metrics } from "./metrics/metrics.ts";
import { MemoryRateLimitStore } from "./ratelimit/memory_store.ts";
import { type RatePolicy, ratePolicy } from "./ratelimit/policy.ts";
import type { RateLimitStore } from "./ratelimit/store.ts";
import type { TarpitOptions } from "./middleware/tarpit.ts";
import { CONTEXT_WORDS } from "./auth/password_strength.ts";
import type { StrengthEstimator } from "./auth/strength_estimator.ts";
import { Accounts } from "./services/accounts.ts";
import { Products } from "./services/products.ts";
import { Readiness } from "./services/readiness.ts";
import { Roles } from "./services/roles.ts";
import { Sessions } from "./services/sessions.ts";
import type { Clock } from "./util/clock.ts";

/** The operations routes and the CLI call: each checks its rules, owns its transaction and writes its audit row. */
export interface Services {
  readonly accounts: Accounts;
  readonly roles: Roles;
  readonly products: Products;
  readonly readiness: Readiness;
  readonly sessions: Sessions;
}

/** The application's dependencies. */
export interface AppDeps {
  readonly config: Config;
  /** The data: reads anywhere, writes only through the services and the authenticator. */
  readonly store: DataStore;
  readonly services: Services;
  readonly audit: AuditLog;
  readonly hasher: PasswordHasher;
  readonly credentialCache: CredentialCache;
  readonly kdfGuard: KDFGuard;
  readonly bruteForce: BruteForceGuard;
  readonly principals: PrincipalCache;
  readonly authenticator: Authenticator;
  readonly rateLimitStore: RateLimitStore;
  readonly ratePolicies: { readonly auth: RatePolicy; readonly api: RatePolicy };
  readonly logger: Logger | null;
  /** Tarpit settings; tests replace the sleep. */
  readonly tarpit: TarpitOptions;
  readonly clock: Clock;
  /** The Prometheus registry of this application (`GET /metrics`). */
  readonly metrics: Metrics;
}

/** What a caller may replace. */
export interface DepsOverrides {
  /** The time. Default `Date.now`. */
  clock?: Clock;
  /** The key-derivation function. Default PBKDF2-HMAC-SHA-256 via Web Crypto. */
  kdf?: KDF;
  /** The rate-limit store. Default in-memory, bounded by the config. */
  rateLimitStore?: RateLimitStore;
  /** Where log lines go. Default none. */
  logger?: Logger | null;
  /** How refused (429) responses are held. Default: up to 1 s, at most 1024 at once. */
  tarpit?: TarpitOptions;
  /** The password-strength estimator. Default on the calling thread; `main.ts` passes a Worker. */
  strength?: StrengthEstimator;
}

/** Wires the dependencies for `config` over `store`. */
export function createDeps(config: Config, store: DataStore, overrides: DepsOverrides = {}): AppDeps {
  const { clock = Date.now, logger = null } = overrides;
  const audit = new AuditLog(store, { clock, logger });
  const hasher = new PasswordHasher({
    iterations: config.pbkdf2Iterations,
    pepper: config.pepper,
    peppers: config.peppers,
    ...(overrides.kdf ? { kdf: overrides.kdf } : {}),
  });
  const credentialCache = new CredentialCache({ clock });
  const kdfGuard = new KDFGuard({ concurrency: config.kdfConcurrency, maxQueue: config.kdfQueue });
  const bruteForce = new BruteForceGuard({ clock, maxKeys: config.rateLimitMaxKeys });
  const principals = new PrincipalCache(store, { stamp: (hash) => credentialCache.stampOf(hash) });
  const authenticator = new Authenticator({
    store,
    hasher,
    credentialCache,
    kdfGuard,
    bruteForce,
    audit,
    principals,
    clock,
    maxSessionsPerUser: config.maxSessionsPerUser,
  });
  const rateLimitStore = overrides.rateLimitStore ??
    new MemoryRateLimitStore({ maxKeys: config.rateLimitMaxKeys, clock });
  const services: Services = {
    accounts: new Accounts({
      store,
      authenticator,
      audit,
      clock,
      ...(overrides.strength ? { strength: overrides.strength } : {}),
      contextWords: [...CONTEXT_WORDS, ...config.passwordContextWords],
    }),
    roles: new Roles({ store, audit, clock }),
    products: new Products({ store, audit, clock }),
    readiness: new Readiness({ store, rateLimitStore, clock, logger: getLogger(["secure-api", "readiness"]) }),
    sessions: new Sessions({ store, audit, clock, tokenIdleMs: authenticator.tokenIdleMs }),
  };
  return {
    config,
    store,
    services,
    audit,
    hasher,
    credentialCache,
    kdfGuard,
    bruteForce,
    principals,
    authenticator,
    rateLimitStore,
    ratePolicies: { auth: ratePolicy("auth", config.rateLimitAuth), api: ratePolicy("api", config.rateLimitApi) },
    logger,
    tarpit: overrides.tarpit ?? {},
    clock,
    metrics: createMetrics({
      kdf: () => ({ active: kdfGuard.active, queued: kdfGuard.queued, refused: kdfGuard.refused }),
      credentialCache: () => ({ ...credentialCache.stats, entries: credentialCache.size }),
      auditHeadSeq: async () => (await audit.head())?.seq ?? 0,
    }),
  };
}
