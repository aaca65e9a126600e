/**
 * Product request schemas. Strict: `id`, `ownerId`, `version` and the
 * timestamps are server-owned and a body carrying them is a 422.
 */
import { z } from "zod";
import { cursorParam, limitParam, singleLine } from "./common.ts";

/** Body of `POST /products` and `PUT /products/:id` (a full replacement). */
export const productInput = z.strictObject({
  name: singleLine(1, 200),
  description: z.string().max(2000)
    // deno-lint-ignore no-control-regex
    .regex(/^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]*$/, "must not contain control characters")
    .default(""),
  priceCents: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  stock: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
});

/** Query of `GET /products`. */
export const productListQuery = z.strictObject({
  limit: limitParam,
  cursor: cursorParam,
  q: z.string().min(1).max(200).optional().describe(
    "Only products whose name contains this text (ASCII letters case-insensitive).",
  ),
});
