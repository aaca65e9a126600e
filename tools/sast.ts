/**
 * `deno task sast`: the project's static analysis gate (SECURITY.md, "Static analysis").
 *
 * 1. `deno lint --json` — the recommended rules plus the project plugin
 *    (`lint/secure_api_plugin.ts`), converted to `reports/deno-lint.sarif`.
 * 2. `semgrep --test .semgrep` — every project Semgrep rule against its
 *    fixture (`ruleid:` lines must match, `ok:` lines must not).
 * 3. `semgrep scan --config .semgrep` — only the project's own rules, offline
 *    (`--metrics=off`, no version check, no registry), written to
 *    `reports/semgrep.sarif`. `.semgrepignore` keeps the fixtures out.
 *
 * Prints a summary and exits 1 on any finding, failed rule test or tool
 * failure (a missing `semgrep` is a failure, never a skip). Runs under the
 * `sast` permission set: read the project, write `reports/`, run `deno` and
 * `semgrep` — nothing else.
 *
 * @module
 */
import { RULE_DESCRIPTIONS } from "../lint/secure_api_plugin.ts";
import { type DenoLintReport, denoLintToSARIF } from "./lint_sarif.ts";

/** One finding, whichever tool reported it. */
export interface Finding {
  readonly tool: "deno lint" | "semgrep";
  readonly rule: string;
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

/** The outcome of one step. */
export interface StepResult {
  readonly name: string;
  /** One line saying what ran and what it found. */
  readonly summary: string;
  readonly findings: readonly Finding[];
  /** Why the step itself failed (tool error, unparsable output, failed rule test). */
  readonly failures: readonly string[];
}

/** `semgrep --test --json` output. */
export interface SemgrepTestReport {
  config_missing_tests: string[];
  config_with_errors: unknown[];
  results: Record<string, { checks: Record<string, { passed: boolean; matches: Record<string, unknown> }> }>;
}

/** The parts of `semgrep scan --json` output read here: errors and scanned files. */
export interface SemgrepScanReport {
  errors: { type?: unknown; message?: string; level?: string }[];
  paths: { scanned: string[] };
}

/** The parts of Semgrep's SARIF output read here. */
export interface SemgrepSARIF {
  runs: {
    results: {
      ruleId: string;
      message: { text: string };
      locations: { physicalLocation: { artifactLocation: { uri: string }; region: SemgrepRegion } }[];
      suppressions?: { kind: string }[];
    }[];
  }[];
}

interface SemgrepRegion {
  startLine: number;
  startColumn: number;
}

/** The project root: this file lives in `<root>/tools/`. */
const ROOT = new URL("../", import.meta.url);

/** Environment for Semgrep: offline, quiet, no update nags. */
const SEMGREP_ENV = { SEMGREP_ENABLE_VERSION_CHECK: "0", SEMGREP_SEND_METRICS: "off", NO_COLOR: "1" };

/** A file URL or absolute path relative to the project root, for display. */
function relative(path: string): string {
  const href = path.startsWith("file:") ? path : new URL(`file://${encodeURI(path)}`).href;
  return href.startsWith(ROOT.href) ? decodeURI(href.slice(ROOT.href.length)) : path;
}

/** The lint configuration `deno.json` must keep for the gate to mean anything. */
export const PLUGIN = "./lint/secure_api_plugin.ts";

/**
 * Why `config` (the parsed `deno.json`) would make `deno lint` a weaker gate
 * than documented: the project plugin unregistered, or the recommended set
 * dropped. (`deno lint --json` cannot show it: it lists only files with
 * findings, and a clean run looks the same with or without the plugin.)
 */
export function lintConfigProblems(config: unknown): string[] {
  const lint = (config as { lint?: { plugins?: unknown; rules?: { tags?: unknown } } } | null)?.lint;
  const problems: string[] = [];
  if (!Array.isArray(lint?.plugins) || !lint.plugins.includes(PLUGIN)) {
    problems.push(`deno.json lint.plugins must include "${PLUGIN}"`);
  }
  if (!Array.isArray(lint?.rules?.tags) || !lint.rules.tags.includes("recommended")) {
    problems.push('deno.json lint.rules.tags must include "recommended"');
  }
  return problems;
}

/** Summarises a `deno lint --json` run. */
export function lintStep(report: DenoLintReport, code: number): StepResult {
  const findings = report.diagnostics.map((d): Finding => ({
    tool: "deno lint",
    rule: d.code,
    file: relative(d.filename),
    line: d.range.start.line,
    column: d.range.start.col + 1,
    message: d.message,
  }));
  const failures = report.errors.map((e) => `deno lint could not lint ${relative(e.file_path)}: ${e.message}`);
  if (code !== 0 && findings.length === 0 && failures.length === 0) failures.push(`deno lint exited with ${code}`);
  if (code === 0 && findings.length > 0) failures.push("deno lint reported findings but exited 0");
  return {
    name: "deno lint",
    summary: `${findings.length} finding(s) (recommended rules + secure-api plugin)`,
    findings,
    failures,
  };
}

/** Summarises a `semgrep --test --json` run: every rule must have a fixture and pass it. */
export function semgrepTestStep(report: SemgrepTestReport, code: number): StepResult {
  const checks = Object.values(report.results).flatMap((file) => Object.entries(file.checks));
  const failed = checks.filter(([, check]) => !check.passed).map(([id]) => id);
  const failures = [
    ...failed.map((id) => `rule test failed: ${id}`),
    ...report.config_missing_tests.map((config) => `rule without a fixture: ${config}`),
    ...report.config_with_errors.map((error) => `rule file with errors: ${JSON.stringify(error)}`),
  ];
  if (checks.length === 0) failures.push("semgrep --test found no rule tests");
  if (code !== 0 && failures.length === 0) failures.push(`semgrep --test exited with ${code}`);
  return {
    name: "semgrep --test",
    summary: `${checks.length - failed.length}/${checks.length} rule tests passed`,
    findings: [],
    failures,
  };
}

/**
 * Summarises a `semgrep scan --error` run from its SARIF (the findings) and
 * its JSON (errors, scanned files). Findings come from the SARIF because
 * Semgrep 1.140, when asked for both, also lists `nosemgrep`-suppressed
 * findings in the JSON without marking them; the SARIF marks them with
 * `suppressions`, and they are counted separately here.
 */
export function semgrepScanStep(report: SemgrepScanReport, sarif: SemgrepSARIF, code: number): StepResult {
  const results = sarif.runs.flatMap((r) => r.results);
  const suppressed = results.filter((r) => (r.suppressions ?? []).length > 0).length;
  const findings = results.filter((r) => (r.suppressions ?? []).length === 0).map((r): Finding => {
    const location = r.locations[0]?.physicalLocation;
    return {
      tool: "semgrep",
      // Rule ids from a config directory are prefixed with its path (`semgrep.typescript.`).
      rule: r.ruleId.split(".").pop()!,
      file: location?.artifactLocation.uri ?? "?",
      line: location?.region.startLine ?? 0,
      column: location?.region.startColumn ?? 0,
      message: r.message.text.trim(),
    };
  });
  const failures = report.errors.map((e) => `semgrep error: ${e.message ?? JSON.stringify(e)}`);
  if (code !== 0 && !(code === 1 && findings.length > 0) && failures.length === 0) {
    failures.push(`semgrep exited with ${code}`);
  }
  if (code === 0 && findings.length > 0) failures.push("semgrep reported findings but exited 0");
  if (report.paths.scanned.length === 0) failures.push("semgrep scanned no files");
  return {
    name: "semgrep",
    summary: `${findings.length} finding(s) in ${report.paths.scanned.length} files, ${suppressed} suppressed in ` +
      "source (project rules in .semgrep/)",
    findings,
    failures,
  };
}

/**
 * The report printed at the end; the boolean says whether the gate passed.
 * `reports` lists the SARIF files this run wrote.
 */
export function formatSummary(
  steps: readonly StepResult[],
  reports: readonly string[] = [],
): { text: string; passed: boolean } {
  const lines = ["", "SAST summary"];
  for (const step of steps) {
    const status = step.failures.length > 0 ? "FAIL" : step.findings.length > 0 ? "FINDINGS" : "ok";
    lines.push(`  ${step.name.padEnd(15)} ${status.padEnd(8)} ${step.summary}`);
    for (const f of step.findings) lines.push(`    ${f.file}:${f.line}:${f.column}  ${f.rule}  ${f.message}`);
    for (const failure of step.failures) lines.push(`    ! ${failure}`);
  }
  const findings = steps.reduce((n, s) => n + s.findings.length, 0);
  const failures = steps.reduce((n, s) => n + s.failures.length, 0);
  const passed = findings === 0 && failures === 0;
  lines.push(`  SARIF: ${reports.length > 0 ? reports.join(", ") : "none written"}`);
  lines.push(passed ? "PASS: no findings" : `FAIL: ${findings} finding(s), ${failures} failure(s)`);
  return { text: lines.join("\n"), passed };
}

/** Runs `command`; a missing executable is reported, not thrown. */
async function run(
  command: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const out = await new Deno.Command(command, { args, cwd: ROOT, env, stdout: "piped", stderr: "piped" }).output();
    const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
    return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      return { code: 127, stdout: "", stderr: `${command}: not found on PATH` };
    }
    throw error;
  }
}

