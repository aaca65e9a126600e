import assert from "node:assert/strict";
import { type DenoLintReport, denoLintToSARIF, SARIF_SCHEMA } from "./lint_sarif.ts";

const root = new URL("file:///work/project/");

const report: DenoLintReport = {
  version: 1,
  diagnostics: [
    {
      filename: "file:///work/project/src/db/database.ts",
      range: { start: { line: 85, col: 18, bytePos: 3000 }, end: { line: 85, col: 70, bytePos: 3052 } },
      message: "SQL passed to exec() is built by template interpolation.",
      code: "secure-api/no-sql-string-building",
      hint: "Keep the SQL a constant string.",
    },
    {
      filename: "file:///work/project/src/a.ts",
      range: { start: { line: 3, col: 0, bytePos: 20 }, end: { line: 3, col: 5, bytePos: 25 } },
      message: "`x` is never used",
      code: "no-unused-vars",
      hint: null,
    },
    {
      filename: "file:///work/project/src/b.ts",
      range: { start: { line: 1, col: 2, bytePos: 2 }, end: { line: 2, col: 0, bytePos: 9 } },
      message: "SQL passed to prepare() is built by concatenation.",
      code: "secure-api/no-sql-string-building",
      hint: null,
    },
  ],
  errors: [],
  checked_files: ["/work/project/src/db/database.ts", "/work/project/src/a.ts", "/work/project/src/b.ts"],
};

Deno.test("denoLintToSARIF() writes one SARIF 2.1.0 run with a result per diagnostic", () => {
  const log = denoLintToSARIF(report, {
    root,
    toolVersion: "2.9.6",
    describe: (id) => id === "secure-api/no-sql-string-building" ? "SQL built from strings" : undefined,
  });
  assert.equal(log.version, "2.1.0");
  assert.equal(log.$schema, SARIF_SCHEMA);
  assert.equal(log.runs.length, 1);
  const run = log.runs[0]!;
  assert.equal(run.tool.driver.name, "deno lint");
  assert.equal(run.tool.driver.version, "2.9.6");
  assert.deepEqual(run.originalUriBaseIds, { "%SRCROOT%": { uri: "file:///work/project/" } });
  assert.deepEqual(run.invocations, [{ executionSuccessful: true, toolExecutionNotifications: [] }]);
  assert.deepEqual(run.tool.driver.rules, [
    {
      id: "no-unused-vars",
      shortDescription: { text: "deno lint rule no-unused-vars" },
      helpUri: "https://docs.deno.com/lint/rules/no-unused-vars",
    },
    { id: "secure-api/no-sql-string-building", shortDescription: { text: "SQL built from strings" } },
  ]);
  assert.equal(run.results.length, 3);
  assert.deepEqual(run.results[0], {
    ruleId: "secure-api/no-sql-string-building",
    ruleIndex: 1,
    level: "error",
    message: { text: "SQL passed to exec() is built by template interpolation. Hint: Keep the SQL a constant string." },
    locations: [{
      physicalLocation: {
        artifactLocation: { uri: "src/db/database.ts", uriBaseId: "%SRCROOT%" },
        region: { startLine: 85, startColumn: 19, endLine: 85, endColumn: 71 },
      },
    }],
  });
  assert.equal(run.results[1]!.ruleIndex, 0);
  assert.equal(run.results[1]!.message.text, "`x` is never used");
  assert.equal(run.results[2]!.ruleIndex, 1);
});

Deno.test("denoLintToSARIF() turns unparsable files into notifications and an unsuccessful run", () => {
  const log = denoLintToSARIF(
    {
      version: 1,
      diagnostics: [],
      errors: [{ file_path: "/work/project/src/bad.ts", message: "SyntaxError: Unexpected token `=`" }],
      checked_files: ["/work/project/src/bad.ts"],
    },
    { root, toolVersion: "2.9.6" },
  );
  const run = log.runs[0]!;
  assert.deepEqual(run.results, []);
  assert.deepEqual(run.tool.driver.rules, []);
  assert.deepEqual(run.invocations, [{
    executionSuccessful: false,
    toolExecutionNotifications: [{
      level: "error",
      message: { text: "SyntaxError: Unexpected token `=`" },
      locations: [{ physicalLocation: { artifactLocation: { uri: "src/bad.ts", uriBaseId: "%SRCROOT%" } } }],
    }],
  }]);
});

Deno.test("denoLintToSARIF() keeps files outside the root as absolute URIs", () => {
  const log = denoLintToSARIF({
    ...report,
    diagnostics: [{ ...report.diagnostics[1]!, filename: "file:///elsewhere/x.ts" }],
  }, { root, toolVersion: "2.9.6" });
  assert.deepEqual(log.runs[0]!.results[0]!.locations[0]!.physicalLocation.artifactLocation, {
    uri: "file:///elsewhere/x.ts",
  });
});
