/**
 * Rate limiting (ASVS 5.0 2.4.1, OWASP API4:2023; SECURITY.md "Rate limiting and
 * resource consumption"). One factory used
 * twice: before authentication keyed by client (so a flood never reaches the
 * KDF) and after it keyed by user. Each pass picks the route's policy,
 * consumes one GCRA cell, and sets the IETF `RateLimit-Policy` and
 * `RateLimit` headers (the tighter pass wins). A refusal is a problem+json
 * 429 with `Retry-After` and `violated-policies`, and one
 * `excess_rate_limit_exceeded` audit row per key per window — not one per
 * request, so a flood cannot flood the audit log.
 *
 * When the store is unreachable (Redis down) the policy decides: `auth`
 * fails closed with 503, `api` fails open with a warning (at most one per
 * `warnIntervalMs`, counting what it let through, so an outage under load
 * does not flood the log); both recover by themselves. Any other error from
 * the store is a bug and surfaces as a 500, never as a silent fail-open.
 */
import type { Logger } from "@logtape/logtape";
import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../app_env.ts";
import type { AuditLog } from "../audit/audit_log.ts";
import { ApiError } from "../errors.ts";
import { LRUMap } from "../util/lru_map.ts";
import type { GCRADecision } from "../ratelimit/gcra.ts";
import { rateLimitHeader, type RatePolicy } from "../ratelimit/policy.ts";
import { type RateLimitStore, StoreUnavailableError } from "../ratelimit/store.ts";
import { auditContext } from "./audit_context.ts";

/** Options for {@link rateLimit}. */
export interface RateLimitOptions {
  /** Where decisions are made. */
  store: RateLimitStore;
  /** The policy of a request (by route). */
  policyFor: (c: Context<AppEnv>) => RatePolicy;
  /** Which identity this pass limits; `user` passes skip anonymous requests. */
  scope: "client" | "user";
  /** Where refusals are recorded. */
  audit: AuditLog;
  /** Where store failures are reported. Default none. */
  logger?: Logger | null;
  /** Milliseconds since the epoch, for audit de-duplication. Default `Date.now`. */
  clock?: () => number;
  /**
   * Keys remembered for audit de-duplication (LRU). Default 10000. A key
   * evicted early can be audited again within its window; each such row
   * still costs its key a full quota of requests first.
   */
  maxAuditKeys?: number;
  /** Least time between two fail-open warnings, in ms. Default 10000. */
  warnIntervalMs?: number;
  /** Called on every refusal (429), e.g. to count it in the metrics. Default none. */
  onRefused?: (policy: string, scope: "client" | "user") => void;
}

/** Limits requests per client or per user. */
export function rateLimit(options: RateLimitOptions): MiddlewareHandler<AppEnv> {
  const {
    store,
    policyFor,
    scope,
    audit,
    logger = null,
    clock = Date.now,
    maxAuditKeys = 10_000,
    warnIntervalMs = 10_000,
    onRefused,
  } = options;
  const audited = new LRUMap<string, number>(maxAuditKeys);
  const outage = { lastWarning: -Infinity, unwarned: 0 };

  const identity = (c: Context<AppEnv>): string | null => {
    if (scope === "client") return `c:${c.var.client.key}`;
    const user = c.var.user;
    return user ? `u:${user.id}` : null;
  };

  const decide = async (key: string, policy: RatePolicy): Promise<GCRADecision | null> => {
    try {
      const result = store.consume(key, policy);
      return result instanceof Promise ? await result : result;
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error;
      if (policy.onStoreError === "closed") {
        throw new ApiError("service-unavailable", "Rate limiting is unavailable; retry shortly.", {
          cause: error,
          headers: { "Retry-After": "5" },
        });
      }
      outage.unwarned++;
      const now = clock();
      if (now - outage.lastWarning >= warnIntervalMs) {
        logger?.warn("rate-limit store unavailable; {scope} {policy} fails open ({allowed} requests): {error}", {
          scope,
          policy: policy.name,
          allowed: outage.unwarned,
          error: error.message,
        });
        outage.lastWarning = now;
        outage.unwarned = 0;
      }
      return null;
    }
  };

  return async function rateLimit(c, next) {
    const id = identity(c);
    if (id === null) return next();
    const policy = policyFor(c);
    const key = `${policy.name}:${id}`;
    const decision = await decide(key, policy);
    if (decision === null) return next();

    if (!decision.allowed) {
      // The 429 carries this pass's headers; an outer pass must not overwrite them.
      c.set("rateLimitRemaining", 0);
      onRefused?.(policy.name, scope);
      const now = clock();
      if ((audited.peek(key) ?? 0) <= now) {
        audited.set(key, now + policy.windowMs);
        await audit.append({
          ...auditContext(c),
          event: "excess_rate_limit_exceeded",
          status: 429,
          target: scope === "user" ? `user:${c.var.user!.id}` : null,
          detail: { policy: policy.name, scope },
        });
      }
      throw new ApiError("quota-exceeded", `The "${policy.name}" rate limit is exhausted.`, {
        violatedPolicies: [policy.name],
        headers: {
          "Retry-After": String(Math.max(1, Math.ceil(decision.retryAfterMs / 1000))),
          "RateLimit-Policy": policy.header,
          "RateLimit": rateLimitHeader(policy, decision),
        },
      });
    }

    await next();
    // The tighter of the two passes is the one the client needs to know about.
    const reported = c.get("rateLimitRemaining");
    if (reported === undefined || decision.remaining < reported) {
      c.set("rateLimitRemaining", decision.remaining);
      c.res.headers.set("RateLimit-Policy", policy.header);
      c.res.headers.set("RateLimit", rateLimitHeader(policy, decision));
    }
  };
}
