/**
 * Response hardening on every response, errors included (SPEC §4; OWASP
 * Secure Headers Project, ASVS 5.0 3.4): Hono's `secureHeaders` configured
 * for a JSON API, plus `Cache-Control: no-store` so no proxy or browser keeps
 * an authenticated response, and no `Server` or `X-Powered-By`.
 */
import type { MiddlewareHandler } from "hono";
import { secureHeaders } from "hono/secure-headers";
import type { AppEnv } from "../app_env.ts";

/** The HSTS policy: two years, subdomains included. */
export const HSTS = "max-age=63072000; includeSubDomains";

/** Sets the security headers after the rest of the chain has produced its response. */
export function securityHeaders(): MiddlewareHandler<AppEnv> {
  const hono = secureHeaders({
    strictTransportSecurity: HSTS,
    xFrameOptions: "DENY",
    referrerPolicy: "no-referrer",
    crossOriginResourcePolicy: "same-origin",
    contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
    removePoweredBy: true,
  });
  return async function securityHeaders(c, next) {
    await hono(c, next);
    c.res.headers.set("Cache-Control", "no-store");
    c.res.headers.delete("Server");
  };
}