/** Parses a tool's JSON stdout, or explains why it could not. */
function parse<T>(name: string, out: { code: number; stdout: string; stderr: string }): T | string {
  try {
    return JSON.parse(out.stdout) as T;
  } catch {
    const tail = out.stderr.trim().split("\n").slice(-5).join("\n      ");
    return `${name} exited with ${out.code} and no JSON report: ${tail}`;
  }
}

function failed(name: string, reason: string): StepResult {
  return { name, summary: "did not run to completion", findings: [], failures: [reason] };
}

async function runLint(): Promise<StepResult> {
  const problems = lintConfigProblems(JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT))));
  if (problems.length > 0) return { name: "deno lint", summary: "not run", findings: [], failures: problems };
  const out = await run("deno", ["lint", "--json"], { NO_COLOR: "1" });
  const report = parse<DenoLintReport>("deno lint", out);
  if (typeof report === "string") return failed("deno lint", report);
  const sarif = denoLintToSARIF(report, {
    root: ROOT,
    toolVersion: Deno.version.deno,
    describe: (id) => RULE_DESCRIPTIONS[id],
  });
  await Deno.writeTextFile(new URL("reports/deno-lint.sarif", ROOT), JSON.stringify(sarif, null, 2) + "\n");
  return lintStep(report, out.code);
}

