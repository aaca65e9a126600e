/**
 * `GET /audit` (date range, filters, cursor paging, `audit:read`) and
 * `GET /audit/verify` (verdicts, chunked so the server stays responsive).
 */
import assert from "node:assert/strict";
import { createTestApp, problem, type TestApp, type TestUser } from "./helpers.ts";

const HOUR = 3_600_000;

interface Page {
  items: { seq: number; ts: string; event: string; actor: number | null; detail: unknown }[];
  nextCursor: string | null;
}

async function auditor(t: TestApp): Promise<TestUser> {
  const user = await t.user("auditor", ["admin"]);
  // Warm the credential cache so reading the log adds no authn_login_success rows of its own
  // (for 5 minutes of the fake clock: make the rows a test pages through before calling this).
  await t.request("/auth/me", { headers: { Authorization: user.basic } });
  return user;
}

async function page(t: TestApp, user: TestUser, query: string): Promise<Page> {
  const res = await t.request(`/audit${query}`, { headers: { Authorization: user.basic } });
  assert.equal(res.status, 200, await res.clone().text());
  return await res.json();
}

/** Appends `product_created` rows an hour apart from 2026-01-01T00:00Z; returns their seqs. */
function hourly(t: TestApp, count: number, actor: number | null = null): number[] {
  const seqs = [];
  for (let i = 0; i < count; i++) {
    seqs.push(t.deps.audit.append({ event: "product_created", actor, target: `product:${i}` }).seq);
    t.clock.advance(HOUR);
  }
  return seqs;
}

Deno.test("GET /audit filters by date: since inclusive, until exclusive, any offset", async () => {
  await using t = await createTestApp();
  const user = await auditor(t);
  const seqs = hourly(t, 5); // 00:00, 01:00, 02:00, 03:00, 04:00
  const range = await page(t, user, "?event=product_created&since=2026-01-01T01:00:00Z&until=2026-01-01T03:00:00Z");
  assert.deepEqual(range.items.map((r) => r.seq), [seqs[1], seqs[2]]);
  assert.deepEqual(range.items.map((r) => r.ts), ["2026-01-01T01:00:00.000Z", "2026-01-01T02:00:00.000Z"]);
  const offset = await page(t, user, `?event=product_created&since=${encodeURIComponent("2026-01-01T04:00+02:00")}`);
  assert.deepEqual(offset.items.map((r) => r.seq), seqs.slice(2), "04:00+02:00 is 02:00Z");
  const day = await page(t, user, "?event=product_created&until=2026-01-01");
  assert.deepEqual(day.items, [], "a date alone is midnight UTC");
  const precise = await page(t, user, "?event=product_created&since=2026-01-01T00:00:00.001Z");
  assert.deepEqual(precise.items.map((r) => r.seq), seqs.slice(1), "milliseconds count");
});

Deno.test("GET /audit filters by event and by actor", async () => {
  await using t = await createTestApp();
  const user = await auditor(t);
  const mine = hourly(t, 2, 41);
  const theirs = hourly(t, 2, 42);
  t.deps.audit.append({ event: "user_deleted", actor: 41, target: "user:9" });
  assert.deepEqual((await page(t, user, "?actor=41&event=product_created")).items.map((r) => r.seq), mine);
  assert.deepEqual((await page(t, user, "?actor=42")).items.map((r) => r.seq), theirs);
  const deleted = await page(t, user, "?event=user_deleted");
  assert.deepEqual(deleted.items.map((r) => [r.event, r.actor]), [["user_deleted", 41]]);
});

Deno.test("GET /audit pages with a cursor: every row once, in order, no gaps", async () => {
  await using t = await createTestApp();
  hourly(t, 23);
  const user = await auditor(t);
  const all = t.deps.audit.query({ afterSeq: 0, limit: 1000 }).map((r) => r.seq);
  const seen: number[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const result: Page = await page(t, user, `?limit=5${cursor ? `&cursor=${cursor}` : ""}`);
    assert.ok(result.items.length <= 5);
    seen.push(...result.items.map((r) => r.seq));
    cursor = result.nextCursor;
    pages++;
  } while (cursor !== null && pages < 20);
  assert.deepEqual(seen, all);
  assert.equal(pages, Math.ceil(all.length / 5));

  // Paging under a filter, and rows appended while paging appear at the end, once.
  const first = await page(t, user, "?event=product_created&limit=20");
  assert.equal(first.items.length, 20);
  t.deps.audit.append({ event: "product_created", target: "product:late" });
  const rest = await page(t, user, `?event=product_created&limit=20&cursor=${first.nextCursor}`);
  assert.deepEqual(
    [...first.items, ...rest.items].map((r) => r.seq),
    t.deps.audit.query({ event: "product_created", afterSeq: 0, limit: 1000 }).map((r) => r.seq),
  );
  assert.equal(rest.nextCursor, null);
});

Deno.test("GET /audit returns detail as JSON, and a tampered detail raw instead of failing", async () => {
  await using t = await createTestApp();
  const user = await auditor(t);
  const row = t.deps.audit.append({ event: "product_updated", detail: { version: { from: 1, to: 2 } } });
  const before = await page(t, user, "?event=product_updated");
  assert.deepEqual(before.items[0]!.detail, { version: { from: 1, to: 2 } });
  t.db.exec("DROP TRIGGER audit_log_no_update");
  t.db.prepare("UPDATE audit_log SET detail = 'not json' WHERE seq = :seq").run({ seq: row.seq });
  const after = await page(t, user, "?event=product_updated");
  assert.equal(after.items[0]!.detail, "not json");
});

