/**
 * Log injection (CWE-117, OWASP Logging Cheat Sheet): attacker-controlled
 * text — a request path, a username, a product name — carrying CR/LF, ANSI
 * escapes, bidirectional overrides or 10 KB of filler is stored in the audit
 * table escaped and capped, still verifies, and every log line stays one
 * line of JSON whose values hold no raw control characters.
 */
import assert from "node:assert/strict";
import { getLogger } from "@logtape/logtape";
import { Hono } from "hono";
import type { AuditRecord } from "../src/audit/audit_log.ts";
import { MAX_FIELD_LENGTH } from "../src/audit/sanitize.ts";
import { errorHandler } from "../src/middleware/error_handler.ts";
import { logFormatter } from "../src/logging.ts";
import { basicAuth, createTestApp } from "./helpers.ts";
import { captureLogs } from "./log_capture.ts";

// deno-lint-ignore no-control-regex -- finding raw control characters is the point
const RAW = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const HOSTILE = "1\r\nINFO secure-api.audit authn_login_success admin\x1b[2J\x1b[31m\u202Eexe.txt\u2066";
/** Most a capped field can grow to: every kept character escaped (8×) plus the marker. */
const MAX_STORED = MAX_FIELD_LENGTH * 8 + 32;

function assertClean(text: string | null, what: string): void {
  assert.ok(text !== null, `${what} is recorded`);
  assert.doesNotMatch(text, RAW, `${what} holds no raw control or bidi characters`);
  assert.ok(text.length <= MAX_STORED, `${what} is capped (${text.length})`);
}

/** Every captured line is exactly one line of JSON, and the audit lines mirror the stored rows. */
function assertLogLines(lines: readonly string[], rows: readonly AuditRecord[]): void {
  assert.ok(lines.length > 0);
  for (const line of lines) {
    assert.equal(line.indexOf("\n"), line.length - 1, "one line per record");
    assert.doesNotMatch(line.slice(0, -1), RAW, "no raw control characters in the line");
    JSON.parse(line);
  }
  for (const row of rows) {
    const line = lines.find((l) => l.includes(`"requestId":"${row.requestId}"`) && l.includes(`"seq":${row.seq},`));
    assert.ok(line, `row ${row.seq} was logged`);
    const logged = JSON.parse(line).properties.audit;
    assert.equal(logged.path, row.path, "the log carries the escaped text, not the raw one");
    assert.doesNotMatch(JSON.stringify(logged), RAW);
  }
}

Deno.test("a path with CR/LF, ANSI, bidi and 10 KB is stored escaped and capped; the log line stays one line", async () => {
  await using logs = await captureLogs();
  await using t = await createTestApp({ logger: getLogger(["secure-api", "audit"]) });
  const viewer = await t.user("victor");
  const path = `/products/${encodeURIComponent(HOSTILE)}${"A".repeat(10_240)}`;
  const res = await t.json("PUT", path, { name: "x", priceCents: 1, stock: 1 }, {
    headers: { Authorization: viewer.basic },
  });
  assert.equal(res.status, 403);
  const [row] = t.deps.audit.query({ event: "authz_fail", afterSeq: 0, limit: 10 });
  assertClean(row!.path, "path");
  assert.ok(
    row!.path!.startsWith(
      "/products/1\\u{000d}\\u{000a}INFO secure-api.audit authn_login_success admin\\u{001b}[2J\\u{001b}[31m\\u{202e}exe.txt\\u{2066}AAA",
    ),
    row!.path!,
  );
  assert.match(row!.path!, /…\[\d+ more\]$/);
  assert.equal(t.deps.audit.verify().ok, true);
  assertLogLines(logs.lines, [row!]);
});

