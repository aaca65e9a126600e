/**
 * The SAST corpus: one ordinary, deliberately flawed Deno/Hono file per class of flaw the
 * project's static analysis must catch (`tools/sast_corpus/`). It is kept out of the project's
 * own scan, lint and type check (`.semgrepignore`, `deno.json` `exclude`), and read by:
 *
 * - `tests/sast_plant_test.ts`, which plants every file into a copy of the project and checks
 *   that the real `deno task sast` fails and names each file with the rule below;
 * - `tools/sast_coverage.ts`, which runs each analysis layer (deno lint, the project's Semgrep
 *   rules, the ESLint security packs, …) over the corpus and prints what each one catches.
 *
 * In each file the lines that make up the flaw (where the bad value is built and where it is
 * used) end with `// flaw`; a layer catches the class when it reports one of those lines.
 *
 * @module
 */

/** One class of flaw and its corpus file. */
export interface CorpusEntry {
  /** File name in `tools/sast_corpus/`. */
  readonly file: string;
  /** What the flaw is, for tables. */
  readonly flaw: string;
  /** The CWE it is an instance of. */
  readonly cwe: string;
  /** The project rule that must report it (Semgrep rule id). */
  readonly rule: string;
  /**
   * `source`: a TypeScript file, planted as `src/<file>`. `deno-json`: a fragment whose
   * `tasks` and `permissions` are merged into `deno.json`.
   */
  readonly kind: "source" | "deno-json";
}

function source(file: string, flaw: string, cwe: string, rule: string): CorpusEntry {
  return { file, flaw, cwe, rule, kind: "source" };
}

/** The corpus, in the order of SECURITY.md's SAST table. */
export const CORPUS: readonly CorpusEntry[] = [
  source("code_eval_pricing.ts", "code evaluation", "CWE-95", "input-to-code-evaluation"),
  source("command_thumbnail.ts", "OS command", "CWE-78", "input-to-process-execution"),
  source("path_traversal_download.ts", "path traversal", "CWE-22", "input-to-file-path"),
  source("regex_product_search.ts", "regex from input (ReDoS)", "CWE-1333", "input-to-regexp"),
  source("open_redirect_login.ts", "open redirect", "CWE-601", "input-to-redirect"),
  source("sql_sorted_listing.ts", "SQL through a helper", "CWE-89", "input-to-sql"),
  source("ssrf_link_preview.ts", "SSRF", "CWE-918", "input-to-fetch-url"),
  source("xss_order_confirmation.ts", "HTML from input (XSS)", "CWE-79", "input-to-html-response"),
  source("cors_reflect_origin.ts", "CORS any origin", "CWE-942", "cors-any-origin"),
  source("tls_internal_billing.ts", "TLS verification off", "CWE-295", "tls-verification-disabled"),
  source("weak_password_hash.ts", "fast hash for passwords", "CWE-916", "password-fast-hash"),
  source("hardcoded_jwt_secret.ts", "hard-coded key", "CWE-321", "hardcoded-key-material"),
  source("jwt_unverified_session.ts", "JWT not verified", "CWE-347", "jwt-none-or-unverified"),
  {
    file: "permissions_allow_all.json",
    flaw: "allow-all permissions",
    cwe: "CWE-250",
    rule: "deno-json-allow-all",
    kind: "deno-json",
  },
];

/** The corpus directory. */
export const CORPUS_DIR: URL = new URL("./sast_corpus/", import.meta.url);

/** The 1-based numbers of the lines in `text` that end with `// flaw`. */
export function flawLines(text: string): number[] {
  return text.split("\n").flatMap((line, i) => /\/\/ flaw\s*$/.test(line) ? [i + 1] : []);
}

/** Where a corpus entry ends up in a project it is planted into, relative to that project's root. */
export function plantedPath(entry: CorpusEntry): string {
  return entry.kind === "deno-json" ? "deno.json" : `src/${entry.file}`;
}

/**
 * Plants every corpus entry into the project at `root` (a copy: this writes into it): source
 * files into `src/`, and the deno.json fragment's `tasks` and `permissions` merged into
 * `root/deno.json` (a task or set of the same name is replaced). `deno.json` is rewritten as
 * plain JSON, so it must not hold comments. Returns the flaw lines of each planted file, by
 * planted path; for `deno.json`, the lines that carry one of the fragment's scalar settings.
 */
export async function plantCorpus(root: string): Promise<Map<string, number[]>> {
  const planted = new Map<string, number[]>();
  for (const entry of CORPUS) {
    const text = await Deno.readTextFile(new URL(entry.file, CORPUS_DIR));
    if (entry.kind === "source") {
      await Deno.writeTextFile(`${root}/${plantedPath(entry)}`, text);
      planted.set(plantedPath(entry), flawLines(text));
      continue;
    }
    const fragment = JSON.parse(text) as { tasks?: object; permissions?: object };
    const configPath = `${root}/deno.json`;
    const config = JSON.parse(await Deno.readTextFile(configPath)) as { tasks?: object; permissions?: object };
    config.tasks = { ...config.tasks, ...fragment.tasks };
    config.permissions = { ...config.permissions, ...fragment.permissions };
    const merged = JSON.stringify(config, null, 2) + "\n";
    await Deno.writeTextFile(configPath, merged);
    planted.set(plantedPath(entry), scalarLinesFrom(text, merged));
  }
  return planted;
}

/** The lines of `merged` that repeat one of `fragment`'s `"key": scalar` lines (JSON). */
function scalarLinesFrom(fragment: string, merged: string): number[] {
  const normalise = (line: string) => line.trim().replace(/,$/, "");
  const scalar = /^"[^"]+": ("[^"]*"|true|false|-?\d+)$/;
  const wanted = new Set(fragment.split("\n").map(normalise).filter((line) => scalar.test(line)));
  return merged.split("\n").flatMap((line, i) => wanted.has(normalise(line)) ? [i + 1] : []);
}
