/**
 * What each route accepts and answers, for the OpenAPI document: the method
 * and path, its guard, and the very zod schemas its validators use. The
 * router stays in `src/routes/`; `tests/openapi_test.ts` walks it and fails
 * when a route is missing here, listed here but not routed, or guarded
 * differently from what is written here (OWASP API9:2023, improper
 * inventory management).
 *
 * Errors every route can give (401, 429, 500, 503) and those implied by the
 * inputs (400/413/415/422 for a body, 422 for a query, 404 for a path id,
 * 403 for a permission) are added by `src/openapi.ts`; only route-specific
 * ones are listed here.
 */
import type { z } from "zod";
import type { GuardInfo } from "./middleware/require_permission.ts";
import type { Permission } from "./domain/permissions.ts";
import { pageQuery, roleCreateInput, roleGrantInput, roleName, roleUpdateInput } from "./schemas/admin.ts";
import { auditQuery } from "./schemas/audit.ts";
import { passwordChangeInput, registerInput } from "./schemas/auth.ts";
import { idParam } from "./schemas/common.ts";
import { productInput, productListQuery } from "./schemas/products.ts";
import * as out from "./schemas/responses.ts";

/** A schema with the name it has under `components.schemas`. */
export interface NamedSchema {
  readonly name: string;
  readonly schema: z.ZodType;
}

/** Response headers the document knows (defined once under `components.headers`). */
export type HeaderName = "ETag" | "Location";

/** One documented response. */
export interface ResponseSpec {
  readonly description: string;
  /** The body; none for 204/304. Error statuses always carry a problem. */
  readonly body?: NamedSchema;
  readonly headers?: readonly HeaderName[];
}

/** One operation: a method on a path. */
export interface OperationSpec {
  readonly method: "GET" | "POST" | "PUT" | "DELETE";
  /** In Hono's form, `/products/:id`, exactly as routed. */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly tag: string;
  /** Must equal the route's guard (checked by the test). */
  readonly guard: GuardInfo;
  /** Which credentials work; default both Basic and Bearer. */
  readonly schemes?: readonly ("basic" | "bearer")[];
  readonly params?: Readonly<Record<string, z.ZodType>>;
  readonly query?: z.ZodObject;
  readonly body?: NamedSchema;
  readonly requestHeaders?: readonly ("If-Match" | "If-None-Match")[];
  /** Success responses and route-specific errors, by status. */
  readonly responses: Readonly<Record<number, ResponseSpec>>;
}

const named = (name: string, schema: z.ZodType): NamedSchema => ({ name, schema });

/** Request bodies. */
const req = {
  register: named("RegisterInput", registerInput),
  password: named("PasswordChangeInput", passwordChangeInput),
  product: named("ProductInput", productInput),
  roleGrant: named("RoleGrantInput", roleGrantInput),
  roleCreate: named("RoleCreateInput", roleCreateInput),
  roleUpdate: named("RoleUpdateInput", roleUpdateInput),
};

/** Response bodies. */
const res = {
  health: named("Health", out.healthBody),
  openapi: named("OpenAPIDocument", out.openAPIBody),
  user: named("User", out.userBody),
  me: named("Me", out.meBody),
  login: named("Login", out.loginBody),
  product: named("Product", out.productBody),
  productPage: named("ProductPage", out.productPageBody),
  userPage: named("UserPage", out.userPageBody),
  permissions: named("PermissionList", out.permissionListBody),
  role: named("Role", out.roleBody),
  roles: named("RoleList", out.roleListBody),
  auditPage: named("AuditPage", out.auditPageBody),
  auditVerify: named("AuditVerification", out.auditVerifyBody),
};

const PUBLIC: GuardInfo = { kind: "public" };
const USER: GuardInfo = { kind: "authenticated" };
const may = (permission: Permission): GuardInfo => ({ kind: "permission", permission });
const ok = (description: string, body?: NamedSchema, headers?: readonly HeaderName[]): ResponseSpec => ({
  description,
  ...(body ? { body } : {}),
  ...(headers ? { headers } : {}),
});
const id = { id: idParam };
const name = { name: roleName };

