/**
 * Properties of the Semgrep rule pack that `semgrep --test` does not check:
 *
 * - every rule's fixture has true positives (`ruleid:`) and true negatives (`ok:`);
 * - the taint rules in `.semgrep/taint/` share one definition of request input, process input
 *   and sanitizers (each file repeats the block: Semgrep has no include), so a source added to
 *   one rule cannot silently be missing from another;
 * - every rule names its CWE, and SECURITY.md and docs/sast_evidence.md list every rule.
 */
import assert from "node:assert/strict";

const RULES = new URL("../.semgrep/", import.meta.url);

interface RuleFile {
  readonly path: string;
  readonly text: string;
  readonly ids: string[];
  readonly fixtures: string[];
}

async function ruleFiles(): Promise<RuleFile[]> {
  const files: RuleFile[] = [];
  for await (const dir of Deno.readDir(RULES)) {
    if (!dir.isDirectory) continue;
    const names = [];
    for await (const entry of Deno.readDir(new URL(`${dir.name}/`, RULES))) names.push(entry.name);
    for (const name of names.filter((n) => n.endsWith(".yaml"))) {
      const stem = name.slice(0, -".yaml".length);
      const text = await Deno.readTextFile(new URL(`${dir.name}/${name}`, RULES));
      const fixtures = await Promise.all(
        names.filter((n) => n !== name && n.startsWith(`${stem}.`))
          .map((n) => Deno.readTextFile(new URL(`${dir.name}/${n}`, RULES))),
      );
      const ids = [...text.matchAll(/^ {2}- id: ([\w-]+)$/gm)].map((m) => m[1]!);
      files.push({ path: `.semgrep/${dir.name}/${name}`, text, ids, fixtures });
    }
  }
  return files;
}

/** The text between `# >>> name` and `# <<< name` markers, or undefined. */
function block(text: string, name: string): string | undefined {
  const start = text.indexOf(`# >>> ${name}`);
  const end = text.indexOf(`# <<< ${name}`);
  return start < 0 || end < start ? undefined : text.slice(start, end);
}

Deno.test("every Semgrep rule has a fixture with true positives and true negatives", async () => {
  const files = await ruleFiles();
  assert.ok(files.length >= 30, `expected the whole rule pack, found ${files.length} rule files`);
  const problems: string[] = [];
  for (const file of files) {
    if (file.ids.length === 0) problems.push(`${file.path}: no rule id found`);
    for (const id of file.ids) {
      const fixtures = file.fixtures.join("\n");
      const annotated = (kind: string) => new RegExp(`${kind}: ([\\w-]+, *)*${id}\\b`).test(fixtures);
      if (!annotated("ruleid")) problems.push(`${id}: no "ruleid: ${id}" line in a fixture`);
      if (!annotated("ok")) problems.push(`${id}: no "ok: ${id}" line in a fixture`);
    }
  }
  assert.deepEqual(problems, []);
});

Deno.test("the taint rules share one definition of input and of sanitizers", async () => {
  const taint = (await ruleFiles()).filter((f) => f.path.startsWith(".semgrep/taint/"));
  assert.ok(taint.length >= 8, `expected the input-to-* rules, found ${taint.length}`);
  for (const name of ["request sources", "sanitizers"]) {
    const blocks = taint.map((f) => ({ path: f.path, text: block(f.text, name) }));
    for (const b of blocks) assert.ok(b.text !== undefined, `${b.path} has no "${name}" block`);
    for (const b of blocks) {
      assert.equal(b.text, blocks[0]!.text, `${b.path}: "${name}" differs from ${blocks[0]!.path}`);
    }
  }
  const withProcess = taint.map((f) => block(f.text, "process sources")).filter((b) => b !== undefined);
  assert.ok(withProcess.length >= 3, "the code, command and SQL rules also take process input");
  for (const b of withProcess) assert.equal(b, withProcess[0]);
});

Deno.test("every Semgrep rule names its CWE and is listed in SECURITY.md and docs/sast_evidence.md", async () => {
  const security = await Deno.readTextFile(new URL("../SECURITY.md", import.meta.url));
  const evidence = await Deno.readTextFile(new URL("../docs/sast_evidence.md", import.meta.url));
  const problems: string[] = [];
  for (const file of await ruleFiles()) {
    const cwes = [...file.text.matchAll(/^ {6}cwe: "CWE-\d+/gm)].length;
    if (cwes < file.ids.length) problems.push(`${file.path}: ${file.ids.length} rule(s), ${cwes} CWE(s)`);
    for (const id of file.ids) {
      if (!security.includes(`\`${id}\``)) problems.push(`SECURITY.md does not list \`${id}\``);
      if (!evidence.includes(`\`${id}\``)) problems.push(`docs/sast_evidence.md does not list \`${id}\``);
    }
  }
  assert.deepEqual(problems, []);
});
