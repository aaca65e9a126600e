import assert from "node:assert/strict";
import { getLogger } from "@logtape/logtape";
import { openDatabase } from "../db/database.ts";
import { loadMigrations, migrate } from "../db/migrate.ts";
import { testDatabase } from "../../tests/helpers.ts";
import { captureLogs } from "../../tests/log_capture.ts";
import { AuditLog, parseDetail } from "./audit_log.ts";
import { GENESIS_HASH } from "./hash_chain.ts";

const fixedClock = () => Date.parse("2026-03-01T12:00:00.000Z");

Deno.test("AuditLog.append() chains rows from the genesis hash", async () => {
  const db = await testDatabase();
  const audit = new AuditLog(db, { clock: fixedClock });
  const first = audit.append({ event: "sys_startup", client: "local" });
  const second = audit.append({ event: "product_created", actor: 3, status: 201, target: "product:1" });
  assert.equal(first.seq, 1);
  assert.equal(first.prevHash, GENESIS_HASH);
  assert.equal(second.seq, 2);
  assert.equal(second.prevHash, first.hash);
  assert.equal(first.ts, "2026-03-01T12:00:00.000Z");
  assert.equal(second.level, "info");
  assert.deepEqual(audit.head(), { seq: 2, hash: second.hash });
  assert.deepEqual(audit.verify(), { ok: true, checked: 2, head: { seq: 2, hash: second.hash } });
  db.close();
});

Deno.test("AuditLog.append() gives failures and crashes their default level", async () => {
  const db = await testDatabase();
  const audit = new AuditLog(db);
  assert.equal(audit.append({ event: "authn_login_fail" }).level, "warning");
  assert.equal(audit.append({ event: "authn_login_lock" }).level, "critical");
  assert.equal(audit.append({ event: "sys_crash" }).level, "critical");
  assert.equal(audit.append({ event: "authz_fail", level: "error" }).level, "error");
  db.close();
});

Deno.test("AuditLog.append() stores untrusted text escaped and capped, and the chain still verifies", async () => {
  const db = await testDatabase();
  const audit = new AuditLog(db);
  const row = audit.append({
    event: "authn_login_fail",
    path: `/x\r\n\x1b[31m${"p".repeat(300)}`,
    // An emoji straddling the cap: cut whole, or SQLite would store U+FFFD and break the hash.
    target: `${"t".repeat(255)}😀`,
    detail: { username: "bob\u202Egnp.exe\n", nested: { "k\n": ["\x00"] } },
  });
  const stored = db.prepare("SELECT path, target, detail FROM audit_log WHERE seq = :seq").get<
    { path: string; target: string; detail: string }
  >({ seq: row.seq })!;
  assert.equal(stored.path, row.path);
  assert.ok(stored.path.startsWith("/x\\u{000d}\\u{000a}\\u{001b}[31mppp"));
  assert.ok(stored.path.endsWith("…[53 more]"));
  assert.equal(stored.target, `${"t".repeat(255)}…[2 more]`);
  assert.deepEqual(JSON.parse(stored.detail), {
    nested: { "k\\u{000a}": ["\\u{0000}"] },
    username: "bob\\u{202e}gnp.exe\\u{000a}",
  });
  assert.equal(audit.verify().ok, true);
  db.close();
});

Deno.test("AuditLog.appendMany() writes its rows in one transaction with one timestamp", async () => {
  const db = await testDatabase();
  let ticks = 0;
  const audit = new AuditLog(db, { clock: () => Date.UTC(2026, 0, 1, 0, 0, ticks++) });
  const rows = audit.appendMany([{ event: "authn_login_fail" }, { event: "authn_login_fail_max" }]);
  assert.deepEqual(rows.map((r) => r.seq), [1, 2]);
  assert.equal(rows[0]!.ts, rows[1]!.ts);
  assert.equal(rows[1]!.prevHash, rows[0]!.hash);
  db.close();
});

Deno.test("AuditLog.append() joins the caller's transaction: a rollback leaves neither row nor log line", async () => {
  await using logs = await captureLogs();
  const db = await testDatabase();
  const audit = new AuditLog(db, { logger: getLogger(["secure-api", "audit"]) });
  audit.append({ event: "sys_startup" });
  assert.throws(() =>
    db.tx(() => {
      audit.append({ event: "product_created", target: "product:1" });
      throw new Error("the change failed after its audit row");
    }), /the change failed/);
  assert.deepEqual(audit.query({ afterSeq: 0, limit: 10 }).map((r) => r.event), ["sys_startup"]);
  assert.deepEqual(logs.json().map((l) => (l.properties as { event?: string }).event), ["sys_startup"]);
  // The next row continues the chain where the committed rows end.
  assert.equal(audit.append({ event: "sys_shutdown" }).seq, 2);
  assert.equal(audit.verify().ok, true);
  db.close();
});