/** Every operation the API serves. */
export const OPERATIONS: readonly OperationSpec[] = [
  {
    method: "GET",
    path: "/health",
    operationId: "health",
    summary: "Liveness",
    tag: "system",
    guard: PUBLIC,
    responses: { 200: ok("Alive.", res.health) },
  },
  {
    method: "GET",
    path: "/openapi.json",
    operationId: "openapi",
    summary: "This document",
    tag: "system",
    guard: PUBLIC,
    responses: { 200: ok("The OpenAPI 3.1 description of the API.", res.openapi) },
  },
  {
    method: "POST",
    path: "/auth/register",
    operationId: "register",
    summary: "Create an account (role viewer)",
    tag: "auth",
    guard: PUBLIC,
    body: req.register,
    responses: {
      201: ok("Created.", res.user, ["Location"]),
      409: ok("The username is taken."),
    },
  },
  {
    method: "POST",
    path: "/auth/login",
    operationId: "login",
    summary: "Exchange a password for a bearer token",
    tag: "auth",
    guard: USER,
    schemes: ["basic"],
    responses: { 200: ok("A new token.", res.login) },
  },
  {
    method: "POST",
    path: "/auth/logout",
    operationId: "logout",
    summary: "Revoke the bearer token of this request",
    tag: "auth",
    guard: USER,
    schemes: ["bearer"],
    responses: { 204: ok("Revoked."), 400: ok("The request did not use a bearer token.") },
  },
  {
    method: "GET",
    path: "/auth/me",
    operationId: "me",
    summary: "The caller, roles and effective permissions",
    tag: "auth",
    guard: USER,
    responses: { 200: ok("The caller.", res.me) },
  },
  {
    method: "PUT",
    path: "/auth/password",
    operationId: "changePassword",
    summary: "Change the caller's password; revokes all their tokens",
    tag: "auth",
    guard: USER,
    body: req.password,
    responses: { 204: ok("Changed."), 403: ok("The current password is wrong.") },
  },
  {
    method: "GET",
    path: "/products",
    operationId: "listProducts",
    summary: "List products",
    tag: "products",
    guard: may("products:read"),
    query: productListQuery,
    responses: { 200: ok("A page of products.", res.productPage) },
  },
  {
    method: "GET",
    path: "/products/:id",
    operationId: "getProduct",
    summary: "Read a product",
    tag: "products",
    guard: may("products:read"),
    params: id,
    requestHeaders: ["If-None-Match"],
    responses: {
      200: ok("The product.", res.product, ["ETag"]),
      304: ok("Unchanged since the version in `If-None-Match`.", undefined, ["ETag"]),
    },
  },
  {
    method: "POST",
    path: "/products",
    operationId: "createProduct",
    summary: "Create a product owned by the caller",
    tag: "products",
    guard: may("products:create"),
    body: req.product,
    responses: { 201: ok("Created.", res.product, ["Location", "ETag"]) },
  },
  {
    method: "PUT",
    path: "/products/:id",
    operationId: "replaceProduct",
    summary: "Replace a product (owner, or products:manage)",
    tag: "products",
    guard: may("products:update"),
    params: id,
    body: req.product,
    requestHeaders: ["If-Match"],
    responses: {
      200: ok("Replaced.", res.product, ["ETag"]),
      412: ok("`If-Match` names another version: the product changed since it was read."),
    },
  },
  {
    method: "DELETE",
    path: "/products/:id",
    operationId: "deleteProduct",
    summary: "Delete a product (owner, or products:manage)",
    tag: "products",
    guard: may("products:delete"),
    params: id,
    requestHeaders: ["If-Match"],
    responses: {
      204: ok("Deleted."),
      412: ok("`If-Match` names another version: the product changed since it was read."),
    },
  },
  {
    method: "GET",
    path: "/users",
    operationId: "listUsers",
    summary: "List users",
    tag: "users",
    guard: may("users:read"),
    query: pageQuery,
    responses: { 200: ok("A page of users.", res.userPage) },
  },
  {
    method: "GET",
    path: "/users/:id",
    operationId: "getUser",
    summary: "Read a user",
    tag: "users",
    guard: may("users:read"),
    params: id,
    responses: { 200: ok("The user.", res.user) },
  },
  {
    method: "PUT",
    path: "/users/:id/roles",
    operationId: "setUserRoles",
    summary: "Replace a user's roles",
    tag: "users",
    guard: may("users:manage"),
    params: id,
    body: req.roleGrant,
    responses: {
      200: ok("The user with the new roles.", res.user),
      409: ok("The last active admin would lose the role."),
    },
  },
  {
    method: "POST",
    path: "/users/:id/disable",
    operationId: "disableUser",
    summary: "Disable a user; revokes their tokens",
    tag: "users",
    guard: may("users:manage"),
    params: id,
    responses: { 200: ok("The disabled user.", res.user), 409: ok("The last active admin cannot be disabled.") },
  },
  {
    method: "POST",
    path: "/users/:id/enable",
    operationId: "enableUser",
    summary: "Enable a user",
    tag: "users",
    guard: may("users:manage"),
    params: id,
    responses: { 200: ok("The enabled user.", res.user) },
  },
  {
    method: "DELETE",
    path: "/users/:id",
    operationId: "deleteUser",
    summary: "Delete a user",
    tag: "users",
    guard: may("users:manage"),
    params: id,
    responses: { 204: ok("Deleted."), 409: ok("The last active admin cannot be deleted.") },
  },
  {
    method: "GET",
    path: "/permissions",
    operationId: "listPermissions",
    summary: "The permission catalogue",
    tag: "roles",
    guard: may("users:read"),
    responses: { 200: ok("Every permission.", res.permissions) },
  },
  {
    method: "GET",
    path: "/roles",
    operationId: "listRoles",
    summary: "List roles",
    tag: "roles",
    guard: may("users:read"),
    responses: { 200: ok("Every role.", res.roles) },
  },
  {
    method: "GET",
    path: "/roles/:name",
    operationId: "getRole",
    summary: "Read a role",
    tag: "roles",
    guard: may("users:read"),
    params: name,
    responses: { 200: ok("The role.", res.role), 404: ok("No such role.") },
  },
  {
    method: "POST",
    path: "/roles",
    operationId: "createRole",
    summary: "Create a custom role",
    tag: "roles",
    guard: may("roles:manage"),
    body: req.roleCreate,
    responses: {
      201: ok("Created.", res.role, ["Location"]),
      409: ok("The name is taken."),
    },
  },
  {
    method: "PUT",
    path: "/roles/:name",
    operationId: "updateRole",
    summary: "Change a custom role",
    tag: "roles",
    guard: may("roles:manage"),
    params: name,
    body: req.roleUpdate,
    responses: { 200: ok("The role.", res.role), 404: ok("No such role."), 409: ok("Built-in roles cannot change.") },
  },
  {
    method: "DELETE",
    path: "/roles/:name",
    operationId: "deleteRole",
    summary: "Delete a custom role nobody holds",
    tag: "roles",
    guard: may("roles:manage"),
    params: name,
    responses: {
      204: ok("Deleted."),
      404: ok("No such role."),
      409: ok("Built-in, or still granted to someone."),
    },
  },
  {
    method: "GET",
    path: "/audit",
    operationId: "listAudit",
    summary: "Page the audit log by date, event and actor",
    tag: "audit",
    guard: may("audit:read"),
    query: auditQuery,
    responses: { 200: ok("A page of audit rows, oldest first.", res.auditPage) },
  },
  {
    method: "GET",
    path: "/audit/verify",
    operationId: "verifyAudit",
    summary: "Recompute the audit hash chain",
    tag: "audit",
    guard: may("audit:read"),
    responses: { 200: ok("The verification outcome (ok: false names the first bad row).", res.auditVerify) },
  },
];
