/**
 * Does a version fall in an advisory's `vulnerable_versions` range?
 *
 * The npm advisory service writes ranges in node-semver syntax, in practice a
 * few simple forms: `<4.12.4`, `>=2.0.0 <2.1.3`, `<=1.0.0 || >=2.0.0 <2.0.5`,
 * `*`, and occasionally x-ranges, hyphen ranges, `^` and `~`. This is that
 * subset, written out rather than imported (the project's dependencies are
 * the application's; a dependency checker that pulls in a dependency of its
 * own widens what it should be guarding). A range it cannot read yields
 * `null`, and the caller treats the package as affected: an advisory is
 * never dropped because its range was unusual.
 *
 * Pre-releases compare by semver precedence; node-semver's extra rule (a
 * pre-release only matches comparators on the same version) is not applied,
 * which can only report more, never less.
 *
 * @module
 */

type Version = readonly [number, number, number, readonly (string | number)[]];

const VERSION = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;

/** Parses `1.2.3[-pre][+build]`; null when it is not a full version. */
export function parseVersion(text: string): Version | null {
  const m = VERSION.exec(text.trim());
  if (!m) return null;
  const pre = m[4] ? m[4].split(".").map((p) => (/^\d+$/.test(p) ? Number(p) : p)) : [];
  return [Number(m[1]), Number(m[2]), Number(m[3]), pre];
}

/** Semver precedence: negative, zero or positive. */
export function compareVersions(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
  const [pa, pb] = [a[3], b[3]];
  if (pa.length === 0 || pb.length === 0) return pb.length - pa.length; // a release outranks its pre-releases
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const [x, y] = [pa[i], pb[i]];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x === y) continue;
    if (typeof x === "number" && typeof y === "number") return x - y;
    if (typeof x === "number") return -1;
    if (typeof y === "number") return 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

type Comparator = { op: "<" | "<=" | ">" | ">=" | "="; version: Version };

/** A partial version (`1`, `1.2`, `1.x`, `*`) as [major, minor, patch] with null for wildcards. */
function partial(text: string): (number | null)[] | null {
  if (text === "*" || text === "x" || text === "X" || text === "") return [null, null, null];
  const parts = text.replace(/^v/, "").split(".");
  if (parts.length > 3) return null;
  const out: (number | null)[] = [];
  for (const p of parts) {
    if (/^[xX*]$/.test(p)) out.push(null);
    else if (/^\d+$/.test(p)) out.push(Number(p));
    else return null;
  }
  while (out.length < 3) out.push(null);
  return out;
}

/** Comparators for one space-separated part of a range, or null when unreadable. */
function comparators(part: string): Comparator[] | null {
  const m = /^(<=|>=|<|>|=|\^|~)?\s*(.+)$/.exec(part);
  if (!m) return null;
  const [op, rest] = [m[1] ?? "", m[2]!];
  const full = parseVersion(rest);
  if (full && (op === "" || op === "=" || op === "<" || op === "<=" || op === ">" || op === ">=")) {
    return [{ op: op === "" ? "=" : op, version: full }];
  }
  const p = full ? [full[0], full[1], full[2]] : partial(rest);
  if (!p) return null;
  const [major = null, minor = null, patch = null] = p;
  const v = (a: number, b: number, c: number, pre: (string | number)[] = []): Version => [a, b, c, pre];
  if (op === "^" || op === "~") {
    if (major === null) return [];
    const base = v(major, minor ?? 0, patch ?? 0, full ? [...full[3]] : []);
    const upper = op === "~"
      ? (minor === null ? v(major + 1, 0, 0, [0]) : v(major, minor + 1, 0, [0]))
      : major > 0 || minor === null
      ? v(major + 1, 0, 0, [0])
      : minor > 0 || patch === null
      ? v(0, minor + 1, 0, [0])
      : v(0, 0, patch + 1, [0]);
    return [{ op: ">=", version: base }, { op: "<", version: upper }];
  }
  if (major === null) return op === "<" ? null : [];
  const low = v(major, minor ?? 0, patch ?? 0, [0]);
  const high = minor === null ? v(major + 1, 0, 0, [0]) : v(major, minor + 1, 0, [0]);
  switch (op) {
    case "":
    case "=":
      return [{ op: ">=", version: low }, { op: "<", version: high }];
    case ">=":
      return [{ op: ">=", version: low }];
    case "<":
      return [{ op: "<", version: low }];
    case ">":
      return [{ op: ">=", version: high }];
    case "<=":
      return [{ op: "<", version: high }];
  }
  return null;
}

function test(version: Version, c: Comparator): boolean {
  const d = compareVersions(version, c.version);
  return c.op === "<" ? d < 0 : c.op === "<=" ? d <= 0 : c.op === ">" ? d > 0 : c.op === ">=" ? d >= 0 : d === 0;
}

/** True when `version` is in `range`, false when not, null when either cannot be read. */
export function satisfies(version: string, range: string): boolean | null {
  const v = parseVersion(version);
  if (!v) return null;
  let any = false;
  for (const set of range.split("||")) {
    let text = set.trim().replace(/(<=|>=|<|>|=|\^|~)\s+/g, "$1").replace(/,/g, " ");
    const hyphen = /^(\S+)\s+-\s+(\S+)$/.exec(text);
    if (hyphen) text = `>=${hyphen[1]} <=${hyphen[2]}`;
    const all: Comparator[] = [];
    for (const part of text.split(/\s+/).filter(Boolean)) {
      const cs = comparators(part);
      if (cs === null) return null;
      all.push(...cs);
    }
    if (all.every((c) => test(v, c))) any = true;
  }
  return any;
}
