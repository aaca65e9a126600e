/**
 * `/users`: listing and administering users (README "Endpoints"). Every route needs
 * `users:read` or `users:manage`; the guard rails live in the accounts
 * service so the CLI obeys the same ones.
 */
import { Hono } from "hono";
import type { AppEnv } from "../app_env.ts";
import { auditContext } from "../middleware/audit_context.ts";
import { requirePermission } from "../middleware/require_permission.ts";
import { jsonBody, queryParams } from "../middleware/validate.ts";
import { pageQuery, roleGrantInput } from "../schemas/admin.ts";
import { DEFAULT_PAGE, paginate, parseId } from "../schemas/common.ts";
import type { Accounts } from "../services/accounts.ts";

/** What the `/users` routes use. */
export interface UserRoutesDeps {
  readonly accounts: Accounts;
}

/** `/users` routes. */
export function userRoutes(deps: UserRoutesDeps): Hono<AppEnv> {
  const { accounts } = deps;
  const app = new Hono<AppEnv>();

  app.get("/", requirePermission("users:read"), queryParams(pageQuery), (c) => {
    const { limit = DEFAULT_PAGE, cursor } = c.req.valid("query");
    return c.json(paginate(cursor, limit, (after, n) => accounts.list(after, n), (u) => u.id));
  });

  app.get("/:id", requirePermission("users:read"), (c) => {
    return c.json(accounts.view(parseId(c.req.param("id"), "user")));
  });

  app.put("/:id/roles", requirePermission("users:manage"), jsonBody(roleGrantInput), (c) => {
    const { roles } = c.req.valid("json");
    const id = parseId(c.req.param("id"), "user");
    return c.json(accounts.setRoles(c.var.user, id, roles, auditContext(c)));
  });

  app.post("/:id/disable", requirePermission("users:manage"), (c) => {
    const id = parseId(c.req.param("id"), "user");
    return c.json(accounts.setDisabled(c.var.user, id, true, auditContext(c)));
  });

  app.post("/:id/enable", requirePermission("users:manage"), (c) => {
    const id = parseId(c.req.param("id"), "user");
    return c.json(accounts.setDisabled(c.var.user, id, false, auditContext(c)));
  });

  app.delete("/:id", requirePermission("users:manage"), (c) => {
    accounts.delete(c.var.user, parseId(c.req.param("id"), "user"), auditContext(c));
    return c.body(null, 204);
  });

  return app;
}