Deno.test("a username with bidi overrides and 3 KB in Basic credentials is stored escaped and capped", async () => {
  await using logs = await captureLogs();
  await using t = await createTestApp({ logger: getLogger(["secure-api", "audit"]) });
  const username = `admin\u202Egnp.exe\u2066${"u".repeat(3_000)}`;
  const res = await t.request(`/auth/me`, { headers: { Authorization: basicAuth(username, "irrelevant") } });
  assert.equal(res.status, 401);
  const [row] = t.deps.audit.query({ event: "authn_login_fail", afterSeq: 0, limit: 10 });
  const stored = JSON.parse(row!.detail).username as string;
  assertClean(stored, "username");
  assert.ok(stored.startsWith("admin\\u{202e}gnp.exe\\u{2066}uuu"));
  assert.match(stored, /…\[2758 more\]$/, "3,014 characters, 256 kept");
  assertLogLines(logs.lines, [row!]);
});

Deno.test("a username with CR/LF or ANSI escapes never reaches the log: the header is refused as malformed", async () => {
  await using logs = await captureLogs();
  await using t = await createTestApp({ logger: getLogger(["secure-api", "audit"]) });
  for (const username of ["alice\r\nINFO forged", "\x1b[2Jalice"]) {
    const res = await t.request("/auth/me", { headers: { Authorization: basicAuth(username, "pw") } });
    assert.equal(res.status, 401);
  }
  const rows = t.deps.audit.query({ event: "authn_login_fail", afterSeq: 0, limit: 10 });
  assert.deepEqual(rows.map((r) => JSON.parse(r.detail)), [
    { reason: "malformed authorization header" },
    { reason: "malformed authorization header" },
  ]);
  assert.ok(!logs.lines.join("").includes("forged"));
  assertLogLines(logs.lines, rows);
});

Deno.test("a product name with bidi overrides is stored escaped in the audit detail", async () => {
  await using logs = await captureLogs();
  await using t = await createTestApp({ logger: getLogger(["secure-api", "audit"]) });
  const editor = await t.user("edith", ["editor"]);
  const res = await t.json("POST", "/products", { name: "Lamp\u202E\u2066 (cheap)", priceCents: 1, stock: 1 }, {
    headers: { Authorization: editor.basic },
  });
  assert.equal(res.status, 201);
  const [row] = t.deps.audit.query({ event: "product_created", afterSeq: 0, limit: 10 });
  assert.deepEqual(JSON.parse(row!.detail), { name: "Lamp\\u{202e}\\u{2066} (cheap)" });
  assert.equal((await res.json()).name, "Lamp\u202E\u2066 (cheap)", "the product itself keeps its name");
  assertLogLines(logs.lines, [row!]);
});

Deno.test("the pretty format also writes each audit record on one line without the attacker's escapes", async () => {
  await using logs = await captureLogs();
  await using t = await createTestApp({ logger: getLogger(["secure-api", "audit"]) });
  const viewer = await t.user("victor");
  await t.json("PUT", `/products/${encodeURIComponent(HOSTILE)}`, { name: "x", priceCents: 1, stock: 1 }, {
    headers: { Authorization: viewer.basic },
  });
  const pretty = logFormatter("pretty");
  for (const record of logs.records) {
    const line = pretty(record);
    assert.equal(line.indexOf("\n"), line.length - 1);
    assert.ok(!line.includes("\u202E") && !line.includes("\x1b[2J") && !line.includes("\r"), JSON.stringify(line));
  }
});

Deno.test("the 500 log line escapes and caps the request path", async () => {
  await using logs = await captureLogs();
  const app = new Hono();
  app.get("/boom/:rest", () => {
    throw new Error("bug");
  });
  app.onError(errorHandler(getLogger(["secure-api", "http"])) as never);
  const res = await app.request(`https://localhost/boom/${encodeURIComponent(HOSTILE)}${"B".repeat(10_240)}`);
  assert.equal(res.status, 500);
  const [line] = logs.lines;
  assert.equal(line!.indexOf("\n"), line!.length - 1);
  const path = JSON.parse(line!).properties.path as string;
  assertClean(path, "path");
  assert.ok(path.startsWith("/boom/1\\u{000d}\\u{000a}INFO"));
});
