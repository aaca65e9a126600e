// Fixture for route-without-guard (semgrep --test).
import { Hono } from "hono";
declare function requirePermission(p: string): never;
declare function requireUser(): never;
declare function publicRoute(): never;
declare function queryParams(s: unknown): never;
declare function jsonBody(s: unknown): never;
declare const schema: unknown, deps: unknown, map: Map<string, string>;
declare function productRoutes(d: unknown): Hono;

const app = new Hono();
const router = new Hono();

// ruleid: route-without-guard
app.get("/products", queryParams(schema), (c) => c.json([]));

// ruleid: route-without-guard
router.delete(`/products/:id`, (c) => c.body(null, 204));

// ruleid: route-without-guard
app.post("/register", jsonBody(schema), (c) => c.json({}, 201));

// ok: route-without-guard
app.get("/", requirePermission("products:read"), queryParams(schema), (c) => c.json([]));

// ok: route-without-guard
app.post("/login", requireUser(), (c) => c.json({}));

// ok: route-without-guard
app.get("/health", publicRoute(), (c) => c.json({ status: "ok" }));

// ok: route-without-guard
app.route("/products", productRoutes(deps));

// ok: route-without-guard
map.get("key");

// ok: route-without-guard
map.delete("key");
