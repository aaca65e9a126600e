/**
 * `/auth`: registration, login (Basic → bearer token), logout, the caller's
 * own profile and password change (SECURITY.md "Authentication").
 * Registration, login and password change are under the `auth` rate-limit
 * policy (10 per minute per client by default): each can cost a password
 * derivation.
 */
import type { Authenticator } from "../auth/authenticator.ts";
import { ApiError, unauthenticated } from "../errors.ts";
import { auditContext } from "../middleware/audit_context.ts";
import { publicRoute, requireUser } from "../middleware/require_permission.ts";
import { passwordChangeInput, registerInput } from "../schemas/auth.ts";
import { loginBody, meBody, userBody } from "../schemas/responses.ts";
import type { Accounts } from "../services/accounts.ts";
import { toISO } from "../util/clock.ts";
import { defineRoute, named, response, type RouteDefinition } from "./route.ts";

/** What the `/auth` routes use. */
export interface AuthRoutesDeps {
  readonly accounts: Accounts;
  readonly authenticator: Authenticator;
}

/** `/auth` routes. */
export function authRoutes(deps: AuthRoutesDeps): RouteDefinition[] {
  const { accounts, authenticator } = deps;
  return [
    defineRoute({
      method: "POST",
      path: "/auth/register",
      guard: publicRoute(),
      rateLimit: "auth",
      operationId: "register",
      summary: "Create an account (role viewer)",
      tag: "auth",
      body: named("RegisterInput", registerInput),
      responses: {
        201: response("Created.", named("User", userBody), ["Location"]),
        409: response("The username is taken."),
      },
    }, async (c) => {
      const { username, password } = c.req.valid("json");
      const user = await accounts.create(username, password, auditContext(c));
      return c.json(user, 201, { Location: `/users/${user.id}` });
    }),

    defineRoute({
      method: "POST",
      path: "/auth/login",
      guard: requireUser(),
      rateLimit: "auth",
      operationId: "login",
      summary: "Exchange a password for a bearer token",
      tag: "auth",
      schemes: ["basic"],
      responses: { 200: response("A new token.", named("Login", loginBody)) },
    }, async (c) => {
      const user = c.var.user;
      // A token is exchanged only for a password: a token cannot mint fresh tokens.
      if (c.var.credential?.scheme !== "basic") throw unauthenticated();
      const issued = await authenticator.issueToken(user.id, auditContext(c));
      return c.json({
        token: issued.token,
        tokenType: "Bearer",
        expiresAt: toISO(issued.expiresAt),
        user: await accounts.view(user.id),
      });
    }),

    defineRoute({
      method: "POST",
      path: "/auth/logout",
      guard: requireUser(),
      operationId: "logout",
      summary: "Revoke the bearer token of this request",
      tag: "auth",
      schemes: ["bearer"],
      responses: { 204: response("Revoked."), 400: response("The request did not use a bearer token.") },
    }, async (c) => {
      const tokenHash = c.var.credential?.tokenHash;
      if (!tokenHash) {
        throw new ApiError("bad-request", "Logout revokes the bearer token it is called with; send one.");
      }
      await authenticator.revokeToken(tokenHash, c.var.user.id, auditContext(c));
      return c.body(null, 204);
    }),

    defineRoute({
      method: "GET",
      path: "/auth/me",
      guard: requireUser(),
      operationId: "me",
      allowedBeforePasswordChange: true,
      summary: "The caller, roles and effective permissions",
      tag: "auth",
      responses: { 200: response("The caller.", named("Me", meBody)) },
    }, async (c) => {
      const user = c.var.user;
      return c.json({ ...(await accounts.view(user.id)), permissions: [...user.permissions].sort() });
    }),

    defineRoute({
      method: "PUT",
      path: "/auth/password",
      guard: requireUser(),
      rateLimit: "auth",
      operationId: "changePassword",
      allowedBeforePasswordChange: true,
      summary: "Change the caller's password; revokes all their tokens",
      tag: "auth",
      body: named("PasswordChangeInput", passwordChangeInput),
      responses: { 204: response("Changed."), 403: response("The current password is wrong.") },
    }, async (c) => {
      const { currentPassword, newPassword } = c.req.valid("json");
      await accounts.changePassword(c.var.user, currentPassword, newPassword, auditContext(c));
      return c.body(null, 204);
    }),
  ];
}
