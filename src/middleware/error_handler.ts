/**
 * The HTTP end of the one error path (see `src/errors.ts`): every error
 * becomes an RFC 9457 `application/problem+json` response. An
 * {@link ApiError} keeps its status and public message; Hono's own
 * `HTTPException` for a malformed or oversized body becomes the matching
 * problem; the data store's `StoreUnavailable` is a 503 with `Retry-After`;
 * anything else is a generic 500 whose cause goes only to the log,
 * under the same request id as the response.
 */
import type { Logger } from "@logtape/logtape";
import type { ErrorHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { AppEnv } from "../app_env.ts";
import { sanitizeText } from "../audit/sanitize.ts";
import { StoreUnavailable } from "../db/store.ts";
import { ApiError, problemBody } from "../errors.ts";

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
  if (error instanceof StoreUnavailable) {
    return new ApiError("service-unavailable", "The database is unavailable; retry shortly.", {
      cause: error,
      headers: { "Retry-After": "1" },
    });
  }
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
