/**
 * Building blocks shared by the request schemas: ids, paging, cursors.
 */
import { z } from "zod";
import { ApiError, validationFailed } from "../errors.ts";

/** Largest page a list returns. */
export const MAX_PAGE = 100;
/** Page size when `limit` is absent. */
export const DEFAULT_PAGE = 20;

/** `limit`: a whole number from 1 to 100. */
export const limitParam = z.string()
  .regex(/^[0-9]{1,3}$/, `must be a whole number from 1 to ${MAX_PAGE}`)
  .transform(Number)
  .refine((n) => n >= 1 && n <= MAX_PAGE, `must be a whole number from 1 to ${MAX_PAGE}`)
  .optional()
  .describe(`Page size, a whole number from 1 to ${MAX_PAGE}; default ${DEFAULT_PAGE}.`);

/** `cursor`: an opaque string from a previous page's `nextCursor`. */
export const cursorParam = z.string().max(200).optional()
  .describe("The `nextCursor` of the previous page, passed back unchanged.");

/** A resource id in a path: a positive integer that fits a JavaScript number exactly. */
export const idParam = z.string()
  .regex(/^[1-9][0-9]{0,15}$/, "must be a positive integer id")
  .refine((text) => Number.isSafeInteger(Number(text)), "must be a positive integer id")
  .describe("A positive integer id.");

/** Text without control characters (names, single-line fields). */
export const singleLine = (min: number, max: number) =>
  z.string().min(min).max(max)
    // deno-lint-ignore no-control-regex
    .regex(/^[^\u0000-\u001f\u007f]*$/, "must not contain control characters");

/**
 * An opaque cursor for "the items after id N". Opaque so clients treat it
 * as a token, not as an id they may compute; decoding is strict.
 */
export function encodeCursor(afterId: number): string {
  return btoa(JSON.stringify({ after: afterId })).replaceAll("=", "");
}

/** The id inside a cursor; a 422 when it is not one this API issued. */
export function decodeCursor(cursor: string | undefined): number {
  if (cursor === undefined) return 0;
  try {
    const padded = cursor + "=".repeat((4 - (cursor.length % 4)) % 4);
    const value: unknown = JSON.parse(atob(padded));
    if (
      typeof value === "object" && value !== null && Object.keys(value).length === 1 &&
      Number.isSafeInteger((value as { after?: unknown }).after) && (value as { after: number }).after >= 0
    ) {
      return (value as { after: number }).after;
    }
  } catch {
    // fall through to the 422
  }
  throw validationFailed([{ path: "cursor", message: "is not a cursor returned by this API" }]);
}

/** A page of a list, as every list endpoint returns it. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * One page of a keyset-paginated list: `fetch(after, n)` resolves to rows
 * whose key is greater than `after`, in key order. One row more than `limit`
 * is fetched to learn whether another page follows; the cursor carries the
 * last returned row's key.
 */
export async function paginate<T>(
  cursor: string | undefined,
  limit: number,
  fetch: (after: number, limit: number) => Promise<T[]>,
  keyOf: (row: T) => number,
): Promise<Page<T>> {
  const rows = await fetch(decodeCursor(cursor), limit + 1);
  const items = rows.slice(0, limit);
  return { items, nextCursor: rows.length > limit ? encodeCursor(keyOf(items[items.length - 1]!)) : null };
}

/**
 * A positive integer id from a path segment ({@link idParam}); 404 for
 * anything else, because no resource can have such an id.
 */
export function parseId(text: string | undefined, what: string): number {
  if (!idParam.safeParse(text).success) throw new ApiError("not-found", `No such ${what}.`);
  return Number(text);
}
