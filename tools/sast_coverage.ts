/**
 * `deno task sast:coverage`: what each static-analysis layer catches on the SAST corpus
 * (`tools/sast_corpus/`, one flawed Deno/Hono file per class; see `tools/sast_corpus.ts`).
 *
 * The corpus is planted into a scratch project (`src/<file>`, and the permission fragment as
 * its `deno.json`), and each layer runs over it:
 *
 * - `deno lint` with the recommended rules, and again with the project plugin;
 * - Semgrep with the project's rules (`.semgrep/`), and, with `--baseline=<git rev>`, with the
 *   rules as they were at that revision;
 * - ESLint with `eslint-plugin-security` and with `@microsoft/eslint-plugin-sdl` (recommended
 *   configurations, TypeScript parser), from npm at the pinned versions below: installed into a
 *   scratch directory unless `--eslint-dir=DIR` (or `SAST_ESLINT_DIR`) names an existing install;
 * - Semgrep's registry packs `p/javascript` and `p/typescript` (needs semgrep.dev; reported as
 *   not run when it cannot be reached), and, with `--semgrep-rules-repo=DIR`, the `javascript/`
 *   and `typescript/` folders of a local checkout of semgrep/semgrep-rules, which those packs
 *   are drawn from.
 *
 * A layer catches a class when it reports a line of the class's file that ends with `// flaw`
 * (for the deno.json fragment: a line carrying one of its settings). Prints a Markdown table,
 * class × layer, with the rules that fired. Then the same layers run over the TypeScript rule
 * fixtures of `.semgrep/`, and a second table counts, per fixture, the `ruleid:` lines each
 * layer reports (flaws found) and the `ok:` lines (false alarms on the correct variants:
 * sanitised, parameterised, allow-listed code). `--verbose` also lists every corpus finding.
 * Nothing here gates anything: `deno task sast` is the gate.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { CORPUS, plantCorpus, plantedPath } from "./sast_corpus.ts";

/** The ESLint packages measured, pinned. */
export const ESLINT_PACKAGES: Readonly<Record<string, string>> = {
  "eslint": "9.39.5",
  "@typescript-eslint/parser": "8.74.0",
  "typescript": "5.9.3",
  "eslint-plugin-security": "4.1.0",
  "@microsoft/eslint-plugin-sdl": "1.1.0",
};

/** One reported line. */
export interface Finding {
  /** Relative to the scratch project's root. */
  readonly file: string;
  readonly line: number;
  readonly rule: string;
}

/** What one layer reported, or why it did not run. */
export interface LayerResult {
  readonly name: string;
  /** `null`: the layer did not run (see `note`). */
  readonly findings: readonly Finding[] | null;
  readonly note: string;
  readonly seconds: number;
}

const ROOT = new URL("../", import.meta.url);
const SEMGREP_ENV = { SEMGREP_ENABLE_VERSION_CHECK: "0", SEMGREP_SEND_METRICS: "off", NO_COLOR: "1" };

/** Runs a command; a missing executable comes back as code 127. */
async function run(
  command: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string> },
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const out = await new Deno.Command(command, { args, ...options, stdout: "piped", stderr: "piped" }).output();
    const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
    return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return { code: 127, stdout: "", stderr: `${command}: not found` };
    throw error;
  }
}

function lastLines(text: string, n = 2): string {
  const tail = text.trim().split("\n").slice(-n).join(" / ");
  return tail.length > 300 ? `${tail.slice(0, 300)}…` : tail;
}

/** Times `body` and turns a thrown error into a not-run result. */
async function layer(name: string, body: () => Promise<{ findings: Finding[] | null; note: string }>) {
  const started = performance.now();
  let result: { findings: Finding[] | null; note: string };
  try {
    result = await body();
  } catch (error) {
    result = { findings: null, note: error instanceof Error ? error.message : String(error) };
  }
  return { name, ...result, seconds: (performance.now() - started) / 1000 } satisfies LayerResult;
}

