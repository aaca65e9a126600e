import assert from "node:assert/strict";
import { closest, levenshtein } from "./levenshtein.ts";

Deno.test("levenshtein() counts insertions, deletions and substitutions", () => {
  assert.equal(levenshtein("", ""), 0);
  assert.equal(levenshtein("APP_PORT", "APP_PORT"), 0);
  assert.equal(levenshtein("APP_PROT", "APP_PORT"), 2);
  assert.equal(levenshtein("APP_PORTS", "APP_PORT"), 1);
  assert.equal(levenshtein("APP_POT", "APP_PORT"), 1);
  assert.equal(levenshtein("kitten", "sitting"), 3);
  assert.equal(levenshtein("", "abc"), 3);
});

Deno.test("closest() names the nearest candidate within the distance, else null", () => {
  const known = ["APP_PORT", "APP_HOST", "APP_DB"];
  assert.equal(closest("APP_PROT", known, 3), "APP_PORT");
  assert.equal(closest("APP_HOTS", known, 3), "APP_HOST");
  assert.equal(closest("APP_COMPLETELY_ELSE", known, 3), null);
});
