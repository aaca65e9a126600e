import assert from "node:assert/strict";
import {
  defaultPort,
  DENY_ONLY_SETS,
  IMPORT_DENY,
  permissionDrift,
  RUNTIME_SETS,
  withSharedParts,
} from "./permissions.ts";

const DENO_JSON = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));

Deno.test("permissionDrift() finds deno.json in agreement with tools/permissions.ts", () => {
  assert.deepEqual(permissionDrift(DENO_JSON), []);
  assert.equal(defaultPort(), 8443);
});

Deno.test("permissionDrift() names a set whose deny list or port drifted", () => {
  const drifted = structuredClone(DENO_JSON);
  drifted.permissions.audit.import.deny = IMPORT_DENY.slice(1);
  drifted.permissions.server.net = drifted.permissions.server.net.map((a: string) => a.replace(":8443", ":9443"));
  delete drifted.permissions["audit-export"];
  const problems = permissionDrift(drifted);
  assert.equal(problems.length, 3, problems.join("\n"));
  assert.match(problems[0]!, /^permissions\.server\.net is .*9443/);
  assert.match(problems[1]!, /^permissions\.audit\.import is /);
  assert.equal(problems[2], 'permission set "audit-export" is missing');
});

Deno.test("permissionDrift() follows the port it is given: changing APP_PORT's default means regenerating", () => {
  assert.match(
    permissionDrift(DENO_JSON, 9443).join("\n"),
    /permissions\.server\.net is .*expected .*127\.0\.0\.1:9443/,
  );
});

Deno.test("withSharedParts() repairs drift, keeps everything else, and changes nothing on an agreeing file", () => {
  assert.deepEqual(withSharedParts(DENO_JSON), DENO_JSON);
  const drifted = structuredClone(DENO_JSON);
  drifted.permissions.admin.import.deny = [];
  drifted.permissions.admin.env = ["HOME"];
  const repaired = withSharedParts(drifted);
  assert.deepEqual(permissionDrift(repaired), []);
  assert.deepEqual(repaired, DENO_JSON);
  for (const set of [...RUNTIME_SETS, ...DENY_ONLY_SETS]) {
    assert.deepEqual(Object.keys(repaired.permissions?.[set] ?? {}), Object.keys(DENO_JSON.permissions[set]));
  }
});

Deno.test("permissionDrift() holds the env-check set to the import-deny list, and leaves its env alone", () => {
  assert.equal(DENO_JSON.permissions["env-check"].env, true, "it must see every variable's name");
  const drifted = structuredClone(DENO_JSON);
  drifted.permissions["env-check"].import.deny = [];
  assert.deepEqual(permissionDrift(drifted), [
    `permissions.env-check.import is {"deny":[]}, expected ${JSON.stringify({ deny: IMPORT_DENY })}`,
  ]);
  assert.deepEqual(withSharedParts(drifted), DENO_JSON);
});
