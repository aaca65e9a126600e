/**
 * One declaration per route. {@link defineRoute} takes everything known
 * about a route — method, path, guard, rate-limit policy, validated inputs
 * and the OpenAPI operation (summary, tag, parameters, responses) — with its
 * handler, and returns a {@link RouteDefinition}. The same object is then
 * read by everything that needs to know the route:
 *
 * - `createApp` registers its handlers (guard first, then the validators its
 *   `query` and `body` imply, then the handler) with {@link mountRoutes};
 * - the rate limiter picks the route's policy with {@link matchedRoute};
 * - `src/openapi.ts` describes it, from the very schemas its validators use;
 * - the route inventory test reads it back off the real router.
 *
 * Adding a route is one `defineRoute` in its routes file (and a line in the
 * README's endpoint table): nothing else lists routes.
 *
 * The handler's context is typed by the declaration: after a guard that
 * admits only users, `c.var.user` is a `Principal`; with a `body`,
 * `c.req.valid("json")` is the body schema's output; with a `query`,
 * `c.req.valid("query")` the query's.
 */
import type { Context, Handler, Hono, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import type { z } from "zod";
import type { AppEnv } from "../app_env.ts";
import { type GuardInfo, guardOf } from "../middleware/require_permission.ts";
import { jsonBody, queryParams } from "../middleware/validate.ts";

/** The methods routes are declared with. */
export type Method = "GET" | "POST" | "PUT" | "DELETE";

/** The rate-limit policies a route can be under. */
export type RatePolicyName = "auth" | "api";

/** A schema with the name it has under the OpenAPI `components.schemas`. */
export interface NamedSchema<T extends z.ZodType = z.ZodType> {
  readonly name: string;
  readonly schema: T;
}

/** Names `schema` for the OpenAPI document; use one `named()` per schema object. */
export function named<T extends z.ZodType>(name: string, schema: T): NamedSchema<T> {
  return { name, schema };
}

/** Response headers the OpenAPI document knows (defined once under `components.headers`). */
export type HeaderName = "ETag" | "Location";

/** Request headers the OpenAPI document knows (defined once under `components.parameters`). */
export type RequestHeaderName = "If-Match" | "If-None-Match";

/** One documented response. */
export interface ResponseDoc {
  readonly description: string;
  /** The body; none for 204/304. Error statuses always carry a problem. */
  readonly body?: NamedSchema;
  readonly headers?: readonly HeaderName[];
  /** The body's media type. Default `application/json`. */
  readonly mediaType?: string;
}

/** A documented response: `description`, and the body schema, headers and media type when it has them. */
export function response(
  description: string,
  body?: NamedSchema,
  headers?: readonly HeaderName[],
  mediaType?: string,
): ResponseDoc {
  return {
    description,
    ...(body ? { body } : {}),
    ...(headers ? { headers } : {}),
    ...(mediaType ? { mediaType } : {}),
  };
}

/**
 * The OpenAPI operation of a route, besides what its guard and inputs say.
 * Errors every route can give (401, 429, 500, 503) and those its guard and
 * inputs imply (403, 404, 400/413/415/422) are added by `src/openapi.ts`;
 * list only the route's own.
 */
export interface OperationDoc {
  readonly operationId: string;
  readonly summary: string;
  readonly tag: string;
  /** Which credentials work; default both Basic and Bearer. */
  readonly schemes?: readonly ("basic" | "bearer")[];
  /** The path parameters and their schemas (the handler parses them; a bad one is a 404). */
  readonly params?: Readonly<Record<string, z.ZodType>>;
  readonly requestHeaders?: readonly RequestHeaderName[];
  /** Success responses and route-specific errors, by status. */
  readonly responses: Readonly<Record<number, ResponseDoc>>;
}

/** What {@link defineRoute} takes. */
export interface RouteSpec<
  P extends string,
  E extends AppEnv,
  B extends NamedSchema | undefined,
  Q extends z.ZodObject | undefined,
> extends OperationDoc {
  readonly method: Method;
  /** The full path in Hono's form, `/products/:id`. */
  readonly path: P;
  /** Exactly one of `requirePermission(…)`, `requireUser()` or `publicRoute()`; it runs first. */
  readonly guard: MiddlewareHandler<E>;
  /** The rate-limit policy. Default `api`; `auth` for register, login and password change. */
  readonly rateLimit?: RatePolicyName;
  /** The query schema; the query is validated before the handler runs (422 otherwise). */
  readonly query?: Q;
  /** The JSON body schema; the body is validated before the handler runs (415/400/422 otherwise). */
  readonly body?: B;
  /**
   * Open to a user who must still change a password someone else set
   * (`GET /auth/me`, `PUT /auth/password`); every other route answers them
   * 403 `password-change-required`. Default false.
   */
  readonly allowedBeforePasswordChange?: boolean;
}

/** The validated input a handler reads with `c.req.valid(…)`. */
type RouteInput<B, Q> = {
  out:
    & (B extends NamedSchema<infer S> ? { json: z.output<S> } : Record<never, never>)
    & (Q extends z.ZodType ? { query: z.output<Q> } : Record<never, never>);
};

/** A declared route: its declaration, with the guard read off the guard middleware, and its handlers in order. */
export interface RouteDefinition extends OperationDoc {
  readonly method: Method;
  readonly path: string;
  readonly guard: GuardInfo;
  readonly rateLimit: RatePolicyName;
  readonly allowedBeforePasswordChange: boolean;
  readonly query?: z.ZodObject;
  readonly body?: NamedSchema;
  /** What the router runs: the guard, the validators, the handler. */
  readonly handlers: readonly MiddlewareHandler[];
}

const ROUTE = Symbol.for("secure-api.route");

/**
 * Declares a route. Throws at once (at start-up, not on the first request)
 * when `guard` is not one of the guards: deny by default.
 */
export function defineRoute<
  P extends string,
  E extends AppEnv,
  B extends NamedSchema | undefined = undefined,
  Q extends z.ZodObject | undefined = undefined,
>(spec: RouteSpec<P, E, B, Q>, handler: Handler<E, P, RouteInput<B, Q>>): RouteDefinition {
  const { guard: guardHandler, rateLimit = "api", allowedBeforePasswordChange = false, ...rest } = spec;
  const guard = guardOf(guardHandler);
  if (guard === undefined) {
    throw new Error(
      `${spec.method} ${spec.path}: the guard must be requirePermission(), requireUser() or publicRoute()`,
    );
  }
  const handlers: MiddlewareHandler[] = [guardHandler as MiddlewareHandler];
  if (spec.query) handlers.push(queryParams(spec.query) as MiddlewareHandler);
  if (spec.body) handlers.push(jsonBody(spec.body.schema) as MiddlewareHandler);
  // A function of its own per route carries the definition, so whoever holds the router can read the
  // route back — even when one handler function serves two routes.
  const routeHandler = (c: Context, next: () => Promise<void>) => (handler as unknown as MiddlewareHandler)(c, next);
  handlers.push(routeHandler as MiddlewareHandler);
  const definition: RouteDefinition = {
    ...rest,
    guard,
    rateLimit,
    allowedBeforePasswordChange,
    handlers,
  } as RouteDefinition;
  Object.defineProperty(routeHandler, ROUTE, { value: definition });
  return definition;
}

/** The definition a route handler belongs to, or undefined for any other handler. */
export function definitionOf(handler: unknown): RouteDefinition | undefined {
  return typeof handler === "function" ? (handler as unknown as Record<symbol, RouteDefinition>)[ROUTE] : undefined;
}

/** Registers `routes` on `app`; refuses a method and path declared twice. */
export function mountRoutes(app: Hono<AppEnv>, routes: readonly RouteDefinition[]): void {
  const seen = new Set<string>();
  for (const route of routes) {
    const key = `${route.method} ${route.path}`;
    if (seen.has(key)) throw new Error(`${key} is declared twice`);
    seen.add(key);
    const [first, ...others] = route.handlers;
    app.on(route.method, route.path, first!, ...others);
  }
}

/**
 * The route a request matched, from any middleware: the last handler Hono
 * matched is the route's own (application middleware comes first). Undefined
 * when no declared route matched (404, 405).
 */
export function matchedRoute(c: Context): RouteDefinition | undefined {
  const routes = matchedRoutes(c);
  return definitionOf(routes[routes.length - 1]?.handler);
}

/** Every route declared on `app`, read back off its router, in registration order. */
export function declaredRoutes(app: { readonly routes: readonly { readonly handler: unknown }[] }): RouteDefinition[] {
  const found = new Set<RouteDefinition>();
  for (const route of app.routes) {
    const definition = definitionOf(route.handler);
    if (definition) found.add(definition);
  }
  return [...found];
}
