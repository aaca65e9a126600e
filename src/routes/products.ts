/**
 * Products (README "Endpoints"). Object-level authorization (OWASP API1:2023): changing
 * or deleting a product needs ownership or `products:manage`, else 403 —
 * a 403 rather than a 404 because every reader may see every product, so
 * existence is not a secret. Optimistic concurrency: `ETag` is the version,
 * and `If-Match` on PUT/DELETE turns a stale write into 412 instead of a
 * lost update.
 */
import type { Principal } from "../domain/principal.ts";
import type { AuditLog } from "../audit/audit_log.ts";
import type { Database } from "../db/database.ts";
import type { Product, ProductsRepo } from "../db/products_repo.ts";
import { ApiError } from "../errors.ts";
import { auditContext } from "../middleware/audit_context.ts";
import { requirePermission } from "../middleware/require_permission.ts";
import { DEFAULT_PAGE, idParam, paginate, parseId } from "../schemas/common.ts";
import { productInput, productListQuery } from "../schemas/products.ts";
import { productBody, productPageBody } from "../schemas/responses.ts";
import { type Clock, isoNow } from "../util/clock.ts";
import { defineRoute, named, response, type RouteDefinition } from "./route.ts";

const PRODUCT = named("Product", productBody);
const PRODUCT_INPUT = named("ProductInput", productInput);
const STALE = response("`If-Match` names another version: the product changed since it was read.");

/** The strong ETag of a product version. */
export function etagOf(product: Product): string {
  return `"${product.version}"`;
}

/**
 * The version an `If-Match` header demands: null when absent; `*` matches
 * any existing version. Weak tags never match (RFC 9110 §13.1.1 uses strong
 * comparison), so a header naming only other versions is a 412.
 */
export function expectedVersion(header: string | undefined, current: Product): number | null {
  if (header === undefined) return null;
  const tags = header.split(",").map((t) => t.trim());
  if (tags.includes("*") || tags.includes(etagOf(current))) return current.version;
  throw staleProduct();
}

/** The 412 for a write based on an out-of-date read. */
function staleProduct(): ApiError {
  return new ApiError("precondition-failed", "The product has changed since you read it; fetch it again.");
}

function requireOwnership(user: Principal, product: Product): void {
  if (product.ownerId !== user.id && !user.permissions.has("products:manage")) {
    throw new ApiError("forbidden", "You can only change products you own.");
  }
}

/** What the `/products` routes use. */
export interface ProductRoutesDeps {
  readonly db: Database;
  readonly products: ProductsRepo;
  readonly audit: AuditLog;
  readonly clock: Clock;
}

/** `/products` routes. */
export function productRoutes(deps: ProductRoutesDeps): RouteDefinition[] {
  const { db, products, audit, clock } = deps;
  const now = () => isoNow(clock);

  const load = (idText: string): Product => {
    const product = products.get(parseId(idText, "product"));
    if (!product) throw new ApiError("not-found", "No such product.");
    return product;
  };

  return [
    defineRoute({
      method: "GET",
      path: "/products",
      guard: requirePermission("products:read"),
      operationId: "listProducts",
      summary: "List products",
      tag: "products",
      query: productListQuery,
      responses: { 200: response("A page of products.", named("ProductPage", productPageBody)) },
    }, (c) => {
      const { limit = DEFAULT_PAGE, cursor, q } = c.req.valid("query");
      return c.json(paginate(cursor, limit, (after, n) => products.list({ after, limit: n, q }), (p) => p.id));
    }),

    defineRoute({
      method: "GET",
      path: "/products/:id",
      guard: requirePermission("products:read"),
      operationId: "getProduct",
      summary: "Read a product",
      tag: "products",
      params: { id: idParam },
      requestHeaders: ["If-None-Match"],
      responses: {
        200: response("The product.", PRODUCT, ["ETag"]),
        304: response("Unchanged since the version in `If-None-Match`.", undefined, ["ETag"]),
      },
    }, (c) => {
      const product = load(c.req.param("id"));
      const etag = etagOf(product);
      const ifNoneMatch = c.req.header("If-None-Match");
      if (ifNoneMatch !== undefined && ifNoneMatch.split(",").some((t) => t.trim() === etag || t.trim() === "*")) {
        return c.body(null, 304, { ETag: etag });
      }
      return c.json(product, 200, { ETag: etag });
    }),

    defineRoute({
      method: "POST",
      path: "/products",
      guard: requirePermission("products:create"),
      operationId: "createProduct",
      summary: "Create a product owned by the caller",
      tag: "products",
      body: PRODUCT_INPUT,
      responses: { 201: response("Created.", PRODUCT, ["Location", "ETag"]) },
    }, (c) => {
      const user = c.var.user;
      const input = c.req.valid("json");
      const product = db.tx(() => {
        const created = products.create(input, user.id, now());
        audit.append({
          ...auditContext(c),
          event: "product_created",
          status: 201,
          target: `product:${created.id}`,
          detail: { name: created.name },
        });
        return created;
      });
      return c.json(product, 201, { Location: `/products/${product.id}`, ETag: etagOf(product) });
    }),

    defineRoute({
      method: "PUT",
      path: "/products/:id",
      guard: requirePermission("products:update"),
      operationId: "replaceProduct",
      summary: "Replace a product (owner, or products:manage)",
      tag: "products",
      params: { id: idParam },
      body: PRODUCT_INPUT,
      requestHeaders: ["If-Match"],
      responses: { 200: response("Replaced.", PRODUCT, ["ETag"]), 412: STALE },
    }, (c) => {
      const user = c.var.user;
      const input = c.req.valid("json");
      const updated = db.tx(() => {
        const current = load(c.req.param("id"));
        requireOwnership(user, current);
        const outcome = products.update(current.id, input, expectedVersion(c.req.header("If-Match"), current), now());
        if (!outcome.ok) {
          throw staleProduct();
        }
        audit.append({
          ...auditContext(c),
          event: "product_updated",
          status: 200,
          target: `product:${current.id}`,
          detail: { version: { from: current.version, to: outcome.product.version } },
        });
        return outcome.product;
      });
      return c.json(updated, 200, { ETag: etagOf(updated) });
    }),

    defineRoute({
      method: "DELETE",
      path: "/products/:id",
      guard: requirePermission("products:delete"),
      operationId: "deleteProduct",
      summary: "Delete a product (owner, or products:manage)",
      tag: "products",
      params: { id: idParam },
      requestHeaders: ["If-Match"],
      responses: { 204: response("Deleted."), 412: STALE },
    }, (c) => {
      const user = c.var.user;
      db.tx(() => {
        const current = load(c.req.param("id"));
        requireOwnership(user, current);
        expectedVersion(c.req.header("If-Match"), current);
        products.delete(current.id);
        audit.append({
          ...auditContext(c),
          event: "product_deleted",
          status: 204,
          target: `product:${current.id}`,
          detail: { name: current.name, version: current.version },
        });
      });
      return c.body(null, 204);
    }),
  ];
}
