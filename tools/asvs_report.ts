/**
 * `deno task asvs`: checks the ASVS mapping, regenerates the requirements
 * section of `SECURITY.md` from it, and prints the coverage and the gaps.
 *
 * ```sh
 * deno task asvs            # check, rewrite the generated section of SECURITY.md, print coverage
 * deno task asvs --check    # check only; exit 1 if SECURITY.md is stale
 * deno run -P=asvs --allow-read=.,/path/to/export tools/asvs_report.ts --export /path/to/…5.0.0_en.flat.json
 *                           # also compare docs/asvs/asvs-5.0.0.json with an official export
 * ```
 *
 * Exit 0 when the mapping holds (and, with `--check`, the section is
 * current); 1 otherwise, with one line per problem. Runs under the `asvs`
 * permission set: read the project, write only `SECURITY.md`, run only `deno`
 * (for `deno fmt`, so the generated Markdown is exactly what `deno fmt`
 * keeps).
 *
 * @module
 */
import { RULE_DESCRIPTIONS } from "../lint/secure_api_plugin.ts";
import { type ASVSIndex, checkMapping, coverage, type Mapping, type RepoFacts } from "./asvs_mapping.ts";
import { renderSection, replaceSection } from "./asvs_table.ts";
import { testNamesIn } from "./test_names.ts";

/** Where the files are, relative to the repository root. */
export const PATHS = {
  mapping: "docs/asvs/mapping.json",
  security: "SECURITY.md",
  denoJSON: "deno.json",
  semgrep: ".semgrep",
} as const;

async function readIfExists(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

/** The mapping and the official index it names. */
export async function loadMapping(root: string): Promise<{ mapping: Mapping; index: ASVSIndex }> {
  const mapping = JSON.parse(await Deno.readTextFile(`${root}/${PATHS.mapping}`)) as Mapping;
  const index = JSON.parse(await Deno.readTextFile(`${root}/${mapping.index}`)) as ASVSIndex;
  return { mapping, index };
}

/** The headings (`#` to `######`) of a Markdown text, without the hashes. */
export function headingsIn(markdown: string): Set<string> {
  return new Set([...markdown.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)].map((m) => m[1]!));
}

/** Semgrep rule ids declared in the YAML files under `dir`. */
async function semgrepRuleIds(dir: string): Promise<string[]> {
  const ids: string[] = [];
  const walk = async (path: string): Promise<void> => {
    for await (const entry of Deno.readDir(path)) {
      const child = `${path}/${entry.name}`;
      if (entry.isDirectory) await walk(child);
      else if (/\.ya?ml$/.test(entry.name)) {
        for (const m of (await Deno.readTextFile(child)).matchAll(/^\s*-\s+id:\s*([\w.-]+)\s*$/gm)) ids.push(m[1]!);
      }
    }
  };
  await walk(dir);
  return ids;
}

/** Reads every file the mapping cites, and the enforced rules, into {@link RepoFacts}. */
export async function loadRepoFacts(root: string, mapping: Mapping): Promise<RepoFacts> {
  const tests = new Map<string, ReadonlySet<string> | null>();
  const docs = new Map<string, ReadonlySet<string> | null>();
  for (const entry of [...mapping.requirements, ...mapping.apiTop10]) {
    for (const proof of entry.proof ?? []) {
      if ("test" in proof && !tests.has(proof.file)) {
        const source = await readIfExists(`${root}/${proof.file}`);
        tests.set(proof.file, source === null ? null : new Set(testNamesIn(source)));
      }
      if ("doc" in proof && !docs.has(proof.doc)) {
        const text = await readIfExists(`${root}/${proof.doc}`);
        docs.set(proof.doc, text === null ? null : headingsIn(text));
      }
    }
  }
  const denoJSON = JSON.parse(await Deno.readTextFile(`${root}/${PATHS.denoJSON}`));
  const rules = new Set<string>([
    ...Object.keys(RULE_DESCRIPTIONS),
    ...await semgrepRuleIds(`${root}/${PATHS.semgrep}`),
    ...(denoJSON?.lint?.rules?.include ?? []),
  ]);
  return {
    testNames: (file) => tests.get(file) ?? null,
    headings: (file) => docs.get(file) ?? null,
    rules,
  };
}

