/**
 * `/auth`: registration, login (Basic → bearer token), logout, the caller's
 * own profile and password change (SECURITY.md "Authentication").
 */
import { Hono } from "hono";
import type { AppEnv } from "../app_env.ts";
import { ApiError, unauthenticated } from "../errors.ts";
import { auditContext } from "../middleware/audit_context.ts";
import { publicRoute, requireUser } from "../middleware/require_permission.ts";
import { jsonBody } from "../middleware/validate.ts";
import { passwordChangeInput, registerInput } from "../schemas/auth.ts";
import type { Accounts } from "../services/accounts.ts";
import type { Authenticator } from "../auth/authenticator.ts";
import { toISO } from "../util/clock.ts";

/** The routes under the `auth` rate-limit policy (10 per minute per client by default). */
export const AUTH_POLICY_ROUTES: ReadonlySet<string> = new Set([
  "POST /auth/register",
  "POST /auth/login",
  "PUT /auth/password",
]);

/** What the `/auth` routes use. */
export interface AuthRoutesDeps {
  readonly accounts: Accounts;
  readonly authenticator: Authenticator;
}

/** `/auth` routes. */
export function authRoutes(deps: AuthRoutesDeps): Hono<AppEnv> {
  const { accounts, authenticator } = deps;
  const app = new Hono<AppEnv>();

  app.post("/register", publicRoute(), jsonBody(registerInput), async (c) => {
    const { username, password } = c.req.valid("json");
    const user = await accounts.create(username, password, auditContext(c));
    return c.json(user, 201, { Location: `/users/${user.id}` });
  });

  app.post("/login", requireUser(), (c) => {
    const user = c.var.user;
    // A token is exchanged only for a password: a token cannot mint fresh tokens.
    if (c.var.credential?.scheme !== "basic") throw unauthenticated();
    const issued = authenticator.issueToken(user.id, auditContext(c));
    return c.json({
      token: issued.token,
      tokenType: "Bearer",
      expiresAt: toISO(issued.expiresAt),
      user: accounts.view(user.id),
    });
  });

  app.post("/logout", requireUser(), (c) => {
    const user = c.var.user;
    const tokenHash = c.var.credential?.tokenHash;
    if (!tokenHash) {
      throw new ApiError("bad-request", "Logout revokes the bearer token it is called with; send one.");
    }
    authenticator.revokeToken(tokenHash, user.id, auditContext(c));
    return c.body(null, 204);
  });

  app.get("/me", requireUser(), (c) => {
    const user = c.var.user;
    return c.json({
      ...accounts.view(user.id),
      permissions: [...user.permissions].sort(),
    });
  });

  app.put("/password", requireUser(), jsonBody(passwordChangeInput), async (c) => {
    const user = c.var.user;
    const { currentPassword, newPassword } = c.req.valid("json");
    await accounts.changePassword(user, currentPassword, newPassword, auditContext(c));
    return c.body(null, 204);
  });

  return app;
}
