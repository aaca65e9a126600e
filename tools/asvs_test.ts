/**
 * The ASVS mapping is checked on every test run: every cited ID is a real
 * ASVS 5.0.0 requirement at its official level, every requirement of the
 * target levels has a status, every cited test, document and rule exists,
 * and the generated section of SECURITY.md says what the mapping says. The
 * checker itself is tested on small broken mappings, so a check that stopped
 * checking would fail here too.
 */
import assert from "node:assert/strict";
import { type ASVSIndex, checkMapping, coverage, type Entry, type Mapping, type RepoFacts } from "./asvs_mapping.ts";
import { expectedSecurityMd, headingsIn, loadMapping, loadRepoFacts, PATHS } from "./asvs_report.ts";
import { BEGIN_MARKER, END_MARKER, renderSection, replaceSection, slug } from "./asvs_table.ts";
import { testNamesIn } from "./test_names.ts";

const ROOT = decodeURIComponent(new URL("../", import.meta.url).pathname).replace(/\/$/, "");

// ---- the real mapping ----------------------------------------------------------------------------

Deno.test("docs/asvs/asvs-5.0.0.json holds the 345 requirements of the 5.0.0 export (70 L1, 183 L2, 92 L3)", async () => {
  const { index } = await loadMapping(ROOT);
  assert.equal(index.version, "5.0.0");
  const ids = index.requirements.map((r) => r.id);
  assert.equal(new Set(ids).size, 345);
  const perLevel = [1, 2, 3].map((l) => index.requirements.filter((r) => r.level === l).length);
  assert.deepEqual(perLevel, [70, 183, 92]);
  for (const { id } of index.requirements) {
    const [chapter, section] = id.split(".");
    assert.ok(index.chapters[`V${chapter}`], `${id}: chapter V${chapter} is named`);
    assert.ok(index.sections[`V${chapter}.${section}`], `${id}: section V${chapter}.${section} is named`);
  }
});

Deno.test("docs/asvs/mapping.json: real IDs at their official levels, every L1/L2 requirement with a status, every proof exists", async () => {
  const { mapping, index } = await loadMapping(ROOT);
  const problems = checkMapping(mapping, index, await loadRepoFacts(ROOT, mapping));
  assert.deepEqual(problems, []);
  const cov = coverage(mapping);
  assert.equal(cov.inScope + cov.outOfScope, 253, "every L1 and L2 requirement is either in scope or excluded");
});

Deno.test("the generated ASVS section of SECURITY.md is current (run deno task asvs after editing the mapping)", async () => {
  const { mapping, index } = await loadMapping(ROOT);
  const current = await Deno.readTextFile(`${ROOT}/${PATHS.security}`);
  assert.ok(current.includes(BEGIN_MARKER) && current.includes(END_MARKER), "SECURITY.md has the markers");
  assert.ok(current === await expectedSecurityMd(ROOT, mapping, index), "SECURITY.md is stale: run deno task asvs");
});

// ---- the checker, on broken mappings ------------------------------------------------------------

const INDEX: ASVSIndex = {
  name: "test",
  version: "5.0.0",
  source: { repository: "", tag: "v5.0.0_release", commit: "", path: "", sha256: "" },
  licence: "",
  chapters: { V1: "One", V3: "Three" },
  sections: { "V1.1": "One one", "V3.3": "Cookies" },
  requirements: [{ id: "1.1.1", level: 1 }, { id: "1.1.2", level: 2 }, { id: "3.3.1", level: 1 }, {
    id: "1.1.3",
    level: 3,
  }],
};

const FACTS: RepoFacts = {
  testNames: (file) => file === "tests/a_test.ts" ? new Set(["it works"]) : null,
  headings: (file) => file === "docs/a.md" ? new Set(["Policy"]) : null,
  rules: new Set(["no-eval"]),
};