Deno.test("AuditLog.append() in a rolled-back savepoint logs no line for a row that never committed", async () => {
  await using logs = await captureLogs();
  const db = await testDatabase();
  const audit = new AuditLog(db, { logger: getLogger(["secure-api", "audit"]) });
  db.tx(() => {
    audit.append({ event: "product_created", target: "product:1" });
    try {
      db.tx(() => {
        audit.append({ event: "product_updated", target: "product:1" });
        throw new Error("inner step failed");
      });
    } catch { /* the outer transaction carries on */ }
  });
  const events = logs.json().map((l) => (l.properties as { audit?: { event: string; seq: number } }).audit);
  assert.deepEqual(events.map((a) => a && [a.event, a.seq]), [["product_created", 1]]);
  assert.deepEqual(audit.query({ afterSeq: 0, limit: 10 }).map((r) => r.event), ["product_created"]);
  db.close();
});

Deno.test("AuditLog writes each committed row as one JSON log line, and the head every headEvery rows", async () => {
  await using logs = await captureLogs();
  const db = await testDatabase();
  const audit = new AuditLog(db, { logger: getLogger(["secure-api", "audit"]), headEvery: 3 });
  for (let i = 0; i < 7; i++) audit.append({ event: "product_created", target: `product:${i}`, detail: { i } });
  const lines = logs.json();
  const heads = lines.flatMap((l) => {
    const head = (l.properties as { auditHead?: { seq: number } }).auditHead;
    return head ? [head.seq] : [];
  });
  assert.deepEqual(heads, [3, 6]);
  const rows = lines.flatMap((l) => {
    const row = (l.properties as { audit?: { seq: number; hash: string; detail: unknown } }).audit;
    return row ? [row] : [];
  });
  assert.deepEqual(rows.map((r) => r.seq), [1, 2, 3, 4, 5, 6, 7]);
  assert.deepEqual(rows[6]!.detail, { i: 6 }, "detail is logged as an object, not a JSON string");
  assert.equal(rows[6]!.hash, audit.head()!.hash);
  for (const line of logs.lines) assert.equal(line.indexOf("\n"), line.length - 1, "one line per record");
  db.close();
});

Deno.test("AuditLog.logHead() writes the current head (null for an empty log)", async () => {
  await using logs = await captureLogs();
  const db = await testDatabase();
  const audit = new AuditLog(db, { logger: getLogger(["secure-api", "audit"]) });
  audit.logHead();
  const row = audit.append({ event: "sys_startup" });
  audit.logHead();
  const heads = logs.json().filter((l) => "auditHead" in (l.properties as object)).map((l) =>
    (l.properties as { auditHead: unknown }).auditHead
  );
  assert.deepEqual(heads, [null, { seq: 1, hash: row.hash }]);
  db.close();
});

Deno.test("AuditLog rows cannot be updated or deleted: the triggers abort, the row is unchanged", async () => {
  const db = await testDatabase();
  const audit = new AuditLog(db);
  const row = audit.append({ event: "user_deleted", target: "user:9" });
  assert.throws(() => db.exec("UPDATE audit_log SET target = 'user:1' WHERE seq = 1"), /audit_log is append-only/);
  assert.throws(() => db.exec("DELETE FROM audit_log WHERE seq = 1"), /audit_log is append-only/);
  assert.throws(() => db.exec("DELETE FROM audit_log"), /audit_log is append-only/);
  // REPLACE deletes without firing DELETE triggers; a dedicated trigger refuses it.
  assert.throws(() => db.exec("INSERT OR REPLACE INTO audit_log SELECT * FROM audit_log"), /append-only/);
  assert.throws(
    () =>
      db.exec(
        "REPLACE INTO audit_log SELECT seq, ts, 'x', level, actor, client, method, path, status, request_id, target, detail, prev_hash, hash FROM audit_log",
      ),
    /append-only/,
  );
  assert.throws(
    () =>
      db.exec("INSERT INTO audit_log SELECT * FROM audit_log WHERE true ON CONFLICT (seq) DO UPDATE SET event = 'x'"),
    /append-only/,
  );
  const [stored] = audit.query({ afterSeq: 0, limit: 10 });
  assert.deepEqual({ ...stored }, { ...row });
  assert.equal(audit.verify().ok, true);
  db.close();
});

