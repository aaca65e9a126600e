/**
 * The cryptographic inventory (docs/crypto_inventory.md) stays true to the
 * code (ASVS 5.0 11.1.2, 11.4.1): the source is scanned for every hash, MAC,
 * key derivation and key-generation algorithm it names, and each must be in
 * the inventory; every cryptographic hash must be SHA-256.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);

/** Display names for the spellings node:crypto and Web Crypto use. */
const NAMES: Record<string, string> = {
  sha1: "SHA-1",
  sha256: "SHA-256",
  sha384: "SHA-384",
  sha512: "SHA-512",
  md5: "MD5",
};
const display = (raw: string) => NAMES[raw.toLowerCase()] ?? raw;

/** One use of an algorithm in the source. */
interface Use {
  file: string;
  algorithm: string;
  kind: "hash" | "hmac" | "webcrypto";
}

/** The algorithms named in `source`. */
function cryptoUses(file: string, source: string): Use[] {
  const uses: Use[] = [];
  for (const m of source.matchAll(/\bcreateHash\(\s*["'`]([\w-]+)["'`]/g)) {
    uses.push({ file, algorithm: display(m[1]!), kind: "hash" });
  }
  for (const m of source.matchAll(/\bcreateHmac\(\s*["'`]([\w-]+)["'`]/g)) {
    uses.push({ file, algorithm: display(m[1]!), kind: "hmac" });
  }
  if (/crypto\.subtle\b/.test(source)) {
    for (const m of source.matchAll(/\b(?:name|hash|namedCurve)\s*:\s*["'`]([\w-]+)["'`]/g)) {
      uses.push({ file, algorithm: display(m[1]!), kind: "webcrypto" });
    }
    for (
      const m of source.matchAll(/\b(?:importKey|generateKey|deriveKey|deriveBits)\([^;]*?["'`]([A-Z][\w-]+)["'`]/g)
    ) {
      if (!/^(raw|pkcs8|spki|jwk)$/.test(m[1]!)) uses.push({ file, algorithm: display(m[1]!), kind: "webcrypto" });
    }
  }
  return uses;
}

async function sourceFiles(): Promise<string[]> {
  const files = ["main.ts"];
  const walk = async (dir: string): Promise<void> => {
    for await (const entry of Deno.readDir(new URL(dir, ROOT))) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) await walk(path);
      else if (entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts")) files.push(path);
    }
  };
  await walk("src");
  return files.sort();
}

async function allUses(): Promise<Use[]> {
  const uses: Use[] = [];
  for (const file of await sourceFiles()) uses.push(...cryptoUses(file, await Deno.readTextFile(new URL(file, ROOT))));
  return uses;
}

/** Non-cryptographic hash uses, each with the reason it protects nothing. */
const NOT_CRYPTOGRAPHIC: Record<string, { algorithm: string; reason: string }> = {
  "src/ratelimit/redis_store.ts": {
    algorithm: "SHA-1",
    reason: "names the Lua script for Redis EVALSHA, as Redis defines it",
  },
};

Deno.test("cryptoUses() finds node:crypto hashes and HMACs and Web Crypto algorithms, and nothing else", () => {
  const source = `
    createHash("md5"); createHmac('sha512', key);
    await crypto.subtle.importKey("raw", pw, "PBKDF2", false, ["deriveBits"]);
    const algorithm = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-384" };
    const unrelated = { title: "MD5 is not used here" };`;
  assert.deepEqual(
    cryptoUses("x.ts", source).map((u) => u.algorithm).sort(),
    ["ECDSA", "MD5", "P-256", "PBKDF2", "SHA-384", "SHA-512"],
  );
  assert.deepEqual(cryptoUses("y.ts", 'const o = { name: "PBKDF2" };'), [], "no Web Crypto call, no Web Crypto use");
});

Deno.test("the crypto inventory lists every algorithm the source uses", async () => {
  const inventory = await Deno.readTextFile(new URL("docs/crypto_inventory.md", ROOT));
  const uses = await allUses();
  const found = new Set(uses.map((u) => u.algorithm));
  for (const expected of ["PBKDF2", "SHA-256", "ECDSA", "P-256"]) {
    assert.ok(found.has(expected), `scan found ${expected}`);
  }
  const missing = [...found].filter((algorithm) => !inventory.includes(algorithm));
  assert.deepEqual(missing, [], "algorithms used in the source but missing from docs/crypto_inventory.md");
  for (const use of uses) {
    assert.ok(inventory.includes(`\`${use.file}\``), `docs/crypto_inventory.md names ${use.file} (${use.algorithm})`);
  }
});

Deno.test("the source uses SHA-256 for every cryptographic hash; SHA-1 only names the Redis script", async () => {
  const inventory = await Deno.readTextFile(new URL("docs/crypto_inventory.md", ROOT));
  for (const use of await allUses()) {
    if (use.kind === "webcrypto" && !/^SHA-|^MD5$/.test(use.algorithm)) continue;
    const exception = NOT_CRYPTOGRAPHIC[use.file];
    if (exception && exception.algorithm === use.algorithm) {
      assert.match(inventory, /SHA-1 \(not cryptographic\)/, `the inventory explains ${use.file}: ${exception.reason}`);
      continue;
    }
    assert.equal(use.algorithm, "SHA-256", `${use.file} uses ${use.algorithm}`);
  }
});
