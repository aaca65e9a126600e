/**
 * Products. Money is integer cents; every update bumps `version`, which is
 * the ETag, so a write based on a stale read is refused (no lost updates).
 */
import type { Product, ProductInput, UpdateOutcome } from "../records.ts";
import type { Database } from "./database.ts";

interface ProductRow {
  id: number;
  name: string;
  description: string;
  price_cents: number;
  stock: number;
  owner_id: number | null;
  created_at: string;
  updated_at: string;
  version: number;
}

function toProduct(row: ProductRow): Product {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    priceCents: row.price_cents,
    stock: row.stock,
    ownerId: row.owner_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    version: row.version,
  };
}

/** Escapes `%`, `_` and `\` so a search term is matched literally by LIKE … ESCAPE '\'. */
export function escapeLike(term: string): string {
  return term.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Data access for products; see {@link createProductsRepo}. */
export type ProductsRepo = ReturnType<typeof createProductsRepo>;

/** Prepares the product statements once for `db`. */
export function createProductsRepo(db: Database) {
  const byId = db.prepare(
    `SELECT id, name, description, price_cents, stock, owner_id, created_at, updated_at, version
     FROM products WHERE id = :id`,
  );
  const page = db.prepare(
    `SELECT id, name, description, price_cents, stock, owner_id, created_at, updated_at, version
     FROM products WHERE id > :after ORDER BY id LIMIT :limit`,
  );
  const search = db.prepare(
    `SELECT id, name, description, price_cents, stock, owner_id, created_at, updated_at, version
     FROM products WHERE id > :after AND name LIKE :pattern ESCAPE '\\' ORDER BY id LIMIT :limit`,
  );
  const insert = db.prepare(
    `INSERT INTO products (name, description, price_cents, stock, owner_id, created_at, updated_at)
     VALUES (:name, :description, :priceCents, :stock, :ownerId, :now, :now)`,
  );
  const update = db.prepare(
    `UPDATE products SET name = :name, description = :description, price_cents = :priceCents,
       stock = :stock, updated_at = :now, version = version + 1
     WHERE id = :id AND (:expected IS NULL OR version = :expected)`,
  );
  const remove = db.prepare("DELETE FROM products WHERE id = :id");

  const get = (id: number): Product | undefined => {
    const row = byId.get<ProductRow>({ id });
    return row && toProduct(row);
  };

  return {
    get,
    /** Up to `limit` products after id `after`, optionally whose name contains `q`. */
    list(options: { after: number; limit: number; q?: string | undefined }): Product[] {
      const { after, limit, q } = options;
      const rows = q === undefined || q === ""
        ? page.all<ProductRow>({ after, limit })
        : search.all<ProductRow>({ after, limit, pattern: `%${escapeLike(q)}%` });
      return rows.map(toProduct);
    },
    /** Inserts a product owned by `ownerId`. */
    create(input: ProductInput, ownerId: number, now: string): Product {
      const id = insert.run({ ...input, ownerId, now }).lastInsertRowid;
      return get(id)!;
    },
    /** Replaces the client fields when `expectedVersion` (if given) still matches. */
    update(id: number, input: ProductInput, expectedVersion: number | null, now: string): UpdateOutcome {
      const changed = update.run({ ...input, id, expected: expectedVersion, now }).changes;
      if (changed === 1) return { ok: true, product: get(id)! };
      return { ok: false, reason: get(id) ? "stale" : "missing" };
    },
    /** Deletes a product; false when it did not exist. */
    delete(id: number): boolean {
      return remove.run({ id }).changes === 1;
    },
  };
}
