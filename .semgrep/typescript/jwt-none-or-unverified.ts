import jwt from "jsonwebtoken";
import { decodeJwt, jwtVerify, UnsecuredJWT } from "jose";
import { decode } from "hono/jwt";
import type { Context } from "hono";

export function claimsOf(token: string, key: string): unknown {
  // ruleid: jwt-none-or-unverified
  return jwt.verify(token, key, { algorithms: ["HS256", "none"] });
}

export function unsignedFor(userId: string): string {
  // ruleid: jwt-none-or-unverified
  return jwt.sign({ sub: userId }, "", { algorithm: "none" });
}

export function anonymousToken(): string {
  // ruleid: jwt-none-or-unverified
  return new UnsecuredJWT({ sub: "guest" }).encode();
}

export function subjectOf(token: string): string {
  // ruleid: jwt-none-or-unverified
  const claims = jwt.decode(token) as { sub: string };
  return claims.sub;
}

export const requireAdmin = async (c: Context, next: () => Promise<void>) => {
  const token = c.req.header("authorization")?.replace(/^Bearer /, "") ?? "";
  // ruleid: jwt-none-or-unverified
  const payload = decodeJwt(token);
  if (payload.role !== "admin") return c.json({ error: "forbidden" }, 403);
  await next();
};

export function roleOf(token: string): string {
  // ruleid: jwt-none-or-unverified
  return JSON.parse(atob(token.split(".")[1] ?? "")).role;
}

export function honoClaims(token: string): unknown {
  // ruleid: jwt-none-or-unverified
  return decode(token).payload;
}

// --- correct code ---

export async function verified(token: string, key: Uint8Array): Promise<unknown> {
  // ok: jwt-none-or-unverified
  const { payload } = await jwtVerify(token, key, { algorithms: ["HS256"] });
  return payload;
}

export function withKeyId(token: string, keys: Record<string, string>): unknown {
  // Reading the header to choose the key is fine when the same function then verifies.
  // ok: jwt-none-or-unverified
  const { header } = jwt.decode(token, { complete: true }) as { header: { kid: string } };
  return jwt.verify(token, keys[header.kid] ?? "", { algorithms: ["RS256"] });
}
