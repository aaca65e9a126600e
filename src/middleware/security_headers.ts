/**
 * Response hardening on every response, errors included (SECURITY.md
 * "Transport and response hardening"; OWASP
 * REST Security Cheat Sheet "Security headers", ASVS 5.0 3.4): Hono's
 * `secureHeaders` configured for a JSON API, plus `Cache-Control: no-store`
 * so no proxy or browser keeps an authenticated response, and no `Server` or
 * `X-Powered-By`.
 *
 * The one exception to `default-src 'none'` is a route that sets
 * `c.var.contentSecurityPolicy` (the `/docs` page and its assets): it gets
 * that policy instead, still strict (no inline script).
 *
 * Hono's defaults for HTML documents (`X-XSS-Protection`, `X-DNS-Prefetch-
 * Control`, `X-Download-Options`, `X-Permitted-Cross-Domain-Policies`,
 * `Origin-Agent-Cluster`, `Cross-Origin-Opener-Policy`) are switched off:
 * they govern pages a browser renders, which this API never serves, and each
 * header costs validation on every response (measured in BENCHMARKS.md).
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
    // base-uri never falls back to default-src, and ASVS 5.0 3.4.3 asks for object-src by name.
    contentSecurityPolicy: {
      defaultSrc: ["'none'"],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
      objectSrc: ["'none'"],
    },
    removePoweredBy: true,
    xXssProtection: false,
    xDnsPrefetchControl: false,
    xDownloadOptions: false,
    xPermittedCrossDomainPolicies: false,
    originAgentCluster: false,
    crossOriginOpenerPolicy: false,
  });
  return async function securityHeaders(c, next) {
    await hono(c, next);
    // A route that serves a page a browser renders (only /docs) declares a policy of its own; everything
    // else keeps default-src 'none'. Set here, after Hono's, so nothing downstream can drop the header.
    const own = c.var.contentSecurityPolicy;
    if (own !== undefined) c.res.headers.set("Content-Security-Policy", own);
    c.res.headers.set("Cache-Control", "no-store");
    c.res.headers.delete("Server");
  };
}
