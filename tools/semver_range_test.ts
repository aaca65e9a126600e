import assert from "node:assert/strict";
import { compareVersions, parseVersion, satisfies } from "./semver_range.ts";

Deno.test("satisfies() reads the comparator forms advisories use", () => {
  const cases: [string, string, boolean][] = [
    ["4.13.19", "<4.13.20", true],
    ["4.13.20", "<4.13.20", false],
    ["4.13.20", "<=4.13.20", true],
    ["2.1.3", ">=2.0.0 <2.1.3", false],
    ["2.1.2", ">=2.0.0 <2.1.3", true],
    ["2.1.2", ">= 2.0.0, < 2.1.3", true],
    ["1.5.0", "<=1.0.0 || >=2.0.0 <2.0.5", false],
    ["2.0.4", "<=1.0.0 || >=2.0.0 <2.0.5", true],
    ["0.0.1", "*", true],
    ["1.9.9", "1.x", true],
    ["2.0.0", "1.x", false],
    ["1.2.9", "1.2", true],
    ["1.3.0", "<=1.2", false],
    ["1.5.0", "1.2.3 - 1.6", true],
    ["1.7.0", "1.2.3 - 1.6", false],
    ["1.9.0", "^1.2.3", true],
    ["2.0.0", "^1.2.3", false],
    ["0.2.9", "^0.2.3", true],
    ["0.3.0", "^0.2.3", false],
    ["1.2.9", "~1.2.3", true],
    ["1.3.0", "~1.2.3", false],
    ["1.0.0", "=1.0.0", true],
    ["1.0.1", "1.0.0", false],
  ];
  for (const [version, range, expected] of cases) {
    assert.equal(satisfies(version, range), expected, `${version} in ${range}`);
  }
});

Deno.test("satisfies() orders pre-releases below their release", () => {
  assert.equal(satisfies("2.0.0-beta.2", "<2.0.0"), true);
  assert.equal(satisfies("2.0.0", "<2.0.0-rc.1"), false);
  assert.ok(compareVersions(parseVersion("1.0.0-alpha")!, parseVersion("1.0.0-alpha.1")!) < 0);
  assert.ok(compareVersions(parseVersion("1.0.0-alpha.1")!, parseVersion("1.0.0-beta")!) < 0);
  assert.ok(compareVersions(parseVersion("1.0.0-2")!, parseVersion("1.0.0-10")!) < 0);
});

Deno.test("satisfies() answers null, never false, for what it cannot read", () => {
  assert.equal(satisfies("1.0.0", "some day"), null);
  assert.equal(satisfies("1.0.0", ">=1.0.0 <banana"), null);
  assert.equal(satisfies("not-a-version", "<2.0.0"), null);
});
