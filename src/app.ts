/**
 * `createApp(deps)`: the one place that fixes the middleware order and mounts
 * the routes. The order is the security design, outermost first:
 *
 * 1. `requestId`        — every response and log line gets an id
 *    `accessLog`        — one line per request, once the response is final (APP_ACCESS_LOG)
 *    `httpMetrics`      — requests by declared route and status, latency (GET /metrics)
 * 2. `securityHeaders`  — on every response, errors included
 *    `tarpit`           — holds 429s for their Retry-After (≤ 1 s), so a flood cannot spin
 * 3. `clientAddress`    — the peer, or the client behind a trusted proxy
 * 4. `auditFailures`    — records 403s and rejected input from everything below
 * 5. `rateLimit(client)`— before authentication: a flood never reaches the KDF
 * 6. `cors`             — only when origins are configured
 *    `crossSite`        — a state change a browser could send cross-site is refused (403/415)
 * 7. `methodNotAllowed` — 405 with `Allow` for a known path, wrong method
 * 8. `bodyLimit`        — 64 KiB, before anything reads the body
 * 9. `authenticate`     — Basic or Bearer → `c.var.user` (or anonymous)
 *    `passwordChangeGate` — a password someone else set opens only /auth/me and /auth/password (403)
 * 10. `rateLimit(user)` — per user, after authentication
 * then each route's own guard (`requirePermission` …) and validator.
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { methodNotAllowed } from "hono/method-not-allowed";
import type { AppEnv } from "./app_env.ts";
import type { AppDeps } from "./deps.ts";
import { ApiError } from "./errors.ts";
import { errorHandler, problemResponse } from "./middleware/error_handler.ts";
import { httpMetrics } from "./middleware/http_metrics.ts";
import { ACCESS_CATEGORY, accessLog } from "./middleware/access_log.ts";
import { auditFailures } from "./middleware/audit_failures.ts";
import { authenticate } from "./middleware/authenticate.ts";
import { clientAddress } from "./middleware/client_address.ts";
import { crossSite } from "./middleware/cross_site.ts";
import { passwordChangeGate } from "./middleware/password_change_gate.ts";
import { rateLimit } from "./middleware/rate_limit.ts";
import { requestId } from "./middleware/request_id.ts";
import { securityHeaders } from "./middleware/security_headers.ts";
import { tarpit } from "./middleware/tarpit.ts";
import { apiRoutes } from "./routes/api.ts";
import { matchedRoute, mountRoutes } from "./routes/route.ts";
import { getLogger } from "@logtape/logtape";

/** Largest request body accepted, in bytes (OWASP API4:2023; SECURITY.md "Errors and input"). */
export const MAX_BODY_BYTES = 64 * 1024;

/** Builds the application over `deps`. */
export function createApp(deps: AppDeps): Hono<AppEnv> {
  const { config, audit, rateLimitStore: store, ratePolicies: policies, services } = deps;
  const logger = getLogger(["secure-api", "http"]);
  const rateLimitLogger = getLogger(["secure-api", "ratelimit"]);
  const app = new Hono<AppEnv>();
  // Each route declares its policy; a request that matched no route (404, 405) is under `api`.
  const policyFor = (c: Context<AppEnv>) => policies[matchedRoute(c)?.rateLimit ?? "api"];

  app.use(requestId());
  // Outermost after the id: the line carries the final status and the whole time, tarpit hold included.
  if (config.accessLog) app.use(accessLog({ logger: getLogger([...ACCESS_CATEGORY]) }));
  app.use(httpMetrics({ metrics: deps.metrics }));
  app.use(securityHeaders());
  app.use(tarpit(deps.tarpit));
  app.use(clientAddress({ trustedProxies: config.trustProxy }));
  app.use(auditFailures({ audit }));
  const onRefused = (policy: string, scope: "client" | "user") => deps.metrics.rateLimitRefused(policy, scope);
  app.use(
    rateLimit({ store, policyFor, scope: "client", audit, logger: rateLimitLogger, clock: deps.clock, onRefused }),
  );
  if (config.corsOrigins.length > 0) {
    app.use(cors({
      origin: [...config.corsOrigins],
      allowMethods: ["GET", "POST", "PUT", "DELETE"],
      allowHeaders: ["Authorization", "Content-Type", "If-Match", "If-None-Match"],
      exposeHeaders: ["ETag", "Location", "RateLimit", "RateLimit-Policy", "Retry-After", "X-Request-Id"],
      maxAge: 600,
    }));
  }
  app.use(crossSite({ allowedOrigins: config.corsOrigins }));
  app.use(methodNotAllowed({
    app,
    onMethodNotAllowed: (c, methods) =>
      problemResponse(
        new ApiError("method-not-allowed", `Use ${methods.join(", ")} on this resource.`, {
          headers: { Allow: methods.join(", ") },
        }),
        c.req.path,
        c.var.requestId,
      ),
  }));
  app.use(bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: () => {
      throw new ApiError("payload-too-large", `The request body exceeds ${MAX_BODY_BYTES} bytes.`);
    },
  }));
  app.use(authenticate({ authenticator: deps.authenticator }));
  app.use(passwordChangeGate());
  app.use(rateLimit({ store, policyFor, scope: "user", audit, logger: rateLimitLogger, clock: deps.clock, onRefused }));

  mountRoutes(
    app,
    apiRoutes({
      accounts: services.accounts,
      roles: services.roles,
      products: services.products,
      readiness: services.readiness,
      sessions: services.sessions,
      metrics: deps.metrics,
      authenticator: deps.authenticator,
      audit,
    }),
  );

  app.notFound((c) => problemResponse(new ApiError("not-found", "No such resource."), c.req.path, c.var.requestId));
  app.onError(errorHandler(logger));
  return app;
}
