/**
 * Product operations. Object-level authorization (OWASP API1:2023):
 * changing or deleting a product needs ownership or `products:manage`, else
 * 403 — a 403 rather than a 404 because every reader may see every product,
 * so existence is not a secret. Optimistic concurrency (RFC 9110 §13.1.1):
 * the `ETag` is the version, and `If-Match` turns a write based on a stale
 * read into 412 instead of a lost update.
 *
 * Each change, its ownership and `If-Match` checks and its audit row happen
 * in one transaction this service opens, on what that transaction reads: a
 * concurrent change cannot slip between the check and the write.
 */
import type { AuditLog } from "../audit/audit_log.ts";
import type { AuditContext } from "../audit/events.ts";
import type { Product, ProductInput } from "../db/records.ts";
import type { DataStore, Transaction } from "../db/store.ts";
import type { Principal } from "../domain/principal.ts";
import { ApiError } from "../errors.ts";
import { type Clock, isoNow } from "../util/clock.ts";

/** The strong ETag of a product version. */
export function etagOf(product: Product): string {
  return `"${product.version}"`;
}

/** The 412 for a write based on an out-of-date read. */
function staleProduct(): ApiError {
  return new ApiError("precondition-failed", "The product has changed since you read it; fetch it again.");
}

/**
 * The version an `If-Match` header demands: null when absent; `*` matches
 * any existing version. Weak tags never match (RFC 9110 §13.1.1 uses strong
 * comparison), so a header naming only other versions is a 412.
 */
export function expectedVersion(ifMatch: string | undefined, current: Product): number | null {
  if (ifMatch === undefined) return null;
  const tags = ifMatch.split(",").map((t) => t.trim());
  if (tags.includes("*") || tags.includes(etagOf(current))) return current.version;
  throw staleProduct();
}

function requireOwnership(user: Principal, product: Product): void {
  if (product.ownerId !== user.id && !user.permissions.has("products:manage")) {
    throw new ApiError("forbidden", "You can only change products you own.");
  }
}

/** Options for {@link Products}. */
export interface ProductsOptions {
  store: DataStore;
  audit: AuditLog;
  /** The time. Default `Date.now`. */
  clock?: Clock;
}

/** Products: reading, and changes with their ownership, concurrency and audit rules. */
export class Products {
  readonly #store: DataStore;
  readonly #audit: AuditLog;
  readonly #clock: Clock;

  constructor(options: ProductsOptions) {
    this.#store = options.store;
    this.#audit = options.audit;
    this.#clock = options.clock ?? Date.now;
  }

  /** The product `id`, or a 404. */
  async get(id: number): Promise<Product> {
    const product = await this.#store.products.get(id);
    if (!product) throw new ApiError("not-found", "No such product.");
    return product;
  }

  /** Up to `limit` products with an id above `after`, by id; with `q`, only names containing it. */
  list(options: { after: number; limit: number; q?: string | undefined }): Promise<Product[]> {
    return this.#store.products.list(options);
  }

  /** Creates a product owned by `actor`. */
  create(actor: Principal, input: ProductInput, ctx: AuditContext): Promise<Product> {
    return this.#store.transaction(async (tx) => {
      const created = await tx.products.create(input, actor.id, isoNow(this.#clock));
      await this.#audit.appendIn(tx, {
        ...ctx,
        event: "product_created",
        status: 201,
        target: `product:${created.id}`,
        detail: { name: created.name },
      });
      return created;
    });
  }

  /** Replaces product `id` for its owner (or a `products:manage` holder), honouring `If-Match`. */
  update(actor: Principal, id: number, input: ProductInput, ifMatch: string | undefined, ctx: AuditContext) {
    return this.#store.transaction(async (tx): Promise<Product> => {
      const current = await this.#owned(tx, actor, id);
      const outcome = await tx.products.update(id, input, expectedVersion(ifMatch, current), isoNow(this.#clock));
      if (!outcome.ok) throw staleProduct();
      await this.#audit.appendIn(tx, {
        ...ctx,
        event: "product_updated",
        status: 200,
        target: `product:${id}`,
        detail: { version: { from: current.version, to: outcome.product.version } },
      });
      return outcome.product;
    });
  }

  /** Deletes product `id` for its owner (or a `products:manage` holder), honouring `If-Match`. */
  async delete(actor: Principal, id: number, ifMatch: string | undefined, ctx: AuditContext): Promise<void> {
    await this.#store.transaction(async (tx) => {
      const current = await this.#owned(tx, actor, id);
      expectedVersion(ifMatch, current);
      await tx.products.delete(id);
      await this.#audit.appendIn(tx, {
        ...ctx,
        event: "product_deleted",
        status: 204,
        target: `product:${id}`,
        detail: { name: current.name, version: current.version },
      });
    });
  }

  async #owned(tx: Transaction, actor: Principal, id: number): Promise<Product> {
    const current = await tx.products.get(id);
    if (!current) throw new ApiError("not-found", "No such product.");
    requireOwnership(actor, current);
    return current;
  }
}
