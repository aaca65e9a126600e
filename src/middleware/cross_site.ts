/**
 * Cross-site request refusal (ASVS 5.0 3.5.2, OWASP CSRF Prevention Cheat
 * Sheet "Fetch Metadata" and "Verifying Origin"). A browser that once
 * answered this API's Basic challenge keeps the credentials and attaches
 * them to every later request to the origin — including one a hostile page
 * makes it send. CORS stops that page from *reading* the answer, but not a
 * "simple" request (a POST from a form, `fetch(…, {mode: "no-cors"})`) from
 * *acting*: such requests are sent without a preflight. So every request
 * that could change state (POST, PUT, PATCH, DELETE) must show it is not one:
 *
 * 1. `Sec-Fetch-Site` (sent by every current browser): `cross-site` or
 *    `same-site` is refused unless the `Origin` is one of `APP_CORS_ORIGINS`
 *    (a browser application the operator trusts, whose non-simple requests
 *    the CORS preflight has already vetted); `same-origin` and `none` pass.
 * 2. `Origin` (sent by browsers on every POST, PUT, PATCH and DELETE,
 *    cross-origin or not): when present it must be this API's own origin or
 *    one of `APP_CORS_ORIGINS`; `null` (sandboxed frames, some redirects) is refused.
 * 3. `Content-Type`: when present it must be `application/json`, whether or
 *    not there is a body. A form — the one cross-site request an old browser
 *    may send without `Origin` — always carries a form type
 *    (`application/x-www-form-urlencoded`, `multipart/form-data`,
 *    `text/plain`), and `application/json` is not CORS-safelisted, so a
 *    cross-origin request with it is always preflighted. A request with no
 *    `Content-Type` at all can only come from a non-browser client (curl) or
 *    from `fetch`/`sendBeacon`, which always send `Origin` (rule 2).
 *
 * Programs (curl, SDKs) send none of these headers and are unaffected; the
 * README's curl tour works unchanged.
 *
 * The 401 challenge: `WWW-Authenticate: Basic` is what makes a browser show
 * its password dialog and then cache what was typed. A request that carries
 * `Sec-Fetch-Mode` comes from a browser; its 401 advertises
 * `Bearer realm="secure-api"` instead (still a valid RFC 9110 §11.6.1
 * challenge), so no browser is ever invited to cache Basic credentials for
 * this origin. Programs get the Basic challenge (RFC 7617) as before.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app_env.ts";
import { ApiError } from "../errors.ts";

/** The challenge a browser gets on a 401: no password dialog, nothing cached. */
export const BROWSER_CHALLENGE = 'Bearer realm="secure-api"';

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** Options for {@link crossSite}. */
export interface CrossSiteOptions {
  /** Browser origins allowed to act on the API (`APP_CORS_ORIGINS`). Default none. */
  allowedOrigins?: readonly string[];
}

function refuse(detail: string): never {
  throw new ApiError(
    "forbidden",
    `${detail} A cross-site request may not change state (SECURITY.md "Cross-site requests").`,
  );
}

/** Refuses state-changing requests a browser could have sent on another site's behalf; softens 401s for browsers. */
export function crossSite(options: CrossSiteOptions = {}): MiddlewareHandler<AppEnv> {
  const allowed = new Set(options.allowedOrigins ?? []);
  return async function crossSite(c, next) {
    if (UNSAFE.has(c.req.method)) {
      const origin = c.req.header("Origin");
      const site = c.req.header("Sec-Fetch-Site");
      const trusted = origin !== undefined && allowed.has(origin);
      if ((site === "cross-site" || site === "same-site") && !trusted) {
        refuse(`Sec-Fetch-Site is ${site} and the Origin is not an allowed one.`);
      }
      if (origin !== undefined && !trusted && origin !== new URL(c.req.url).origin) {
        refuse("The Origin is neither this API's nor an allowed one.");
      }
      const type = c.req.header("Content-Type");
      if (type !== undefined && type.split(";", 1)[0]!.trim().toLowerCase() !== "application/json") {
        throw new ApiError(
          "unsupported-media-type",
          "A request that changes state may carry no Content-Type but application/json, even without a body.",
        );
      }
    }
    await next();
    if (c.res.status === 401 && c.req.header("Sec-Fetch-Mode") !== undefined) {
      c.res.headers.set("WWW-Authenticate", BROWSER_CHALLENGE);
    }
  };
}
