/**
 * `/users`: listing and administering users (README "Endpoints"). Every
 * route needs `users:read` or `users:manage`; the guard rails live in the
 * accounts service so the CLI obeys the same ones.
 */
import { auditContext } from "../middleware/audit_context.ts";
import { requirePermission } from "../middleware/require_permission.ts";
import { pageQuery, roleGrantInput } from "../schemas/admin.ts";
import { DEFAULT_PAGE, idParam, paginate, parseId } from "../schemas/common.ts";
import { userBody, userPageBody } from "../schemas/responses.ts";
import type { Accounts } from "../services/accounts.ts";
import { defineRoute, named, response, type RouteDefinition } from "./route.ts";

/** What the `/users` routes use. */
export interface UserRoutesDeps {
  readonly accounts: Accounts;
}

const USER = named("User", userBody);
const ID = { id: idParam };

/** `/users` routes. */
export function userRoutes(deps: UserRoutesDeps): RouteDefinition[] {
  const { accounts } = deps;
  return [
    defineRoute({
      method: "GET",
      path: "/users",
      guard: requirePermission("users:read"),
      operationId: "listUsers",
      summary: "List users",
      tag: "users",
      query: pageQuery,
      responses: { 200: response("A page of users.", named("UserPage", userPageBody)) },
    }, (c) => {
      const { limit = DEFAULT_PAGE, cursor } = c.req.valid("query");
      return c.json(paginate(cursor, limit, (after, n) => accounts.list(after, n), (u) => u.id));
    }),

    defineRoute({
      method: "GET",
      path: "/users/:id",
      guard: requirePermission("users:read"),
      operationId: "getUser",
      summary: "Read a user",
      tag: "users",
      params: ID,
      responses: { 200: response("The user.", USER) },
    }, (c) => c.json(accounts.view(parseId(c.req.param("id"), "user")))),

    defineRoute({
      method: "PUT",
      path: "/users/:id/roles",
      guard: requirePermission("users:manage"),
      operationId: "setUserRoles",
      summary: "Replace a user's roles",
      tag: "users",
      params: ID,
      body: named("RoleGrantInput", roleGrantInput),
      responses: {
        200: response("The user with the new roles.", USER),
        409: response("The last active admin would lose the role."),
      },
    }, (c) => {
      const { roles } = c.req.valid("json");
      const id = parseId(c.req.param("id"), "user");
      return c.json(accounts.setRoles(c.var.user, id, roles, auditContext(c)));
    }),

    defineRoute({
      method: "POST",
      path: "/users/:id/disable",
      guard: requirePermission("users:manage"),
      operationId: "disableUser",
      summary: "Disable a user; revokes their tokens",
      tag: "users",
      params: ID,
      responses: {
        200: response("The disabled user.", USER),
        409: response("The last active admin cannot be disabled."),
      },
    }, (c) => {
      const id = parseId(c.req.param("id"), "user");
      return c.json(accounts.setDisabled(c.var.user, id, true, auditContext(c)));
    }),

    defineRoute({
      method: "POST",
      path: "/users/:id/enable",
      guard: requirePermission("users:manage"),
      operationId: "enableUser",
      summary: "Enable a user",
      tag: "users",
      params: ID,
      responses: { 200: response("The enabled user.", USER) },
    }, (c) => {
      const id = parseId(c.req.param("id"), "user");
      return c.json(accounts.setDisabled(c.var.user, id, false, auditContext(c)));
    }),

    defineRoute({
      method: "DELETE",
      path: "/users/:id",
      guard: requirePermission("users:manage"),
      operationId: "deleteUser",
      summary: "Delete a user",
      tag: "users",
      params: ID,
      responses: { 204: response("Deleted."), 409: response("The last active admin cannot be deleted.") },
    }, (c) => {
      accounts.delete(c.var.user, parseId(c.req.param("id"), "user"), auditContext(c));
      return c.body(null, 204);
    }),
  ];
}
