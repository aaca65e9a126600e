/**
 * Route guards (OWASP API5:2023, ASVS 5.0 8.2.1). Every route declares
 * exactly one: {@link requirePermission}, {@link requireUser} or
 * {@link publicRoute}. Deny by default: `tests/route_inventory_test.ts`
 * walks the router and fails for a route without a guard.
 *
 * All guards share one check, {@link authorize}, and each carries a marker
 * readable with {@link guardOf} so the inventory can be checked from outside.
 *
 * The guards that admit only a user also narrow the handler's type: Hono
 * intersects the environments of the handlers along a route, so after
 * `requirePermission(…)` or `requireUser()` the handler's `c.var.user` is a
 * {@link Principal}, not `Principal | null`, with no cast and no second check.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app_env.ts";
import type { Permission } from "../domain/permissions.ts";
import type { Principal } from "../domain/principal.ts";
import { ApiError, unauthenticated } from "../errors.ts";

/** What a guard requires. */
export type GuardInfo =
  | { readonly kind: "public" }
  | { readonly kind: "authenticated" }
  | { readonly kind: "permission"; readonly permission: Permission };

/** The environment after a guard that admits only a user: `c.var.user` is set. */
export type AuthenticatedEnv = AppEnv & { Variables: { user: Principal } };

const GUARD = Symbol.for("secure-api.guard");

/** Attaches the marker and gives the guard the environment it guarantees to the handlers after it. */
function guard<E extends AppEnv>(info: GuardInfo, handler: MiddlewareHandler<AppEnv>): MiddlewareHandler<E> {
  Object.defineProperty(handler, GUARD, { value: info });
  // The guard itself runs before the narrowing holds; what it promises is for the handlers after it.
  return handler as unknown as MiddlewareHandler<E>;
}

/** The guard a handler represents, or undefined when it is not a guard. */
export function guardOf(handler: unknown): GuardInfo | undefined {
  return typeof handler === "function" ? (handler as unknown as Record<symbol, GuardInfo>)[GUARD] : undefined;
}

/**
 * The one access check every guard runs: 401 without a user, 403 without
 * the permission. Returns the user it admitted.
 */
export function authorize(user: Principal | null, permission?: Permission): Principal {
  if (!user) throw unauthenticated();
  if (permission !== undefined && !user.permissions.has(permission)) {
    throw new ApiError("forbidden", `This requires the "${permission}" permission.`);
  }
  return user;
}

/** Requires an authenticated user holding `permission`. */
export function requirePermission(permission: Permission): MiddlewareHandler<AuthenticatedEnv> {
  return guard({ kind: "permission", permission }, async function requirePermission(c, next) {
    authorize(c.var.user, permission);
    await next();
  });
}

/** Requires any authenticated user (routes about the caller themself). */
export function requireUser(): MiddlewareHandler<AuthenticatedEnv> {
  return guard({ kind: "authenticated" }, async function requireUser(c, next) {
    authorize(c.var.user);
    await next();
  });
}

/** Marks a route as deliberately public: `c.var.user` may be null. */
export function publicRoute(): MiddlewareHandler<AppEnv> {
  return guard({ kind: "public" }, async function publicRoute(_c, next) {
    await next();
  });
}