Deno.test("AuditLog.verifyInChunks() pauses between chunks and agrees with verify()", async () => {
  const db = await testDatabase();
  const audit = new AuditLog(db);
  for (let i = 0; i < 10; i++) audit.append({ event: "product_created", target: `product:${i}` });
  let pauses = 0;
  const pause = () => {
    pauses++;
    return Promise.resolve();
  };
  assert.deepEqual(await audit.verifyInChunks({ chunkSize: 3, pause }), audit.verify());
  assert.equal(pauses, 3, "10 rows in chunks of 3: pauses after rows 3, 6 and 9");

  db.exec("DROP TRIGGER audit_log_no_update");
  db.exec("UPDATE audit_log SET actor = 5 WHERE seq = 8");
  const chunked = await audit.verifyInChunks({ chunkSize: 3, pause });
  assert.deepEqual(chunked, audit.verify());
  assert.equal(!chunked.ok && chunked.firstBadSeq, 8);
  db.close();
});

Deno.test("AuditLog.verifyInChunks() sees a forged row with seq below 1", async () => {
  const db = await testDatabase();
  const audit = new AuditLog(db);
  const row = audit.append({ event: "sys_startup" });
  db.prepare(
    `INSERT INTO audit_log (seq, ts, event, level, detail, prev_hash, hash)
     VALUES (-1, :ts, 'sys_startup', 'info', '{}', :hash, :hash)`,
  ).run({ ts: row.ts, hash: row.hash });
  const result = await audit.verifyInChunks();
  assert.equal(!result.ok && result.firstBadSeq, -1);
  db.close();
});

Deno.test("AuditLog.verify() catches its own tail being cut while it runs", async () => {
  const db = await testDatabase();
  const audit = new AuditLog(db);
  for (let i = 0; i < 5; i++) audit.append({ event: "product_created", target: `product:${i}` });
  db.exec("DROP TRIGGER audit_log_no_delete");
  db.exec("DELETE FROM audit_log WHERE seq >= 4");
  const result = audit.verify();
  assert.deepEqual(result, {
    ok: false,
    checked: 3,
    firstBadSeq: 4,
    reason: "rows 4..5 are gone: the log recorded a head at seq 5",
  });
  assert.deepEqual(await audit.verifyInChunks(), result);
  // A fresh instance (a restarted server) has no memory of seq 5: only the log's heads can tell.
  assert.equal(new AuditLog(db).verify().ok, true);
  db.close();
});

Deno.test("AuditLog.append() from two instances on one file (server and CLI) extends one chain", async () => {
  const dir = await Deno.makeTempDir({ prefix: "audit-two-writers-" });
  try {
    const path = `${dir}/app.db`;
    const server = openDatabase(path);
    migrate(server, await loadMigrations());
    const cli = openDatabase(path);
    const a = new AuditLog(server);
    const b = new AuditLog(cli);
    for (let i = 0; i < 4; i++) {
      a.append({ event: "product_created", target: `product:${i}` });
      b.append({ event: "user_updated", target: `user:${i}` });
    }
    assert.deepEqual(a.verify(), b.verify());
    assert.deepEqual(a.verify(), { ok: true, checked: 8, head: a.head() });
    server.close();
    cli.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parseDetail() returns the object, or the raw text when it is not JSON", () => {
  assert.deepEqual(parseDetail('{"a":1}'), { a: 1 });
  assert.equal(parseDetail("{tampered"), "{tampered");
});

Deno.test("AuditLog.query() pages in date order, AuditLog.range() in chain order, when the clock went back", async () => {
  const db = await testDatabase();
  const times = ["2026-01-01T10:00:00.000Z", "2026-01-01T12:00:00.000Z", "2026-01-01T11:00:00.000Z"];
  let i = 0;
  const audit = new AuditLog(db, { clock: () => Date.parse(times[i++]!) });
  for (let n = 0; n < 3; n++) audit.append({ event: "product_created", target: `product:${n}` });
  const byDate = audit.query({ afterSeq: 0, limit: 10 }).map((r) => r.seq);
  assert.deepEqual(byDate, [1, 3, 2]);
  assert.deepEqual(
    audit.query({ afterSeq: 3, limit: 10 }).map((r) => r.seq),
    [2],
    "the cursor is a position in date order",
  );
  assert.deepEqual(audit.query({ afterSeq: 99, limit: 10 }), [], "a cursor row that does not exist ends paging");
  assert.deepEqual([...audit.range()].map((r) => r.seq), [1, 2, 3]);
  assert.deepEqual([...audit.range({ since: "2026-01-01T10:30:00.000Z" })].map((r) => r.seq), [2, 3]);
  assert.deepEqual([...audit.range({ until: "2026-01-01T12:00:00.000Z" })].map((r) => r.seq), [1, 3]);
  db.close();
});
