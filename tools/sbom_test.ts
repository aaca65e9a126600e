import assert from "node:assert/strict";
import { parseLock, splitKey } from "./deno_lock.ts";
import { buildSBOM, npmPurl, sriToHash } from "./sbom.ts";

const LOCK = JSON.stringify({
  version: "5",
  specifiers: { "npm:@scope/app-lib@1.2.3": "1.2.3_peer@2.0.0", "npm:peer@2.0.0": "2.0.0" },
  npm: {
    "@scope/app-lib@1.2.3_peer@2.0.0": {
      integrity: "sha512-" + btoa("a".repeat(64)),
      dependencies: ["peer", "tslib@1.14.1"],
    },
    "peer@2.0.0": { integrity: "sha512-" + btoa("b".repeat(64)), dependencies: ["tslib@2.9.1"] },
    "tslib@1.14.1": { integrity: "sha512-" + btoa("c".repeat(64)) },
    "tslib@2.9.1": { integrity: "sha512-" + btoa("d".repeat(64)) },
  },
  workspace: { dependencies: ["npm:@scope/app-lib@1.2.3", "npm:peer@2.0.0"] },
});

Deno.test("splitKey() separates scoped and plain names from versions and peer suffixes", () => {
  assert.deepEqual(splitKey("@hono/zod-validator@0.9.1_hono@4.13.19_zod@4.6.7"), {
    name: "@hono/zod-validator",
    version: "0.9.1",
  });
  assert.deepEqual(splitKey("tslib@2.9.1"), { name: "tslib", version: "2.9.1" });
  assert.throws(() => splitKey("@scope/no-version"));
});

Deno.test("parseLock() resolves bare and versioned dependency references to lock keys", () => {
  const lock = parseLock(LOCK);
  const app = lock.packages.find((p) => p.name === "@scope/app-lib")!;
  assert.deepEqual(app.dependencies, ["peer@2.0.0", "tslib@1.14.1"]);
  assert.deepEqual(lock.direct, ["@scope/app-lib@1.2.3_peer@2.0.0", "peer@2.0.0"]);
  assert.deepEqual(lock.foreign, []);
});

Deno.test("sriToHash() converts an SRI value to a CycloneDX hex hash, and refuses weak or malformed ones", () => {
  assert.deepEqual(sriToHash("sha512-" + btoa("\x01\xff")), { alg: "SHA-512", content: "01ff" });
  assert.throws(() => sriToHash("sha1-" + btoa("x")), /unsupported/);
  assert.throws(() => sriToHash("sha512-not base64!"), /unsupported/);
});

Deno.test("npmPurl() encodes the scope's @ as the purl specification asks", () => {
  assert.equal(npmPurl("@hono/zod-validator", "0.9.1"), "pkg:npm/%40hono/zod-validator@0.9.1");
  assert.equal(npmPurl("zod", "4.6.7"), "pkg:npm/zod@4.6.7");
});

Deno.test("buildSBOM() lists every locked npm package with its purl and integrity hash", async () => {
  const now = new Date("2026-01-02T03:04:05Z");
  const bom = await buildSBOM({ lock: LOCK, licences: new Map([["peer@2.0.0", "MIT"]]), now });
  assert.equal(bom.bomFormat, "CycloneDX");
  assert.equal(bom.specVersion, "1.5");
  assert.equal(bom.metadata.timestamp, "2026-01-02T03:04:05.000Z");
  assert.match(bom.serialNumber, /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.deepEqual(
    bom.components.map((c) => c.purl),
    ["pkg:npm/%40scope/app-lib@1.2.3", "pkg:npm/peer@2.0.0", "pkg:npm/tslib@1.14.1", "pkg:npm/tslib@2.9.1"],
  );
  const app = bom.components[0]!;
  assert.equal(app.group, "@scope");
  assert.equal(app.name, "app-lib");
  assert.deepEqual(app.hashes, [{ alg: "SHA-512", content: "61".repeat(64) }]);
  assert.deepEqual(app.externalReferences, [
    { type: "distribution", url: "https://registry.npmjs.org/@scope/app-lib/-/app-lib-1.2.3.tgz" },
  ]);
  assert.deepEqual(bom.components[1]!.licenses, [{ expression: "MIT" }]);
  assert.equal(app.licenses, undefined, "no licence is invented");
  assert.deepEqual(bom.dependencies[0], {
    ref: "secure-api",
    dependsOn: ["pkg:npm/%40scope/app-lib@1.2.3", "pkg:npm/peer@2.0.0"],
  });
  assert.deepEqual(bom.dependencies.find((d) => d.ref === "pkg:npm/%40scope/app-lib@1.2.3")!.dependsOn, [
    "pkg:npm/peer@2.0.0",
    "pkg:npm/tslib@1.14.1",
  ]);
  const again = await buildSBOM({ lock: LOCK, now: new Date() });
  assert.equal(again.serialNumber, bom.serialNumber, "the serial number follows the lock, not the clock");
});

Deno.test("buildSBOM() refuses a lock with jsr or remote modules", async () => {
  const withJSR = JSON.parse(LOCK);
  withJSR.jsr = { "@std/assert@1.0.0": { integrity: "abc" } };
  await assert.rejects(
    buildSBOM({ lock: JSON.stringify(withJSR) }),
    /outside the npm registry: jsr:@std\/assert@1\.0\.0/,
  );
  const withRemote = JSON.parse(LOCK);
  withRemote.remote = { "https://deno.land/x/evil/mod.ts": "abc" };
  await assert.rejects(buildSBOM({ lock: JSON.stringify(withRemote) }), /https:\/\/deno\.land\/x\/evil\/mod\.ts/);
  const withoutIntegrity = JSON.parse(LOCK);
  delete withoutIntegrity.npm["tslib@2.9.1"].integrity;
  await assert.rejects(buildSBOM({ lock: JSON.stringify(withoutIntegrity) }), /tslib@2\.9\.1: no integrity/);
});

Deno.test("buildSBOM() covers the project's real deno.lock: every package, every direct import", async () => {
  const lock = await Deno.readTextFile(new URL("../deno.lock", import.meta.url));
  const bom = await buildSBOM({ lock });
  const locked = Object.keys(JSON.parse(lock).npm);
  assert.equal(bom.components.length, locked.length);
  const imports = Object.values(
    JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url))).imports as Record<string, string>,
  ).filter((s) => s.startsWith("npm:") && !s.startsWith("npm:/"));
  assert.equal(bom.dependencies[0]!.dependsOn.length, imports.length);
  for (const c of bom.components) assert.match(c.hashes![0]!.content, /^[0-9a-f]{128}$/, c.purl);
});
