/**
 * Password hashing: PBKDF2-HMAC-SHA-256 through Web Crypto, stored as a PHC
 * string `$pbkdf2-sha256$i=<iterations>$<salt>$<hash>` (standard base64, no
 * padding) so the parameters travel with the hash and can rise over time.
 *
 * - 600,000 iterations by default (OWASP Password Storage Cheat Sheet 2023,
 *   ASVS 5.0 appendix C), a 16-byte random salt per password, a 32-byte key.
 * - The password is NFC-normalised first (NIST SP 800-63B §3.1.1.2), so the
 *   same password typed on two keyboards produces the same bytes.
 * - An optional pepper is applied as HMAC-SHA-256(pepper, password) before
 *   PBKDF2: a stolen database alone is then not enough to test guesses.
 *   Peppers are versioned so they can be rotated (ASVS 5.0 11.2.2, 13.3.1):
 *   `APP_PEPPERS=v2:…,v1:…` lists them newest first, a hash records the id
 *   of the pepper it used (`$pbkdf2-sha256$i=600000,p=v2$…`), older ids
 *   still verify, and {@link PasswordHasher.needsRehash} makes the next
 *   login rehash with the newest. A hash without `p=` was made with the
 *   unversioned `APP_PEPPER` (or with none when that is unset). A hash whose
 *   pepper id is no longer configured cannot verify: remove an old pepper
 *   only once no hash names it (docs/crypto_inventory.md).
 * - Comparison is constant time.
 */
import { createHmac } from "node:crypto";
import { timingSafeEqual } from "./timing_safe.ts";

/** A key-derivation function: PBKDF2-HMAC-SHA-256 in production, a counting fake in tests. */
export type KDF = (password: Uint8Array, salt: Uint8Array, iterations: number) => Promise<Uint8Array>;

/** Salt length in bytes. */
export const SALT_BYTES = 16;
/** Derived key length in bytes. */
export const KEY_BYTES = 32;
/** Stored hashes claiming more iterations than this are treated as corrupt (a DoS guard). */
export const MAX_ITERATIONS = 10_000_000;

/** PBKDF2-HMAC-SHA-256 via Web Crypto; Deno runs the derivation off the event loop. */
export const pbkdf2SHA256: KDF = async (password, salt, iterations) => {
  const key = await crypto.subtle.importKey("raw", password as BufferSource, "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt: salt as BufferSource, iterations },
    key,
    KEY_BYTES * 8,
  );
  return new Uint8Array(bits);
};

/** A parsed PHC hash. */
export interface ParsedHash {
  readonly iterations: number;
  /** The id of the versioned pepper it was made with; null for the unversioned one (or none). */
  readonly pepperId?: string | null;
  readonly salt: Uint8Array;
  readonly hash: Uint8Array;
}

/** A versioned pepper: the id recorded in each hash it makes, and its secret. */
export interface Pepper {
  readonly id: string;
  readonly secret: string;
}

const PHC_PATTERN =
  /^\$pbkdf2-sha256\$i=([1-9][0-9]{0,7})(?:,p=([a-z0-9]{1,16}))?\$([A-Za-z0-9+/]{22})\$([A-Za-z0-9+/]{43})$/;

function toBase64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/=+$/, "");
}

function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/** Parses a PHC string; null when it is not one this module wrote. */
export function parsePHC(phc: string): ParsedHash | null {
  const match = PHC_PATTERN.exec(phc);
  if (!match) return null;
  const iterations = Number(match[1]);
  if (iterations > MAX_ITERATIONS) return null;
  return { iterations, pepperId: match[2] ?? null, salt: fromBase64(match[3]!), hash: fromBase64(match[4]!) };
}

/** Formats a PHC string. */
export function formatPHC(parsed: ParsedHash): string {
  const params = `i=${parsed.iterations}${parsed.pepperId ? `,p=${parsed.pepperId}` : ""}`;
  return `$pbkdf2-sha256$${params}$${toBase64(parsed.salt)}$${toBase64(parsed.hash)}`;
}

