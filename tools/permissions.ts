/**
 * `deno task permissions`: the parts that `deno.json`'s permission sets
 * share, written once here, and a check that `deno.json` still says the same
 * (`--write` rewrites it instead).
 *
 * `deno.json` is JSON: it has no variables or references, and one permission
 * set cannot extend another. So the sets the application runs under
 * (`server`, `admin`, `audit`, `audit-export`) each repeat the import-deny
 * list and `APP_*`, and the server set spells out the listening port once per
 * address it may bind. This module is the single source of those repeated
 * parts — the port comes from `APP_PORT`'s default in `src/config.ts` — and
 * `tests/permissions_test.ts` fails when the file drifts from it.
 *
 * @module
 */
import { SETTINGS } from "../src/config.ts";

/**
 * Hosts no code may import from at run time (deny wins over the default of
 * allowing remote imports): the registries and CDNs a dependency could be
 * fetched from. Dependencies are npm packages pinned in `deno.lock`.
 */
export const IMPORT_DENY: readonly string[] = [
  "jsr.io:443",
  "deno.land:443",
  "esm.sh:443",
  "raw.esm.sh:443",
  "cdn.jsdelivr.net:443",
  "raw.githubusercontent.com:443",
  "gist.githubusercontent.com:443",
];

/** The addresses the server may listen on, each with the default port: loopback and all interfaces, v4 and v6. */
export const LISTEN_HOSTS: readonly string[] = ["127.0.0.1", "localhost", "0.0.0.0", "[::1]", "[::]"];

/** Redis on this machine, the usual address of `APP_RATE_LIMIT_STORE=redis://…`. */
export const LOCAL_REDIS: readonly string[] = ["127.0.0.1:6379", "localhost:6379"];

/** The connection guard's loopback server (`APP_CONNECTION_GUARD_PORT`'s default in `src/config.ts`). */
export function guardAddress(): string {
  return `127.0.0.1:${SETTINGS.connectionGuardPort.default}`;
}

/** The sets the application itself runs under: they share the import-deny list and `APP_*`. */
export const RUNTIME_SETS: readonly string[] = ["server", "admin", "audit", "audit-export"];

/**
 * Sets that run project code before or beside the application and share only
 * the import-deny list: `env-check` (the misspelled-`APP_*` check that
 * `deno task start` runs first) must see every variable's name, so its `env`
 * is its own.
 */
export const DENY_ONLY_SETS: readonly string[] = ["env-check"];

/** The default listening port, as `src/config.ts` declares it. */
export function defaultPort(): number {
  return Number(SETTINGS.port.default);
}

/** What each runtime set must contain for the parts kept here. */
export function sharedParts(port: number = defaultPort()): Record<string, Record<string, unknown>> {
  const shared = { env: ["APP_*"], import: { deny: [...IMPORT_DENY] } };
  const out: Record<string, Record<string, unknown>> = {};
  for (const name of RUNTIME_SETS) out[name] = { ...shared };
  for (const name of DENY_ONLY_SETS) out[name] = { import: { deny: [...IMPORT_DENY] } };
  out.server = {
    ...out.server,
    net: [...LISTEN_HOSTS.map((host) => `${host}:${port}`), guardAddress(), ...LOCAL_REDIS],
  };
  return out;
}

type DenoJSON = { permissions?: Record<string, Record<string, unknown>> };

/** Where `denoJSON` differs from {@link sharedParts}, one line per difference; empty when it agrees. */
export function permissionDrift(denoJSON: DenoJSON, port: number = defaultPort()): string[] {
  const problems: string[] = [];
  for (const [set, parts] of Object.entries(sharedParts(port))) {
    const actual = denoJSON.permissions?.[set];
    if (!actual) {
      problems.push(`permission set "${set}" is missing`);
      continue;
    }
    for (const [key, expected] of Object.entries(parts)) {
      if (JSON.stringify(actual[key]) !== JSON.stringify(expected)) {
        problems.push(
          `permissions.${set}.${key} is ${JSON.stringify(actual[key])}, expected ${JSON.stringify(expected)}`,
        );
      }
    }
  }
  return problems;
}

/** `denoJSON` with the shared parts written in (other keys and their order kept). */
export function withSharedParts(denoJSON: DenoJSON, port: number = defaultPort()): DenoJSON {
  const permissions = { ...denoJSON.permissions };
  for (const [set, parts] of Object.entries(sharedParts(port))) permissions[set] = { ...permissions[set], ...parts };
  return { ...denoJSON, permissions };
}

if (import.meta.main) {
  const file = new URL("../deno.json", import.meta.url);
  const denoJSON = JSON.parse(await Deno.readTextFile(file)) as DenoJSON;
  if (Deno.args.includes("--write")) {
    await Deno.writeTextFile(file, `${JSON.stringify(withSharedParts(denoJSON), null, 2)}\n`);
    console.log("deno.json: shared permission parts written; run deno fmt deno.json");
  } else {
    const problems = permissionDrift(denoJSON);
    for (const problem of problems) console.error(problem);
    if (problems.length > 0) {
      console.error("run `deno task permissions --write` to regenerate them from tools/permissions.ts");
      Deno.exit(1);
    }
    console.log(`deno.json: the runtime permission sets agree with tools/permissions.ts (port ${defaultPort()})`);
  }
}
