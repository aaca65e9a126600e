/**
 * Principals (user + roles + effective permissions) cached without ever
 * being stale. Loading a principal is a join over four tables; checking the
 * authorization generation is one indexed read of one integer that SQLite
 * triggers bump on any change to users, grants, roles or role permissions
 * (`sql/003_authz_generation.sql`). Every lookup compares the generation
 * first and drops the whole cache when it moved — so a grant, revocation or
 * disable takes effect on the very next request (ASVS 5.0 8.3.2), even when
 * another process (the admin CLI) made it.
 */
import type { Database, Statement } from "../db/database.ts";
import type { Principal, UsersRepo } from "../db/users_repo.ts";
import { LRUMap } from "../util/lru_map.ts";

/** Options for {@link PrincipalCache}. */
export interface PrincipalCacheOptions {
  /** Most principals kept. Default 10000. */
  maxEntries?: number;
}

/** A generation-checked cache of principals. */
export class PrincipalCache {
  readonly #users: UsersRepo;
  readonly #generation: Statement;
  readonly #entries: LRUMap<number, Principal | null>;
  #seen = -1;

  constructor(db: Database, users: UsersRepo, options: PrincipalCacheOptions = {}) {
    const { maxEntries = 10_000 } = options;
    this.#users = users;
    this.#generation = db.prepare("SELECT value FROM authz_generation WHERE id = 1");
    this.#entries = new LRUMap(maxEntries);
  }

  /** The principal of user `id` as of now, or undefined when there is no such user. */
  load(id: number): Principal | undefined {
    const generation = this.#generation.get<{ value: number }>()!.value;
    if (generation !== this.#seen) {
      this.#entries.clear();
      this.#seen = generation;
    }
    let principal = this.#entries.get(id);
    if (principal === undefined) {
      principal = this.#users.loadPrincipal(id) ?? null;
      this.#entries.set(id, principal);
    }
    return principal ?? undefined;
  }
}
