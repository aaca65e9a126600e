/**
 * `deno task sbom`: a CycloneDX 1.5 software bill of materials built from
 * `deno.lock` (ASVS 5.0 15.1.2, 15.2.4). CI writes it to
 * `reports/sbom.cdx.json` on every run.
 *
 * Every locked npm package becomes a component with its version, package URL
 * (`pkg:npm/…`), the registry's integrity hash (converted from SRI base64 to
 * hex), its download URL and, when the npm cache is given, its declared
 * licence; the dependency graph follows the lock. Components must come from
 * one trusted repository, the npm registry: a lock holding JSR packages or
 * remote modules is refused (exit 1), since this project's policy allows
 * neither (docs/dependency_policy.md).
 *
 * ```sh
 * deno task sbom                                    # reports/sbom.cdx.json, without licences
 * deno run -P=sbom --allow-read=.,"$NPM_CACHE" tools/sbom.ts --npm-cache "$NPM_CACHE" --out reports/sbom.cdx.json
 * ```
 *
 * Offline and deterministic but for the timestamp: the serial number is
 * derived from the lock's content.
 *
 * @module
 */
import { type LockContents, type LockedPackage, parseLock } from "./deno_lock.ts";

/** Options for {@link buildSBOM}. */
export interface SBOMOptions {
  /** The text of `deno.lock`. */
  lock: string;
  /** Licence (SPDX expression) per `name@version`, when known. Default none. */
  licences?: ReadonlyMap<string, string>;
  /** Time of the BOM. Default now. */
  now?: Date;
}

/** A CycloneDX 1.5 component, as far as this tool writes one. */
export interface Component {
  type: "library" | "application";
  "bom-ref": string;
  group?: string;
  name: string;
  version?: string;
  purl?: string;
  hashes?: { alg: string; content: string }[];
  licenses?: { expression: string }[];
  externalReferences?: { type: string; url: string }[];
}

/** The BOM document. */
export interface BOM {
  bomFormat: "CycloneDX";
  specVersion: "1.5";
  serialNumber: string;
  version: 1;
  metadata: { timestamp: string; tools: { components: Component[] }; component: Component };
  components: Component[];
  dependencies: { ref: string; dependsOn: string[] }[];
}

const ROOT_REF = "secure-api";

/** The package URL of an npm package (`@` of a scope encoded, as the purl spec asks). */
export function npmPurl(name: string, version: string): string {
  return `pkg:npm/${name.startsWith("@") ? `%40${name.slice(1)}` : name}@${version}`;
}

const SRI_ALGORITHMS: Record<string, string> = { sha512: "SHA-512", sha384: "SHA-384", sha256: "SHA-256" };

/** An SRI string (`sha512-<base64>`) as a CycloneDX hash (hex). */
export function sriToHash(sri: string): { alg: string; content: string } {
  const match = /^(sha256|sha384|sha512)-([A-Za-z0-9+/]+={0,2})$/.exec(sri.trim());
  if (!match) throw new Error(`unsupported integrity value: ${sri}`);
  const bytes = Uint8Array.from(atob(match[2]!), (c) => c.charCodeAt(0));
  return {
    alg: SRI_ALGORITHMS[match[1]!]!,
    content: Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(""),
  };
}

function tarballURL(name: string, version: string): string {
  const base = name.startsWith("@") ? name.split("/")[1]! : name;
  return `https://registry.npmjs.org/${name}/-/${base}-${version}.tgz`;
}

function component(pkg: LockedPackage, licences: ReadonlyMap<string, string>): Component {
  const scoped = pkg.name.startsWith("@");
  const licence = licences.get(`${pkg.name}@${pkg.version}`);
  return {
    type: "library",
    "bom-ref": npmPurl(pkg.name, pkg.version),
    ...(scoped ? { group: pkg.name.split("/")[0]! } : {}),
    name: scoped ? pkg.name.split("/")[1]! : pkg.name,
    version: pkg.version,
    purl: npmPurl(pkg.name, pkg.version),
    hashes: [sriToHash(pkg.integrity)],
    ...(licence ? { licenses: [{ expression: licence }] } : {}),
    externalReferences: [{ type: "distribution", url: tarballURL(pkg.name, pkg.version) }],
  };
}

async function serialFor(lock: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(lock)));
  digest[6] = (digest[6]! & 0x0f) | 0x80; // version 8: a name-based UUID of our own layout (RFC 9562 §5.8)
  digest[8] = (digest[8]! & 0x3f) | 0x80;
  const hex = Array.from(digest.slice(0, 16), (b) => b.toString(16).padStart(2, "0")).join("");
  return `urn:uuid:${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The BOM for `lock`; throws when the lock holds components from a source other than the npm registry. */
export async function buildSBOM(options: SBOMOptions): Promise<BOM> {
  const { lock, licences = new Map(), now = new Date() } = options;
  const contents: LockContents = parseLock(lock);
  if (contents.foreign.length > 0) {
    throw new Error(`deno.lock holds components from outside the npm registry: ${contents.foreign.join(", ")}`);
  }
  const refOf = new Map(contents.packages.map((p) => [p.key, npmPurl(p.name, p.version)]));
  return {
    bomFormat: "CycloneDX",
    specVersion: "1.5",
    serialNumber: await serialFor(lock),
    version: 1,
    metadata: {
      timestamp: now.toISOString(),
      tools: { components: [{ type: "application", "bom-ref": "tools/sbom.ts", name: "secure-api tools/sbom.ts" }] },
      component: { type: "application", "bom-ref": ROOT_REF, name: "secure-api" },
    },
    components: contents.packages.map((p) => component(p, licences)),
    dependencies: [
      { ref: ROOT_REF, dependsOn: contents.direct.map((k) => refOf.get(k)!).sort() },
      ...contents.packages.map((p) => ({
        ref: refOf.get(p.key)!,
        dependsOn: p.dependencies.map((k) => refOf.get(k)!),
      })),
    ],
  };
}

/** Licences declared in the `package.json` of each locked package inside Deno's npm cache directory. */
export async function licencesFromCache(cacheDir: string, lock: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const { name, version } of parseLock(lock).packages) {
    try {
      const meta = JSON.parse(
        await Deno.readTextFile(`${cacheDir}/registry.npmjs.org/${name}/${version}/package.json`),
      );
      if (typeof meta.license === "string" && meta.license !== "") out.set(`${name}@${version}`, meta.license);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  return out;
}

function option(args: readonly string[], name: string): string | undefined {
  const at = args.indexOf(name);
  return at === -1 ? undefined : args[at + 1];
}

/** Runs the task; returns the exit code. */
export async function main(args: readonly string[]): Promise<number> {
  const out = option(args, "--out") ?? "reports/sbom.cdx.json";
  const cache = option(args, "--npm-cache");
  const lock = await Deno.readTextFile("deno.lock");
  let bom: BOM;
  try {
    bom = await buildSBOM({ lock, ...(cache ? { licences: await licencesFromCache(cache, lock) } : {}) });
  } catch (error) {
    console.error(`sbom: ${(error as Error).message}`);
    return 1;
  }
  const dir = out.includes("/") ? out.slice(0, out.lastIndexOf("/")) : ".";
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(out, `${JSON.stringify(bom, null, 2)}\n`);
  const licensed = bom.components.filter((c) => c.licenses).length;
  console.log(
    `sbom: ${bom.components.length} components (${licensed} with a licence) from deno.lock → ${out} (CycloneDX 1.5)`,
  );
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
