/**
 * Reads the packages pinned in `deno.lock` (version 5), for the software bill
 * of materials and the dependency check.
 *
 * A v5 lock keys each npm package as `name@version`, followed by `_peer…`
 * when peer dependencies are resolved (`@hono/zod-validator@0.9.1_hono@4.13.19`),
 * with its `integrity` (the registry's SRI hash of the tarball) and its
 * `dependencies` (a bare name when one version of it is locked, else
 * `name@version`). JSR packages and remote modules have their own sections:
 * this project allows neither, and {@link parseLock} reports them so the
 * caller can refuse them.
 *
 * @module
 */

/** One locked npm package. */
export interface LockedPackage {
  /** The lock's key, e.g. `@hono/zod-validator@0.9.1_hono@4.13.19_zod@4.6.7`. */
  readonly key: string;
  readonly name: string;
  readonly version: string;
  /** SRI string, e.g. `sha512-…` (base64). */
  readonly integrity: string;
  /** Keys of the packages it depends on. */
  readonly dependencies: readonly string[];
}

/** What a lock file holds, as far as the tools need it. */
export interface LockContents {
  readonly packages: readonly LockedPackage[];
  /** Keys of the packages the project imports directly. */
  readonly direct: readonly string[];
  /** Entries from sources other than the npm registry (`jsr:` packages, remote URLs). */
  readonly foreign: readonly string[];
}

/** Splits `name@version[_peers]` (scoped or not) into its name and version. */
export function splitKey(key: string): { name: string; version: string } {
  const at = key.indexOf("@", key.startsWith("@") ? 1 : 0);
  if (at <= 0) throw new Error(`not a locked package key: ${key}`);
  const name = key.slice(0, at);
  const version = key.slice(at + 1).split("_")[0]!;
  return { name, version };
}

interface LockV5 {
  version?: string;
  specifiers?: Record<string, string>;
  npm?: Record<string, { integrity?: string; dependencies?: string[]; optionalDependencies?: string[] }>;
  jsr?: Record<string, unknown>;
  remote?: Record<string, unknown>;
  workspace?: { dependencies?: string[] };
}

/** Parses a `deno.lock` text; throws on a version it does not know or a package without integrity. */
export function parseLock(text: string): LockContents {
  const lock = JSON.parse(text) as LockV5;
  if (lock.version !== "5") throw new Error(`deno.lock version ${lock.version} is not supported (expected 5)`);
  const npm = lock.npm ?? {};
  const keys = Object.keys(npm);
  const byName = new Map<string, string[]>();
  for (const key of keys) {
    const { name } = splitKey(key);
    byName.set(name, [...(byName.get(name) ?? []), key]);
  }
  /** A dependency reference (`name` or `name@version`) to the key it means. */
  const resolve = (ref: string, from: string): string => {
    const at = ref.indexOf("@", ref.startsWith("@") ? 1 : 0);
    const candidates = at > 0 ? keys.filter((k) => k === ref || k.startsWith(`${ref}_`)) : (byName.get(ref) ?? []);
    if (candidates.length !== 1) throw new Error(`${from}: cannot resolve dependency ${ref} in deno.lock`);
    return candidates[0]!;
  };
  const packages = keys.sort().map((key): LockedPackage => {
    const entry = npm[key]!;
    if (!entry.integrity) throw new Error(`${key}: no integrity hash in deno.lock`);
    const refs = [...(entry.dependencies ?? []), ...(entry.optionalDependencies ?? [])];
    return { key, ...splitKey(key), integrity: entry.integrity, dependencies: refs.map((r) => resolve(r, key)) };
  });
  const direct = (lock.workspace?.dependencies ?? [])
    .filter((spec) => spec.startsWith("npm:"))
    .map((spec) => {
      const resolved = lock.specifiers?.[spec];
      const { name } = splitKey(spec.slice(4));
      if (!resolved) throw new Error(`${spec}: not resolved in deno.lock`);
      return resolve(`${name}@${resolved.split("_")[0]}`, spec);
    });
  const foreign = [
    ...Object.keys(lock.jsr ?? {}).map((k) => `jsr:${k}`),
    ...Object.keys(lock.remote ?? {}),
    ...Object.keys(lock.specifiers ?? {}).filter((s) => !s.startsWith("npm:")),
    ...(lock.workspace?.dependencies ?? []).filter((s) => !s.startsWith("npm:")),
  ];
  return { packages, direct, foreign: [...new Set(foreign)] };
}