/** Options for {@link PasswordHasher}. */
export interface PasswordHasherOptions {
  /** PBKDF2 iterations for new hashes. Default 600000. */
  iterations?: number;
  /** The unversioned pepper (`APP_PEPPER`): for hashes without `p=`, and new ones when `peppers` is empty. Default none. */
  pepper?: string | null;
  /** Versioned peppers (`APP_PEPPERS`), newest first: new hashes use the first. Default none. */
  peppers?: readonly Pepper[];
  /** The derivation function. Default {@link pbkdf2SHA256}. */
  kdf?: KDF;
}

/** Hashes and verifies passwords with one fixed set of parameters. */
export class PasswordHasher {
  readonly iterations: number;
  readonly #legacyPepper: string | null;
  readonly #peppers: ReadonlyMap<string, string>;
  /** The pepper new hashes use: the first versioned one, else null (the unversioned one or none). */
  readonly #currentPepperId: string | null;
  readonly #kdf: KDF;

  constructor(options: PasswordHasherOptions = {}) {
    const { iterations = 600_000, pepper = null, peppers = [], kdf = pbkdf2SHA256 } = options;
    if (!Number.isInteger(iterations) || iterations < 1 || iterations > MAX_ITERATIONS) {
      throw new RangeError("iterations out of range");
    }
    this.iterations = iterations;
    this.#legacyPepper = pepper;
    this.#peppers = new Map(peppers.map((p) => [p.id, p.secret]));
    if (this.#peppers.size !== peppers.length) throw new RangeError("pepper ids must be unique");
    this.#currentPepperId = peppers[0]?.id ?? null;
    this.#kdf = kdf;
  }

  /** The KDF input for `password` under pepper `pepperId`; null when that pepper is not configured. */
  #input(password: string, pepperId: string | null): Uint8Array | null {
    const normalized = password.normalize("NFC");
    const secret = pepperId === null ? this.#legacyPepper : this.#peppers.get(pepperId);
    if (secret === undefined) return null;
    if (secret === null) return new TextEncoder().encode(normalized);
    return new Uint8Array(createHmac("sha256", secret).update(normalized, "utf8").digest());
  }

  /** A new PHC hash of `password` with a fresh random salt and the newest pepper. */
  async hash(password: string): Promise<string> {
    const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
    const pepperId = this.#currentPepperId;
    const hash = await this.#kdf(this.#input(password, pepperId)!, salt, this.iterations);
    return formatPHC({ iterations: this.iterations, pepperId, salt, hash });
  }

  /**
   * True when `password` matches `phc`. Always runs exactly one derivation,
   * even for a malformed stored hash or one whose pepper is not configured,
   * so the cost reveals nothing.
   */
  async verify(password: string, phc: string): Promise<boolean> {
    const stored = parsePHC(phc);
    const parsed = stored ?? parsePHC(this.dummyHash())!;
    const input = this.#input(password, parsed.pepperId ?? null);
    const derived = await this.#kdf(
      input ?? this.#input(password, this.#currentPepperId)!,
      parsed.salt,
      parsed.iterations,
    );
    return timingSafeEqual(derived, parsed.hash) && stored !== null && input !== null;
  }

  /** True when `phc` was made with weaker parameters than the current ones, or with an older pepper. */
  needsRehash(phc: string): boolean {
    const parsed = parsePHC(phc);
    return parsed === null || parsed.iterations < this.iterations ||
      (parsed.pepperId ?? null) !== this.#currentPepperId;
  }

  /**
   * A well-formed hash of nothing, with the current parameters: verifying an
   * unknown user against it costs exactly what a real check costs (ASVS 6.3.8).
   */
  dummyHash(): string {
    return formatPHC({
      iterations: this.iterations,
      pepperId: this.#currentPepperId,
      salt: crypto.getRandomValues(new Uint8Array(SALT_BYTES)),
      hash: crypto.getRandomValues(new Uint8Array(KEY_BYTES)),
    });
  }
}
