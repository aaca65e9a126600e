import { createHmac, createSign } from "node:crypto";
import jwt from "jsonwebtoken";
import { jwtVerify, SignJWT } from "jose";
import { sign, verify } from "hono/jwt";
import { jwt as jwtMiddleware } from "hono/jwt";

const JWT_SECRET = "change-me-in-production";
const HMAC_KEY = new TextEncoder().encode("c2VjcmV0LWttYWMta2V5");
const PRIVATE_KEY = `-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF
-----END PRIVATE KEY-----`;

export function signWebhook(body: string): string {
  // ruleid: hardcoded-key-material
  return createHmac("sha256", "whsec_5f2b8a1e").update(body).digest("hex");
}

export async function importMacKey(): Promise<CryptoKey> {
  // ruleid: hardcoded-key-material
  return await crypto.subtle.importKey("raw", HMAC_KEY, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
}

export function issue(userId: number): string {
  // ruleid: hardcoded-key-material
  return jwt.sign({ sub: userId }, JWT_SECRET, { algorithm: "HS256", expiresIn: "15m" });
}

export function check(token: string): unknown {
  // ruleid: hardcoded-key-material
  return jwt.verify(token, Deno.env.get("APP_JWT_SECRET") ?? "dev-secret", { algorithms: ["HS256"] });
}

export async function issueWithHono(userId: number): Promise<string> {
  // ruleid: hardcoded-key-material
  return await sign({ sub: userId }, "secret");
}

export async function checkWithHono(token: string): Promise<unknown> {
  const secret = "my-hono-secret";
  // ruleid: hardcoded-key-material
  return await verify(token, secret, "HS256");
}

// ruleid: hardcoded-key-material
export const authMiddleware = jwtMiddleware({ secret: "it-is-a-secret", alg: "HS256" });

export async function issueWithJose(userId: string): Promise<string> {
  const key = new TextEncoder().encode("jose-signing-secret-0123456789");
  // ruleid: hardcoded-key-material
  return await new SignJWT({ sub: userId }).setProtectedHeader({ alg: "HS256" }).setExpirationTime("15m").sign(key);
}

export function signReport(report: string): string {
  // ruleid: hardcoded-key-material
  return createSign("SHA256").update(report).sign(PRIVATE_KEY, "base64");
}

// --- correct code ---

export function signWebhookFromEnv(body: string, config: { webhookKey: Uint8Array }): string {
  // ok: hardcoded-key-material
  return createHmac("sha256", config.webhookKey).update(body).digest("hex");
}

export async function checkWithJose(token: string): Promise<unknown> {
  const secret = Deno.env.get("APP_JWT_SECRET");
  if (secret === undefined) throw new Error("APP_JWT_SECRET is required");
  // ok: hardcoded-key-material
  return await jwtVerify(token, new TextEncoder().encode(secret), { algorithms: ["HS256"] });
}

export async function importJwk(k: string): Promise<CryptoKey> {
  // ok: hardcoded-key-material
  return await crypto.subtle.importKey("jwk", { kty: "oct", k, alg: "HS256" }, { name: "HMAC", hash: "SHA-256" }, false, [
    "verify",
  ]);
}
