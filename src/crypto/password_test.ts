import assert from "node:assert/strict";
import { formatPHC, type KDF, parsePHC, PasswordHasher, pbkdf2SHA256 } from "./password.ts";

const fast = { iterations: 1_000 };

Deno.test("PasswordHasher.hash() writes a PHC string with the parameters and a 16-byte salt", async () => {
  const phc = await new PasswordHasher(fast).hash("correct horse battery staple");
  assert.match(phc, /^\$pbkdf2-sha256\$i=1000\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
  const parsed = parsePHC(phc)!;
  assert.equal(parsed.salt.length, 16);
  assert.equal(parsed.hash.length, 32);
});

Deno.test("PasswordHasher salts every hash differently", async () => {
  const hasher = new PasswordHasher(fast);
  assert.notEqual(await hasher.hash("same password twice"), await hasher.hash("same password twice"));
});

Deno.test("PasswordHasher.verify() accepts the password and refuses any other", async () => {
  const hasher = new PasswordHasher(fast);
  const phc = await hasher.hash("correct horse battery staple");
  assert.equal(await hasher.verify("correct horse battery staple", phc), true);
  assert.equal(await hasher.verify("correct horse battery stapl", phc), false);
  assert.equal(await hasher.verify("Correct horse battery staple", phc), false);
  assert.equal(await hasher.verify("", phc), false);
});

Deno.test("PasswordHasher matches a known PBKDF2-HMAC-SHA-256 vector (RFC 7914 §11)", async () => {
  const derived = await pbkdf2SHA256(new TextEncoder().encode("passwd"), new TextEncoder().encode("salt"), 1);
  // First 32 bytes of the RFC 7914 PBKDF2-HMAC-SHA-256 test vector (c = 1, dkLen = 64).
  const expected = "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc";
  assert.equal(Array.from(derived, (b) => b.toString(16).padStart(2, "0")).join(""), expected);
});

Deno.test("PasswordHasher normalises to NFC, so NFC and NFD spellings are one password", async () => {
  const hasher = new PasswordHasher(fast);
  const nfc = "caf\u00e9 au lait, s'il vous pla\u00eet";
  const nfd = nfc.normalize("NFD");
  assert.notEqual(nfc, nfd);
  assert.equal(await hasher.verify(nfd, await hasher.hash(nfc)), true);
});

Deno.test("PasswordHasher with a pepper hashes the same password differently, and needs the pepper to verify", async () => {
  const peppered = new PasswordHasher({ ...fast, pepper: "p".repeat(32) });
  const plain = new PasswordHasher(fast);
  const phc = await peppered.hash("correct horse battery staple");
  assert.equal(await peppered.verify("correct horse battery staple", phc), true);
  assert.equal(await plain.verify("correct horse battery staple", phc), false);
  assert.equal(
    await new PasswordHasher({ ...fast, pepper: "q".repeat(32) }).verify("correct horse battery staple", phc),
    false,
  );
});

Deno.test("PasswordHasher.verify() runs exactly one derivation, even for a malformed stored hash", async () => {
  let calls = 0;
  const kdf: KDF = (p, s, i) => {
    calls++;
    return pbkdf2SHA256(p, s, i);
  };
  const hasher = new PasswordHasher({ ...fast, kdf });
  assert.equal(await hasher.verify("anything at all here", "not a hash"), false);
  assert.equal(calls, 1);
  assert.equal(await hasher.verify("anything at all here", hasher.dummyHash()), false);
  assert.equal(calls, 2);
});

Deno.test("PasswordHasher.needsRehash() is true for fewer iterations than configured", async () => {
  const old = await new PasswordHasher({ iterations: 1_000 }).hash("correct horse battery staple");
  assert.equal(new PasswordHasher({ iterations: 2_000 }).needsRehash(old), true);
  assert.equal(new PasswordHasher({ iterations: 1_000 }).needsRehash(old), false);
  assert.equal(new PasswordHasher({ iterations: 1_000 }).needsRehash("garbage"), true);
});

Deno.test("parsePHC() refuses other algorithms, bad encodings and absurd iteration counts", () => {
  const good = formatPHC({ iterations: 1000, salt: new Uint8Array(16), hash: new Uint8Array(32) });
  assert.ok(parsePHC(good));
  for (
    const bad of [
      good.replace("sha256", "sha1"),
      good.replace("i=1000", "i=0"),
      good.replace("i=1000", "i=99999999"),
      good.replace("i=1000", "i=01000"),
      good + "$",
      good.slice(0, -1),
      "",
    ]
  ) assert.equal(parsePHC(bad), null, bad);
});

Deno.test("PasswordHasher.dummyHash() has the current parameters, so an unknown user costs a real check", () => {
  const parsed = parsePHC(new PasswordHasher({ iterations: 4_321 }).dummyHash())!;
  assert.equal(parsed.iterations, 4_321);
});

const V1 = { id: "v1", secret: "1".repeat(32) };
const V2 = { id: "v2", secret: "2".repeat(32) };
const PASSWORD = "correct horse battery staple";

Deno.test("PasswordHasher with versioned peppers records the newest id in the PHC string and verifies older ids", async () => {
  const before = new PasswordHasher({ ...fast, peppers: [V1] });
  const after = new PasswordHasher({ ...fast, peppers: [V2, V1] });
  const old = await before.hash(PASSWORD);
  assert.match(old, /^\$pbkdf2-sha256\$i=1000,p=v1\$/);
  const fresh = await after.hash(PASSWORD);
  assert.match(fresh, /^\$pbkdf2-sha256\$i=1000,p=v2\$/);
  assert.equal(parsePHC(fresh)!.pepperId, "v2");
  assert.equal(await after.verify(PASSWORD, old), true, "the older pepper still verifies");
  assert.equal(await after.verify(PASSWORD, fresh), true);
  assert.equal(await after.verify("correct horse battery stapler", old), false);
  // The id selects the secret: the same bytes under another id's secret do not verify.
  assert.equal(await after.verify(PASSWORD, old.replace(",p=v1$", ",p=v2$")), false);
});

Deno.test("PasswordHasher.needsRehash() is true for a hash made with an older or the unversioned pepper", async () => {
  const legacy = await new PasswordHasher({ ...fast, pepper: "p".repeat(32) }).hash(PASSWORD);
  const v1 = await new PasswordHasher({ ...fast, peppers: [V1] }).hash(PASSWORD);
  const rotated = new PasswordHasher({ ...fast, pepper: "p".repeat(32), peppers: [V2, V1] });
  assert.equal(rotated.needsRehash(legacy), true);
  assert.equal(rotated.needsRehash(v1), true);
  assert.equal(rotated.needsRehash(await rotated.hash(PASSWORD)), false);
  assert.equal(await rotated.verify(PASSWORD, legacy), true, "APP_PEPPER still verifies the hashes it made");
});

Deno.test("PasswordHasher: a hash naming a pepper that is not configured never verifies, at the cost of one derivation", async () => {
  let calls = 0;
  const kdf: KDF = (p, s, i) => (calls++, pbkdf2SHA256(p, s, i));
  const v1 = await new PasswordHasher({ ...fast, peppers: [V1] }).hash(PASSWORD);
  const without = new PasswordHasher({ ...fast, peppers: [V2], kdf });
  assert.equal(await without.verify(PASSWORD, v1), false);
  assert.equal(calls, 1);
  assert.throws(() => new PasswordHasher({ peppers: [V1, V1] }), RangeError);
});