function mappingWith(requirements: Entry[]): Mapping {
  return {
    standard: "OWASP ASVS 5.0.0",
    index: "index.json",
    target: { levels: [1, 2] },
    application: "test",
    statuses: {
      "proven": "",
      "partially": "",
      "implemented-unproven": "",
      "not-implemented": "",
      "out-of-scope": "",
    },
    exclusions: { "no-cookies": "No cookies." },
    requirements,
    apiTop10: Array.from({ length: 10 }, (_, i) => ({
      id: `API${i + 1}:2023`,
      status: "proven" as const,
      control: "c",
      proof: [{ rule: "no-eval" }],
    })),
  };
}

const GOOD: Entry[] = [
  { id: "1.1.1", level: 1, status: "proven", control: "c", proof: [{ file: "tests/a_test.ts", test: "it works" }] },
  {
    id: "1.1.2",
    level: 2,
    status: "partially",
    control: "c",
    proof: [{ doc: "docs/a.md", section: "Policy" }],
    note: "n",
  },
  { id: "3.3.1", level: 1, status: "out-of-scope", exclusion: "no-cookies" },
];

Deno.test("checkMapping() accepts a mapping that holds", () => {
  assert.deepEqual(checkMapping(mappingWith(GOOD), INDEX, FACTS), []);
});

Deno.test("checkMapping() refuses an ID that is not an ASVS 5.0.0 requirement", () => {
  const problems = checkMapping(mappingWith([...GOOD, { ...GOOD[0]!, id: "1.1.9" }]), INDEX, FACTS);
  assert.deepEqual(problems, ["ASVS 1.1.9: not a requirement of ASVS 5.0.0"]);
});

Deno.test("checkMapping() refuses a level that differs from the official one", () => {
  const problems = checkMapping(mappingWith([{ ...GOOD[0]!, level: 2 }, GOOD[1]!, GOOD[2]!]), INDEX, FACTS);
  assert.deepEqual(problems, ["ASVS 1.1.1: level 2 stated, ASVS 5.0.0 says 1"]);
});

Deno.test("checkMapping() refuses a cited test file or test name that does not exist", () => {
  const missingFile = { ...GOOD[0]!, proof: [{ file: "tests/gone_test.ts", test: "it works" }] };
  const missingName = { ...GOOD[0]!, proof: [{ file: "tests/a_test.ts", test: "it works, renamed" }] };
  assert.deepEqual(checkMapping(mappingWith([missingFile, GOOD[1]!, GOOD[2]!]), INDEX, FACTS), [
    "ASVS 1.1.1: test file tests/gone_test.ts does not exist",
  ]);
  assert.deepEqual(checkMapping(mappingWith([missingName, GOOD[1]!, GOOD[2]!]), INDEX, FACTS), [
    'ASVS 1.1.1: tests/a_test.ts has no test named "it works, renamed"',
  ]);
});

Deno.test("checkMapping() refuses a missing document or section, and a rule the gate does not enforce", () => {
  const doc = { ...GOOD[1]!, proof: [{ doc: "docs/a.md", section: "Nope" }, { doc: "docs/b.md" }] };
  const rule = { ...GOOD[0]!, proof: [{ rule: "no-such-rule" }] };
  assert.deepEqual(checkMapping(mappingWith([rule, doc, GOOD[2]!]), INDEX, FACTS), [
    "ASVS 1.1.1: rule no-such-rule is not enforced by the SAST gate",
    'ASVS 1.1.2: docs/a.md has no section "Nope"',
    "ASVS 1.1.2: document docs/b.md does not exist",
  ]);
});

Deno.test("checkMapping() refuses an in-scope requirement that is missing or has no valid status", () => {
  assert.deepEqual(checkMapping(mappingWith([GOOD[0]!, GOOD[2]!]), INDEX, FACTS), [
    "ASVS 1.1.2 (L2): in the target levels but not mapped",
  ]);
  const noStatus = { ...GOOD[1]!, status: undefined } as unknown as Entry;
  const problems = checkMapping(mappingWith([GOOD[0]!, noStatus, GOOD[2]!]), INDEX, FACTS);
  assert.match(problems[0]!, /^ASVS 1\.1\.2: status "undefined" is not one of proven, partially/);
});