async function runSemgrepTests(): Promise<StepResult> {
  const out = await run("semgrep", ["--test", "--metrics=off", "--json", ".semgrep"], SEMGREP_ENV);
  const report = parse<SemgrepTestReport>("semgrep --test", out);
  return typeof report === "string" ? failed("semgrep --test", report) : semgrepTestStep(report, out.code);
}

async function runSemgrepScan(): Promise<StepResult> {
  const out = await run("semgrep", [
    "scan",
    "--config",
    ".semgrep",
    "--metrics=off",
    "--disable-version-check",
    "--error",
    "--quiet",
    "--json",
    "--sarif-output=reports/semgrep.sarif",
    ".",
  ], SEMGREP_ENV);
  const report = parse<SemgrepScanReport>("semgrep", out);
  if (typeof report === "string") return failed("semgrep", report);
  let sarif: SemgrepSARIF;
  try {
    sarif = JSON.parse(await Deno.readTextFile(new URL("reports/semgrep.sarif", ROOT)));
  } catch (error) {
    return failed("semgrep", `no readable reports/semgrep.sarif: ${error}`);
  }
  return semgrepScanStep(report, sarif, out.code);
}

/** Deletes `url` if it exists. */
async function removeIfPresent(url: URL): Promise<void> {
  try {
    await Deno.remove(url);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

if (import.meta.main) {
  await Deno.mkdir(new URL("reports/", ROOT), { recursive: true });
  // A stale report from an earlier run must never be read, or uploaded, as this run's.
  for (const name of ["deno-lint.sarif", "semgrep.sarif"]) await removeIfPresent(new URL(`reports/${name}`, ROOT));
  const steps = [await runLint(), await runSemgrepTests(), await runSemgrepScan()];
  const reports: string[] = [];
  for (const name of ["deno-lint.sarif", "semgrep.sarif"]) {
    const written = await Deno.stat(new URL(`reports/${name}`, ROOT)).then(() => true, () => false);
    if (written) reports.push(`reports/${name}`);
  }
  const { text, passed } = formatSummary(steps, reports);
  const write = passed ? Deno.stdout : Deno.stderr;
  await write.write(new TextEncoder().encode(text + "\n"));
  Deno.exit(passed ? 0 : 1);
}
