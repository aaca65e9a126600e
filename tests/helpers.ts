/**
 * Test helpers: an application on an in-memory database, with a fake clock,
 * a KDF that counts its derivations, and users made to order. Every test
 * builds its own app, so no test depends on another's data or order.
 */
import type { Logger } from "@logtape/logtape";
import type { Hono } from "hono";
import { createApp } from "../src/app.ts";
import type { AuditRecord } from "../src/audit/audit_log.ts";
import type { AppEnv } from "../src/app_env.ts";
import { type Config, parseConfig } from "../src/config.ts";
import { type KDF, pbkdf2SHA256 } from "../src/crypto/password.ts";
import { type Database, openDatabase } from "../src/db/sqlite/database.ts";
import { loadMigrations, type Migration } from "../src/db/migrations.ts";
import { migrate } from "../src/db/sqlite/migrate.ts";
import { openSQLiteStore, type SQLiteStore } from "../src/db/sqlite/sqlite_store.ts";
import { type AppDeps, createDeps, type DepsOverrides } from "../src/deps.ts";
import type { RateLimitStore } from "../src/ratelimit/store.ts";
import { isoNow } from "../src/util/clock.ts";

/** PBKDF2 iterations used in tests: real algorithm, cheap enough for hundreds of checks. */
export const TEST_ITERATIONS = 1_000;

/** A controllable clock; starts at 2026-01-01T00:00:00Z. */
export class FakeClock {
  ms = Date.parse("2026-01-01T00:00:00.000Z");
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** A KDF wrapper that counts derivations, so tests can prove when the KDF did or did not run. */
export class CountingKDF {
  calls = 0;
  readonly #inner: KDF;
  constructor(inner: KDF = pbkdf2SHA256) {
    this.#inner = inner;
  }
  readonly kdf: KDF = (password, salt, iterations) => {
    this.calls++;
    return this.#inner(password, salt, iterations);
  };
}

let migrations: Migration[] | undefined;

/** A migrated in-memory database, the raw connection: for tests of the SQL layer. */
export async function testDatabase(): Promise<Database> {
  migrations ??= await loadMigrations();
  const db = openDatabase(":memory:");
  migrate(db, migrations);
  return db;
}

/** A migrated data store over an in-memory database (or the file `path`); close it with `await using`. */
export async function testStore(path = ":memory:"): Promise<SQLiteStore> {
  migrations ??= await loadMigrations();
  return await openSQLiteStore(path, { migrations });
}

/** The peer every test request comes from unless it says otherwise. */
export const TEST_PEER = "192.0.2.10";

/** Options for {@link createTestApp}. */
export interface TestAppOptions {
  /** `APP_*` variables on top of the test defaults. */
  env?: Record<string, string>;
  /** Replaces the counting PBKDF2. */
  kdf?: KDF;
  rateLimitStore?: RateLimitStore;
  /**
   * A database file instead of the in-memory one (created and migrated), so a
   * second connection — the admin CLI, another instance — can share it.
   */
  dbPath?: string;
  /** Where audit rows and errors are logged (see `tests/log_capture.ts`). Default none. */
  logger?: Logger;
}

/** A user made by {@link TestApp.user}. */
export interface TestUser {
  id: number;
  username: string;
  password: string;
  /** The `Authorization: Basic …` value. */
  basic: string;
}

/** Everything a test needs; `await using t = await createTestApp()` closes it when the test ends. */
export interface TestApp extends AsyncDisposable {
  app: Hono<AppEnv>;
  deps: AppDeps;
  config: Config;
  store: SQLiteStore;
  /** The raw SQLite connection under the store: for tests that inspect or tamper with rows. */
  db: Database;
  clock: FakeClock;
  kdf: CountingKDF;
  /** Sends a request as if from `peer` (default {@link TEST_PEER}). */
  request(path: string, init?: RequestInit & { peer?: string }): Promise<Response>;
  /** Sends JSON with the right content type. */
  json(method: string, path: string, body: unknown, init?: RequestInit & { peer?: string }): Promise<Response>;
  /** Creates a user with `roles` and a policy-compliant password. */
  user(username: string, roles?: string[]): Promise<TestUser>;
}

/** `Authorization: Basic` for `username:password` (UTF-8). */
export function basicAuth(username: string, password: string): string {
  const bytes = new TextEncoder().encode(`${username}:${password}`);
  return `Basic ${btoa(String.fromCharCode(...bytes))}`;
}

/**
 * `n` random lower-case consonants: test passwords are strong, letters keep
 * the strength estimate cheap (digits multiply its l33t variants), and with
 * no vowel they never happen to contain a test's username.
 */
export function randomLetters(n: number): string {
  const consonants = "bcdfghjklmnpqrstvwxz";
  return Array.from(crypto.getRandomValues(new Uint8Array(n)), (b) => consonants[b % consonants.length]).join("");
}

/** Builds a fresh application for one test. */
export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const config = parseConfig({
    APP_PBKDF2_ITERATIONS: String(TEST_ITERATIONS),
    APP_RATE_LIMIT_API: "100000/60",
    APP_RATE_LIMIT_AUTH: "100000/60",
    ...options.env,
  });
  const store = await testStore(options.dbPath);
  const clock = new FakeClock();
  const kdf = new CountingKDF(options.kdf);
  // 429s are answered at once in tests; src/middleware/tarpit_test.ts covers the hold.
  const overrides: DepsOverrides = { clock: clock.now, kdf: kdf.kdf, tarpit: { sleep: () => Promise.resolve() } };
  if (options.rateLimitStore) overrides.rateLimitStore = options.rateLimitStore;
  if (options.logger) overrides.logger = options.logger;
  const deps = createDeps(config, store, overrides);
  await store.transaction((tx) => tx.roles.syncCatalogue(isoNow(clock.now)));
  const app = createApp(deps);

