/**
 * `deno task deps:check`: the dependency check of the remediation policy
 * (docs/dependency_policy.md, ASVS 5.0 15.1.1, 15.2.1).
 *
 * Sends every npm package locked in `deno.lock` (name and version) to the npm
 * registry's bulk advisory endpoint — the service behind `npm audit` — and
 * fails on any advisory of severity `high` or `critical` whose
 * `vulnerable_versions` range holds a locked version, unless an unexpired
 * exception in `docs/dependency_exceptions.json` names it. `moderate` and
 * `low` advisories are printed with the time the policy allows to fix them.
 *
 * Exit codes: 0 nothing blocking; 1 a blocking advisory (or an unreadable
 * response); 2 the service could not be asked and `--require` was given.
 * Without `--require`, an unreachable service prints a `NOT RUN` line and
 * exits 0: the check then proves nothing, and says so, rather than failing
 * every build on a machine without that endpoint. CI passes `--require`
 * where the endpoint is reachable (see `.ci/run`).
 *
 * Runs under the `deps-check` permission set: read `deno.lock` and the
 * exceptions file, reach `registry.npmjs.org:443` only.
 *
 * @module
 */
import { parseLock } from "./deno_lock.ts";
import { satisfies } from "./semver_range.ts";

/** The advisory service (npm's bulk endpoint). */
export const ADVISORY_URL = "https://registry.npmjs.org/-/npm/v1/security/advisories/bulk";

/** One advisory as the service returns it. */
export interface Advisory {
  id: number | string;
  url?: string;
  title?: string;
  severity: string;
  vulnerable_versions: string;
}

/** An accepted risk: an advisory that may stay until `expires`, with the reason. */
export interface AdvisoryException {
  /** The advisory id or URL (e.g. its GHSA link). */
  advisory: string;
  package: string;
  reason: string;
  /** `YYYY-MM-DD`; from that day on the exception no longer applies. */
  expires: string;
}

/** A locked version hit by an advisory. */
export interface Finding {
  package: string;
  version: string;
  advisory: Advisory;
  /** The range could not be read, so the version is counted as affected. */
  rangeUnreadable: boolean;
  /** The exception that accepts it, if any. */
  accepted?: AdvisoryException;
}

/** Severities that fail the check. */
export const BLOCKING = new Set(["critical", "high"]);

/** Days the policy gives to fix each severity (docs/dependency_policy.md). */
export const FIX_WITHIN_DAYS: Readonly<Record<string, number>> = { critical: 2, high: 7, moderate: 30, low: 90 };

/** The request body: every locked version of every package, by name. */
export function advisoryQuery(lockText: string): Record<string, string[]> {
  const query: Record<string, string[]> = {};
  for (const { name, version } of parseLock(lockText).packages) {
    const versions = (query[name] ??= []);
    if (!versions.includes(version)) versions.push(version);
  }
  return query;
}

/** The findings of a service response for `query`, with exceptions applied as of `today` (`YYYY-MM-DD`). */
export function findings(
  query: Readonly<Record<string, readonly string[]>>,
  response: unknown,
  exceptions: readonly AdvisoryException[],
  today: string,
): Finding[] {
  if (typeof response !== "object" || response === null || Array.isArray(response)) {
    throw new Error("the advisory service answered something that is not an object of packages");
  }
  const out: Finding[] = [];
  for (const [name, advisories] of Object.entries(response as Record<string, unknown>)) {
    if (!Array.isArray(advisories)) throw new Error(`advisories for ${name} are not a list`);
    for (const advisory of advisories as Advisory[]) {
      if (typeof advisory?.severity !== "string" || typeof advisory.vulnerable_versions !== "string") {
        throw new Error(`an advisory for ${name} has no severity or range`);
      }
      // A package the query did not name is still reported: the service knows better than the filter.
      for (const version of query[name] ?? ["(unknown)"]) {
        const hit = satisfies(version, advisory.vulnerable_versions);
        if (hit === false) continue;
        const accepted = exceptions.find((e) =>
          e.package === name && (e.advisory === String(advisory.id) || e.advisory === advisory.url) && today < e.expires
        );
        out.push({
          package: name,
          version,
          advisory,
          rangeUnreadable: hit === null,
          ...(accepted ? { accepted } : {}),
        });
      }
    }
  }
  return out;
}

/** True when a finding fails the check. */
export function blocks(finding: Finding): boolean {
  return BLOCKING.has(finding.advisory.severity.toLowerCase()) && finding.accepted === undefined;
}

/** Options for {@link checkAdvisories}. */
export interface CheckOptions {
  lock: string;
  exceptions?: readonly AdvisoryException[];
  /** Default `fetch`. */
  fetch?: typeof fetch;
  /** Default today, UTC. */
  today?: string;
  /** Default 30 s. */
  timeoutMs?: number;
}

/** The outcome: `ran` false when the service could not be asked (with why). */
export type CheckOutcome =
  | { ran: true; findings: Finding[]; packages: number }
  | { ran: false; reason: string };

/** Asks the advisory service about every locked package. Throws when the answer cannot be read. */
export async function checkAdvisories(options: CheckOptions): Promise<CheckOutcome> {
  const { lock, exceptions = [], fetch: doFetch = fetch, timeoutMs = 30_000 } = options;
  const today = options.today ?? new Date().toISOString().slice(0, 10);
  const query = advisoryQuery(lock);
  let response: Response;
  try {
    response = await doFetch(ADVISORY_URL, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(query),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    return { ran: false, reason: `${ADVISORY_URL} unreachable: ${(error as Error).message}` };
  }
  if (!response.ok) {
    await response.body?.cancel();
    return { ran: false, reason: `${ADVISORY_URL} answered HTTP ${response.status}` };
  }
  const body = await response.json();
  return { ran: true, findings: findings(query, body, exceptions, today), packages: Object.keys(query).length };
}

/** Runs the task; returns the exit code. */
export async function main(args: readonly string[]): Promise<number> {
  const required = args.includes("--require");
  const lock = await Deno.readTextFile("deno.lock");
  let exceptions: AdvisoryException[] = [];
  try {
    exceptions = JSON.parse(await Deno.readTextFile("docs/dependency_exceptions.json"));
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  let outcome: CheckOutcome;
  try {
    outcome = await checkAdvisories({ lock, exceptions });
  } catch (error) {
    console.error(`deps:check: FAILED: ${(error as Error).message}`);
    return 1;
  }
  if (!outcome.ran) {
    console.error(`deps:check: NOT RUN: ${outcome.reason}; no dependency was checked`);
    return required ? 2 : 0;
  }
  for (const f of outcome.findings) {
    const days = FIX_WITHIN_DAYS[f.advisory.severity.toLowerCase()];
    const status = f.accepted
      ? `accepted until ${f.accepted.expires}: ${f.accepted.reason}`
      : blocks(f)
      ? "BLOCKING"
      : `fix within ${days ?? "?"} days`;
    console.log(
      `deps:check: ${f.advisory.severity} ${f.package}@${f.version} ${f.advisory.url ?? f.advisory.id} ` +
        `(${f.advisory.vulnerable_versions}${f.rangeUnreadable ? ", range unreadable" : ""}): ${status}`,
    );
  }
  const blocking = outcome.findings.filter(blocks).length;
  console.log(
    `deps:check: ${outcome.packages} packages checked, ${outcome.findings.length} advisories, ${blocking} blocking`,
  );
  return blocking > 0 ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
