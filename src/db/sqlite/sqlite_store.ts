/**
 * The data store over one `node:sqlite` connection: the zero-configuration
 * default (`APP_DB`, a file). It implements the contract of
 * `src/db/store.ts` on top of the synchronous statement sets of this folder
 * (`users_repo.ts` …), which keep the project's `Statement` wrapper and
 * positional binding on the hot paths.
 *
 * Transaction safety on one shared connection (see `gate.ts`): a transaction
 * holds the connection from `BEGIN IMMEDIATE` to `COMMIT`/`ROLLBACK`, one at
 * a time; a read outside a transaction runs at once when none is open and
 * otherwise waits for it to end, so it can never see another request's
 * uncommitted rows. Code inside a transaction that reads through the store
 * instead of its `tx` would wait for itself; an `AsyncLocalStorage` marks the
 * transaction's own async context so that mistake is an immediate error, and
 * so is a nested `transaction()`.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { dirname } from "node:path";
import type { AuditRange, AuditRow, MigrationStatus } from "../records.ts";
import {
  type AuditReads,
  type AuditWrites,
  type AuthzReads,
  type DataStore,
  type ProductReads,
  type ProductWrites,
  type RoleReads,
  type RoleWrites,
  type StoreReads,
  StoreUnavailable,
  type TokenReads,
  type TokenWrites,
  type Transaction,
  type TransactionOptions,
  UniqueViolation,
  type UserReads,
  type UserWrites,
} from "../store.ts";
import { type AuditRepo, createAuditRepo } from "./audit_repo.ts";
import { type Database, openDatabase } from "./database.ts";
import { ConnectionGate } from "./gate.ts";
import { loadMigrations, type Migration } from "../migrations.ts";
import { migrate, migrationStatus } from "./migrate.ts";
import { createProductsRepo, type ProductsRepo } from "./products_repo.ts";
import { createRolesRepo, type RolesRepo } from "./roles_repo.ts";
import { createTokensRepo, type TokensRepo } from "./tokens_repo.ts";
import { createUsersRepo, type UsersRepo } from "./users_repo.ts";

/** Rows read per chunk by the async iterables (`audit.rows()`). */
const ROWS_PER_CHUNK = 500;

/** Options for {@link openSQLiteStore}. */
export interface SQLiteStoreOptions {
  /** Open without write access and apply no migration (verification and export tools). Default false. */
  readOnly?: boolean;
  /** How long a writer waits for another process's lock, in ms. Default 5000. */
  busyTimeoutMs?: number;
  /** The migrations to apply on open (and to report as pending). Default the files in `sql/` (none when read-only). */
  migrations?: readonly Migration[];
}

/** Runs one synchronous step and settles a promise with its outcome. */
type Runner = <R>(fn: () => R) => Promise<R>;

/** An open unit of work on the connection: a transaction or a snapshot. */
interface Unit {
  open: boolean;
}

/** `node:sqlite`'s errors that mean something to callers, turned into the store's typed errors. */
function translate(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  if (/UNIQUE constraint failed/.test(error.message)) {
    return new UniqueViolation("a value that must be unique is taken", { cause: error });
  }
  // SQLITE_BUSY after busy_timeout: another process held the write lock too long.
  if (/database is locked|SQLITE_BUSY/.test(error.message)) {
    return new StoreUnavailable("the database is busy", { cause: error });
  }
  return error;
}

/** The statement sets of one connection. */
interface Statements {
  readonly users: UsersRepo;
  readonly roles: RolesRepo;
  readonly products: ProductsRepo;
  readonly tokens: TokensRepo;
  readonly audit: AuditRepo;
  readonly generation: () => number;
}

/** `audit.rows(range)`: the rows in `seq` order, one chunk per step through `run`. */
async function* auditRows(sql: AuditRepo, run: Runner, range: AuditRange = {}): AsyncGenerator<AuditRow> {
  let after: number | null = null;
  for (;;) {
    const from: number | null = after;
    const chunk: AuditRow[] = await run(() => sql.rangeChunk(range, from, ROWS_PER_CHUNK));
    yield* chunk;
    if (chunk.length < ROWS_PER_CHUNK) return;
    after = chunk[chunk.length - 1]!.seq;
  }
}

