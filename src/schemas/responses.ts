/**
 * Response body schemas. The handlers build their bodies in code; these
 * schemas describe them for the OpenAPI document, and the tests parse real
 * responses with them, so the document cannot drift from what the server
 * sends. Every object is strict: a response that grows a field (a password
 * hash, a token hash) no longer matches and the test fails (OWASP API3).
 */
import { z } from "zod";
import { AUDIT_EVENTS } from "../audit/events.ts";
import { PERMISSION_NAMES } from "../domain/permissions.ts";

const id = z.number().int().min(1);
const timestamp = z.iso.datetime({ offset: false }).describe("ISO 8601 UTC instant.");
const permissionName = z.enum(PERMISSION_NAMES as [string, ...string[]]);
const nextCursor = z.string().nullable().describe("Pass as `cursor` for the next page; null on the last page.");

/** An RFC 9457 problem: the body of every 4xx and 5xx response. */
export const problemBody = z.strictObject({
  type: z.string().regex(/^urn:secure-api:problem:[a-z-]+$/).describe("Stable per kind of problem."),
  title: z.string(),
  status: z.number().int().min(400).max(599),
  detail: z.string(),
  instance: z.string().describe("The request path."),
  requestId: z.string().describe("Equals the `X-Request-Id` header; quote it when reporting a problem."),
  errors: z.array(z.strictObject({ path: z.string(), message: z.string() })).optional()
    .describe("Validation failures, one per field (never the submitted value)."),
  "violated-policies": z.array(z.string()).optional().describe("The rate-limit policies exceeded (429)."),
});

/** `GET /health`. */
export const healthBody = z.strictObject({ status: z.literal("ok") });

/** `GET /docs`: the reference page (HTML). */
export const docsPage = z.string().describe("HTML");

/** `GET /docs/:asset`: a script or stylesheet of the reference page. */
export const docsAsset = z.string().describe("JavaScript or CSS");

/** `GET /metrics`: Prometheus text exposition format 0.0.4. */
export const metricsBody = z.string().describe("Prometheus text exposition format 0.0.4");

const checkState = z.enum(["ok", "failed", "not used"]);

/** `GET /health/ready` when ready: each check by name, nothing else (no versions, no addresses). */
export const readinessBody = z.strictObject({
  status: z.literal("ready"),
  checks: z.strictObject({ database: checkState, migrations: checkState, rateLimitStore: checkState }),
});

/** A user as the API shows it: never a password hash. */
export const userBody = z.strictObject({
  id,
  username: z.string(),
  disabled: z.boolean(),
  roles: z.array(z.string()),
  createdAt: timestamp,
  updatedAt: timestamp,
});

/** `GET /auth/me`: the caller, with the permissions their roles grant now. */
export const meBody = userBody.extend({ permissions: z.array(permissionName) });

/** `POST /auth/login`. */
export const loginBody = z.strictObject({
  token: z.string().describe("256-bit random bearer token; only its SHA-256 is stored."),
  tokenType: z.literal("Bearer"),
  expiresAt: timestamp.describe("Absolute expiry; the token also lapses after 30 minutes idle."),
  user: userBody,
});

/** One live session (bearer token) as its user sees it: never the token or its hash. */
export const sessionBody = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_-]{22}$/).describe("Public id, for DELETE /auth/sessions/{id}."),
  createdAt: timestamp,
  lastUsedAt: timestamp,
  expiresAt: timestamp.describe("Absolute expiry."),
  idleExpiresAt: timestamp.describe("When it lapses unless used before."),
  current: z.boolean().describe("True for the token this request came with."),
});

/** `GET /auth/sessions`. */
export const sessionListBody = z.strictObject({ items: z.array(sessionBody) });

/** `DELETE /auth/sessions`, `DELETE /users/{id}/sessions`. */
export const endedSessionsBody = z.strictObject({ ended: z.number().int().min(0) });

/** `DELETE /sessions`. */
export const endedEveryoneBody = z.strictObject({
  ended: z.number().int().min(0),
  usersSkipped: z.number().int().min(0).describe("Users with sessions who hold permissions the caller does not."),
});

/** A product. Money is integer cents. */
export const productBody = z.strictObject({
  id,
  name: z.string(),
  description: z.string(),
  priceCents: z.number().int().min(0),
  stock: z.number().int().min(0),
  ownerId: id.nullable().describe("The creator; null once that user is deleted."),
  createdAt: timestamp,
  updatedAt: timestamp,
  version: z.number().int().min(1).describe("Increases on every change; the `ETag` is its quoted value."),
});

/** A page of products. */
export const productPageBody = z.strictObject({ items: z.array(productBody), nextCursor });

/** A page of users. */
export const userPageBody = z.strictObject({ items: z.array(userBody), nextCursor });

/** `GET /permissions`: the fixed catalogue. */
export const permissionListBody = z.strictObject({
  items: z.array(z.strictObject({ name: permissionName, description: z.string() })),
});

/** A role: a named bundle of permissions. */
export const roleBody = z.strictObject({
  name: z.string(),
  description: z.string(),
  builtin: z.boolean().describe("Built-in roles (admin, editor, viewer) cannot be changed or deleted."),
  permissions: z.array(permissionName),
  createdAt: timestamp,
  updatedAt: timestamp,
});

/** `GET /roles`. */
export const roleListBody = z.strictObject({ items: z.array(roleBody) });

const nullableText = z.string().nullable();

/** One audit row, hash-chained to the previous one. */
export const auditRecordBody = z.strictObject({
  seq: id,
  ts: timestamp,
  event: z.enum(AUDIT_EVENTS),
  level: z.enum(["info", "warning", "error", "critical"]),
  actor: id.nullable(),
  client: nullableText,
  method: nullableText,
  path: nullableText,
  status: z.number().int().nullable(),
  requestId: nullableText,
  target: nullableText,
  detail: z.record(z.string(), z.unknown()),
  prevHash: z.string().regex(/^[0-9a-f]{64}$/),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
});

/** A page of audit rows. */
export const auditPageBody = z.strictObject({ items: z.array(auditRecordBody), nextCursor });

/** `GET /audit/verify`: the outcome of recomputing the whole chain. */
export const auditVerifyBody = z.union([
  z.strictObject({
    ok: z.literal(true),
    checked: z.number().int().min(0),
    head: z.strictObject({ seq: id, hash: z.string() }).nullable(),
  }),
  z.strictObject({
    ok: z.literal(false),
    checked: z.number().int().min(0),
    firstBadSeq: id,
    reason: z.string(),
  }),
]);

/** `GET /openapi.json`: this document (only its outline is described). */
export const openAPIBody = z.looseObject({
  openapi: z.literal("3.1.0"),
  info: z.looseObject({ title: z.string(), version: z.string() }),
  paths: z.record(z.string(), z.unknown()),
});
