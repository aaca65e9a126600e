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

/**
 * The public id of the session whose token hash is `tokenHash`: 22
 * base64url characters (128 bits) of SHA-256 over a label and the hash. A
 * user sees and ends sessions by it; it cannot be turned back into the hash
 * or the token, and it is worthless as a credential.
 */
export function sessionIdOf(tokenHash: string): string {
  return createHash("sha256").update("secure-api session id\0").update(tokenHash).digest("base64url").slice(0, 22);
}

/** Base64url without padding (RFC 4648 §5). */
export function encodeBase64Url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}
