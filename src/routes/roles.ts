/**
 * `/roles` and `/permissions` (README "Endpoints"): reading needs
 * `users:read`, defining custom roles needs `roles:manage`.
 */
import { type Permission, PERMISSIONS } from "../domain/permissions.ts";
import { auditContext } from "../middleware/audit_context.ts";
import { requirePermission } from "../middleware/require_permission.ts";
import { roleCreateInput, roleName, roleUpdateInput } from "../schemas/admin.ts";
import { permissionListBody, roleBody, roleListBody } from "../schemas/responses.ts";
import type { Roles } from "../services/roles.ts";
import { defineRoute, named, response, type RouteDefinition } from "./route.ts";

/** What the `/roles` and `/permissions` routes use. */
export interface RoleRoutesDeps {
  readonly roles: Roles;
}

const ROLE = named("Role", roleBody);
const NAME = { name: roleName };
const NO_SUCH_ROLE = response("No such role.");

/** `/roles` and `/permissions` routes. */
export function roleRoutes(deps: RoleRoutesDeps): RouteDefinition[] {
  const { roles } = deps;
  return [
    defineRoute({
      method: "GET",
      path: "/permissions",
      guard: requirePermission("users:read"),
      operationId: "listPermissions",
      summary: "The permission catalogue",
      tag: "roles",
      responses: { 200: response("Every permission.", named("PermissionList", permissionListBody)) },
    }, (c) => c.json({ items: Object.entries(PERMISSIONS).map(([name, description]) => ({ name, description })) })),

    defineRoute({
      method: "GET",
      path: "/roles",
      guard: requirePermission("users:read"),
      operationId: "listRoles",
      summary: "List roles",
      tag: "roles",
      responses: { 200: response("Every role.", named("RoleList", roleListBody)) },
    }, (c) => c.json({ items: roles.list() })),

    defineRoute({
      method: "GET",
      path: "/roles/:name",
      guard: requirePermission("users:read"),
      operationId: "getRole",
      summary: "Read a role",
      tag: "roles",
      params: NAME,
      responses: { 200: response("The role.", ROLE), 404: NO_SUCH_ROLE },
    }, (c) => c.json(roles.get(c.req.param("name")))),

    defineRoute({
      method: "POST",
      path: "/roles",
      guard: requirePermission("roles:manage"),
      operationId: "createRole",
      summary: "Create a custom role",
      tag: "roles",
      body: named("RoleCreateInput", roleCreateInput),
      responses: { 201: response("Created.", ROLE, ["Location"]), 409: response("The name is taken.") },
    }, (c) => {
      const { name, description, permissions } = c.req.valid("json");
      const role = roles.create(c.var.user, name, {
        description,
        permissions: permissions as Permission[],
      }, auditContext(c));
      return c.json(role, 201, { Location: `/roles/${role.name}` });
    }),

    defineRoute({
      method: "PUT",
      path: "/roles/:name",
      guard: requirePermission("roles:manage"),
      operationId: "updateRole",
      summary: "Change a custom role",
      tag: "roles",
      params: NAME,
      body: named("RoleUpdateInput", roleUpdateInput),
      responses: {
        200: response("The role.", ROLE),
        404: NO_SUCH_ROLE,
        409: response("Built-in roles cannot change."),
      },
    }, (c) => {
      const { description, permissions } = c.req.valid("json");
      const role = roles.update(c.var.user, c.req.param("name"), {
        description,
        permissions: permissions as Permission[],
      }, auditContext(c));
      return c.json(role);
    }),

    defineRoute({
      method: "DELETE",
      path: "/roles/:name",
      guard: requirePermission("roles:manage"),
      operationId: "deleteRole",
      summary: "Delete a custom role nobody holds",
      tag: "roles",
      params: NAME,
      responses: {
        204: response("Deleted."),
        404: NO_SUCH_ROLE,
        409: response("Built-in, or still granted to someone."),
      },
    }, (c) => {
      roles.delete(c.var.user, c.req.param("name"), auditContext(c));
      return c.body(null, 204);
    }),
  ];
}
