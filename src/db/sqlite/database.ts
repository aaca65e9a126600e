/**
 * The SQLite database: opening with explicit pragmas, parameter-checked
 * statements, transactions with after-commit hooks, and migrations.
 *
 * Uses the built-in `node:sqlite` (no `--allow-ffi`, no native download).
 * Durability choice: WAL journal with `synchronous=FULL`, so a write is on
 * disk before its 2xx leaves the server — it survives SIGKILL and power loss,
 * at the price of one fsync per committed transaction. Reads never wait for
 * writers in WAL mode.
 */
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";

/** Named parameters for a statement: every `:name` in the SQL must be present. */
export type Params = Record<string, SQLInputValue>;

/** A row as returned by SQLite: column name to value. */
export type Row = Record<string, SQLInputValue>;

/**
 * A prepared statement that refuses a call with a missing named parameter.
 * `node:sqlite` silently binds NULL for a missing name, which turns a typo
 * into a query that matches nothing or writes NULL; here it is an error.
 * Statements with numbered placeholders (`?1` … `?N`) take exactly N values
 * through {@link Statement.runValues} instead.
 */
export class Statement {
  readonly #statement: StatementSync;
  readonly #names: readonly string[];
  readonly #positional: number;

  constructor(statement: StatementSync, names: readonly string[], positional = 0) {
    this.#statement = statement;
    this.#names = names;
    this.#positional = positional;
  }

  #check(params: Params): Params {
    if (this.#positional > 0) throw new Error("SQL with ?N placeholders takes its values through runValues()");
    for (const name of this.#names) {
      if (!(name in params)) throw new Error(`SQL parameter :${name} is missing`);
    }
    return params;
  }

  /** The first row, or undefined. */
  get<T = Row>(params: Params = {}): T | undefined {
    return this.#statement.get(this.#check(params)) as T | undefined;
  }

  /** Every row. */
  all<T = Row>(params: Params = {}): T[] {
    return this.#statement.all(this.#check(params)) as T[];
  }

  /** Every row, one at a time, without materialising the result. */
  iterate<T = Row>(params: Params = {}): IterableIterator<T> {
    return this.#statement.iterate(this.#check(params)) as IterableIterator<T>;
  }

  /** Runs a write; returns the number of changed rows and the last rowid. */
  run(params: Params = {}): { changes: number; lastInsertRowid: number } {
    const result = this.#statement.run(this.#check(params));
    return { changes: Number(result.changes), lastInsertRowid: Number(result.lastInsertRowid) };
  }

  /**
   * Runs a write with one value per numbered placeholder (`?1` … `?N`), in
   * order; the count must match. For hot paths only: `node:sqlite` looks up
   * every named parameter by name on each call, which costs more than
   * inserting a small row (the audit log's batched append is ~40% faster).
   */
  runValues(values: readonly SQLInputValue[]): void {
    if (this.#names.length > 0 || values.length !== this.#positional) {
      throw new Error(`SQL expects ${this.#positional} positional values, got ${values.length}`);
    }
    this.#statement.run(...values);
  }
}

/** Options for {@link openDatabase}. */
export interface OpenOptions {
  /** Open without write access (verification and export tools). Default false. */
  readOnly?: boolean;
  /** How long a writer waits for another process's lock, in ms: a non-negative integer. Default 5000. */
  busyTimeoutMs?: number;
}

/** An open database with prepared-statement and transaction helpers. */
export class Database {
  readonly path: string;
  readonly #db: DatabaseSync;
  #depth = 0;
  #afterCommit: (() => void)[] = [];

