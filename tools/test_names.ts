/**
 * The names of the tests a file declares, read from its source text.
 *
 * The ASVS mapping (`docs/asvs/mapping.json`) cites each proof by file and
 * exact test name; this is how a citation is checked without running the
 * suite. It recognises the forms the project uses:
 *
 * - `Deno.test("name", …)`, `Deno.test('name', …)`, ``Deno.test(`name`, …)``
 * - `Deno.test({ name: "name", … })`
 * - `t.step("name", …)` and `t.step({ name: "name", … })` (any receiver)
 *
 * A template literal is kept as written, `${…}` included, so a test generated
 * in a loop is cited by its template (`` `${scenario.event}: …` ``). A name
 * built by concatenation or from a variable is not recognised: such a test
 * cannot be cited, which the mapping check then reports.
 *
 * @module
 */

const CALL = /\bDeno\.test\s*\(|\.step\s*\(/g;

/** The string literal starting at `source[start]` (a quote or backtick), or null. */
function readLiteral(source: string, start: number): string | null {
  const quote = source[start];
  if (quote !== '"' && quote !== "'" && quote !== "`") return null;
  let out = "";
  for (let i = start + 1; i < source.length; i++) {
    const ch = source[i]!;
    if (ch === quote) return out;
    if (ch === "\n" && quote !== "`") return null;
    if (ch !== "\\") {
      out += ch;
      continue;
    }
    const next = source[++i];
    if (next === undefined) return null;
    if (quote === "`") {
      // Kept as written: the template is the citation.
      out += `\\${next}`;
      continue;
    }
    const simple: Record<string, string> = { n: "\n", t: "\t", r: "\r", "0": "\0", b: "\b", f: "\f", v: "\v" };
    if (next === "u") {
      const braced = /^\{([0-9a-fA-F]{1,6})\}/.exec(source.slice(i + 1));
      const plain = /^[0-9a-fA-F]{4}/.exec(source.slice(i + 1));
      if (braced) {
        out += String.fromCodePoint(parseInt(braced[1]!, 16));
        i += braced[0].length;
      } else if (plain) {
        out += String.fromCharCode(parseInt(plain[0], 16));
        i += 4;
      } else {
        return null;
      }
    } else {
      out += simple[next] ?? next;
    }
  }
  return null;
}

/** The index of the first non-whitespace character at or after `i`. */
function skipSpace(source: string, i: number): number {
  while (i < source.length && /\s/.test(source[i]!)) i++;
  return i;
}

/** Every test and step name declared in `source`, in order of appearance. */
export function testNamesIn(source: string): string[] {
  const names: string[] = [];
  for (const match of source.matchAll(CALL)) {
    let i = skipSpace(source, match.index + match[0].length);
    if (source[i] === "{") {
      // An options object: its `name` property, written before any nested object.
      // reads the project's own test files, and at most 400 characters of each call.
      const head = /^\{\s*(?:[A-Za-z]+\s*:[^{}]*?,\s*)*name\s*:\s*/.exec(source.slice(i, i + 400)); // nosemgrep: redos-prone-regex
      if (!head) continue;
      i = skipSpace(source, i + head[0].length);
    }
    const name = readLiteral(source, i);
    if (name !== null) names.push(name);
  }
  return names;
}