/** The read half of every repository, each step through `run`. */
function readsOver(sql: Statements, run: Runner): StoreReads {
  const users: UserReads = {
    findById: (id) => run(() => sql.users.findById(id)),
    findByUsername: (username) => run(() => sql.users.findByUsername(username)),
    loadPrincipal: (id) => run(() => sql.users.loadPrincipal(id)),
    loadPrincipalWithHash: (id) => run(() => sql.users.loadPrincipalWithHash(id)),
    rolesOf: (id) => run(() => sql.users.rolesOf(id)),
    list: (after, limit) => run(() => sql.users.list(after, limit)),
    countActiveWithRole: (role) => run(() => sql.users.countActiveWithRole(role)),
    count: () => run(() => sql.users.count()),
  };
  const roles: RoleReads = {
    get: (name) => run(() => sql.roles.get(name)),
    list: () => run(() => sql.roles.list()),
    holderCount: (name) => run(() => sql.roles.holderCount(name)),
  };
  const products: ProductReads = {
    get: (id) => run(() => sql.products.get(id)),
    list: (options) => run(() => sql.products.list(options)),
  };
  const tokens: TokenReads = {
    find: (hash) => run(() => sql.tokens.find(hash)),
    listForUser: (userId) => run(() => sql.tokens.listForUser(userId)),
    usersWithTokens: () => run(() => sql.tokens.usersWithTokens()),
  };
  const audit: AuditReads = {
    head: () => run(() => sql.audit.head()),
    page: (query) => run(() => sql.audit.page(query)),
    chunk: (after, upTo, limit) => run(() => sql.audit.chunk(after, upTo, limit)),
    rows: (range) => auditRows(sql.audit, run, range),
  };
  const authz: AuthzReads = { generation: () => run(sql.generation) };
  return { users, roles, products, tokens, audit, authz };
}

/** Every repository with its writes, bound to one open transaction. */
function transactionOver(sql: Statements, run: Runner, afterCommit: (hook: () => void) => void): Transaction {
  const reads = readsOver(sql, run);
  const users: UserWrites = {
    create: (username, hash, now, mustChange) => run(() => sql.users.create(username, hash, now, mustChange)),
    setRoles: (id, roles, now) => run(() => sql.users.setRoles(id, roles, now)),
    setPasswordHash: (id, hash, now, mustChange) => run(() => sql.users.setPasswordHash(id, hash, now, mustChange)),
    replacePasswordHash: (id, old, hash, now) => run(() => sql.users.replacePasswordHash(id, old, hash, now)),
    setDisabled: (id, disabled, now) => run(() => sql.users.setDisabled(id, disabled, now)),
    delete: (id) => run(() => sql.users.delete(id)),
  };
  const roles: RoleWrites = {
    create: (name, description, permissions, now) => run(() => sql.roles.create(name, description, permissions, now)),
    update: (name, description, permissions, now) => run(() => sql.roles.update(name, description, permissions, now)),
    delete: (name) => run(() => sql.roles.delete(name)),
    syncCatalogue: (now) => run(() => sql.roles.syncCatalogue(now)),
  };
  const products: ProductWrites = {
    create: (input, ownerId, now) => run(() => sql.products.create(input, ownerId, now)),
    update: (id, input, expected, now) => run(() => sql.products.update(id, input, expected, now)),
    delete: (id) => run(() => sql.products.delete(id)),
  };
  const tokens: TokenWrites = {
    create: (hash, userId, now, expiresAt) => run(() => sql.tokens.create(hash, userId, now, expiresAt)),
    touch: (hash, now) => run(() => sql.tokens.touch(hash, now)),
    revoke: (hash) => run(() => sql.tokens.revoke(hash)),
    revokeAllForUser: (userId) => run(() => sql.tokens.revokeAllForUser(userId)),
    purgeExpired: (now, idleBefore) => run(() => sql.tokens.purgeExpired(now, idleBefore)),
  };
  const audit: AuditWrites = {
    // BEGIN IMMEDIATE already holds the write lock: no other writer, in this process or another, can append now.
    lockHead: () => run(() => sql.audit.head()),
    insert: (rows) => run(() => sql.audit.insert(rows)),
  };
  return {
    users: { ...reads.users, ...users },
    roles: { ...reads.roles, ...roles },
    products: { ...reads.products, ...products },
    tokens: { ...reads.tokens, ...tokens },
    audit: { ...reads.audit, ...audit },
    authz: reads.authz,
    afterCommit,
  };
}

/** The SQLite data store; {@link SQLiteStore.database} is the raw connection, for tools and tests. */
export class SQLiteStore implements DataStore {
  readonly engine = "sqlite";
  readonly users: UserReads;
  readonly roles: RoleReads;
  readonly products: ProductReads;
  readonly tokens: TokenReads;
  readonly audit: AuditReads;
  readonly authz: AuthzReads;
  /** The migrations applied when the store was opened. */
  readonly applied: readonly string[];
  readonly #db: Database;
  readonly #sql: Statements;
  readonly #gate = new ConnectionGate();
  readonly #unit = new AsyncLocalStorage<Unit>();
  readonly #migrations: readonly Migration[];
  #closed = false;

