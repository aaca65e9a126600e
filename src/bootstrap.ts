/**
 * Start-up steps that `main.ts` runs and tests can call: open and migrate the
 * data store, sync the permission catalogue, create the first admin.
 */
import type { AppDeps } from "./deps.ts";
import { openSQLiteStore, type SQLiteStore } from "./db/sqlite/sqlite_store.ts";
import type { BootstrappedAdmin } from "./services/accounts.ts";
import { isoNow } from "./util/clock.ts";

/** Opens the SQLite store at `path` (creating its folder) and applies pending migrations. */
export async function initDatabase(path: string): Promise<{ store: SQLiteStore; applied: readonly string[] }> {
  const store = await openSQLiteStore(path);
  return { store, applied: store.applied };
}

/**
 * Syncs the catalogue and creates the bootstrap admin on an empty database.
 * Returns its name and generated password (to print once), or null when
 * the database already had users.
 */
export async function bootstrap(deps: AppDeps): Promise<BootstrappedAdmin | null> {
  await deps.store.transaction((tx) => tx.roles.syncCatalogue(isoNow(deps.clock)), { exclusive: true });
  return await deps.services.accounts.bootstrapAdmin(deps.config.adminUsername, deps.config.adminPassword, {
    client: "local",
    method: "BOOTSTRAP",
  });
}
