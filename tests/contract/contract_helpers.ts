/**
 * What the data store contract suites share: how a suite gets a fresh store,
 * and small builders for the rows most cases need. A suite is a function
 * `defineXContract(engine, makeStore)` that registers its `Deno.test`s; a
 * runner (`tests/store_contract_<engine>_test.ts`) calls each suite with a
 * factory for that engine, so every engine runs the very same cases.
 */
import type { DataStore } from "../../src/db/store.ts";

/** Makes a fresh, migrated, empty store for one test; the test closes it. */
export type MakeStore = () => Promise<DataStore>;

/** An instant as the application stores it. */
export const NOW = "2026-01-01T00:00:00.000Z";
/** A later instant. */
export const LATER = "2026-01-02T00:00:00.000Z";
/** A well-formed password hash (never checked by the store). */
export const HASH = "$pbkdf2-sha256$i=1000$c2FsdA$aGFzaA";

/** Runs `fn` with a fresh store, closed afterwards whatever happens. */
export async function withStore(makeStore: MakeStore, fn: (store: DataStore) => Promise<void>): Promise<void> {
  await using store = await makeStore();
  await fn(store);
}

/** Syncs the permission catalogue and the built-in roles, as every start does. */
export function seedCatalogue(store: DataStore): Promise<void> {
  return store.transaction((tx) => tx.roles.syncCatalogue(NOW), { exclusive: true });
}

/** Creates `username` with `roles`; returns the id. */
export function createUser(store: DataStore, username: string, roles: readonly string[] = []): Promise<number> {
  return store.transaction(async (tx) => {
    const id = await tx.users.create(username, HASH, NOW);
    if (roles.length > 0) await tx.users.setRoles(id, roles, NOW);
    return id;
  });
}

/** The name every test of a suite starts with: the engine and the part of the interface under test. */
export function testName(engine: string, subject: string, behaviour: string): string {
  return `DataStore (${engine}) ${subject} ${behaviour}`;
}