Deno.test("checkMapping() refuses a proven claim without proof, a gap without a note, an exclusion without a reason", () => {
  const problems = checkMapping(
    mappingWith([
      { ...GOOD[0]!, proof: [] },
      { ...GOOD[1]!, note: "" },
      { id: "3.3.1", level: 1, status: "out-of-scope", exclusion: "no-files" },
    ]),
    INDEX,
    FACTS,
  );
  assert.deepEqual(problems, [
    "ASVS 1.1.1: proven without a proof",
    "ASVS 1.1.2: partially needs a note saying what is missing",
    'ASVS 3.3.1: exclusion "no-files" is not defined',
  ]);
});

Deno.test("checkMapping() refuses a duplicate and an incomplete API Security Top 10", () => {
  const mapping = mappingWith(GOOD);
  const broken = { ...mapping, apiTop10: [...mapping.apiTop10.slice(1), { ...mapping.apiTop10[1]! }] };
  assert.deepEqual(checkMapping(broken, INDEX, FACTS), ["API2:2023: mapped twice", "API1:2023: not mapped"]);
});

Deno.test("coverage() counts only the target levels, and proven among the in-scope ones", () => {
  const cov = coverage(mappingWith([...GOOD, { id: "1.1.3", level: 3, status: "proven", control: "c" }]));
  assert.equal(cov.inScope, 2);
  assert.equal(cov.outOfScope, 1);
  assert.equal(cov.byStatus.proven, 1);
  assert.equal(cov.provenPercent, 50);
});

// ---- the parts it stands on ---------------------------------------------------------------------

Deno.test("testNamesIn() reads Deno.test, options objects, t.step and template names", () => {
  const source = [
    'Deno.test("plain \\"quoted\\" name", () => {});',
    "Deno.test('single', () => {});",
    "Deno.test(`${kind}: from a loop`, () => {});",
    'Deno.test({ name: "an options object", ignore: true }, () => {});',
    'Deno.test({ ignore: false, name: "name after another option" }, () => {});',
    'Deno.test(\n  "on the next line",\n  () => {},\n);',
    'await t.step("a step", () => {});',
    'await t.step({ name: "a step object", fn: () => {} });',
    "Deno.test(name, () => {}); // not a literal: not citable",
  ].join("\n");
  assert.deepEqual(testNamesIn(source), [
    'plain "quoted" name',
    "single",
    "${kind}: from a loop",
    "an options object",
    "name after another option",
    "on the next line",
    "a step",
    "a step object",
  ]);
});

Deno.test("a stale or hand-edited generated section is detected", async () => {
  const { mapping, index } = await loadMapping(ROOT);
  const section = renderSection(mapping, index);
  const document = `# Security\n\n${BEGIN_MARKER}\nold\n${END_MARKER}\n\n## After\n`;
  const replaced = replaceSection(document, section);
  assert.ok(replaced.startsWith("# Security\n\n") && replaced.endsWith("\n\n## After\n"));
  const changed = {
    ...mapping,
    requirements: mapping.requirements.map((e) => e.id === "3.4.1" ? { ...e, status: "partially" as const } : e),
  };
  assert.notEqual(renderSection(changed, index), section, "a status change changes the section");
  assert.throws(() => replaceSection("# no markers\n", section), /needs the markers/);
});

Deno.test("headingsIn() and slug() agree with the links the table writes", () => {
  assert.deepEqual([...headingsIn("# A\n## Key management\ntext\n### Field-level access ###\n")], [
    "A",
    "Key management",
    "Field-level access",
  ]);
  assert.equal(slug("Field-level access"), "field-level-access");
  assert.equal(slug("Brute force and lockout"), "brute-force-and-lockout");
});
