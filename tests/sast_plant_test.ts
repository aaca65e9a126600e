/**
 * The SAST gate catches flaws it was not shown: one ordinary flawed file of each class
 * (`tools/sast_corpus/`, listed in `tools/sast_corpus.ts`) is planted into a copy of the
 * project, and the real `deno task sast` must fail and name every planted file with the rule
 * for its class, on one of the file's flaw lines.
 *
 * All files are planted at once and the gate runs once (Semgrep over the whole tree is the
 * expensive part). This runs real Semgrep, as CI does (`.ci/run` installs it): without it the
 * gate fails for the wrong reason and this test fails too, saying so.
 */
import assert from "node:assert/strict";
import { CORPUS, plantCorpus, plantedPath } from "../tools/sast_corpus.ts";

const ROOT = decodeURIComponent(new URL("../", import.meta.url).pathname).replace(/\/$/, "");

/** Runtime state and tool output: not part of the project a developer would scan. */
const NOT_COPIED = new Set([".git", "data", "certs", "dist", "reports", "node_modules"]);

async function copyTree(from: string, to: string, skip: ReadonlySet<string> = new Set()): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    if (skip.has(entry.name)) continue;
    const source = `${from}/${entry.name}`;
    if (entry.isDirectory) await copyTree(source, `${to}/${entry.name}`);
    else if (entry.isFile) await Deno.copyFile(source, `${to}/${entry.name}`);
  }
}

async function output(command: string, args: string[], cwd: string) {
  const out = await new Deno.Command(command, { args, cwd, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  return { code: out.code, text };
}

/** `file:line:column  rule` lines of the gate's summary. */
function reported(summary: string): { file: string; line: number; rule: string }[] {
  return [...summary.matchAll(/^ {4}(\S+):(\d+):\d+ {2}(\S+)/gm)].map((m) => ({
    file: m[1]!,
    line: Number(m[2]),
    rule: m[3]!,
  }));
}

Deno.test("deno task sast fails on a copy with a flawed file of each class planted, naming each file and its rule", async () => {
  const semgrep = await output("semgrep", ["--version"], ROOT).catch((error) => ({ code: -1, text: String(error) }));
  assert.equal(semgrep.code, 0, `Semgrep must be installed for this test (CI installs it): ${semgrep.text}`);

  const copy = await Deno.makeTempDir({ prefix: "sast-plant-" });
  try {
    await copyTree(ROOT, copy, NOT_COPIED);
    const flawLines = await plantCorpus(copy);
    const gate = await output("deno", ["task", "sast"], copy);

    assert.notEqual(gate.code, 0, `deno task sast passed with flawed files planted:\n${gate.text}`);
    assert.match(gate.text, /semgrep --test +ok/, `the rule fixtures must still pass:\n${gate.text}`);
    const findings = reported(gate.text);
    const missed = CORPUS.filter((entry) =>
      !findings.some((f) =>
        f.file === plantedPath(entry) && f.rule === entry.rule && flawLines.get(f.file)!.includes(f.line)
      )
    );
    assert.deepEqual(
      missed.map((entry) => `${plantedPath(entry)} (${entry.flaw}, expected ${entry.rule})`),
      [],
      `not named by the gate:\n${gate.text}`,
    );
  } finally {
    await Deno.remove(copy, { recursive: true });
  }
});
