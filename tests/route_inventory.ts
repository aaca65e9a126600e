/**
 * The route inventory: every (method, path) the application answers, with
 * the guards found on it, read from Hono's `app.routes`. Used by
 * `route_inventory_test.ts` (deny by default: no route without exactly one
 * guard, placed first, and none that was not declared with `defineRoute`)
 * and by `function_level_authz_test.ts` (which calls every administrative
 * route), so a route added tomorrow is covered by both without anyone
 * remembering to list it.
 */
import { type GuardInfo, guardOf } from "../src/middleware/require_permission.ts";
import { definitionOf, type RouteDefinition } from "../src/routes/route.ts";

/** What the inventory reads: a Hono application's route table. */
export interface RouteTable {
  readonly routes: readonly { readonly method: string; readonly path: string; readonly handler: unknown }[];
}

/** One endpoint and the handlers registered for it, in order. */
export interface InventoryEntry {
  readonly method: string;
  readonly path: string;
  /** The guards among its handlers. */
  readonly guards: readonly GuardInfo[];
  /** True when the first handler is a guard (nothing — no validator, no handler — runs before it). */
  readonly guardFirst: boolean;
  /** The route's declaration (`defineRoute`), when its handlers carry one. */
  readonly definition: RouteDefinition | undefined;
}

/**
 * Groups `app.routes` by method and path. Application-wide middleware
 * (`app.use(mw)`, registered as `ALL /*`) is left out; everything else,
 * `app.all()` and path-scoped `app.use()` included, counts as an endpoint and
 * must carry its own guard.
 */
export function routeInventory(app: RouteTable): InventoryEntry[] {
  const byRoute = new Map<string, { method: string; path: string; handlers: unknown[] }>();
  for (const route of app.routes) {
    if (route.method === "ALL" && route.path === "/*") continue;
    const key = `${route.method} ${route.path}`;
    let entry = byRoute.get(key);
    if (!entry) byRoute.set(key, entry = { method: route.method, path: route.path, handlers: [] });
    entry.handlers.push(route.handler);
  }
  return [...byRoute.values()].map(({ method, path, handlers }) => ({
    method,
    path,
    guards: handlers.map(guardOf).filter((g): g is GuardInfo => g !== undefined),
    guardFirst: guardOf(handlers[0]) !== undefined,
    definition: handlers.map(definitionOf).find((d) => d !== undefined),
  }));
}

/** What is wrong with the inventory of `app`: one line per offending route; empty when all is well. */
export function inventoryProblems(app: RouteTable): string[] {
  const problems: string[] = [];
  for (const { method, path, guards, guardFirst, definition } of routeInventory(app)) {
    if (guards.length === 0) {
      problems.push(`${method} ${path}: no guard (requirePermission, requireUser or publicRoute)`);
    } else if (guards.length > 1) problems.push(`${method} ${path}: ${guards.length} guards; declare exactly one`);
    else if (!guardFirst) problems.push(`${method} ${path}: the guard is not the first handler`);
    if (!definition) {
      problems.push(`${method} ${path}: not declared with defineRoute (no rate-limit policy, no documentation)`);
    } else if (definition.method !== method || definition.path !== path) {
      problems.push(`${method} ${path}: routed as declared for ${definition.method} ${definition.path}`);
    } else if (guards.length === 1 && describeGuard(guards[0]!) !== describeGuard(definition.guard)) {
      problems.push(
        `${method} ${path}: guarded by ${describeGuard(guards[0]!)}, declared ${describeGuard(definition.guard)}`,
      );
    }
  }
  return problems;
}

/** A route's declared access, as a short string: `public`, `authenticated` or the permission name. */
export function describeGuard(guard: GuardInfo): string {
  return guard.kind === "permission" ? guard.permission : guard.kind;
}
