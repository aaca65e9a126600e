/**
 * The access log: one line per request, after the response is known, in its
 * own LogTape category (`secure-api.access`) so an operator can route it to
 * its own sink or silence it (`APP_ACCESS_LOG=off`) without touching the
 * application and audit logs. ASVS 5.0 16.2.1 (who, what, when, where,
 * outcome) and 16.3.x: the audit table records security events; this log
 * records every request, so traffic that is not an event (reads, 404s,
 * probing) is visible too.
 *
 * Fields: `method`; `route`, the declared pattern (`/products/:id`, null
 * when no route matched) and `path`, the actual path, length-capped and
 * control characters escaped (CWE-117); `query`, the query's parameter
 * *names* only — values are dropped, because clients do put tokens and
 * passwords in query strings even when the API never reads them; `status`;
 * `durationMs`; `requestId`; `userId` (null when anonymous); `client`, the
 * address after trusted-proxy resolution. Never a header, a body, a cookie
 * or a query value: nothing a client sends as a secret can reach this line.
 *
 * The message reads as one line in the pretty format (strings quoted by
 * LogTape): `"192.0.2.10" "user 7" "GET" "/products/1" → 200 in 3.1 ms`.
 */
import type { Logger } from "@logtape/logtape";
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app_env.ts";
import { sanitizeText } from "../audit/sanitize.ts";
import { matchedRoute } from "../routes/route.ts";

/** The logger category of access lines (defined with the logging configuration, which routes it). */
export { ACCESS_CATEGORY } from "../logging.ts";

/** Longest path logged, in UTF-16 code units. */
const MAX_PATH = 256;
/** Most query parameter names logged. */
const MAX_QUERY_NAMES = 16;

/** Options for {@link accessLog}. */
export interface AccessLogOptions {
  /** Where the lines go (category {@link ACCESS_CATEGORY}). */
  logger: Logger;
  /** A monotonic clock in ms. Default `performance.now`. */
  now?: () => number;
}

/** The parameter names of `url`'s query, in order, each once, sanitised; values never. */
export function queryNames(url: string): string[] {
  const start = url.indexOf("?");
  if (start === -1) return [];
  const names = new Set<string>();
  for (const name of new URLSearchParams(url.slice(start + 1)).keys()) {
    if (names.size >= MAX_QUERY_NAMES) break;
    names.add(sanitizeText(name, 64));
  }
  return [...names];
}

/** Logs each request once its response is final. Mount it right after `requestId`. */
export function accessLog(options: AccessLogOptions): MiddlewareHandler<AppEnv> {
  const { logger, now = () => performance.now() } = options;
  return async function accessLog(c, next) {
    const started = now();
    try {
      await next();
    } finally {
      const durationMs = Math.round((now() - started) * 10) / 10;
      const userId = c.var.user?.id ?? null;
      const client = c.var.client?.address ?? c.env?.remoteAddr?.hostname ?? "unknown";
      logger.info("{client} {who} {method} {path} → {status} in {durationMs} ms", {
        method: c.req.method,
        route: matchedRoute(c)?.path ?? null,
        path: sanitizeText(c.req.path, MAX_PATH),
        query: queryNames(c.req.url),
        status: c.res.status,
        durationMs,
        requestId: c.var.requestId,
        userId,
        who: userId === null ? "anonymous" : `user ${userId}`,
        client,
      });
    }
  };
}
