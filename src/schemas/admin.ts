/**
 * Administration request schemas: role grants, custom roles, user paging.
 */
import { z } from "zod";
import { PERMISSION_NAMES } from "../domain/permissions.ts";
import { cursorParam, limitParam, singleLine } from "./common.ts";

/** A role name: lower case, 2–32 characters. */
export const roleName = z.string().regex(
  /^[a-z][a-z0-9_-]{1,31}$/,
  "must be 2-32 of a-z 0-9 _ -, starting with a letter",
);

/** Body of `PUT /users/:id/roles`: the complete new set. */
export const roleGrantInput = z.strictObject({ roles: z.array(roleName).max(20) });

/** Body of `POST /roles`. */
export const roleCreateInput = z.strictObject({
  name: roleName,
  description: singleLine(0, 200).default(""),
  permissions: z.array(z.enum(PERMISSION_NAMES as [string, ...string[]])).max(PERMISSION_NAMES.length),
});

/** Body of `PUT /roles/:name`. */
export const roleUpdateInput = roleCreateInput.omit({ name: true });

/** Query of `GET /users`. */
export const pageQuery = z.strictObject({ limit: limitParam, cursor: cursorParam });
