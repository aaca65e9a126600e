/**
 * The ASVS 5.0.0 mapping (`docs/asvs/mapping.json`) and the checks that keep
 * it honest.
 *
 * The mapping says, for every Level 1 and 2 requirement of the official
 * 5.0.0 list (`docs/asvs/asvs-5.0.0.json`), whether this API meets it, by
 * which control, and which test proves it — or why it does not apply. A claim
 * is only worth something if it can be checked, so {@link checkMapping}
 * refuses: an ID that is not in the official list, a level that differs from
 * the official one, a requirement of the target levels with no entry (the
 * in-scope list must be explicit), an unknown status, an exclusion without a
 * reason, a gap without a note, a "proven" without a proof, and a proof that
 * does not exist — a test file or test name, a document or its section, a
 * lint or Semgrep rule that is not enabled.
 *
 * Pure: the facts about the repository come in through {@link RepoFacts}.
 *
 * @module
 */

/** The official requirement list, reduced to what the checks need (see `docs/asvs/asvs-5.0.0.json`). */
export interface ASVSIndex {
  readonly name: string;
  readonly version: string;
  readonly source: {
    readonly repository: string;
    readonly tag: string;
    readonly commit: string;
    readonly path: string;
    readonly sha256: string;
  };
  readonly licence: string;
  /** `V1` → "Encoding and Sanitization". */
  readonly chapters: Readonly<Record<string, string>>;
  /** `V1.1` → "Encoding and Sanitization Architecture". */
  readonly sections: Readonly<Record<string, string>>;
  readonly requirements: readonly { readonly id: string; readonly level: number }[];
}

/** Where a claim is proven. */
export type Proof =
  /** A test: the file, and the exact name given to `Deno.test` or `t.step`. */
  | { readonly file: string; readonly test: string }
  /** A document, optionally one of its headings (for documentation requirements). */
  | { readonly doc: string; readonly section?: string }
  /** A lint or Semgrep rule that the SAST gate enforces on every change. */
  | { readonly rule: string };

/** How far a requirement is met. */
export const STATUSES = ["proven", "partially", "implemented-unproven", "not-implemented", "out-of-scope"] as const;

/** One of {@link STATUSES}. */
export type Status = typeof STATUSES[number];

/** One mapped requirement (ASVS) or risk (API Security Top 10). */
export interface Entry {
  readonly id: string;
  readonly status: Status;
  /** ASVS level, as the official list gives it. */
  readonly level?: number;
  /** The requirement in a few words of our own (ASVS) or the risk's title (Top 10). */
  readonly summary?: string;
  readonly title?: string;
  /** What this API does about it. */
  readonly control?: string;
  readonly proof?: readonly Proof[];
  /** For `out-of-scope`: a key of {@link Mapping.exclusions}. */
  readonly exclusion?: string;
  /** What is missing and what closes it; for weak proofs, why they are weak. */
  readonly note?: string;
}

/** The whole mapping file. */
export interface Mapping {
  readonly standard: string;
  readonly index: string;
  readonly target: { readonly levels: readonly number[] };
  readonly application: string;
  readonly statuses: Readonly<Record<Status, string>>;
  /** Reasons a requirement does not apply, by key. */
  readonly exclusions: Readonly<Record<string, string>>;
  readonly requirements: readonly Entry[];
  readonly apiTop10: readonly Entry[];
}

/** What the checks need to know about the repository. */
export interface RepoFacts {
  /** Test names declared in `file`, or null when the file does not exist. */
  testNames(file: string): ReadonlySet<string> | null;
  /** Headings of the Markdown document `file`, or null when it does not exist. */
  headings(file: string): ReadonlySet<string> | null;
  /** Rules the SAST gate enforces: project lint rules, Semgrep rule ids, deno lint rules enabled in deno.json. */
  readonly rules: ReadonlySet<string>;
}

/** The IDs of the API Security Top 10 (2023). */
export const API_TOP_10 = Array.from({ length: 10 }, (_, i) => `API${i + 1}:2023`);

