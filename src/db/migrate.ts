/**
 * Schema migrations: numbered SQL files in `sql/`, each applied once, in
 * order, inside its own transaction, and recorded with a SHA-256 checksum so
 * that an applied migration edited afterwards stops the start instead of
 * silently diverging from the database.
 */
import { createHash } from "node:crypto";
import type { Database } from "./database.ts";

/** One migration file. */
export interface Migration {
  /** The number before the first underscore: `001_schema.sql` is 1. */
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** Raised when a migration cannot be applied or the history does not match the files. */
export class MigrationError extends Error {
  override name = "MigrationError";
}

/** The folder holding the migrations, resolved from this module (works in `deno compile` with `--include sql`). */
export const MIGRATIONS_DIR = new URL("../../sql/", import.meta.url);

/** Reads and orders the `NNN_name.sql` files of `dir`. */
export async function loadMigrations(dir: URL = MIGRATIONS_DIR): Promise<Migration[]> {
  const migrations: Migration[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const match = /^(\d{3,})_[a-z0-9_]+\.sql$/.exec(entry.name);
    if (!entry.isFile || !match) continue;
    const sql = await Deno.readTextFile(new URL(entry.name, dir));
    migrations.push({ version: Number(match[1]), name: entry.name, sql });
  }
  migrations.sort((a, b) => a.version - b.version);
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i]!.version === migrations[i - 1]!.version) {
      throw new MigrationError(`two migrations share version ${migrations[i]!.version}`);
    }
  }
  return migrations;
}

function checksum(sql: string): string {
  return createHash("sha256").update(sql).digest("hex");
}

/**
 * Applies the migrations not yet recorded. Returns the names applied now.
 * A failing migration rolls back entirely and leaves the database as it was.
 *
 * Safe when several processes start on one file at once: whether a
 * migration is applied is decided inside the `BEGIN IMMEDIATE` transaction
 * that applies it, i.e. under SQLite's write lock. (Reading the applied list
 * once, before taking the lock, let two processes both see a fresh file and
 * the second fail with "table users already exists".)
 */
export function migrate(db: Database, migrations: readonly Migration[]): string[] {
  db.tx(() =>
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version    INTEGER PRIMARY KEY,
      name       TEXT NOT NULL,
      checksum   TEXT NOT NULL,
      applied_at TEXT NOT NULL
    ) STRICT`)
  );
  const recorded = db.prepare("SELECT name, checksum FROM schema_migrations WHERE version = :version");
  const record = db.prepare(
    "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (:version, :name, :checksum, :at)",
  );
  const done: string[] = [];
  for (const migration of migrations) {
    const sum = checksum(migration.sql);
    let applied: boolean;
    try {
      // Check and apply under one write lock: another process may have applied it meanwhile.
      applied = db.tx(() => {
        const previous = recorded.get<{ name: string; checksum: string }>({ version: migration.version });
        if (previous) {
          if (previous.checksum !== sum) {
            throw new MigrationError(`${migration.name} was changed after it was applied`);
          }
          return false;
        }
        db.exec(migration.sql);
        record.run({ version: migration.version, name: migration.name, checksum: sum, at: new Date().toISOString() });
        return true;
      });
    } catch (error) {
      if (error instanceof MigrationError) throw error;
      throw new MigrationError(`${migration.name} failed: ${(error as Error).message}`, { cause: error });
    }
    if (applied) done.push(migration.name);
  }
  return done;
}
