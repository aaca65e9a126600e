/**
 * `deno lint --json` output as SARIF 2.1.0, the format code-scanning tools
 * (GitHub, GitLab, DefectDojo, VS Code's SARIF viewer) read. Semgrep writes
 * SARIF itself; deno lint does not, so `tools/sast.ts` converts.
 *
 * Locations are relative to `%SRCROOT%` (the project root), columns 1-based
 * as SARIF requires (deno lint's are 0-based). Files deno lint could not
 * parse become tool execution notifications and mark the run unsuccessful.
 *
 * @module
 */

/** A position in deno lint's JSON output: 1-based line, 0-based column. */
export interface DenoLintPosition {
  line: number;
  col: number;
  bytePos: number;
}

/** One finding in `deno lint --json` output. */
export interface DenoLintDiagnostic {
  filename: string;
  range: { start: DenoLintPosition; end: DenoLintPosition };
  message: string;
  code: string;
  hint: string | null;
}

/** The whole `deno lint --json` document (format version 1). */
export interface DenoLintReport {
  version: number;
  diagnostics: DenoLintDiagnostic[];
  errors: { file_path: string; message: string }[];
  checked_files: string[];
}

/** Options for {@link denoLintToSARIF}. */
export interface LintSARIFOptions {
  /** The project root as a `file:` URL ending in `/`; locations are made relative to it. */
  root: URL;
  /** The Deno version that ran the linter. */
  toolVersion: string;
  /** A one-line description of a rule by id, when known (the project plugin's rules). Default none. */
  describe?: (ruleId: string) => string | undefined;
}

/** The subset of SARIF 2.1.0 this module writes. */
export interface SARIFLog {
  $schema: string;
  version: "2.1.0";
  runs: SARIFRun[];
}

/** One SARIF run. */
export interface SARIFRun {
  tool: {
    driver: {
      name: string;
      version: string;
      informationUri: string;
      rules: { id: string; shortDescription: { text: string }; helpUri?: string }[];
    };
  };
  originalUriBaseIds: Record<string, { uri: string }>;
  invocations: {
    executionSuccessful: boolean;
    toolExecutionNotifications: { level: "error"; message: { text: string }; locations: SARIFLocation[] }[];
  }[];
  results: {
    ruleId: string;
    ruleIndex: number;
    level: "error";
    message: { text: string };
    locations: SARIFLocation[];
  }[];
}

/** A SARIF physical location. */
export interface SARIFLocation {
  physicalLocation: {
    artifactLocation: { uri: string; uriBaseId?: string };
    region?: { startLine: number; startColumn: number; endLine: number; endColumn: number };
  };
}

/** The JSON schema SARIF 2.1.0 documents declare. */
export const SARIF_SCHEMA =
  "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/** `path` (a file URL or an absolute path) relative to `root`, or an absolute `file:` URI outside it. */
function artifact(path: string, root: URL): { uri: string; uriBaseId?: string } {
  const url = path.startsWith("file:") ? new URL(path) : new URL(`file://${encodeURI(path)}`);
  if (url.href.startsWith(root.href)) return { uri: url.href.slice(root.href.length), uriBaseId: "%SRCROOT%" };
  return { uri: url.href };
}

/** Converts a `deno lint --json` report to a SARIF 2.1.0 log with one run. */
export function denoLintToSARIF(report: DenoLintReport, options: LintSARIFOptions): SARIFLog {
  const { root, toolVersion, describe = () => undefined } = options;
  const ruleIds = [...new Set(report.diagnostics.map((d) => d.code))].sort();
  const rules = ruleIds.map((id) => {
    const builtIn = !id.includes("/");
    return {
      id,
      shortDescription: { text: describe(id) ?? (builtIn ? `deno lint rule ${id}` : `project lint rule ${id}`) },
      ...(builtIn ? { helpUri: `https://docs.deno.com/lint/rules/${id}` } : {}),
    };
  });
  return {
    $schema: SARIF_SCHEMA,
    version: "2.1.0",
    runs: [{
      tool: {
        driver: {
          name: "deno lint",
          version: toolVersion,
          informationUri: "https://docs.deno.com/runtime/reference/cli/lint/",
          rules,
        },
      },
      originalUriBaseIds: { "%SRCROOT%": { uri: root.href } },
      invocations: [{
        executionSuccessful: report.errors.length === 0,
        toolExecutionNotifications: report.errors.map((e) => ({
          level: "error",
          message: { text: e.message },
          locations: [{ physicalLocation: { artifactLocation: artifact(e.file_path, root) } }],
        })),
      }],
      results: report.diagnostics.map((d) => ({
        ruleId: d.code,
        ruleIndex: ruleIds.indexOf(d.code),
        level: "error",
        message: { text: d.hint ? `${d.message} Hint: ${d.hint}` : d.message },
        locations: [{
          physicalLocation: {
            artifactLocation: artifact(d.filename, root),
            region: {
              startLine: d.range.start.line,
              startColumn: d.range.start.col + 1,
              endLine: d.range.end.line,
              endColumn: d.range.end.col + 1,
            },
          },
        }],
      })),
    }],
  };
}