/** `text` as `deno fmt` writes Markdown under the project's configuration. */
export async function formatMarkdown(root: string, text: string): Promise<string> {
  const child = new Deno.Command("deno", {
    args: ["fmt", "--ext=md", "-"],
    cwd: root,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  if (code !== 0) throw new Error(`deno fmt failed: ${new TextDecoder().decode(stderr).trim()}`);
  return new TextDecoder().decode(stdout);
}

/** `SECURITY.md` as it should be: the current file with the generated section rendered and formatted. */
export async function expectedSecurityMd(root: string, mapping: Mapping, index: ASVSIndex): Promise<string> {
  const current = await Deno.readTextFile(`${root}/${PATHS.security}`);
  return await formatMarkdown(root, replaceSection(current, renderSection(mapping, index)));
}

/** The rows of an official `…_en.flat.json` export. */
interface FlatExport {
  requirements: {
    req_id: string;
    L: string;
    chapter_id: string;
    chapter_name: string;
    section_id: string;
    section_name: string;
  }[];
}

/** Differences between the index and an official flat export (IDs, levels, chapter and section names, digest). */
export async function compareWithExport(index: ASVSIndex, exportBytes: Uint8Array): Promise<string[]> {
  const problems: string[] = [];
  const digest = Array.from(
    new Uint8Array(await crypto.subtle.digest("SHA-256", exportBytes as BufferSource)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
  // deno-lint-ignore secure-api/no-secret-equality -- the digest of a public document, not a secret
  if (digest !== index.source.sha256) { // nosemgrep: secret-compared-with-equality -- a public document's digest
    problems.push(`export SHA-256 ${digest} differs from ${index.source.sha256}`);
  }
  const rows = (JSON.parse(new TextDecoder().decode(exportBytes)) as FlatExport).requirements;
  const official = new Map(rows.map((r) => [r.req_id.replace(/^V/, ""), Number(r.L)]));
  const ours = new Map(index.requirements.map((r) => [r.id, r.level]));
  for (const [id, level] of official) {
    if (!ours.has(id)) problems.push(`${id}: in the export, not in the index`);
    else if (ours.get(id) !== level) problems.push(`${id}: level ${ours.get(id)} in the index, ${level} in the export`);
  }
  for (const id of ours.keys()) if (!official.has(id)) problems.push(`${id}: in the index, not in the export`);
  for (const r of rows) {
    if (index.chapters[r.chapter_id] !== r.chapter_name) problems.push(`${r.chapter_id}: chapter name differs`);
    if (index.sections[r.section_id] !== r.section_name) problems.push(`${r.section_id}: section name differs`);
  }
  return [...new Set(problems)];
}

function summary(mapping: Mapping): string[] {
  const cov = coverage(mapping);
  const levels = mapping.target.levels.map((l) => {
    const c = cov.byLevel[l] ?? { inScope: 0, proven: 0 };
    return `L${l} ${c.proven}/${c.inScope}`;
  });
  const lines = [
    `ASVS 5.0.0 L${mapping.target.levels.join("+L")}: ${cov.inScope} in scope, ${cov.outOfScope} out of scope; ` +
    `proven ${cov.byStatus.proven}/${cov.inScope} (${cov.provenPercent.toFixed(1)} %; ${levels.join(", ")}), ` +
    `partially ${cov.byStatus.partially}, implemented-unproven ${cov.byStatus["implemented-unproven"]}, ` +
    `not implemented ${cov.byStatus["not-implemented"]}`,
  ];
  const top = Math.max(...mapping.target.levels);
  for (const e of mapping.requirements) {
    if ((e.level ?? Infinity) <= top && e.status !== "proven" && e.status !== "out-of-scope") {
      lines.push(`  gap ${e.id} (L${e.level}, ${e.status}): ${e.note ?? ""}`);
    }
  }
  const proven = mapping.apiTop10.filter((e) => e.status === "proven").length;
  lines.push(`API Security Top 10 (2023): ${proven}/${mapping.apiTop10.length} proven`);
  for (const e of mapping.apiTop10.filter((e) => e.status !== "proven")) {
    lines.push(`  gap ${e.id} (${e.status}): ${e.note ?? ""}`);
  }
  return lines;
}

/** Runs the task; returns the exit code. */
export async function main(args: readonly string[], root = "."): Promise<number> {
  const check = args.includes("--check");
  const exportAt = args.indexOf("--export");
  const { mapping, index } = await loadMapping(root);
  const problems = checkMapping(mapping, index, await loadRepoFacts(root, mapping));
  if (exportAt !== -1) {
    const path = args[exportAt + 1];
    if (!path) problems.push("--export needs the path of an official …_en.flat.json export");
    else problems.push(...await compareWithExport(index, await Deno.readFile(path)));
  }
  for (const problem of problems) console.error(`asvs: ${problem}`);
  const expected = await expectedSecurityMd(root, mapping, index);
  const current = await Deno.readTextFile(`${root}/${PATHS.security}`);
  let stale = false;
  if (expected !== current) {
    if (check) {
      stale = true;
      console.error(`asvs: ${PATHS.security} is stale: run deno task asvs`);
    } else {
      await Deno.writeTextFile(`${root}/${PATHS.security}`, expected);
      console.log(`asvs: rewrote the generated section of ${PATHS.security}`);
    }
  }
  for (const line of summary(mapping)) console.log(line);
  return problems.length > 0 || stale ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
