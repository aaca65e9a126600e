/**
 * PostgreSQL migrations: the numbered files of `sql/postgres/`, each applied
 * once, in order, in its own transaction, recorded with a SHA-256 checksum
 * (an applied file edited afterwards stops the start), like the SQLite runner.
 *
 * Many instances may start at once against one database. Each transaction
 * first takes a transaction-scoped advisory lock, then decides whether its
 * migration is still pending: so exactly one instance applies each file and
 * the others wait, then find it recorded. The lock is released by COMMIT or
 * ROLLBACK, and by the server if the instance dies.
 *
 * Run as the owner role (`APP_DATABASE_OWNER_URL`), then the application role
 * is given exactly its grants (005) with its name as a bound parameter. Run
 * as the application role itself, that role owns every table and could drop
 * the audit log's triggers: {@link migratePostgres} returns a warning saying
 * so, for the start-up log.
 */
import { createHash } from "node:crypto";
import type postgres from "postgres";
import { loadMigrations, type Migration, MigrationError } from "../migrations.ts";

/** The folder holding the PostgreSQL migrations (included by `deno compile --include sql`). */
export const POSTGRES_MIGRATIONS_DIR = new URL("../../../sql/postgres/", import.meta.url);

/** The advisory lock key of the migrator: one constant for every instance of the application. */
export const MIGRATION_LOCK_KEY = 0x5ec_a91_001;

/** Reads and orders the `NNN_name.sql` files of `sql/postgres/`. */
export function loadPostgresMigrations(dir: URL = POSTGRES_MIGRATIONS_DIR): Promise<Migration[]> {
  return loadMigrations(dir);
}

/** Options for {@link migratePostgres}. */
export interface PostgresMigrateOptions {
  /**
   * The application's role (the user of `APP_DATABASE_URL`) when migrations
   * run as another role: it is granted exactly what the application needs.
   * Null or the migrating role itself: no grants, and a warning. Default null.
   */
  appRole?: string | null;
  /** How long to wait for another instance's migration, in ms. Default 60000. */
  lockWaitMs?: number;
  /** Current time, for `applied_at`. Default `() => new Date()`. */
  clock?: () => Date;
}

/** What {@link migratePostgres} did and what the operator should know. */
export interface PostgresMigrateResult {
  /** Names of the migrations applied by this call (empty when another instance applied them). */
  readonly applied: string[];
  /** One line each, for the start-up log: weakened guarantees found in the catalogue. */
  readonly warnings: string[];
}

function checksum(sql: string): string {
  return createHash("sha256").update(sql).digest("hex");
}

/** Begins a locked step: the advisory lock, and timeouts fit for DDL behind other instances. */
async function lockedStep(tx: postgres.TransactionSql, lockWaitMs: number): Promise<void> {
  await tx`SELECT set_config('lock_timeout', ${`${lockWaitMs}ms`}, true),
    set_config('statement_timeout', '0', true)`;
  await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`;
}

/**
 * Applies the pending `migrations` on `sql` (a pool logged in as the role
 * that should own the schema), grants the application role, and reports
 * what weakens append-only. Throws {@link MigrationError} on a failed or
 * edited migration; a failed one leaves no trace.
 */
export async function migratePostgres(
  sql: postgres.Sql,
  migrations: readonly Migration[],
  options: PostgresMigrateOptions = {},
): Promise<PostgresMigrateResult> {
  const { appRole = null, lockWaitMs = 60_000, clock = () => new Date() } = options;
  await sql.begin(async (tx) => {
    await lockedStep(tx, lockWaitMs);
    await tx`CREATE TABLE IF NOT EXISTS schema_migrations (
      version    integer PRIMARY KEY,
      name       text NOT NULL,
      checksum   text NOT NULL,
      applied_at text NOT NULL
    )`;
  });

  const applied: string[] = [];
  for (const migration of migrations) {
    const sum = checksum(migration.sql);
    let done: boolean;
    try {
      done = await sql.begin(async (tx) => {
        await lockedStep(tx, lockWaitMs);
        const [previous] = await tx<{ checksum: string }[]>`
          SELECT checksum FROM schema_migrations WHERE version = ${migration.version}`;
        if (previous) {
          if (previous.checksum !== sum) throw new MigrationError(`${migration.name} was changed after it was applied`);
          return false;
        }
        // A whole file of constant SQL from sql/postgres/, run with the simple query protocol.
        await tx.unsafe(migration.sql).simple();
        await tx`INSERT INTO schema_migrations (version, name, checksum, applied_at)
          VALUES (${migration.version}, ${migration.name}, ${sum}, ${clock().toISOString()})`;
        return true;
      });
    } catch (error) {
      if (error instanceof MigrationError) throw error;
      throw new MigrationError(`${migration.name} failed: ${(error as Error).message}`, { cause: error });
    }
    if (done) applied.push(migration.name);
  }

  const [{ migrator } = { migrator: "" }] = await sql<{ migrator: string }[]>`SELECT current_user AS migrator`;
  const separate = appRole !== null && appRole !== migrator;
  if (separate) {
    try {
      await sql.begin(async (tx) => {
        await lockedStep(tx, lockWaitMs);
        await tx`SELECT secure_api_grant_app_role(${appRole})`;
      });
    } catch (error) {
      throw new MigrationError(`granting the application role failed: ${(error as Error).message}`, { cause: error });
    }
  }
  return { applied, warnings: await appendOnlyWarnings(sql, separate ? appRole : migrator) };
}

/**
 * Looks in the catalogue for what would let `role` (the application's) alter
 * the audit log despite the grants: owning it, being a superuser, or holding
 * UPDATE, DELETE or TRUNCATE on it.
 */
export async function appendOnlyWarnings(sql: postgres.Sql, role: string): Promise<string[]> {
  const [state] = await sql<{ owner: boolean; superuser: boolean; writes: boolean }[]>`
    SELECT
      pg_has_role(${role}, c.relowner, 'USAGE') AS owner,
      (SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = ${role}) AS superuser,
      has_table_privilege(${role}, c.oid, 'UPDATE, DELETE, TRUNCATE') AS writes
    FROM pg_class c WHERE c.oid = to_regclass('public.audit_log')`;
  const warnings: string[] = [];
  if (state?.superuser) {
    warnings.push(
      `the application role ${role} is a superuser: it can switch the audit log's triggers off; use a plain role`,
    );
  } else if (state?.owner) {
    warnings.push(
      `the application role ${role} owns the schema (APP_DATABASE_OWNER_URL is not set): ` +
        "append-only audit_log rests on its triggers alone, which the owner can drop",
    );
  } else if (state?.writes) {
    warnings.push(`the application role ${role} may UPDATE, DELETE or TRUNCATE audit_log: revoke it`);
  }
  return warnings;
}
