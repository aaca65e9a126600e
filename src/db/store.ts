/**
 * The data store: one asynchronous interface over users, roles and
 * permissions, products, tokens, the authorization generation and the audit
 * log, for every engine. `src/db/sqlite/` implements it over `node:sqlite`
 * (the zero-configuration default); a PostgreSQL implementation maps onto the
 * same contract (see "Mapping to PostgreSQL" below). Services and the
 * authenticator depend on this module only, never on an engine.
 *
 * ## The contract
 *
 * - **Reads outside a transaction** (`store.users.findById(…)` …) see only
 *   committed data — never another request's uncommitted writes — and each
 *   is one statement. There are no writes outside a transaction: every change
 *   goes through {@link DataStore.transaction}.
 * - **{@link DataStore.transaction}** runs `fn` in one transaction and commits
 *   when the promise it returns resolves, or rolls back when it rejects (the
 *   rejection is passed on). It retries nothing. The SQLite store takes the
 *   write lock up front (`BEGIN IMMEDIATE`) and runs one transaction at a
 *   time per process; PostgreSQL runs several at once, so a service whose
 *   rule reads then writes (the last admin, the first user) asks for
 *   `{ exclusive: true }` and every such transaction runs alone. Services
 *   re-read what they check inside the transaction.
 *   Transactions do not nest, and code inside one uses the `tx` it was given:
 *   a read through `store.*` from inside a transaction is refused (on SQLite
 *   it would wait for its own transaction to end). A `tx` used after its
 *   transaction ended throws.
 * - **{@link Transaction.afterCommit}** hooks run once the transaction has
 *   committed, in order, and never when it rolled back: log lines and cache
 *   evictions happen only for changes that really happened.
 * - **The audit chain** is one linear chain whatever the number of writers:
 *   {@link AuditWrites.lockHead} must be called in the transaction before the
 *   rows are computed; it serialises chain appends until the transaction ends
 *   (SQLite: the write lock already does; PostgreSQL: `pg_advisory_xact_lock`)
 *   and returns the head to chain from.
 * - **Errors are the store's, not the engine's**: a write that would break a
 *   uniqueness rule (a username taken in any case, a role name) rejects with
 *   {@link UniqueViolation}; a database that cannot serve now (unreachable, a
 *   lock or statement timeout) rejects with {@link StoreUnavailable}, which
 *   the HTTP layer answers with 503. Never with the engine's own message.
 * - **Ids come from the database**: `users.create` and `products.create`
 *   return the new id; callers never choose one.
 * - Every method returns a promise; large reads are async iterables read in
 *   chunks, so a log of millions of rows streams in constant memory.
 *
 * ## Mapping to PostgreSQL (porsager `npm:postgres`)
 *
 * `transaction(fn)` is `sql.begin((tx) => fn(wrap(tx)))`, with
 * `SELECT pg_advisory_xact_lock(<key>)` first when `exclusive`; the reads outside a
 * transaction use the pool (each is one statement, so autocommit sees only
 * committed data); `lockHead()` is `SELECT pg_advisory_xact_lock(<key>)`
 * followed by the head query; `afterCommit` hooks are collected in the
 * wrapper and run after `sql.begin` resolves; error code `23505`
 * (`unique_violation`) becomes {@link UniqueViolation}; `rows()`/`chunk()` are
 * keyset queries on `seq` (or a cursor inside `snapshot`); `snapshot(fn)` is
 * `sql.begin("isolation level repeatable read read only", …)`; the
 * authorization generation is the same one-row table bumped by triggers;
 * int8 columns come back as strings and must be converted.
 */
import type { Permission } from "../domain/permissions.ts";
import type { Principal } from "../domain/principal.ts";
import type {
  AuditPageQuery,
  AuditRange,
  AuditRow,
  ChainHead,
  MigrationStatus,
  PrincipalWithHash,
  Product,
  ProductInput,
  Role,
  TokenRecord,
  UpdateOutcome,
  UserRecord,
} from "./records.ts";

/**
 * A write would break a uniqueness rule: a username taken (in any case), a
 * role name that exists. Engines translate their own error into this, so
 * services never parse an engine's message.
 */
export class UniqueViolation extends Error {
  override name = "UniqueViolation";
}

/**
 * The database cannot serve now: unreachable, restarting, or a lock or
 * statement timeout (SQLite: "database is locked" after the busy timeout;
 * PostgreSQL: connection loss, `57P01`, `55P03`, `57014`). Transient: the
 * HTTP layer answers 503 with `Retry-After`, and a retry may succeed.
 */
