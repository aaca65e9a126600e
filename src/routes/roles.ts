/**
 * `/roles` and `/permissions` (SPEC §7): reading needs `users:read`,
 * defining custom roles needs `roles:manage`.
 */
import { Hono } from "hono";
import type { AppEnv } from "../app_env.ts";
import { PERMISSIONS } from "../auth/permissions.ts";
import type { AppDeps } from "../deps.ts";
import { auditContext } from "../middleware/audit_context.ts";
import { checkAccess, requirePermission } from "../middleware/require_permission.ts";
import { jsonBody } from "../middleware/validate.ts";
import { roleCreateInput, roleUpdateInput } from "../schemas/admin.ts";
import type { Permission } from "../auth/permissions.ts";

/** `/roles` and `/permissions` routes. */
export function roleRoutes(deps: AppDeps): Hono<AppEnv> {
  const { roles, roleAdmin } = deps;
  const app = new Hono<AppEnv>();

  app.get("/permissions", requirePermission("users:read"), (c) => {
    return c.json({ items: Object.entries(PERMISSIONS).map(([name, description]) => ({ name, description })) });
  });

  app.get("/roles", requirePermission("users:read"), (c) => c.json({ items: roles.list() }));

  app.get("/roles/:name", requirePermission("users:read"), (c) => c.json(roleAdmin.get(c.req.param("name"))));

  app.post("/roles", requirePermission("roles:manage"), jsonBody(roleCreateInput), (c) => {
    const { name, description, permissions } = c.req.valid("json");
    const role = roleAdmin.create(checkAccess(c), name, {
      description,
      permissions: permissions as Permission[],
    }, auditContext(c));
    return c.json(role, 201, { Location: `/roles/${role.name}` });
  });

  app.put("/roles/:name", requirePermission("roles:manage"), jsonBody(roleUpdateInput), (c) => {
    const { description, permissions } = c.req.valid("json");
    const role = roleAdmin.update(checkAccess(c), c.req.param("name"), {
      description,
      permissions: permissions as Permission[],
    }, auditContext(c));
    return c.json(role);
  });

  app.delete("/roles/:name", requirePermission("roles:manage"), (c) => {
    roleAdmin.delete(checkAccess(c), c.req.param("name"), auditContext(c));
    return c.body(null, 204);
  });

  return app;
}
