/**
 * Rate-limit policies and their IETF headers
 * (draft-ietf-httpapi-ratelimit-headers): `RateLimit-Policy: "api";q=600;w=60`
 * describes the quota, `RateLimit: "api";r=<remaining>;t=<seconds>` the state.
 */
import type { RatePolicyConfig } from "../config.ts";
import type { GCRADecision, GCRAPolicy } from "./gcra.ts";

/** The policy names. `auth` covers register, login and password change; `api` everything else. */
export type PolicyName = "auth" | "api";

/** A named policy. */
export interface RatePolicy extends GCRAPolicy {
  readonly name: PolicyName;
  /** What happens when the store is unreachable: `closed` refuses (503), `open` allows with a warning. */
  readonly onStoreError: "open" | "closed";
  /** The `RateLimit-Policy` header value, computed once. */
  readonly header: string;
}

/** Builds a policy from its configuration. */
export function ratePolicy(name: PolicyName, config: RatePolicyConfig): RatePolicy {
  return {
    name,
    quota: config.quota,
    windowMs: config.windowSeconds * 1000,
    // Authentication fails closed: an outage must not lift the brake on password guessing.
    onStoreError: name === "auth" ? "closed" : "open",
    header: `"${name}";q=${config.quota};w=${config.windowSeconds}`,
  };
}

/** The `RateLimit` header value for a decision. */
export function rateLimitHeader(policy: RatePolicy, decision: GCRADecision): string {
  return `"${policy.name}";r=${decision.remaining};t=${Math.ceil(decision.resetMs / 1000)}`;
}
