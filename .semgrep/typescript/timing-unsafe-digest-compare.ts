// Fixture for timing-unsafe-digest-compare (semgrep --test).
import { Buffer } from "node:buffer";
import { createHmac } from "node:crypto";
declare const key: string, body: string, presented: string, a: Uint8Array, b: Uint8Array;
declare const derivedHash: Uint8Array, storedHash: Uint8Array, cidrBytes: Uint8Array, ipBytes: Uint8Array;
declare function timingSafeEqual(x: Uint8Array, y: Uint8Array): boolean;

// ruleid: timing-unsafe-digest-compare
const same1 = Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

// ruleid: timing-unsafe-digest-compare
const same2 = createHmac("sha256", key).update(body).digest("hex") === presented;

// ruleid: timing-unsafe-digest-compare
const same3 = presented !== createHmac("sha256", key).update(body).digest("base64");

// ruleid: timing-unsafe-digest-compare
const same4 = derivedHash.every((byte, i) => byte === storedHash[i]);

function macEqual(expected: Uint8Array, actual: Uint8Array): boolean {
  // ruleid: timing-unsafe-digest-compare
  for (let i = 0; i < expected.length; i++) {
    if (expected[i] !== actual[i]) return false;
  }
  return true;
}

function prefixMatches(n: number): boolean {
  // ok: timing-unsafe-digest-compare
  for (let i = 0; i < n; i++) {
    if (cidrBytes[i] !== ipBytes[i]) return false;
  }
  return true;
}

// ok: timing-unsafe-digest-compare
const same5 = timingSafeEqual(a, b);

// ok: timing-unsafe-digest-compare
const mac = createHmac("sha256", key).update(body).digest();

export { mac, macEqual, prefixMatches, same1, same2, same3, same4, same5 };
