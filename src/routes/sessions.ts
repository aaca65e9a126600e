/**
 * Sessions (bearer tokens): the caller's own under `/auth/sessions`, any
 * user's or everyone's for an administrator (`users:manage`); see
 * `src/services/sessions.ts` and docs/authentication.md "Sessions".
 */
import { z } from "zod";
import { auditContext } from "../middleware/audit_context.ts";
import { requirePermission, requireUser } from "../middleware/require_permission.ts";
import { idParam, parseId } from "../schemas/common.ts";
import { endedEveryoneBody, endedSessionsBody, sessionListBody } from "../schemas/responses.ts";
import type { Sessions } from "../services/sessions.ts";
import { defineRoute, named, response, type RouteDefinition } from "./route.ts";

/** What the session routes use. */
export interface SessionRoutesDeps {
  readonly sessions: Sessions;
}

const ENDED = named("EndedSessions", endedSessionsBody);
const SESSION_ID = z.string().regex(/^[A-Za-z0-9_-]{22}$/).describe("A session id from GET /auth/sessions.");

/** The session routes. */
export function sessionRoutes(deps: SessionRoutesDeps): RouteDefinition[] {
  const { sessions } = deps;
  return [
    defineRoute({
      method: "GET",
      path: "/auth/sessions",
      guard: requireUser(),
      operationId: "listSessions",
      summary: "The caller's live sessions (bearer tokens), never the tokens themselves",
      tag: "auth",
      responses: { 200: response("The live sessions, oldest first.", named("SessionList", sessionListBody)) },
    }, async (c) => {
      const items = await sessions.list(c.var.user.id, c.var.credential?.tokenHash ?? null);
      return c.json({ items });
    }),

    defineRoute({
      method: "DELETE",
      path: "/auth/sessions/:id",
      guard: requireUser(),
      operationId: "endSession",
      summary: "End one of the caller's sessions",
      tag: "auth",
      params: { id: SESSION_ID },
      responses: { 204: response("Ended."), 404: response("The caller has no live session with that id.") },
    }, async (c) => {
      await sessions.endOne(c.var.user, c.req.param("id"), auditContext(c));
      return c.body(null, 204);
    }),

    defineRoute({
      method: "DELETE",
      path: "/auth/sessions",
      guard: requireUser(),
      operationId: "endAllSessions",
      summary: "End every session of the caller, the current one included",
      tag: "auth",
      responses: { 200: response("How many ended.", ENDED) },
    }, async (c) => {
      const user = c.var.user;
      return c.json({ ended: await sessions.endAllOf(user, user.id, auditContext(c)) });
    }),

    defineRoute({
      method: "DELETE",
      path: "/users/:id/sessions",
      guard: requirePermission("users:manage"),
      operationId: "endUserSessions",
      summary: "End every session of one user",
      tag: "users",
      params: { id: idParam },
      responses: { 200: response("How many ended.", ENDED) },
    }, async (c) => {
      const id = parseId(c.req.param("id"), "user");
      return c.json({ ended: await sessions.endAllOf(c.var.user, id, auditContext(c)) });
    }),

    defineRoute({
      method: "DELETE",
      path: "/sessions",
      guard: requirePermission("users:manage"),
      operationId: "endEverySession",
      summary: "End the sessions of every user the caller may manage",
      tag: "users",
      responses: { 200: response("How many ended, and users left alone.", named("EndedEveryone", endedEveryoneBody)) },
    }, async (c) => c.json(await sessions.endEveryone(c.var.user, auditContext(c)))),
  ];
}