/** `deno lint --json` over the scratch project with the recommended rules (and `plugins`). */
function denoLint(project: string, name: string, plugins: string[]): Promise<LayerResult> {
  return layer(name, async () => {
    const config = `${project}/lint-config.${plugins.length}.json`;
    await Deno.writeTextFile(config, JSON.stringify({ lint: { plugins, rules: { tags: ["recommended"] } } }));
    const out = await run("deno", ["lint", "--json", "--config", config, "src"], { cwd: project });
    const report = JSON.parse(out.stdout) as {
      diagnostics: { filename: string; range: { start: { line: number } }; code: string }[];
      errors: unknown[];
    };
    const prefix = new URL(`file://${project}/`).href;
    const findings = report.diagnostics.map((d) => ({
      file: d.filename.startsWith(prefix) ? decodeURI(d.filename.slice(prefix.length)) : d.filename,
      line: d.range.start.line,
      rule: d.code,
    }));
    return { findings, note: report.errors.length > 0 ? `${report.errors.length} file(s) not linted` : "" };
  });
}

/** `semgrep scan` over the scratch project with the given configurations (or a way to get them). */
function semgrep(project: string, name: string, configs: string[] | (() => Promise<string[]>)): Promise<LayerResult> {
  return layer(name, async () => {
    const resolved = typeof configs === "function" ? await configs() : configs;
    const args = ["scan", ...resolved.flatMap((c) => ["--config", c])];
    // No --quiet: when the registry cannot be reached, the reason is only on stderr.
    // The whole project (rules scoped to /src/ match only from its root), without the plugin copy.
    args.push("--metrics=off", "--disable-version-check", "--json", "--exclude=lint", ".");
    const out = await run("semgrep", args, { cwd: project, env: SEMGREP_ENV });
    let report: { results: { path: string; start: { line: number }; check_id: string }[]; errors: unknown[] };
    try {
      report = JSON.parse(out.stdout);
    } catch {
      return { findings: null, note: `semgrep exited with ${out.code}: ${lastLines(out.stderr)}` };
    }
    if (out.code !== 0 && out.code !== 1 && report.results.length === 0) {
      return { findings: null, note: `semgrep exited with ${out.code}: ${lastLines(out.stderr)}` };
    }
    const findings = report.results.map((r) => ({
      file: r.path,
      line: r.start.line,
      rule: r.check_id.split(".").pop()!,
    }));
    return { findings, note: report.errors.length > 0 ? `${report.errors.length} error(s) reported` : "" };
  });
}

/** An ESLint install with {@link ESLINT_PACKAGES}: the one given, or a fresh one from npm. */
async function eslintInstall(given: string | undefined, scratch: string): Promise<string> {
  if (given !== undefined) return given;
  const dir = `${scratch}/eslint`;
  await Deno.mkdir(dir);
  await Deno.writeTextFile(`${dir}/package.json`, JSON.stringify({ private: true }));
  const specs = Object.entries(ESLINT_PACKAGES).map(([name, version]) => `${name}@${version}`);
  const out = await run("npm", ["install", "--no-audit", "--no-fund", "--save-exact", ...specs], { cwd: dir });
  if (out.code !== 0) throw new Error(`npm install failed (${out.code}): ${lastLines(out.stderr)}`);
  return dir;
}

/** The flat config for one pack, resolving packages from the install at `eslintDir`. */
function eslintConfig(eslintDir: string, pack: "security" | "sdl"): string {
  const plugin = pack === "security"
    ? `require("eslint-plugin-security").configs.recommended`
    : `...require("@microsoft/eslint-plugin-sdl").configs.recommended`;
  return [
    `import { createRequire } from "node:module";`,
    `const require = createRequire(${JSON.stringify(`${eslintDir}/package.json`)});`,
    `export default [`,
    `  { files: ["**/*.ts"], languageOptions: { parser: require("@typescript-eslint/parser"), sourceType: "module" } },`,
    `  ${plugin},`,
    `];`,
  ].join("\n");
}