/** Orders dotted IDs numerically (`1.2.10` after `1.2.9`). */
export function compareIds(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? -1) - (pb[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}

function proofProblems(where: string, proof: Proof, facts: RepoFacts): string[] {
  if ("test" in proof) {
    const names = facts.testNames(proof.file);
    if (names === null) return [`${where}: test file ${proof.file} does not exist`];
    return names.has(proof.test) ? [] : [`${where}: ${proof.file} has no test named "${proof.test}"`];
  }
  if ("doc" in proof) {
    const headings = facts.headings(proof.doc);
    if (headings === null) return [`${where}: document ${proof.doc} does not exist`];
    if (proof.section !== undefined && !headings.has(proof.section)) {
      return [`${where}: ${proof.doc} has no section "${proof.section}"`];
    }
    return [];
  }
  if ("rule" in proof) {
    return facts.rules.has(proof.rule) ? [] : [`${where}: rule ${proof.rule} is not enforced by the SAST gate`];
  }
  return [`${where}: a proof must name a test, a doc or a rule`];
}

function entryProblems(where: string, entry: Entry, mapping: Mapping, facts: RepoFacts): string[] {
  const problems: string[] = [];
  if (!(STATUSES as readonly string[]).includes(entry.status)) {
    problems.push(`${where}: status "${entry.status}" is not one of ${STATUSES.join(", ")}`);
  }
  if (entry.status === "out-of-scope") {
    if (entry.exclusion === undefined && !entry.note) problems.push(`${where}: out of scope without a reason`);
    if (entry.exclusion !== undefined && !mapping.exclusions[entry.exclusion]) {
      problems.push(`${where}: exclusion "${entry.exclusion}" is not defined`);
    }
  } else if (entry.exclusion !== undefined) {
    problems.push(`${where}: only an out-of-scope entry has an exclusion`);
  }
  if (entry.status !== "proven" && entry.status !== "out-of-scope" && !entry.note) {
    problems.push(`${where}: ${entry.status} needs a note saying what is missing`);
  }
  if (entry.status === "proven" && (entry.proof ?? []).length === 0) {
    problems.push(`${where}: proven without a proof`);
  }
  if (entry.status !== "out-of-scope" && !entry.control && entry.status !== "not-implemented") {
    problems.push(`${where}: ${entry.status} without a control`);
  }
  for (const proof of entry.proof ?? []) problems.push(...proofProblems(where, proof, facts));
  return problems;
}

/** Everything wrong with `mapping` against the official `index` and the repository; empty when it holds. */
export function checkMapping(mapping: Mapping, index: ASVSIndex, facts: RepoFacts): string[] {
  const problems: string[] = [];
  const official = new Map(index.requirements.map((r) => [r.id, r.level]));
  const seen = new Set<string>();
  for (const entry of mapping.requirements) {
    const where = `ASVS ${entry.id}`;
    if (seen.has(entry.id)) problems.push(`${where}: mapped twice`);
    seen.add(entry.id);
    const level = official.get(entry.id);
    if (level === undefined) {
      problems.push(`${where}: not a requirement of ASVS ${index.version}`);
    } else if (entry.level !== level) {
      problems.push(`${where}: level ${entry.level} stated, ASVS ${index.version} says ${level}`);
    }
    problems.push(...entryProblems(where, entry, mapping, facts));
  }
  const top = Math.max(...mapping.target.levels);
  for (const { id, level } of index.requirements) {
    if (level <= top && !seen.has(id)) problems.push(`ASVS ${id} (L${level}): in the target levels but not mapped`);
  }
  const risks = new Set<string>();
  for (const entry of mapping.apiTop10) {
    const where = entry.id;
    if (!API_TOP_10.includes(entry.id)) problems.push(`${where}: not an API Security Top 10 (2023) risk`);
    if (risks.has(entry.id)) problems.push(`${where}: mapped twice`);
    risks.add(entry.id);
    problems.push(...entryProblems(where, entry, mapping, facts));
  }
  for (const id of API_TOP_10) if (!risks.has(id)) problems.push(`${id}: not mapped`);
  return problems;
}

/** Counts for the coverage summary. */
export interface Coverage {
  /** Requirements of the target levels that apply to this API. */
  readonly inScope: number;
  readonly outOfScope: number;
  /** In-scope requirements per status (out-of-scope excluded). */
  readonly byStatus: Readonly<Record<Exclude<Status, "out-of-scope">, number>>;
  /** Per level: in scope and proven. */
  readonly byLevel: Readonly<Record<number, { readonly inScope: number; readonly proven: number }>>;
  /** Proven share of the in-scope requirements, in percent (one decimal). */
  readonly provenPercent: number;
}

/** The coverage of the target levels. */
export function coverage(mapping: Mapping): Coverage {
  const top = Math.max(...mapping.target.levels);
  const targeted = mapping.requirements.filter((e) => (e.level ?? Infinity) <= top);
  const inScope = targeted.filter((e) => e.status !== "out-of-scope");
  const byStatus = { "proven": 0, "partially": 0, "implemented-unproven": 0, "not-implemented": 0 };
  const byLevel: Record<number, { inScope: number; proven: number }> = {};
  for (const entry of inScope) {
    byStatus[entry.status as keyof typeof byStatus]++;
    const level = (byLevel[entry.level!] ??= { inScope: 0, proven: 0 });
    level.inScope++;
    if (entry.status === "proven") level.proven++;
  }
  const percent = inScope.length === 0 ? 0 : Math.round((byStatus.proven / inScope.length) * 1000) / 10;
  return {
    inScope: inScope.length,
    outOfScope: targeted.length - inScope.length,
    byStatus,
    byLevel,
    provenPercent: percent,
  };
}
