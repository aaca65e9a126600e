/**
 * Constant-time comparison of secrets.
 *
 * `a === b` on strings or a byte loop that stops at the first difference
 * returns sooner the earlier the inputs differ, and over many requests an
 * attacker can measure that to recover a secret byte by byte. This compares
 * every byte regardless of where they differ.
 */
import { timingSafeEqual as nodeTimingSafeEqual } from "node:crypto";

/**
 * True when `a` and `b` hold the same bytes. Lengths are compared first (the
 * length of a hash or token is public); the contents in constant time.
 */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  return nodeTimingSafeEqual(a, b);
}
