/**
 * Gives every request a fresh random id, returned in `X-Request-Id` and
 * carried by every log line, audit row and problem body of the request.
 *
 * Hono's `requestId` would adopt an id sent by the client; here it is always
 * generated, because audit rows are correlated by this id and a client must
 * not be able to make its requests share an id with someone else's.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app_env.ts";

/** Sets `c.var.requestId` and the `X-Request-Id` response header. */
export function requestId(): MiddlewareHandler<AppEnv> {
  return async function requestId(c, next) {
    const id = crypto.randomUUID();
    c.set("requestId", id);
    await next();
    c.res.headers.set("X-Request-Id", id);
  };
}
