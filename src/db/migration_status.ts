/**
 * What readiness needs to know about the database (`GET /health/ready`): that
 * it answers a trivial query, and that every migration shipped in `sql/` is
 * recorded as applied, unchanged. A server whose code expects a migration the
 * database lacks (a deploy that skipped the migration step, a restored
 * backup) must not take traffic.
 */
import type { Database } from "./database.ts";
import { checksum, type Migration } from "./migrate.ts";

/** The state of the schema against the migration files. */
export interface MigrationStatus {
  /** Files not recorded as applied, by name. */
  readonly pending: readonly string[];
  /** Files recorded as applied whose text has changed since. */
  readonly changed: readonly string[];
}

/** Runs the cheapest query there is; throws when the database cannot answer. */
export function pingDatabase(db: Database): void {
  db.prepare("SELECT 1 AS one").get();
}

/** Compares `migrations` with what `schema_migrations` records. */
export function migrationStatus(db: Database, migrations: readonly Migration[]): MigrationStatus {
  const recorded = new Map(
    db.prepare("SELECT version, checksum FROM schema_migrations").all<{ version: number; checksum: string }>()
      .map((row) => [row.version, row.checksum]),
  );
  const pending: string[] = [];
  const changed: string[] = [];
  for (const migration of migrations) {
    const sum = recorded.get(migration.version);
    if (sum === undefined) pending.push(migration.name);
    else if (sum !== checksum(migration.sql)) changed.push(migration.name);
  }
  return { pending, changed };
}
