/**
 * Every route of the API, in the order they are registered. Each routes
 * file declares its own (see `route.ts`); this list is the one place they
 * are gathered, for the router, the rate limiter and the OpenAPI document.
 */
import type { AuditLog } from "../audit/audit_log.ts";
import type { Authenticator } from "../auth/authenticator.ts";
import type { Metrics } from "../metrics/metrics.ts";
import type { Accounts } from "../services/accounts.ts";
import type { Products } from "../services/products.ts";
import type { Readiness } from "../services/readiness.ts";
import type { Roles } from "../services/roles.ts";
import type { Sessions } from "../services/sessions.ts";
import { auditRoutes } from "./audit.ts";
import { authRoutes } from "./auth.ts";
import { docsRoutes } from "./docs.ts";
import { healthRoutes } from "./health.ts";
import { metricsRoutes } from "./metrics.ts";
import { openAPIRoutes } from "./openapi.ts";
import { productRoutes } from "./products.ts";
import { roleRoutes } from "./roles.ts";
import type { RouteDefinition } from "./route.ts";
import { sessionRoutes } from "./sessions.ts";
import { userRoutes } from "./users.ts";

/** What the routes use, all together. */
export interface APIRoutesDeps {
  readonly accounts: Accounts;
  readonly roles: Roles;
  readonly products: Products;
  readonly readiness: Readiness;
  readonly sessions: Sessions;
  readonly metrics: Metrics;
  readonly authenticator: Authenticator;
  readonly audit: AuditLog;
}

/** Every route, `GET /openapi.json` describing them all. */
export function apiRoutes(deps: APIRoutesDeps): readonly RouteDefinition[] {
  const routes: RouteDefinition[] = [];
  routes.push(
    ...healthRoutes(deps),
    ...metricsRoutes(deps),
    ...docsRoutes(),
    ...openAPIRoutes(() => routes),
    ...authRoutes(deps),
    ...sessionRoutes(deps),
    ...productRoutes(deps),
    ...userRoutes(deps),
    ...roleRoutes(deps),
    ...auditRoutes(deps),
  );
  return routes;
}
