/**
 * Products (README "Endpoints"). The rules — ownership (OWASP API1:2023),
 * `If-Match` (RFC 9110 §13.1.1) and the audit row, all in one transaction —
 * live in the products service; these routes parse, call and answer, with
 * the `ETag` of the version and `If-None-Match` on reads.
 */
import { auditContext } from "../middleware/audit_context.ts";
import { requirePermission } from "../middleware/require_permission.ts";
import { DEFAULT_PAGE, idParam, paginate, parseId } from "../schemas/common.ts";
import { productInput, productListQuery } from "../schemas/products.ts";
import { productBody, productPageBody } from "../schemas/responses.ts";
import { etagOf, type Products } from "../services/products.ts";
import { defineRoute, named, response, type RouteDefinition } from "./route.ts";

const PRODUCT = named("Product", productBody);
const PRODUCT_INPUT = named("ProductInput", productInput);
const STALE = response("`If-Match` names another version: the product changed since it was read.");

/** What the `/products` routes use. */
export interface ProductRoutesDeps {
  readonly products: Products;
}

/** `/products` routes. */
export function productRoutes(deps: ProductRoutesDeps): RouteDefinition[] {
  const { products } = deps;
  const idOf = (text: string) => parseId(text, "product");

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
    }, async (c) => {
      const { limit = DEFAULT_PAGE, cursor, q } = c.req.valid("query");
      return c.json(await paginate(cursor, limit, (after, n) => products.list({ after, limit: n, q }), (p) => p.id));
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
    }, async (c) => {
      const product = await products.get(idOf(c.req.param("id")));
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
    }, async (c) => {
      const product = await products.create(c.var.user, c.req.valid("json"), auditContext(c));
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
    }, async (c) => {
      const id = idOf(c.req.param("id"));
      const updated = await products.update(
        c.var.user,
        id,
        c.req.valid("json"),
        c.req.header("If-Match"),
        auditContext(c),
      );
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
    }, async (c) => {
      await products.delete(c.var.user, idOf(c.req.param("id")), c.req.header("If-Match"), auditContext(c));
      return c.body(null, 204);
    }),
  ];
}
