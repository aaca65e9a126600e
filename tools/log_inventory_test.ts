/**
 * The log inventory (docs/log_inventory.md) stays true to the code (ASVS 5.0
 * 16.1.1, 16.2.3): every audit event the code can record and every logger
 * category it writes to is listed, and the inventory lists no event that no
 * longer exists.
 */
import assert from "node:assert/strict";
import { AUDIT_EVENTS } from "../src/audit/events.ts";
import { AUDIT_CATEGORY } from "../src/logging.ts";
import { ACCESS_CATEGORY } from "../src/middleware/access_log.ts";

const ROOT = new URL("../", import.meta.url);

async function inventory(): Promise<string> {
  return await Deno.readTextFile(new URL("docs/log_inventory.md", ROOT));
}

/** The section of the inventory under `## heading`. */
function section(text: string, heading: string): string {
  const start = text.indexOf(`\n## ${heading}\n`);
  assert.notEqual(start, -1, `docs/log_inventory.md has a "## ${heading}" section`);
  const end = text.indexOf("\n## ", start + 1);
  return text.slice(start, end === -1 ? undefined : end);
}

/** Logger categories named in `source` by `getLogger([...])` with literal parts. */
function categoriesIn(source: string): string[] {
  // reads the project's own source files, not input.
  return [...source.matchAll(/getLogger\(\[\s*((?:"[\w-]+"\s*,?\s*)+)\]/g)] // nosemgrep: redos-prone-regex
    .map((m) => [...m[1]!.matchAll(/"([\w-]+)"/g)].map((p) => p[1]).join("."));
}

Deno.test("the log inventory lists every audit event the code can write", async () => {
  const events = section(await inventory(), "Events");
  const listed = new Set([...events.matchAll(/^\| `([a-z_]+)`/gm)].map((m) => m[1]!));
  const missing = AUDIT_EVENTS.filter((event) => !listed.has(event));
  assert.deepEqual(missing, [], "audit events missing from docs/log_inventory.md");
  const stale = [...listed].filter((event) => !(AUDIT_EVENTS as readonly string[]).includes(event));
  assert.deepEqual(stale, [], "events in docs/log_inventory.md that the code no longer records");
});

Deno.test("the log inventory lists every logger category the source writes to", async () => {
  const outputs = section(await inventory(), "Outputs");
  const categories = new Set<string>([AUDIT_CATEGORY.join("."), ACCESS_CATEGORY.join(".")]);
  const walk = async (dir: string): Promise<void> => {
    for await (const entry of Deno.readDir(new URL(dir, ROOT))) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) await walk(path);
      else if (entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts")) {
        for (const c of categoriesIn(await Deno.readTextFile(new URL(path, ROOT)))) categories.add(c);
      }
    }
  };
  await walk("src");
  for (const c of categoriesIn(await Deno.readTextFile(new URL("main.ts", ROOT)))) categories.add(c);
  assert.ok(categories.size >= 4, `found ${[...categories].join(", ")}`);
  const missing = [...categories].filter((c) => !outputs.includes(`\`${c}\``));
  assert.deepEqual(missing, [], "logger categories missing from docs/log_inventory.md");
});
