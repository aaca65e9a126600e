/**
 * Start-up steps that `main.ts` runs and tests can call: open and migrate the
 * database, sync the permission catalogue, create the first admin.
 */
import { dirname } from "node:path";
import { type Database, openDatabase } from "./db/database.ts";
import { loadMigrations, migrate } from "./db/migrate.ts";
import type { AppDeps } from "./deps.ts";
import { isoNow } from "./util/clock.ts";

/** Opens the database at `path` (creating its folder) and applies pending migrations. */
export async function initDatabase(path: string): Promise<{ db: Database; applied: string[] }> {
  if (path !== ":memory:") await Deno.mkdir(dirname(path), { recursive: true });
  const db = openDatabase(path);
  try {
    return { db, applied: migrate(db, await loadMigrations()) };
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * Syncs the catalogue and creates the bootstrap admin on an empty database.
 * Returns the generated admin password (to print once), or null.
 */
export async function bootstrap(deps: AppDeps): Promise<string | null> {
  deps.repos.roles.syncCatalogue(isoNow(deps.clock));
  return await deps.services.accounts.bootstrapAdmin(deps.config.adminUsername, deps.config.adminPassword, {
    client: "local",
    method: "BOOTSTRAP",
  });
}
