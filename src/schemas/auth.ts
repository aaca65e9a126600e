/**
 * Authentication request schemas. Only the shape is checked here; the
 * password policy (length in code points, blocklist, username) runs in the
 * accounts service so the CLI applies the same rules.
 */
import { z } from "zod";
import { USERNAME_PATTERN, USERNAME_RULE } from "../domain/username.ts";

/** A username: 3–64 of `[A-Za-z0-9._-]` (no colon, so Basic can carry it). */
export const username = z.string().regex(USERNAME_PATTERN, USERNAME_RULE);

/** A password as submitted (policy checked later); bounded to cap hashing input. */
export const password = z.string().min(1, "is required").max(1024, "must be at most 1024 characters");

/** Body of `POST /auth/register`. Roles and ids cannot be chosen. */
export const registerInput = z.strictObject({ username, password });

/** Body of `PUT /auth/password`. */
export const passwordChangeInput = z.strictObject({ currentPassword: password, newPassword: password });
