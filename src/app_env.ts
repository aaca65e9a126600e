/**
 * The typed Hono environment: what middleware sets and routes read.
 */
import type { Principal } from "./domain/principal.ts";

/** Who is calling from where: the address for the audit log, the key for limits. */
export interface ClientIdentity {
  /** The client's address, canonical form (after trusted-proxy resolution). */
  readonly address: string;
  /** The identity used for per-client limits: the IPv4 address or the IPv6 /64. */
  readonly key: string;
}

/** How the request authenticated. */
export interface Credential {
  readonly scheme: "basic" | "bearer";
  /** SHA-256 of the bearer token, so logout can revoke it. */
  readonly tokenHash: string | null;
}

/** The Hono environment of this application. */
export type AppEnv = {
  /** `Deno.serve` passes its handler info; `c.env.remoteAddr` is the TCP peer. */
  Bindings: Deno.ServeHandlerInfo<Deno.NetAddr>;
  Variables: {
    requestId: string;
    client: ClientIdentity;
    /** The authenticated user, or null for an anonymous request. */
    user: Principal | null;
    credential: Credential | null;
    /** Remaining quota already reported in the `RateLimit` header (the tighter pass wins). */
    rateLimitRemaining: number | undefined;
    /**
     * A route's own Content-Security-Policy, replacing the API's
     * `default-src 'none'` (only the `/docs` page sets one; see `routes/docs.ts`).
     */
    contentSecurityPolicy: string | undefined;
  };
};
