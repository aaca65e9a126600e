/**
 * Principals (user + roles + effective permissions) cached without ever
 * being stale. Loading a principal is a join over four tables; checking the
 * authorization generation is one indexed read of one integer that SQLite
 * triggers bump on any change to users, grants, roles or role permissions
 * (`sql/004_authz_generation.sql`). Every lookup compares the generation
 * first and drops the whole cache when it moved — so a grant, revocation or
 * disable takes effect on the very next request (ASVS 5.0 8.3.2), even when
 * another process (the admin CLI) made it.
 *
 * Each entry also carries a stamp of the user's stored password hash
 * (computed once per load by the credential cache), so the authenticator can
 * check that a cached password is still the stored one with a string compare.
 */
import type { StoreReads } from "../db/store.ts";
import type { Principal } from "../domain/principal.ts";
import { LRUMap } from "../util/lru_map.ts";

/** Options for {@link PrincipalCache}. */
export interface PrincipalCacheOptions {
  /** Most principals kept. Default 10000. */
  maxEntries?: number;
  /** Turns a stored password hash into the credential cache's stamp. Default: no stamp (""). */
  stamp?: (passwordHash: string) => string;
}

/** A principal with the stamp of its stored password hash. */
export interface StampedPrincipal {
  readonly principal: Principal;
  readonly stamp: string;
}

/** A generation-checked cache of principals. */
export class PrincipalCache {
  readonly #store: Pick<StoreReads, "users" | "authz">;
  readonly #entries: LRUMap<number, StampedPrincipal | null>;
  readonly #stamp: (passwordHash: string) => string;
  #seen = -1;

  constructor(store: Pick<StoreReads, "users" | "authz">, options: PrincipalCacheOptions = {}) {
    const { maxEntries = 10_000, stamp = () => "" } = options;
    this.#store = store;
    this.#stamp = stamp;
    this.#entries = new LRUMap(maxEntries);
  }

  /** The principal of user `id` as of now, or undefined when there is no such user. */
  async load(id: number): Promise<Principal | undefined> {
    return (await this.loadWithStamp(id))?.principal;
  }

  /** {@link PrincipalCache.load} with the stamp of the user's stored password hash. */
  async loadWithStamp(id: number): Promise<StampedPrincipal | undefined> {
    const generation = await this.#store.authz.generation();
    if (generation !== this.#seen) {
      this.#entries.clear();
      this.#seen = generation;
    }
    let entry = this.#entries.get(id);
    if (entry === undefined) {
      const loaded = await this.#store.users.loadPrincipalWithHash(id);
      entry = loaded ? { principal: loaded.principal, stamp: this.#stamp(loaded.passwordHash) } : null;
      // Only when no newer generation was seen meanwhile: a load that raced a change must not outlive it.
      if (this.#seen === generation) this.#entries.set(id, entry);
    }
    return entry ?? undefined;
  }
}
