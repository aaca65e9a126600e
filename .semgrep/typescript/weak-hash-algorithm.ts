import { createHash, createHmac } from "node:crypto";
import * as nodeCrypto from "node:crypto";

export function tokenId(token: string): string {
  // ruleid: weak-hash-algorithm
  return createHash("md5").update(token).digest("hex");
}

export function etag(body: string): string {
  // ruleid: weak-hash-algorithm
  return nodeCrypto.createHash("sha1").update(body).digest("base64");
}

export async function fingerprint(data: Uint8Array): Promise<ArrayBuffer> {
  // ruleid: weak-hash-algorithm
  return await crypto.subtle.digest("SHA-1", data);
}

export async function derive(password: Uint8Array, salt: Uint8Array): Promise<ArrayBuffer> {
  const key = await crypto.subtle.importKey("raw", password, "PBKDF2", false, ["deriveBits"]);
  // ruleid: weak-hash-algorithm
  return await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-1", salt, iterations: 600_000 }, key, 256);
}

export function sign(key: Uint8Array, message: string): string {
  // ruleid: weak-hash-algorithm
  return createHmac("md5", key).update(message).digest("hex");
}

// --- correct code ---

export function checksum(sql: string): string {
  // ok: weak-hash-algorithm
  return createHash("sha256").update(sql).digest("hex");
}

export async function digest(data: Uint8Array): Promise<ArrayBuffer> {
  // ok: weak-hash-algorithm
  return await crypto.subtle.digest("SHA-256", data);
}
