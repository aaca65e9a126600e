/**
 * Schema migrations: numbered SQL files in `sql/`, each applied once, in
 * order, inside its own transaction, and recorded with a SHA-256 checksum so
 * that an applied migration edited afterwards stops the start instead of
 * silently diverging from the database.
 */
import { createHash } from "node:crypto";
import { type Clock, isoNow } from "../util/clock.ts";
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

/** The SHA-256 of a migration's text, as recorded in `schema_migrations`. */
export function checksum(sql: string): string {
  return createHash("sha256").update(sql).digest("hex");
}

/**
 * Applies the migrations not yet recorded. Returns the names applied now.
 * A failing migration rolls back entirely and leaves the database as it was.
 */
export function migrate(db: Database, migrations: readonly Migration[], clock: Clock = Date.now): string[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    checksum   TEXT NOT NULL,
    applied_at TEXT NOT NULL
  ) STRICT`);
  const applied = new Map(
    db.prepare("SELECT version, name, checksum FROM schema_migrations").all<
      { version: number; name: string; checksum: string }
    >().map((row) => [row.version, row]),
  );
  const record = db.prepare(
    "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (:version, :name, :checksum, :at)",
  );
  const done: string[] = [];
  for (const migration of migrations) {
    const previous = applied.get(migration.version);
    if (previous) {
      if (previous.checksum !== checksum(migration.sql)) {
        throw new MigrationError(`${migration.name} was changed after it was applied`);
      }
      continue;
    }
    try {
      db.tx(() => {
        db.exec(migration.sql);
        record.run({
          version: migration.version,
          name: migration.name,
          checksum: checksum(migration.sql),
          at: isoNow(clock),
        });
      });
    } catch (error) {
      throw new MigrationError(`${migration.name} failed: ${(error as Error).message}`, { cause: error });
    }
    done.push(migration.name);
  }
  return done;
}
