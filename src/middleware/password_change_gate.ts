/**
 * The first-use password change (ASVS 5.0 6.4.1, 6.4.3): a user whose
 * password was generated at bootstrap or set by the operator's CLI
 * (`Principal.mustChangePassword`) may only read themself and change the
 * password — the routes declared `allowedBeforePasswordChange`
 * (`GET /auth/me`, `PUT /auth/password`). Anything else is a 403
 * `password-change-required` whose detail says what to do, so a password
 * someone else knows never becomes a long-term credential. Anonymous
 * requests and public routes are left to the route's own guard.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app_env.ts";
import { ApiError } from "../errors.ts";
import { matchedRoute } from "../routes/route.ts";

/** Refuses every route but the password change and `/auth/me` to a user who must change their password. */
export function passwordChangeGate(): MiddlewareHandler<AppEnv> {
  return async function passwordChangeGate(c, next) {
    if (c.var.user?.mustChangePassword && !matchedRoute(c)?.allowedBeforePasswordChange) {
      throw new ApiError(
        "password-change-required",
        "This account's password was set by someone else and must be changed before anything else: " +
          'PUT /auth/password {"currentPassword", "newPassword"}.',
      );
    }
    await next();
  };
}