  const request = (path: string, init: RequestInit & { peer?: string } = {}) => {
    const { peer = TEST_PEER, ...rest } = init;
    const info = {
      remoteAddr: { transport: "tcp" as const, hostname: peer, port: 40000 },
      completed: Promise.resolve(),
    };
    return Promise.resolve(app.request(`https://localhost${path}`, rest, info));
  };

  return {
    app,
    deps,
    config,
    store,
    db: store.database,
    clock,
    kdf,
    request,
    json(method, path, body, init = {}) {
      const headers = new Headers(init.headers);
      headers.set("Content-Type", "application/json");
      return request(path, { ...init, method, headers, body: JSON.stringify(body) });
    },
    async user(username, roles = ["viewer"]) {
      const password = `pw-${randomLetters(24)}`;
      const created = await deps.services.accounts.create(username, password, { client: "test" }, roles);
      return { id: created.id, username, password, basic: basicAuth(username, password) };
    },
    [Symbol.asyncDispose]() {
      return store.close();
    },
  };
}

/** Reads a problem+json body and checks the RFC 9457 invariants every error must hold. */
export async function problem(response: Response): Promise<Record<string, unknown>> {
  const type = response.headers.get("Content-Type");
  if (type !== "application/problem+json") {
    throw new Error(`expected application/problem+json, got ${type} (status ${response.status})`);
  }
  const body = await response.json() as Record<string, unknown>;
  for (const field of ["type", "title", "status", "detail", "instance", "requestId"]) {
    if (!(field in body)) throw new Error(`problem body lacks "${field}": ${JSON.stringify(body)}`);
  }
  if (body.status !== response.status) throw new Error(`problem status ${body.status} ≠ HTTP ${response.status}`);
  if (body.requestId !== response.headers.get("X-Request-Id")) throw new Error("problem requestId ≠ X-Request-Id");
  return body;
}

/** The audit rows of `event`, oldest first. */
export function auditRows(deps: AppDeps, event: string): Promise<AuditRecord[]> {
  return deps.audit.query({ event, afterSeq: 0, limit: 1000 });
}