export class StoreUnavailable extends Error {
  override name = "StoreUnavailable";
}

/** Options for {@link DataStore.transaction}. */
export interface TransactionOptions {
  /**
   * Serialise this transaction with every other exclusive one, before its
   * first statement: for check-then-act guard rails (the last admin, the first
   * user, the catalogue sync, a role still held) that two concurrent
   * transactions could otherwise both pass. PostgreSQL takes one
   * transaction-scoped advisory lock first; SQLite's transactions are all
   * serialised already. Default false.
   */
  exclusive?: boolean;
}

/** Reading users. */
export interface UserReads {
  /** The user with `id`, or undefined. */
  findById(id: number): Promise<UserRecord | undefined>;
  /** The user named `username`, compared case-insensitively. */
  findByUsername(username: string): Promise<UserRecord | undefined>;
  /** The user with roles and effective permissions, in one query. */
  loadPrincipal(id: number): Promise<Principal | undefined>;
  /** {@link UserReads.loadPrincipal} plus the stored password hash, still one query. */
  loadPrincipalWithHash(id: number): Promise<PrincipalWithHash | undefined>;
  /** The role names granted to `id`, sorted. */
  rolesOf(id: number): Promise<string[]>;
  /** Up to `limit` users with an id above `after`, by id. */
  list(after: number, limit: number): Promise<UserRecord[]>;
  /** How many enabled users hold `role`. */
  countActiveWithRole(role: string): Promise<number>;
  /** How many users exist. */
  count(): Promise<number>;
}

/** Changing users (inside a transaction). */
export interface UserWrites {
  /**
   * Inserts a user and returns its id; ids are never reused, even after a
   * delete. Rejects with {@link UniqueViolation} when the name is taken in any case.
   */
  create(username: string, passwordHash: string, now: string, mustChangePassword?: boolean): Promise<number>;
  /** Replaces the roles of `id` (duplicates ignored). */
  setRoles(id: number, roles: readonly string[], now: string): Promise<void>;
  /**
   * Stores a new password hash and whether it must be changed at first use
   * (default false: the user chose it); false when there is no such user.
   */
  setPasswordHash(id: number, hash: string, now: string, mustChangePassword?: boolean): Promise<boolean>;
  /**
   * Swaps the hash only if it is still `old` (a transparent rehash must not
   * undo a password change); the must-change flag stays as it is.
   */
  replacePasswordHash(id: number, old: string, hash: string, now: string): Promise<boolean>;
  /** Disables or enables `id`; false when there is no such user. */
  setDisabled(id: number, disabled: boolean, now: string): Promise<boolean>;
  /** Deletes `id`; its grants and tokens go with it, its products stay unowned. */
  delete(id: number): Promise<boolean>;
}

/** Reading roles. */
export interface RoleReads {
  /** The role `name`, or undefined. */
  get(name: string): Promise<Role | undefined>;
  /** Every role, by name. */
  list(): Promise<Role[]>;
  /** How many users hold `name`. */
  holderCount(name: string): Promise<number>;
}

/** Changing roles (inside a transaction). */
export interface RoleWrites {
  /** Creates a custom role. Rejects with {@link UniqueViolation} when the name exists. */
  create(name: string, description: string, permissions: readonly Permission[], now: string): Promise<Role>;
  /** Replaces a role's description and permissions. */
  update(name: string, description: string, permissions: readonly Permission[], now: string): Promise<Role>;
  /** Deletes a custom role; false for a built-in or missing one. */
  delete(name: string): Promise<boolean>;
  /**
   * Makes the permissions table equal the code catalogue
   * (`src/domain/permissions.ts`) and each built-in role hold exactly its
   * listed permissions. Idempotent.
   */
  syncCatalogue(now: string): Promise<void>;
}

/** Reading products. */
export interface ProductReads {
  /** The product with `id`, or undefined. */
  get(id: number): Promise<Product | undefined>;
  /** Up to `limit` products with an id above `after`, by id; with `q`, only names containing it (literally). */
  list(options: { after: number; limit: number; q?: string | undefined }): Promise<Product[]>;
}

