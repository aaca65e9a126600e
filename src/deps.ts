/**
 * Builds everything the application needs from a config and an open
 * database: repositories, the audit log, the authentication machinery and
 * the services. `main.ts`, the CLI and the tests all wire through here, with
 * overrides (clock, KDF, store) where a test needs control.
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
import type { Database } from "./db/database.ts";
import { loadMigrations } from "./db/migrate.ts";
import { createProductsRepo, type ProductsRepo } from "./db/products_repo.ts";
import { createRolesRepo, type RolesRepo } from "./db/roles_repo.ts";
import { createTokensRepo, type TokensRepo } from "./db/tokens_repo.ts";
import { createUsersRepo, type UsersRepo } from "./db/users_repo.ts";
import { createMetrics, type Metrics } from "./metrics/metrics.ts";
import { MemoryRateLimitStore } from "./ratelimit/memory_store.ts";
import { type RatePolicy, ratePolicy } from "./ratelimit/policy.ts";
import type { RateLimitStore } from "./ratelimit/store.ts";
import type { TarpitOptions } from "./middleware/tarpit.ts";
import { Accounts } from "./services/accounts.ts";
import { Readiness } from "./services/readiness.ts";
import { Roles } from "./services/roles.ts";
import type { Clock } from "./util/clock.ts";

/** The data access objects, one per table group: a service or the authenticator wraps each write. */
export interface Repositories {
  readonly users: UsersRepo;
  readonly products: ProductsRepo;
  readonly roles: RolesRepo;
  readonly tokens: TokensRepo;
}

/** The operations routes and the CLI call: each checks its rules and writes its audit row. */
export interface Services {
  readonly accounts: Accounts;
  readonly roles: Roles;
  readonly readiness: Readiness;
}

/** The application's dependencies. */
export interface AppDeps {
  readonly config: Config;
  readonly db: Database;
  readonly repos: Repositories;
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
}

/** Wires the dependencies for `config` over `db`. */
export function createDeps(config: Config, db: Database, overrides: DepsOverrides = {}): AppDeps {
  const { clock = Date.now, logger = null } = overrides;
  const repos: Repositories = {
    users: createUsersRepo(db),
    products: createProductsRepo(db),
    roles: createRolesRepo(db),
    tokens: createTokensRepo(db),
  };
  const audit = new AuditLog(db, { clock, logger });
  const hasher = new PasswordHasher({
    iterations: config.pbkdf2Iterations,
    pepper: config.pepper,
    ...(overrides.kdf ? { kdf: overrides.kdf } : {}),
  });
  const credentialCache = new CredentialCache({ clock });
  const kdfGuard = new KDFGuard({ concurrency: config.kdfConcurrency, maxQueue: config.kdfQueue });
  const bruteForce = new BruteForceGuard({ clock, maxKeys: config.rateLimitMaxKeys });
  const principals = new PrincipalCache(db, repos.users, { stamp: (hash) => credentialCache.stampOf(hash) });
  const authenticator = new Authenticator({
    db,
    users: repos.users,
    tokens: repos.tokens,
    hasher,
    credentialCache,
    kdfGuard,
    bruteForce,
    audit,
    principals,
    clock,
  });
  const rateLimitStore = overrides.rateLimitStore ??
    new MemoryRateLimitStore({ maxKeys: config.rateLimitMaxKeys, clock });
  const services: Services = {
    accounts: new Accounts({ db, users: repos.users, roles: repos.roles, authenticator, audit, clock }),
    roles: new Roles({ db, roles: repos.roles, audit, clock }),
    readiness: new Readiness({
      db,
      migrations: () => loadMigrations(),
      rateLimitStore,
      clock,
      logger: getLogger(["secure-api", "readiness"]),
    }),
  };
  return {
    config,
    db,
    repos,
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
      auditHeadSeq: () => audit.head()?.seq ?? 0,
    }),
  };
}
