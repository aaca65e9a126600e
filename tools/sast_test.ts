import assert from "node:assert/strict";
import {
  formatSummary,
  lintConfigProblems,
  lintStep,
  PLUGIN,
  type SemgrepSARIF,
  type SemgrepScanReport,
  semgrepScanStep,
  type SemgrepTestReport,
  semgrepTestStep,
} from "./sast.ts";

const root = new URL("../", import.meta.url);

Deno.test("lintStep() turns diagnostics into findings with project-relative paths and 1-based columns", () => {
  const step = lintStep({
    version: 1,
    diagnostics: [{
      filename: new URL("src/db/database.ts", root).href,
      range: { start: { line: 85, col: 18, bytePos: 0 }, end: { line: 85, col: 40, bytePos: 0 } },
      message: "SQL passed to exec() is built by template interpolation.",
      code: "secure-api/no-sql-string-building",
      hint: null,
    }],
    errors: [],
    checked_files: [],
  }, 1);
  assert.deepEqual(step.findings, [{
    tool: "deno lint",
    rule: "secure-api/no-sql-string-building",
    file: "src/db/database.ts",
    line: 85,
    column: 19,
    message: "SQL passed to exec() is built by template interpolation.",
  }]);
  assert.deepEqual(step.failures, []);
});

Deno.test("lintStep() fails on unparsable files and on an exit code its report does not explain", () => {
  const clean = { version: 1, diagnostics: [], errors: [], checked_files: [] };
  assert.deepEqual(lintStep(clean, 0).failures, []);
  assert.deepEqual(lintStep(clean, 2).failures, ["deno lint exited with 2"]);
  const broken = lintStep({ ...clean, errors: [{ file_path: new URL("src/x.ts", root).pathname, message: "E" }] }, 1);
  assert.deepEqual(broken.failures, ["deno lint could not lint src/x.ts: E"]);
});

Deno.test("lintConfigProblems() insists on the project plugin and the recommended rules", () => {
  assert.deepEqual(lintConfigProblems({ lint: { plugins: [PLUGIN], rules: { tags: ["recommended"] } } }), []);
  assert.deepEqual(lintConfigProblems({ lint: { rules: { tags: ["recommended"] } } }), [
    `deno.json lint.plugins must include "${PLUGIN}"`,
  ]);
  assert.equal(lintConfigProblems({}).length, 2);
  assert.equal(lintConfigProblems(null).length, 2);
});

Deno.test("lintConfigProblems() finds nothing wrong with this project's deno.json", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
  assert.deepEqual(lintConfigProblems(config), []);
});

function testReport(passed: Record<string, boolean>, extra: Partial<SemgrepTestReport> = {}): SemgrepTestReport {
  const results: SemgrepTestReport["results"] = {};
  for (const [id, ok] of Object.entries(passed)) {
    results[`.semgrep/typescript/${id}.yaml`] = { checks: { [id]: { passed: ok, matches: {} } } };
  }
  return { config_missing_tests: [], config_with_errors: [], results, ...extra };
}

Deno.test("semgrepTestStep() passes only when every rule has a fixture and passes it", () => {
  const ok = semgrepTestStep(testReport({ a: true, b: true }), 0);
  assert.equal(ok.summary, "2/2 rule tests passed");
  assert.deepEqual(ok.failures, []);

  const one = semgrepTestStep(testReport({ a: true, b: false }), 1);
  assert.equal(one.summary, "1/2 rule tests passed");
  assert.deepEqual(one.failures, ["rule test failed: b"]);

  const missing = semgrepTestStep(testReport({ a: true }, { config_missing_tests: [".semgrep/typescript/c.yaml"] }), 1);
  assert.deepEqual(missing.failures, ["rule without a fixture: .semgrep/typescript/c.yaml"]);

  assert.deepEqual(semgrepTestStep(testReport({}), 0).failures, ["semgrep --test found no rule tests"]);
  assert.deepEqual(semgrepTestStep(testReport({ a: true }), 2).failures, ["semgrep --test exited with 2"]);
});

const scanned: SemgrepScanReport = { errors: [], paths: { scanned: ["src/app.ts"] } };