  constructor(db: Database, migrations: readonly Migration[], applied: readonly string[]) {
    this.#db = db;
    this.#migrations = migrations;
    this.applied = applied;
    // The audit statements first: on a file without the tables, the audit tools name the table they need.
    const audit = createAuditRepo(db);
    const generation = db.prepare("SELECT value FROM authz_generation WHERE id = 1");
    this.#sql = {
      users: createUsersRepo(db),
      roles: createRolesRepo(db),
      products: createProductsRepo(db),
      tokens: createTokensRepo(db),
      audit,
      generation: () => generation.get<{ value: number }>()!.value,
    };
    const reads = readsOver(this.#sql, (fn) => this.#read(fn));
    this.users = reads.users;
    this.roles = reads.roles;
    this.products = reads.products;
    this.tokens = reads.tokens;
    this.audit = reads.audit;
    this.authz = reads.authz;
  }

  /** The raw connection: the migrations and tools that need SQLite itself, and tests that tamper with rows. */
  get database(): Database {
    return this.#db;
  }

  #read<R>(fn: () => R): Promise<R> {
    if (this.#closed) return Promise.reject(new Error("the data store is closed"));
    if (this.#gate.busy && this.#unit.getStore()?.open) {
      return Promise.reject(
        new Error(
          "a read through the store from inside a transaction would wait for itself: use the tx's repositories",
        ),
      );
    }
    return this.#gate.read(fn);
  }

  /** A runner for statements inside `unit`: direct (the unit holds the connection), refused once it ended. */
  #runnerFor(unit: Unit): Runner {
    return <R>(fn: () => R): Promise<R> => {
      if (!unit.open) return Promise.reject(new Error("this transaction has ended; open a new one"));
      try {
        return Promise.resolve(fn());
      } catch (error) {
        return Promise.reject(translate(error));
      }
    };
  }

  /** Every SQLite transaction is exclusive (`BEGIN IMMEDIATE`, one at a time), so `options` changes nothing here. */
  async transaction<T>(fn: (tx: Transaction) => Promise<T>, _options?: TransactionOptions): Promise<T> {
    if (this.#unit.getStore()?.open) throw new Error("transactions do not nest: pass the tx you were given down");
    if (this.#closed) throw new Error("the data store is closed");
    await this.#gate.acquire();
    const unit: Unit = { open: true };
    const hooks: (() => void)[] = [];
    try {
      try {
        this.#db.begin("immediate");
      } catch (error) {
        throw translate(error);
      }
      const tx = transactionOver(this.#sql, this.#runnerFor(unit), (hook) => hooks.push(hook));
      let result: T;
      try {
        result = await this.#unit.run(unit, () => fn(tx));
        unit.open = false;
        this.#db.commit();
      } catch (error) {
        unit.open = false;
        this.#db.rollback();
        throw translate(error);
      }
      for (const hook of hooks) hook();
      return result;
    } finally {
      unit.open = false;
      this.#gate.release();
    }
  }

  async snapshot<T>(fn: (reads: StoreReads) => Promise<T>): Promise<T> {
    if (this.#unit.getStore()?.open) throw new Error("a snapshot cannot open inside a transaction");
    if (this.#closed) throw new Error("the data store is closed");
    await this.#gate.acquire();
    const unit: Unit = { open: true };
    try {
      this.#db.begin("read");
      try {
        return await this.#unit.run(unit, () => fn(readsOver(this.#sql, this.#runnerFor(unit))));
      } finally {
        unit.open = false;
        this.#db.rollback();
      }
    } finally {
      this.#gate.release();
    }
  }

  migrationStatus(): Promise<MigrationStatus> {
    return this.#read(() => migrationStatus(this.#db, this.#migrations));
  }

  ping(): Promise<void> {
    return this.#read(() => void this.#db.prepare("SELECT 1").get());
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#gate.acquire();
    this.#closed = true;
    this.#db.close();
    this.#gate.release();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Opens (creating folder and file when needed) the SQLite store at `path`,
 * applying pending migrations unless it is read-only.
 */
export async function openSQLiteStore(path: string, options: SQLiteStoreOptions = {}): Promise<SQLiteStore> {
  const { readOnly = false, busyTimeoutMs } = options;
  // A read-only store applies nothing, so it needs no migration files (the audit tools may not read sql/).
  const migrations = options.migrations ?? (readOnly ? [] : await loadMigrations());
  if (!readOnly && path !== ":memory:") await Deno.mkdir(dirname(path), { recursive: true });
  const db = openDatabase(path, { readOnly, ...(busyTimeoutMs === undefined ? {} : { busyTimeoutMs }) });
  try {
    const applied = readOnly ? [] : migrate(db, migrations);
    return new SQLiteStore(db, migrations, applied);
  } catch (error) {
    db.close();
    throw error;
  }
}