/** ESLint with one pack over the scratch project's TypeScript files. */
function eslint(project: string, name: string, install: Promise<string>, pack: "security" | "sdl") {
  return layer(name, async () => {
    const dir = await install;
    const config = `${project}/eslint.${pack}.config.mjs`;
    await Deno.writeTextFile(config, eslintConfig(dir, pack));
    const bin = `${dir}/node_modules/eslint/bin/eslint.js`;
    const out = await run("node", [bin, "--config", config, "--format", "json", "src/**/*.ts"], { cwd: project });
    if (out.code === 2 || out.stdout.trim() === "") {
      return { findings: null, note: `eslint exited with ${out.code}: ${lastLines(out.stderr)}` };
    }
    const report = JSON.parse(out.stdout) as {
      filePath: string;
      messages: { ruleId: string | null; line: number; fatal?: boolean }[];
    }[];
    const fatal = report.flatMap((f) => f.messages.filter((m) => m.fatal)).length;
    const findings = report.flatMap((f) =>
      f.messages.filter((m) => !m.fatal).map((m) => ({
        file: f.filePath.slice(project.length + 1),
        line: m.line,
        rule: (m.ruleId ?? "?").replace(/^@microsoft\/sdl\//, "sdl/").replace(/^security\//, ""),
      }))
    );
    return { findings, note: fatal > 0 ? `${fatal} file(s) could not be parsed` : "" };
  });
}

/** The project's `.semgrep/` rules at git revision `rev`, extracted under `scratch`. */
async function rulesAt(rev: string, scratch: string): Promise<string> {
  const dir = `${scratch}/rules-${rev.replace(/[^\w.-]/g, "_")}`;
  await Deno.mkdir(dir, { recursive: true });
  const archive = await run("git", ["archive", "--output", `${dir}/rules.tar`, rev, ".semgrep"], {
    cwd: ROOT.pathname,
  });
  if (archive.code !== 0) throw new Error(`git archive ${rev}: ${lastLines(archive.stderr)}`);
  const untar = await run("tar", ["-xf", "rules.tar"], { cwd: dir });
  if (untar.code !== 0) throw new Error(`tar: ${lastLines(untar.stderr)}`);
  return `${dir}/.semgrep`;
}

/** The Markdown table: one row per class, one column per layer, plus totals. */
export function coverageTable(layers: readonly LayerResult[], flawLines: ReadonlyMap<string, number[]>): string {
  const header = ["flaw (CWE)", ...layers.map((l) => l.name)];
  const rows = [header, header.map(() => "---")];
  const caught = layers.map(() => 0);
  const onFlawLine = (f: Finding) => (flawLines.get(f.file) ?? []).includes(f.line);
  for (const entry of CORPUS) {
    const cells = layers.map((l, i) => {
      if (l.findings === null) return "not run";
      const rules = [
        ...new Set(l.findings.filter((f) => f.file === plantedPath(entry) && onFlawLine(f)).map((f) => f.rule)),
      ];
      if (rules.length === 0) return "missed";
      caught[i]! += 1;
      return `**caught** (${rules.join(", ")})`;
    });
    rows.push([`${entry.flaw} (${entry.cwe})`, ...cells]);
  }
  rows.push([
    `**caught of ${CORPUS.length}**`,
    ...layers.map((l, i) => l.findings === null ? "—" : `**${caught[i]}**`),
  ]);
  rows.push([
    "findings on other lines",
    ...layers.map((l) => l.findings === null ? "—" : String(l.findings.filter((f) => !onFlawLine(f)).length)),
  ]);
  rows.push(["seconds", ...layers.map((l) => l.seconds.toFixed(1))]);
  return rows.map((r) => `| ${r.join(" | ")} |`).join("\n");
}

/** The 1-based lines that follow `// ruleid: …` and `// ok: …` annotations in a rule fixture. */
export function annotatedLines(text: string): { positive: number[]; negative: number[] } {
  const positive: number[] = [];
  const negative: number[] = [];
  text.split("\n").forEach((line, i) => {
    if (/^\s*\/\/ ruleid: /.test(line)) positive.push(i + 2);
    if (/^\s*\/\/ ok: /.test(line)) negative.push(i + 2);
  });
  return { positive, negative };
}

/**
 * The Markdown table for the rule fixtures: per fixture and layer, how many `ruleid:` lines the
 * layer reports (flaws found) and how many `ok:` lines (false alarms on the correct variants).
 */
export function fixtureTable(
  layers: readonly LayerResult[],
  expected: ReadonlyMap<string, { positive: number[]; negative: number[] }>,
): string {
  const rows = [["fixture (flaws found / false alarms)", ...layers.map((l) => l.name)]];
  rows.push(rows[0]!.map(() => "---"));
  const totals = layers.map(() => ({ tp: 0, fp: 0 }));
  let positives = 0;
  let negatives = 0;
  for (const [file, lines] of [...expected].sort(([a], [b]) => a.localeCompare(b))) {
    positives += lines.positive.length;
    negatives += lines.negative.length;
    rows.push([
      file.replace(/^src\//, ""),
      ...layers.map((l, i) => {
        if (l.findings === null) return "not run";
        const reported = new Set(l.findings.filter((f) => f.file === file).map((f) => f.line));
        const tp = lines.positive.filter((n) => reported.has(n)).length;
        const fp = lines.negative.filter((n) => reported.has(n)).length;
        totals[i]!.tp += tp;
        totals[i]!.fp += fp;
        return `${tp}/${lines.positive.length} · ${fp}/${lines.negative.length}`;
      }),
    ]);
  }
  rows.push([
    "**all fixtures**",
    ...layers.map((l, i) =>
      l.findings === null ? "—" : `**${totals[i]!.tp}/${positives} · ${totals[i]!.fp}/${negatives}**`
    ),
  ]);
  return rows.map((r) => `| ${r.join(" | ")} |`).join("\n");
}

/** Options for {@link runLayers}. */
interface LayerOptions {
  /** `.semgrep/` of this checkout. */
  readonly rules: string;
  /** Rules of an earlier revision, for a before/after column. */
  readonly baselineRules?: () => Promise<string[]>;
  readonly baselineName?: string;
  readonly eslint: Promise<string>;
  /** Also try the Semgrep registry (it needs semgrep.dev). */
  readonly registry: boolean;
  /** A local checkout of semgrep/semgrep-rules. */
  readonly semgrepRulesRepo?: string;
}

/** Every layer over the scratch project at `project` (which holds `src/` and `deno.json`). */
async function runLayers(project: string, options: LayerOptions): Promise<LayerResult[]> {
  // The plugin scopes its rules to src/ relative to its own directory's parent: give it a copy.
  await Deno.mkdir(`${project}/lint`);
  await Deno.copyFile(new URL("lint/secure_api_plugin.ts", ROOT), `${project}/lint/secure_api_plugin.ts`);
  const layers: LayerResult[] = [
    await denoLint(project, "deno lint (recommended)", []),
    await denoLint(project, "deno lint + project plugin", ["./lint/secure_api_plugin.ts"]),
  ];
  if (options.baselineRules !== undefined) {
    layers.push(await semgrep(project, `Semgrep, project rules at ${options.baselineName}`, options.baselineRules));
  }
  layers.push(await semgrep(project, "Semgrep, project rules", [options.rules]));
  layers.push(await eslint(project, "ESLint eslint-plugin-security", options.eslint, "security"));
  layers.push(await eslint(project, "ESLint @microsoft/eslint-plugin-sdl", options.eslint, "sdl"));
  if (options.registry) {
    const packs = ["p/javascript", "p/typescript"];
    layers.push(await semgrep(project, "Semgrep registry p/javascript + p/typescript", packs));
  }
  const repo = options.semgrepRulesRepo;
  if (repo !== undefined) {
    const name = "semgrep-rules javascript/ + typescript/ (local)";
    layers.push(await semgrep(project, name, [`${repo}/javascript`, `${repo}/typescript`]));
  }
  return layers;
}

/** The TypeScript rule fixtures of `.semgrep/`, copied into `project/src/`, with their annotations. */
async function plantFixtures(project: string): Promise<Map<string, { positive: number[]; negative: number[] }>> {
  await Deno.mkdir(`${project}/src`, { recursive: true });
  await Deno.writeTextFile(`${project}/deno.json`, "{}\n");
  const expected = new Map<string, { positive: number[]; negative: number[] }>();
  for await (const dir of Deno.readDir(new URL(".semgrep/", ROOT))) {
    if (!dir.isDirectory) continue;
    for await (const file of Deno.readDir(new URL(`.semgrep/${dir.name}/`, ROOT))) {
      if (!file.name.endsWith(".ts")) continue;
      const text = await Deno.readTextFile(new URL(`.semgrep/${dir.name}/${file.name}`, ROOT));
      await Deno.writeTextFile(`${project}/src/${file.name}`, text);
      expected.set(`src/${file.name}`, annotatedLines(text));
    }
  }
  return expected;
}

function notes(layers: readonly LayerResult[]): string[] {
  return layers.filter((l) => l.note !== "").map((l) =>
    `- ${l.name}: ${l.findings === null ? "NOT RUN: " : ""}${l.note}`
  );
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      "eslint-dir": { type: "string" },
      "baseline": { type: "string" },
      "semgrep-rules-repo": { type: "string" },
      "verbose": { type: "boolean", default: false },
    },
  });
  const scratch = await Deno.makeTempDir({ prefix: "sast-coverage-" });
  try {
    const eslintDir = values["eslint-dir"] ?? Deno.env.get("SAST_ESLINT_DIR");
    const install = eslintInstall(eslintDir, scratch);
    install.catch(() => {}); // reported by each ESLint layer
    const baseline = values.baseline;
    const options: LayerOptions = {
      rules: new URL(".semgrep", ROOT).pathname,
      eslint: install,
      registry: true,
      ...(baseline === undefined ? {} : {
        baselineName: baseline,
        baselineRules: async () => [await rulesAt(baseline, `${scratch}/${crypto.randomUUID()}`)],
      }),
      ...(values["semgrep-rules-repo"] === undefined ? {} : { semgrepRulesRepo: values["semgrep-rules-repo"] }),
    };

    const corpus = `${scratch}/corpus`;
    await Deno.mkdir(`${corpus}/src`, { recursive: true });
    await Deno.writeTextFile(`${corpus}/deno.json`, "{}\n");
    const flawLines = await plantCorpus(corpus);
    const corpusLayers = await runLayers(corpus, options);

    const fixtures = `${scratch}/fixtures`;
    const expected = await plantFixtures(fixtures);
    const fixtureLayers = await runLayers(fixtures, { ...options, registry: false });

    const lines = ["", "## The corpus: one flawed file per class", "", coverageTable(corpusLayers, flawLines), ""];
    lines.push(...notes(corpusLayers));
    lines.push("", "## The rule fixtures: flaws found / false alarms on the correct variants", "");
    lines.push(fixtureTable(fixtureLayers, expected), "", ...notes(fixtureLayers));
    if (values.verbose) {
      for (const l of corpusLayers) {
        lines.push("", `${l.name} (corpus):`);
        for (const f of l.findings ?? []) lines.push(`  ${f.file}:${f.line}  ${f.rule}`);
      }
    }
    console.log(lines.join("\n"));
  } finally {
    await Deno.remove(scratch, { recursive: true });
  }
}