  constructor(path: string, options: OpenOptions = {}) {
    const { readOnly = false, busyTimeoutMs = 5_000 } = options;
    // SQLite reads NaN, Infinity or a negative number here as 0: no waiting at all.
    if (!Number.isSafeInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
      throw new RangeError(`busyTimeoutMs must be a non-negative integer, not ${busyTimeoutMs}`);
    }
    this.path = path;
    this.#db = new DatabaseSync(path, {
      readOnly,
      enableForeignKeyConstraints: true,
      enableDoubleQuotedStringLiterals: false,
    });
    // The one SQL string with a value in it: a PRAGMA takes no bound parameters, and
    // node:sqlite in Deno ignores the `timeout` option. The value is a checked integer.
    // deno-lint-ignore secure-api/no-sql-string-building -- digits only, checked above
    this.#db.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}`); // nosemgrep: sql-built-from-strings
    if (!readOnly && path !== ":memory:") this.#db.exec("PRAGMA journal_mode = WAL");
    this.#db.exec("PRAGMA synchronous = FULL");
    this.#db.exec("PRAGMA foreign_keys = ON");
    // Schema-defined functions and views may not call app-defined SQL functions.
    this.#db.exec("PRAGMA trusted_schema = OFF");
  }

  /**
   * Prepares a statement. The SQL must be a constant: values go in `:named`
   * parameters, never into the string (the lint and Semgrep rules enforce it).
   */
  prepare(sql: string): Statement {
    const names = [...new Set([...sql.matchAll(/(?<![:\w]):([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!))];
    const positional = Math.max(0, ...[...sql.matchAll(/\?([1-9][0-9]*)/g)].map((m) => Number(m[1])));
    return new Statement(this.#db.prepare(sql), names, positional);
  }

  /** Runs constant SQL with no parameters (schema changes, pragmas). */
  exec(sql: string): void {
    this.#db.exec(sql);
  }

  /** True while inside {@link Database.tx}. */
  get inTransaction(): boolean {
    return this.#depth > 0;
  }

  /**
   * Runs `fn` in a transaction (`BEGIN IMMEDIATE`: the write lock is taken up
   * front, so two processes never deadlock upgrading a read lock). Nested
   * calls become savepoints. `fn` must be synchronous: an `await` inside would
   * let other requests' statements join this transaction.
   */
  tx<T>(fn: () => T): T {
    const outer = this.#depth === 0;
    const hooksBefore = this.#afterCommit.length;
    // One savepoint name for every level: SQLite's ROLLBACK TO and RELEASE act on
    // the most recent savepoint of that name, which is always this level's.
    this.#db.exec(outer ? "BEGIN IMMEDIATE" : "SAVEPOINT nested");
    this.#depth++;
    let result: T;
    try {
      result = fn();
      if (result instanceof Promise) throw new Error("Database.tx callback must be synchronous");
    } catch (error) {
      this.#depth--;
      if (outer) {
        this.#db.exec("ROLLBACK");
        this.#afterCommit = [];
      } else {
        this.#db.exec("ROLLBACK TO nested; RELEASE nested");
        // Hooks registered inside the rolled-back savepoint belong to changes that never happen.
        this.#afterCommit.length = hooksBefore;
      }
      throw error;
    }
    this.#depth--;
    if (!outer) {
      this.#db.exec("RELEASE nested");
      return result;
    }
    this.#db.exec("COMMIT");
    const hooks = this.#afterCommit;
    this.#afterCommit = [];
    for (const hook of hooks) hook();
    return result;
  }

  /**
   * Opens a transaction (`BEGIN IMMEDIATE`, or a plain `BEGIN` for a
   * read-only snapshot) that the caller ends with {@link Database.commit} or
   * {@link Database.rollback}, for callers that await in between. Only the
   * data store calls it, and it runs one such transaction at a time on the
   * connection (see `gate.ts`); {@link Database.tx} inside it nests as a
   * savepoint, as usual.
   */
  begin(mode: "immediate" | "read" = "immediate"): void {
    if (this.#depth > 0) throw new Error("a transaction is already open on this connection");
    this.#db.exec(mode === "immediate" ? "BEGIN IMMEDIATE" : "BEGIN");
    this.#depth = 1;
  }

  /** Commits the transaction opened by {@link Database.begin} and runs its after-commit hooks. */
  commit(): void {
    this.#db.exec("COMMIT");
    this.#depth = 0;
    const hooks = this.#afterCommit;
    this.#afterCommit = [];
    for (const hook of hooks) hook();
  }

  /** Rolls back the transaction opened by {@link Database.begin}, dropping its hooks. */
  rollback(): void {
    this.#depth = 0;
    this.#afterCommit = [];
    if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
  }

  /**
   * Runs `hook` once the current transaction commits (immediately when there
   * is none); dropped on rollback. Used to emit log lines and evict caches
   * only for changes that really happened.
   */
  afterCommit(hook: () => void): void {
    if (this.#depth === 0) hook();
    else this.#afterCommit.push(hook);
  }

  /** Closes the database; a clean close checkpoints the WAL into the main file. */
  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }
}

/** Opens (creating if needed) the database at `path` with the project's pragmas. */
export function openDatabase(path: string, options: OpenOptions = {}): Database {
  return new Database(path, options);
}
