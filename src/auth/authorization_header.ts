/**
 * Parsing of the `Authorization` header: HTTP Basic (RFC 7617) and Bearer
 * (RFC 6750). Strict and total: every input yields credentials or null,
 * never an exception, so a malformed header is a 401 and never a 500.
 */

/** Longest `Authorization` header accepted; larger ones are refused before any hashing. */
export const MAX_AUTHORIZATION_LENGTH = 4096;

/** Credentials found in the header. */
export type Credentials =
  | { readonly scheme: "basic"; readonly username: string; readonly password: string }
  | { readonly scheme: "bearer"; readonly token: string };

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const UTF8 = new TextDecoder("utf-8", { fatal: true });

// deno-lint-ignore no-control-regex
const NON_ASCII = /[^\u0000-\u007f]/;

/**
 * `atob` yields one character per byte. ASCII bytes are already the string
 * (the common case, and 20× cheaper); anything else is decoded as UTF-8
 * (RFC 7617 §2.1 `charset="UTF-8"`), strictly: invalid UTF-8 throws.
 */
function decodeUTF8(binary: string): string {
  if (!NON_ASCII.test(binary)) return binary;
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return UTF8.decode(bytes);
}

/**
 * Parses `header`. Basic: base64 of UTF-8 `user-id:password`, split at the
 * first colon (so passwords may contain colons), used exactly as sent — no
 * trimming, no truncation. A user-id with control characters is refused: it
 * can be no real username and would make cache keys ambiguous.
 */
export function parseAuthorization(header: string | undefined): Credentials | null {
  if (header === undefined || header.length > MAX_AUTHORIZATION_LENGTH) return null;
  const space = header.indexOf(" ");
  if (space === -1) return null;
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1).replace(/^ +/, "");
  if (scheme === "bearer") {
    return value.length > 0 && !/\s/.test(value) ? { scheme: "bearer", token: value } : null;
  }
  if (scheme !== "basic") return null;
  if (value.length === 0 || value.length % 4 !== 0 || !BASE64.test(value)) return null;
  let decoded: string;
  try {
    decoded = decodeUTF8(atob(value));
  } catch {
    return null;
  }
  const colon = decoded.indexOf(":");
  if (colon <= 0) return null;
  const username = decoded.slice(0, colon);
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(username)) return null;
  return { scheme: "basic", username, password: decoded.slice(colon + 1) };
}
