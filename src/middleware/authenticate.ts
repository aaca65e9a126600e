/**
 * Authenticates the `Authorization` header, when there is one, and sets
 * `c.var.user`. No header means an anonymous request (the route's guard
 * decides whether that is enough); a header that is present but malformed,
 * oversized (> 4 KiB, refused before any hashing) or wrong is a 401 — never
 * a 500 — with the Basic challenge.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app_env.ts";
import type { Authenticator } from "../auth/authenticator.ts";
import { MAX_AUTHORIZATION_LENGTH, parseAuthorization } from "../auth/authorization_header.ts";
import { auditContext } from "./audit_context.ts";

/** Options for {@link authenticate}. */
export interface AuthenticateOptions {
  /** Verifies the credentials. */
  authenticator: Authenticator;
}

/** Sets `c.var.user` and `c.var.credential` from the `Authorization` header. */
export function authenticate(options: AuthenticateOptions): MiddlewareHandler<AppEnv> {
  const { authenticator } = options;
  return async function authenticate(c, next) {
    c.set("user", null);
    c.set("credential", null);
    const header = c.req.header("Authorization");
    if (header === undefined) return next();
    const ctx = { ...auditContext(c), clientKey: c.var.client.key };
    if (header.length > MAX_AUTHORIZATION_LENGTH) return await authenticator.rejectHeader("oversized", ctx);
    const credentials = parseAuthorization(header);
    if (!credentials) return await authenticator.rejectHeader("malformed", ctx);
    const result = credentials.scheme === "basic"
      ? await authenticator.basic(credentials.username, credentials.password, ctx)
      : await authenticator.bearer(credentials.token, ctx);
    c.set("user", result.principal);
    c.set("credential", { scheme: result.scheme, tokenHash: result.tokenHash });
    await next();
  };
}