function sarif(results: { rule: string; file: string; line: number; suppressed?: boolean }[]): SemgrepSARIF {
  return {
    runs: [{
      results: results.map((r) => ({
        ruleId: `semgrep.typescript.${r.rule}`,
        message: { text: `${r.rule} message\n` },
        locations: [{
          physicalLocation: { artifactLocation: { uri: r.file }, region: { startLine: r.line, startColumn: 5 } },
        }],
        ...(r.suppressed ? { suppressions: [{ kind: "inSource" }] } : {}),
      })),
    }],
  };
}

Deno.test("semgrepScanStep() reports unsuppressed SARIF results by short rule id; exit 1 with findings is no tool failure", () => {
  const step = semgrepScanStep(
    scanned,
    sarif([{ rule: "sql-built-from-strings", file: "src/db/database.ts", line: 85 }]),
    1,
  );
  assert.deepEqual(step.findings, [{
    tool: "semgrep",
    rule: "sql-built-from-strings",
    file: "src/db/database.ts",
    line: 85,
    column: 5,
    message: "sql-built-from-strings message",
  }]);
  assert.deepEqual(step.failures, []);
  assert.match(step.summary, /^1 finding\(s\) in 1 files, 0 suppressed in source/);
});

Deno.test("semgrepScanStep() counts nosemgrep-suppressed results apart from findings", () => {
  const step = semgrepScanStep(
    scanned,
    sarif([
      { rule: "sql-built-from-strings", file: "src/db/database.ts", line: 92, suppressed: true },
      { rule: "secret-compared-with-equality", file: "src/auth/authenticator.ts", line: 226, suppressed: true },
    ]),
    0,
  );
  assert.deepEqual(step.findings, []);
  assert.deepEqual(step.failures, []);
  assert.match(step.summary, /^0 finding\(s\) in 1 files, 2 suppressed in source/);
});

Deno.test("semgrepScanStep() fails on rule errors, exit codes that contradict the findings, and an empty scan", () => {
  const none = sarif([]);
  assert.deepEqual(semgrepScanStep(scanned, none, 0).failures, []);
  assert.deepEqual(semgrepScanStep(scanned, none, 2).failures, ["semgrep exited with 2"]);
  assert.deepEqual(semgrepScanStep({ ...scanned, errors: [{ message: "bad rule" }] }, none, 2).failures, [
    "semgrep error: bad rule",
  ]);
  assert.deepEqual(semgrepScanStep({ errors: [], paths: { scanned: [] } }, none, 0).failures, [
    "semgrep scanned no files",
  ]);
  const one = sarif([{ rule: "no-math-random", file: "src/a.ts", line: 1 }]);
  assert.deepEqual(semgrepScanStep(scanned, one, 0).failures, ["semgrep reported findings but exited 0"]);
});

Deno.test("formatSummary() passes only with no findings and no failures", () => {
  const clean = { name: "deno lint", summary: "0 finding(s)", findings: [], failures: [] };
  const pass = formatSummary([clean], ["reports/deno-lint.sarif"]);
  assert.equal(pass.passed, true);
  assert.match(pass.text, /SARIF: reports\/deno-lint\.sarif\n/);
  assert.match(pass.text, /deno lint\s+ok\s+0 finding\(s\)/);
  assert.match(pass.text, /PASS: no findings/);

  const finding = {
    tool: "semgrep" as const,
    rule: "no-math-random",
    file: "src/a.ts",
    line: 3,
    column: 7,
    message: "Math.random() is predictable",
  };
  const dirty = formatSummary([clean, { name: "semgrep", summary: "1 finding(s)", findings: [finding], failures: [] }]);
  assert.equal(dirty.passed, false);
  assert.match(dirty.text, /semgrep\s+FINDINGS/);
  assert.match(dirty.text, /src\/a\.ts:3:7 {2}no-math-random {2}Math\.random\(\) is predictable/);
  assert.match(dirty.text, /FAIL: 1 finding\(s\), 0 failure\(s\)/);

  const broken = formatSummary([{ name: "semgrep", summary: "did not run", findings: [], failures: ["not found"] }]);
  assert.equal(broken.passed, false);
  assert.match(broken.text, /semgrep\s+FAIL\s+did not run\n\s+! not found/);
  assert.match(broken.text, /SARIF: none written/);
});
