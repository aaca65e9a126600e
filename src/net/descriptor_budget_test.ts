import assert from "node:assert/strict";
import { generateDevCertificate } from "../tls/dev_cert.ts";
import {
  DEFAULT_MAX_CONNECTIONS,
  DESCRIPTOR_RESERVE,
  DESCRIPTORS_PER_GUARDED_CONNECTION,
  fileDescriptorProbe,
  planConnections,
} from "./descriptor_budget.ts";

/** A probe that can open `free` descriptors and remembers what it was asked for. */
function probeWith(free: number) {
  const asked: number[] = [];
  return { asked, probe: (target: number) => (asked.push(target), Math.min(target, free)) };
}

Deno.test("planConnections(): the default cap holds when the descriptors for it are free", () => {
  const { asked, probe } = probeWith(1_000_000);
  const plan = planConnections({ guard: true, configuredMax: null, production: true, probe });
  assert.equal(plan.maxTotal, DEFAULT_MAX_CONNECTIONS);
  assert.deepEqual(asked, [DESCRIPTOR_RESERVE + DESCRIPTORS_PER_GUARDED_CONNECTION * DEFAULT_MAX_CONNECTIONS]);
  assert.equal(plan.error, null);
  assert.deepEqual(plan.warnings, []);
});

Deno.test("planConnections(): too few descriptors refuse a production start, naming the fix", () => {
  const { probe } = probeWith(1000);
  const plan = planConnections({ guard: true, configuredMax: null, production: true, probe });
  assert.match(plan.error!, /^APP_MAX_CONNECTIONS: 1024 connections need 3200 file descriptors but only 1000 are free/);
  assert.match(plan.error!, /LimitNOFILE/);
  assert.match(plan.error!, /APP_MAX_CONNECTIONS=290/, "the cap that would fit: (1000 - 128) / 3");
});

Deno.test("planConnections(): in development too few descriptors lower the cap to what fits, with a warning", () => {
  const { probe } = probeWith(256);
  const plan = planConnections({ guard: true, configuredMax: 500, production: false, probe });
  assert.equal(plan.maxTotal, 42);
  assert.equal(plan.error, null);
  assert.match(
    plan.warnings[0]!,
    /500 connections need 1628 file descriptors but only 256 are free; holding at most 42/,
  );
  const none = planConnections({ guard: true, configuredMax: null, production: false, probe: probeWith(100).probe });
  assert.match(none.error!, /only 100 are free/, "not even one connection fits: refused everywhere");
});

Deno.test("planConnections(): without the guard it only warns when fewer than 1024 connections would fit", () => {
  assert.deepEqual(
    planConnections({ guard: false, configuredMax: null, production: true, probe: probeWith(1e6).probe }).warnings,
    [],
  );
  const plan = planConnections({ guard: false, configuredMax: null, production: true, probe: probeWith(600).probe });
  assert.equal(plan.error, null);
  assert.match(plan.warnings[0]!, /fewer than 472 connections .*maxconn/);
});

Deno.test("fileDescriptorProbe() opens a readable file up to the target and closes every handle", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/cert.pem`;
  await Deno.writeTextFile(path, (await generateDevCertificate()).cert);
  const probe = fileDescriptorProbe(path);
  assert.equal(probe(500), 500);
  assert.equal(probe(500), 500, "nothing leaked by the first run");
  assert.equal(fileDescriptorProbe(`${dir}/missing`)(10), 0, "an unreadable file proves nothing");
  await Deno.remove(dir, { recursive: true });
});
