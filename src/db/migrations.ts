/**
 * Schema migrations as files, whatever the engine: numbered `NNN_name.sql`
 * files read in order. `src/db/sqlite/migrate.ts` applies those of `sql/`;
 * `src/db/postgres/migrate.ts` those of `sql/postgres/`.
 */

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