Deno.test("GET /audit needs audit:read: 401 anonymous, 403 (recorded) without it, 200 with a role that has it", async () => {
  await using t = await createTestApp();
  const admin = await t.user("root", ["admin"]);
  const anonymous = await t.request("/audit");
  assert.equal(anonymous.status, 401);
  await problem(anonymous);
  const editor = await t.user("edith", ["editor"]);
  const forbidden = await t.request("/audit", { headers: { Authorization: editor.basic } });
  assert.equal(forbidden.status, 403);
  assert.match(String((await problem(forbidden)).detail), /audit:read/);
  const [denied] = t.deps.audit.query({ event: "authz_fail", afterSeq: 0, limit: 10 });
  assert.equal(denied!.requestId, forbidden.headers.get("X-Request-Id"));
  assert.equal(denied!.path, "/audit");
  const verify = await t.request("/audit/verify", { headers: { Authorization: editor.basic } });
  assert.equal(verify.status, 403);

  const role = await t.json("POST", "/roles", { name: "auditor", permissions: ["audit:read"] }, {
    headers: { Authorization: admin.basic },
  });
  assert.equal(role.status, 201);
  const reader = await t.user("reader", ["auditor"]);
  assert.equal((await t.request("/audit", { headers: { Authorization: reader.basic } })).status, 200);
  assert.equal((await t.request("/audit/verify", { headers: { Authorization: reader.basic } })).status, 200);
});

Deno.test("GET /audit refuses bad parameters with 422 naming the parameter", async () => {
  await using t = await createTestApp();
  const user = await auditor(t);
  const cases: [string, string][] = [
    ["since=yesterday", "since"],
    ["since=2026-02-30", "since"],
    ["until=2026-01-01T12:00", "until"],
    ["since=2026-01-02&until=2026-01-01", "until"],
    ["since=2026-01-01&until=2026-01-01", "until"],
    ["event=login", "event"],
    ["actor=0", "actor"],
    ["actor=abc", "actor"],
    ["limit=0", "limit"],
    ["limit=101", "limit"],
    ["cursor=not-a-cursor", "cursor"],
    ["verbose=1", "verbose"],
  ];
  for (const [query, field] of cases) {
    const res = await t.request(`/audit?${query}`, { headers: { Authorization: user.basic } });
    assert.equal(res.status, 422, query);
    const body = await problem(res);
    assert.ok((body.errors as { path: string }[]).some((e) => e.path === field), `${query}: ${JSON.stringify(body)}`);
  }
  assert.equal(t.deps.audit.query({ event: "input_validation_fail", afterSeq: 0, limit: 100 }).length, cases.length);
});

Deno.test("GET /audit/verify reports an intact chain with its head", async () => {
  await using t = await createTestApp();
  hourly(t, 3);
  const user = await auditor(t);
  const res = await t.request("/audit/verify", { headers: { Authorization: user.basic } });
  assert.equal(res.status, 200);
  const head = t.deps.audit.head()!;
  assert.deepEqual(await res.json(), { ok: true, checked: head.seq, head });
});

Deno.test("GET /audit/verify reports the first bad seq after an edit, and a cut tail", async () => {
  await using t = await createTestApp();
  const seqs = hourly(t, 5);
  const user = await auditor(t);
  t.db.exec("DROP TRIGGER audit_log_no_update");
  t.db.prepare("UPDATE audit_log SET target = 'product:999' WHERE seq = :seq").run({ seq: seqs[2]! });
  const edited = await (await t.request("/audit/verify", { headers: { Authorization: user.basic } })).json();
  assert.deepEqual(edited, {
    ok: false,
    checked: seqs[2]! - 1,
    firstBadSeq: seqs[2],
    reason: "hash does not match the row's contents",
  });

  await using t2 = await createTestApp();
  const seqs2 = hourly(t2, 5);
  const user2 = await auditor(t2);
  t2.db.exec("DROP TRIGGER audit_log_no_delete");
  t2.db.prepare("DELETE FROM audit_log WHERE seq >= :seq").run({ seq: seqs2[3]! });
  const cut = await (await t2.request("/audit/verify", { headers: { Authorization: user2.basic } })).json();
  assert.equal(cut.ok, false, "the server remembers the last row it wrote");
  assert.equal(cut.firstBadSeq, seqs2[3]);
});

Deno.test("GET /audit/verify on a large log lets other requests through, and concurrent calls share one run", async () => {
  await using t = await createTestApp();
  const user = await auditor(t);
  for (let i = 0; i < 5; i++) {
    t.deps.audit.appendMany(
      Array.from({ length: 2000 }, (_, j) => ({ event: "product_created" as const, detail: { j } })),
    );
  }
  let runs = 0;
  const original = t.deps.audit.verifyInChunks.bind(t.deps.audit);
  t.deps.audit.verifyInChunks = (options) => {
    runs++;
    return original(options);
  };
  const finished: string[] = [];
  const auth = { headers: { Authorization: user.basic } };
  const first = t.request("/audit/verify", auth).then(async (r) => (finished.push("verify 1"), await r.json()));
  const second = t.request("/audit/verify", auth).then(async (r) => (finished.push("verify 2"), await r.json()));
  // Sent on the next turn of the event loop: a verification that never yields finishes before it
  // even starts; one that pauses between chunks lets it through.
  const health = new Promise<number>((resolve) =>
    setTimeout(() => resolve(t.request("/health").then((r) => (finished.push("health"), r.status))), 0)
  );
  const [a, b, status] = await Promise.all([first, second, health]);
  assert.equal(status, 200);
  assert.equal(finished[0], "health", `a 10,000-row verification must not hold up /health: ${finished}`);
  assert.equal(runs, 1, "two concurrent requests, one verification");
  assert.deepEqual(a, b);
  assert.equal(a.ok, true);
  assert.ok(a.checked >= 10_000);
});