/** Changing products (inside a transaction). */
export interface ProductWrites {
  /** Inserts a product owned by `ownerId` at version 1. */
  create(input: ProductInput, ownerId: number, now: string): Promise<Product>;
  /** Replaces the client fields and bumps the version, when `expectedVersion` (if given) still matches. */
  update(id: number, input: ProductInput, expectedVersion: number | null, now: string): Promise<UpdateOutcome>;
  /** Deletes a product; false when it did not exist. */
  delete(id: number): Promise<boolean>;
}

/** Reading tokens. */
export interface TokenReads {
  /** The token whose SHA-256 is `hash`, or undefined. */
  find(hash: string): Promise<TokenRecord | undefined>;
  /** Every stored token of `userId` (expired ones included until purged), oldest first. */
  listForUser(userId: number): Promise<TokenRecord[]>;
  /** The ids of the users who have stored tokens, ascending. */
  usersWithTokens(): Promise<number[]>;
}

/** Changing tokens (inside a transaction). */
export interface TokenWrites {
  /** Stores a new token hash for `userId`. */
  create(hash: string, userId: number, now: number, expiresAt: number): Promise<void>;
  /** Records use at `now` (for idle expiry). */
  touch(hash: string, now: number): Promise<void>;
  /** Deletes one token; false when it was not there. */
  revoke(hash: string): Promise<boolean>;
  /** Deletes every token of `userId`; returns how many. */
  revokeAllForUser(userId: number): Promise<number>;
  /** Deletes tokens past either expiry; returns how many. */
  purgeExpired(now: number, idleBefore: number): Promise<number>;
}

/** Reading the audit log. */
export interface AuditReads {
  /** The newest row's `seq` and `hash`, or null for an empty log. */
  head(): Promise<ChainHead | null>;
  /**
   * A page of rows matching `query` in date order (`ts`, then `seq`),
   * starting after row `afterSeq`; empty when that row does not exist.
   */
  page(query: AuditPageQuery): Promise<AuditRow[]>;
  /**
   * Up to `limit` rows with `after < seq ≤ upTo` in `seq` order; `after`
   * null starts at the very first row, whatever its `seq` (a forged row with
   * `seq` ≤ 0 must be seen by verification).
   */
  chunk(after: number | null, upTo: number, limit: number): Promise<AuditRow[]>;
  /** The rows with `since ≤ ts < until` (all by default) in `seq` order, read in chunks. */
  rows(range?: AuditRange): AsyncIterable<AuditRow>;
}

/** Appending to the audit log (inside a transaction). */
export interface AuditWrites {
  /**
   * Serialises chain appends until this transaction ends and returns the
   * head to chain from. Call it before computing the rows to insert.
   */
  lockHead(): Promise<ChainHead | null>;
  /** Inserts complete rows (sequence and hashes computed by the caller), in order. */
  insert(rows: readonly AuditRow[]): Promise<void>;
}

/** The authorization generation: one integer that triggers bump on any change to users, grants or roles. */
export interface AuthzReads {
  /** The current generation. */
  generation(): Promise<number>;
}

/** The repositories for reading: outside a transaction each read sees committed data only. */
export interface StoreReads {
  readonly users: UserReads;
  readonly roles: RoleReads;
  readonly products: ProductReads;
  readonly tokens: TokenReads;
  readonly audit: AuditReads;
  readonly authz: AuthzReads;
}

/** The repositories bound to one open transaction: its reads see its own writes. */
export interface Transaction {
  readonly users: UserReads & UserWrites;
  readonly roles: RoleReads & RoleWrites;
  readonly products: ProductReads & ProductWrites;
  readonly tokens: TokenReads & TokenWrites;
  readonly audit: AuditReads & AuditWrites;
  readonly authz: AuthzReads;
  /** Runs `hook` after this transaction commits; never when it rolls back. */
  afterCommit(hook: () => void): void;
}

/** The data store. */
export interface DataStore extends StoreReads, AsyncDisposable {
  /** The engine, for logs and readiness: `sqlite` or `postgres`. */
  readonly engine: string;
  /** Runs `fn` in one transaction; see the module documentation for the guarantees. */
  transaction<T>(fn: (tx: Transaction) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /** Runs `fn` with reads that all see one consistent snapshot (exports, verification tools). */
  snapshot<T>(fn: (reads: StoreReads) => Promise<T>): Promise<T>;
  /** Which migrations are applied and which are pending. */
  migrationStatus(): Promise<MigrationStatus>;
  /** Resolves when the database answers; rejects when it does not (readiness). */
  ping(): Promise<void>;
  /** Closes the store; waits for a running transaction first. */
  close(): Promise<void>;
}
