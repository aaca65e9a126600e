/**
 * One error path. Code throws {@link ApiError} with a public message; the
 * HTTP layer's error handler (`src/middleware/error_handler.ts`) turns it
 * into an RFC 9457 `application/problem+json` response. Anything else thrown
 * is a bug: the client gets a generic 500 and only the log gets the cause,
 * both carrying the same request id. No stack trace, SQL or file path
 * reaches a client.
 *
 * This module imports nothing: services, the authenticator, the KDF guard,
 * the schemas and the CLIs throw these errors without loading Hono.
 */

/** The stable kinds of problem, each with its status and title. */
export const PROBLEMS = {
  "bad-request": { status: 400, title: "Bad request" },
  "malformed-json": { status: 400, title: "Malformed JSON" },
  "unauthenticated": { status: 401, title: "Authentication required" },
  "forbidden": { status: 403, title: "Forbidden" },
  "password-change-required": { status: 403, title: "Password change required" },
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

/** The 422 for `errors`: one message for every invalid input, the details in `errors`. */
export function validationFailed(errors: FieldError[]): ApiError {
  return new ApiError("validation-failed", "The request is not valid; see errors.", { errors });
}

/** The `WWW-Authenticate` challenge sent with every 401 (RFC 7617 §2.1). */
export const BASIC_CHALLENGE = 'Basic realm="secure-api", charset="UTF-8"';

/** A 401 with the Basic challenge. The detail is identical for every cause, so it reveals nothing. */
export function unauthenticated(): ApiError {
  return new ApiError("unauthenticated", "Valid credentials are required.", {
    headers: { "WWW-Authenticate": BASIC_CHALLENGE },
  });
}
