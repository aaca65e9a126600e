/**
 * One error path. Code throws {@link ApiError} with a public message; the
 * application's error handler turns it into an RFC 9457
 * `application/problem+json` response. Anything else thrown is a bug: the
 * client gets a generic 500 and only the log gets the cause, both carrying
 * the same request id. No stack trace, SQL or file path reaches a client.
 */
import type { Logger } from "@logtape/logtape";
import type { ErrorHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { AppEnv } from "./app_env.ts";
import { sanitizeText } from "./audit/sanitize.ts";

/** The stable kinds of problem, each with its status and title. */
export const PROBLEMS = {
  "bad-request": { status: 400, title: "Bad request" },
  "malformed-json": { status: 400, title: "Malformed JSON" },
  "unauthenticated": { status: 401, title: "Authentication required" },
  "forbidden": { status: 403, title: "Forbidden" },
  "not-found": { status: 404, title: "Not found" },
  "method-not-allowed": { status: 405, title: "Method not allowed" },
  "conflict": { status: 409, title: "Conflict" },
  "precondition-failed": { status: 412, title: "Precondition failed" },
  "payload-too-large": { status: 413, title: "Payload too large" },
  "unsupported-media-type": { status: 415, title: "Unsupported media type" },
  "validation-failed": { status: 422, title: "Validation failed" },
  "quota-exceeded": { status: 429, title: "Too many requests" },
  "login-throttled": { status: 429, title: "Too many failed logins" },
  "internal": { status: 500, title: "Internal server error" },
  "kdf-overloaded": { status: 503, title: "Authentication is overloaded" },
  "service-unavailable": { status: 503, title: "Service unavailable" },
} as const;

/** A problem kind; its `type` URI is `urn:secure-api:problem:<kind>`. */
export type ProblemKind = keyof typeof PROBLEMS;

/** A validation error: where, and what is wrong (never the offending value). */
export interface FieldError {
  path: string;
  message: string;
}

/** Options for {@link ApiError}. */
export interface ApiErrorOptions {
  /** Internal cause: logged, never sent. */
  cause?: unknown;
  /** Extra response headers (`Retry-After`, `Allow`, `WWW-Authenticate` …). */
  headers?: Record<string, string>;
  /** Field errors for `validation-failed`. */
  errors?: FieldError[];
  /** Rate-limit policies that were exceeded, for 429. */
  violatedPolicies?: string[];
}

/** An error whose `message` is safe to show the client. */
export class ApiError extends Error {
  override name = "ApiError";
  readonly kind: ProblemKind;
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly errors: FieldError[] | undefined;
  readonly violatedPolicies: string[] | undefined;

  constructor(kind: ProblemKind, detail: string, options: ApiErrorOptions = {}) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.status = PROBLEMS[kind].status;
    this.headers = options.headers ?? {};
    this.errors = options.errors;
    this.violatedPolicies = options.violatedPolicies;
  }
}

/** The `type` URI of a problem kind. */
export function problemType(kind: ProblemKind): string {
  return `urn:secure-api:problem:${kind}`;
}

/** The RFC 9457 body for `error` at `instance` (the request path). */
export function problemBody(error: ApiError, instance: string, requestId: string): Record<string, unknown> {
  const body: Record<string, unknown> = {
    type: problemType(error.kind),
    title: PROBLEMS[error.kind].title,
    status: error.status,
    detail: error.message,
    instance,
    requestId,
  };
  if (error.errors) body.errors = error.errors;
  if (error.violatedPolicies) body["violated-policies"] = error.violatedPolicies;
  return body;
}

/** The `WWW-Authenticate` challenge sent with every 401 (RFC 7617 §2.1). */
export const BASIC_CHALLENGE = 'Basic realm="secure-api", charset="UTF-8"';

/** A 401 with the Basic challenge. The detail is identical for every cause, so it reveals nothing. */
export function unauthenticated(): ApiError {
  return new ApiError("unauthenticated", "Valid credentials are required.", {
    headers: { "WWW-Authenticate": BASIC_CHALLENGE },
  });
}

/** Longest `instance` echoed back; the path is the client's own input. */
const MAX_INSTANCE_LENGTH = 1024;

/** The problem+json response for `error`. */
export function problemResponse(error: ApiError, path: string, requestId: string): Response {
  const body = problemBody(error, path.slice(0, MAX_INSTANCE_LENGTH), requestId);
  return new Response(JSON.stringify(body), {
    status: error.status,
    headers: { ...error.headers, "Content-Type": "application/problem+json" },
  });
}

/**
 * Converts anything thrown into an {@link ApiError}: itself, Hono's
 * HTTPException (malformed JSON → 400), or a generic 500 keeping the
 * original only as the internal cause.
 */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof HTTPException) {
    if (error.status === 400) return new ApiError("malformed-json", "The request body is not valid JSON.");
    if (error.status === 413) return new ApiError("payload-too-large", "The request body is too large.");
  }
  return new ApiError("internal", "An unexpected error occurred; quote the requestId when reporting it.", {
    cause: error,
  });
}

/**
 * The application's `onError`: problem+json for every error; a 500's cause
 * goes to the log with the request id and never into the response.
 */
export function errorHandler(logger: Logger): ErrorHandler<AppEnv> {
  return function errorHandler(error, c) {
    const apiError = toApiError(error);
    const requestId = c.var.requestId ?? "";
    if (apiError.kind === "internal") {
      logger.error("unhandled error on {method} {path} ({requestId}): {error}", {
        method: c.req.method,
        // The client's own text: escaped and capped like every audit field (no log injection).
        path: sanitizeText(c.req.path),
        requestId,
        error,
      });
    }
    return problemResponse(apiError, c.req.path, requestId);
  };
}
