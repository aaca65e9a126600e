/**
 * Bearer tokens: 256 random bits, shown to the client once and stored only as
 * their SHA-256. A leaked database therefore yields no usable token, and
 * because the token is uniformly random a fast hash is enough (no KDF needed).
 */
import { createHash } from "node:crypto";

/** Bytes of randomness in a token (256 bits). */
export const TOKEN_BYTES = 32;

/** The shape of a token on the wire: 43 base64url characters. */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** A new random token, base64url without padding. */
export function generateToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(TOKEN_BYTES));
  return encodeBase64Url(bytes);
}

/** The stored form of a token: lowercase hex SHA-256. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** Base64url without padding (RFC 4648 §5). */
export function encodeBase64Url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}
