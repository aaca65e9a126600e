/**
 * Route guards (OWASP API5:2023, ASVS 5.0 8.2.1). Every route declares
 * exactly one: {@link requirePermission}, {@link requireUser} or
 * {@link publicRoute}. Deny by default: `tests/route_inventory_test.ts`
 * walks the router and fails for a route without a guard.
 *
 * All guards share {@link checkAccess}, and each carries a marker readable
 * with {@link guardOf} so the inventory can be checked from outside.
 */
import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../app_env.ts";
import type { Permission } from "../auth/permissions.ts";
import type { Principal } from "../db/users_repo.ts";
import { ApiError, unauthenticated } from "../errors.ts";

/** What a guard requires. */
export type GuardInfo =
  | { readonly kind: "public" }
  | { readonly kind: "authenticated" }
  | { readonly kind: "permission"; readonly permission: Permission };

const GUARD = Symbol.for("secure-api.guard");

function marked(info: GuardInfo, handler: MiddlewareHandler<AppEnv>): MiddlewareHandler<AppEnv> {
  Object.defineProperty(handler, GUARD, { value: info });
  return handler;
}

/** The guard a handler represents, or undefined when it is not a guard. */
export function guardOf(handler: unknown): GuardInfo | undefined {
  return typeof handler === "function" ? (handler as unknown as Record<symbol, GuardInfo>)[GUARD] : undefined;
}

/**
 * The one access check: 401 without a user, 403 without the permission.
 * Returns the user for the handler's convenience.
 */
export function checkAccess(c: Context<AppEnv>, permission?: Permission): Principal {
  const user = c.var.user;
  if (!user) throw unauthenticated();
  if (permission !== undefined && !user.permissions.has(permission)) {
    throw new ApiError("forbidden", `This requires the "${permission}" permission.`);
  }
  return user;
}

/** Requires an authenticated user holding `permission`. */
export function requirePermission(permission: Permission): MiddlewareHandler<AppEnv> {
  return marked({ kind: "permission", permission }, async function requirePermission(c, next) {
    checkAccess(c, permission);
    await next();
  });
}

/** Requires any authenticated user (routes about the caller themself). */
export function requireUser(): MiddlewareHandler<AppEnv> {
  return marked({ kind: "authenticated" }, async function requireUser(c, next) {
    checkAccess(c);
    await next();
  });
}

/** Marks a route as deliberately public. */
export function publicRoute(): MiddlewareHandler<AppEnv> {
  return marked({ kind: "public" }, async function publicRoute(_c, next) {
    await next();
  });
}
