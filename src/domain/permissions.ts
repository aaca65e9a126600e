/**
 * The permission catalogue. Permissions are fixed in code because routes
 * check them by name; roles are data that bundle them. The database copy is
 * synced from here at start-up (see `syncCatalogue`).
 */

/** Every permission, with what it allows. */
export const PERMISSIONS = {
  "products:read": "List and read products",
  "products:create": "Create products (owned by the creator)",
  "products:update": "Update products the user owns",
  "products:delete": "Delete products the user owns",
  "products:manage": "Update and delete any product, whoever owns it",
  "users:read": "List users, roles and permissions",
  "users:manage": "Grant roles, disable, enable and delete users",
  "roles:manage": "Create, change and delete custom roles",
  "audit:read": "Read and verify the audit log",
  "metrics:read": "Read the Prometheus metrics (GET /metrics)",
} as const;

/** A permission name from the catalogue. */
export type Permission = keyof typeof PERMISSIONS;

/** The names of all permissions, in catalogue order. */
export const PERMISSION_NAMES = Object.keys(PERMISSIONS) as Permission[];

/** True when `name` is in the catalogue. */
export function isPermission(name: string): name is Permission {
  return Object.hasOwn(PERMISSIONS, name);
}

/** A role that ships with the product; it cannot be changed or deleted through the API. */
export interface BuiltinRole {
  readonly description: string;
  readonly permissions: readonly Permission[];
}

/** The built-in roles. `admin` always holds the whole catalogue. */
export const BUILTIN_ROLES: Readonly<Record<"admin" | "editor" | "viewer", BuiltinRole>> = {
  admin: { description: "Everything", permissions: PERMISSION_NAMES },
  editor: {
    description: "Reads products and manages their own",
    permissions: ["products:read", "products:create", "products:update", "products:delete"],
  },
  viewer: { description: "Reads products", permissions: ["products:read"] },
};

/** The role every self-registered user receives. */
export const DEFAULT_ROLE = "viewer";

/** The role whose last active holder is protected by the guard rails. */
export const ADMIN_ROLE = "admin";
