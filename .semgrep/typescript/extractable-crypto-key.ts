// Fixture for extractable-crypto-key (semgrep --test).
declare const password: Uint8Array, pepper: Uint8Array;
const { subtle } = crypto;

// ruleid: extractable-crypto-key
const k1 = await crypto.subtle.importKey("raw", password, "PBKDF2", true, ["deriveBits"]);

// ruleid: extractable-crypto-key
const k2 = await subtle.importKey("raw", pepper, { name: "HMAC", hash: "SHA-256" }, true, ["sign"]);

// ruleid: extractable-crypto-key
const k3 = await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, true, ["sign", "verify"]);

// ok: extractable-crypto-key
const k4 = await crypto.subtle.importKey("raw", password, "PBKDF2", false, ["deriveBits"]);

// ok: extractable-crypto-key
const k5 = await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, false, ["sign"]);

export { k1, k2, k3, k4, k5 };
