import { createHash } from "node:crypto";

interface NewUser {
  username: string;
  password: string;
}

export function storedHash(user: NewUser, salt: string): string {
  // ruleid: password-fast-hash
  return createHash("sha256").update(salt).update(user.password).digest("hex");
}

export async function hashPassword(password: string): Promise<Uint8Array> {
  const bytes = new TextEncoder().encode(password);
  // ruleid: password-fast-hash
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

export function legacyHash(newPassword: string): string {
  const hash = createHash("sha512");
  // ruleid: password-fast-hash
  hash.update(newPassword);
  return hash.digest("hex");
}

// --- correct code ---

export async function derive(password: string, salt: Uint8Array): Promise<Uint8Array> {
  // ok: password-fast-hash
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(password), "PBKDF2", false, [
    "deriveBits",
  ]);
  const params = { name: "PBKDF2", hash: "SHA-256", salt, iterations: 600_000 };
  return new Uint8Array(await crypto.subtle.deriveBits(params, key, 256));
}

export function tokenHash(token: string): string {
  // A 256-bit random token cannot be guessed: a fast hash is enough to keep it out of the database.
  // ok: password-fast-hash
  return createHash("sha256").update(token).digest("hex");
}
