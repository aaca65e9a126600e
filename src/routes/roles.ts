/**
 * `/roles` and `/permissions` (README "Endpoints"): reading needs `users:read`,
 * defining custom roles needs `roles:manage`.
 */
import { Hono } from "hono";
import type { AppEnv } from "../app_env.ts";
import { PERMISSIONS } from "../domain/permissions.ts";
import { auditContext } from "../middleware/audit_context.ts";
import { requirePermission } from "../middleware/require_permission.ts";
import { jsonBody } from "../middleware/validate.ts";
import { roleCreateInput, roleUpdateInput } from "../schemas/admin.ts";
import type { Permission } from "../domain/permissions.ts";
import type { Roles } from "../services/roles.ts";

/** What the `/roles` and `/permissions` routes use. */
export interface RoleRoutesDeps {
  readonly roles: Roles;
}

/** `/roles` and `/permissions` routes. */
export function roleRoutes(deps: RoleRoutesDeps): Hono<AppEnv> {
  const { roles } = deps;
  const app = new Hono<AppEnv>();

  app.get("/permissions", requirePermission("users:read"), (c) => {
    return c.json({ items: Object.entries(PERMISSIONS).map(([name, description]) => ({ name, description })) });
  });

  app.get("/roles", requirePermission("users:read"), (c) => c.json({ items: roles.list() }));

  app.get("/roles/:name", requirePermission("users:read"), (c) => c.json(roles.get(c.req.param("name"))));

  app.post("/roles", requirePermission("roles:manage"), jsonBody(roleCreateInput), (c) => {
    const { name, description, permissions } = c.req.valid("json");
    const role = roles.create(c.var.user, name, {
      description,
      permissions: permissions as Permission[],
    }, auditContext(c));
    return c.json(role, 201, { Location: `/roles/${role.name}` });
  });

  app.put("/roles/:name", requirePermission("roles:manage"), jsonBody(roleUpdateInput), (c) => {
    const { description, permissions } = c.req.valid("json");
    const role = roles.update(c.var.user, c.req.param("name"), {
      description,
      permissions: permissions as Permission[],
    }, auditContext(c));
    return c.json(role);
  });

  app.delete("/roles/:name", requirePermission("roles:manage"), (c) => {
    roles.delete(c.var.user, c.req.param("name"), auditContext(c));
    return c.body(null, 204);
  });

  return app;
}
