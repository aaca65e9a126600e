/**
 * Tamper evidence against an attacker who has the database file and the
 * `sqlite3` shell: they drop the append-only triggers, then edit, delete or
 * truncate. `audit:verify` (run in-process here; end to end through
 * `deno task` in `audit_cli_test.ts`) must name the row.
 */
import assert from "node:assert/strict";
import { chainHash, type StoredRow } from "../src/audit/hash_chain.ts";
import { run as verify } from "../src/cli/audit_verify.ts";
import { openDatabase } from "../src/db/sqlite/database.ts";
import { captureIO, createAuditFile, FULL_ENTRIES, sqlite3 } from "./audit_fixture.ts";
import { captureLogs } from "./log_capture.ts";

/** One way to change each column (SQL on the old value), keeping SQLite's types and CHECKs happy. */
const EDITS: Record<string, string> = {
  seq: "seq + 1000",
  ts: "'2030-01-01T00:00:00.000Z'",
  event: "event || 'x'",
  level: "'debug'",
  actor: "actor + 1",
  client: "client || 'x'",
  method: "lower(method)",
  path: "path || '/'",
  status: "status + 1",
  request_id: "request_id || 'x'",
  target: "target || 'x'",
  detail: `'{"forged":true}'`,
  prev_hash: "(CASE substr(prev_hash, 1, 1) WHEN '0' THEN '1' ELSE '0' END) || substr(prev_hash, 2)",
  hash: "(CASE substr(hash, 1, 1) WHEN '0' THEN '1' ELSE '0' END) || substr(hash, 2)",
};

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "audit-tamper-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function verdict(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = captureIO();
  const code = await verify(args, io);
  return { code, out: io.out, err: io.err };
}

Deno.test("audit:verify accepts an untouched chain with exit 0 and one OK line", async () => {
  await withDir(async (dir) => {
    await createAuditFile(`${dir}/app.db`);
    const { code, out, err } = await verdict(["--db", `${dir}/app.db`]);
    assert.equal(code, 0, err);
    assert.match(out, /^OK: 4 rows in .*app\.db; head seq 4 hash [0-9a-f]{64}\n$/);
  });
});

Deno.test("audit:verify names the row when any field of any row is edited with sqlite3", async () => {
  await withDir(async (dir) => {
    const original = `${dir}/original.db`;
    await createAuditFile(original);
    const columns = (await sqlite3(original, "SELECT name FROM pragma_table_info('audit_log') ORDER BY cid"))
      .trim().split("\n");
    assert.deepEqual(columns.toSorted(), Object.keys(EDITS).toSorted(), "every column has an edit to try");
    const nullable = (await sqlite3(original, "SELECT name FROM pragma_table_info('audit_log') WHERE \"notnull\" = 0"))
      .trim().split("\n").filter((name) => name !== "seq");
    assert.deepEqual(nullable.toSorted(), ["actor", "client", "method", "path", "request_id", "status", "target"]);

    const edits = [
      ...Object.entries(EDITS),
      ...nullable.map((column) => [column, "NULL"] as const),
    ];
    let tried = 0;
    for (let seq = 1; seq <= FULL_ENTRIES.length; seq++) {
      for (const [column, value] of edits) {
        const copy = `${dir}/edit-${seq}-${column}-${value === "NULL" ? "null" : "value"}.db`;
        await Deno.copyFile(original, copy);
        const changed = await sqlite3(
          copy,
          `DROP TRIGGER audit_log_no_update; UPDATE audit_log SET ${column} = ${value} WHERE seq = ${seq}; SELECT changes();`,
        );
        assert.equal(changed, "1\n", `the edit of ${column} on row ${seq} took effect`);
        const { code, out } = await verdict(["--db", copy]);
        assert.equal(code, 1, `${column} = ${value} on row ${seq} went unnoticed: ${out}`);
        assert.match(out, new RegExp(`^BROKEN at seq ${seq} `), `${column} = ${value} on row ${seq}: ${out}`);
        await Deno.remove(copy);
        tried++;
      }
    }
    assert.equal(tried, FULL_ENTRIES.length * (14 + 7));
  });
});

Deno.test("audit:verify reports a middle row deleted with sqlite3", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/app.db`;
    await createAuditFile(path);
    await assert.rejects(sqlite3(path, "DELETE FROM audit_log WHERE seq = 2"), /append-only/);
    await sqlite3(path, "DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq = 2;");
    const { code, out } = await verdict(["--db", path]);
    assert.equal(code, 1);
    assert.equal(out, `BROKEN at seq 2 in ${path}: row 2 is missing (1 row before it verified)\n`);
  });
});

Deno.test("audit:verify --log detects a deleted tail against the heads the server logged", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/app.db`;
    const logFile = `${dir}/app.log`;
    {
      await using logs = await captureLogs();
      await createAuditFile(path, { log: true });
      await Deno.writeTextFile(logFile, logs.lines.join(""));
    }
    await sqlite3(path, "DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq >= 3;");

    const alone = await verdict(["--db", path]);
    assert.equal(alone.code, 0, "the database alone cannot show a cut tail");
    assert.match(alone.out, /^OK: 2 rows/);

    const withLog = await verdict(["--db", path, "--log", logFile]);
    assert.equal(withLog.code, 1);
    assert.equal(
      withLog.out,
      `BROKEN at seq 3 in ${path}: rows 3..4 are gone: the log recorded a head at seq 4 (2 rows before it verified)\n`,
    );

    // The head lines alone (start-up, every 1,000 events, shutdown) are enough.
    const headLines = (await Deno.readTextFile(logFile)).split("\n").filter((l) => l.includes('"auditHead"'));
    assert.equal(headLines.length, 2);
    const viaStdin = captureIO({ stdin: headLines.join("\n") });
    assert.equal(await verify(["--db", path, "--log", "-"], viaStdin), 1);
    assert.match(viaStdin.out, /^BROKEN at seq 3 .*rows 3\.\.4 are gone/);
  });
});

Deno.test("audit:verify --log catches a rewritten and fully re-hashed chain that verifies on its own", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/app.db`;
    const logFile = `${dir}/app.log`;
    {
      await using logs = await captureLogs();
      await createAuditFile(path, { log: true });
      await Deno.writeTextFile(logFile, logs.lines.join(""));
    }
    // The attacker edits row 2 and recomputes every hash after it (SHA-256 is public, not keyed).
    const db = openDatabase(path);
    db.exec("DROP TRIGGER audit_log_no_update");
    const rows = db.prepare(
      `SELECT seq, ts, event, level, actor, client, method, path, status, request_id AS requestId, target,
         detail, prev_hash AS prevHash, hash FROM audit_log ORDER BY seq`,
    ).all<StoredRow>();
    const rewrite = db.prepare(
      "UPDATE audit_log SET actor = :actor, prev_hash = :prevHash, hash = :hash WHERE seq = :seq",
    );
    let prevHash = rows[0]!.hash;
    for (const row of rows.slice(1)) {
      const actor = row.seq === 2 ? 99 : row.actor;
      const hash = chainHash(prevHash, { ...row, actor });
      rewrite.run({ seq: row.seq, actor, prevHash, hash });
      prevHash = hash;
    }
    db.close();

    assert.equal((await verdict(["--db", path])).code, 0, "a re-hashed chain is self-consistent");
    const withLog = await verdict(["--db", path, "--log", logFile]);
    assert.equal(withLog.code, 1);
    assert.match(withLog.out, /^BROKEN at seq 2 .*row differs from the head recorded in the log/);
  });
});

Deno.test("audit:verify refuses bad usage with exit 2 and one line", async () => {
  await withDir(async (dir) => {
    await createAuditFile(`${dir}/app.db`);
    await Deno.writeTextFile(`${dir}/pretty.log`, "2026-01-01 INF secure-api: listening\n");
    await sqlite3(`${dir}/empty.db`, "CREATE TABLE unrelated (x)");
    const cases: [string[], RegExp][] = [
      [["--bogus"], /^audit:verify: Unknown option '--bogus' \(see --help\)\n$/],
      [["--db"], /argument missing/],
      [["extra"], /Unexpected argument 'extra'/],
      [["--db", `${dir}/missing.db`], /missing\.db does not exist\n$/],
      [["--db", `${dir}/app.db`, "--log", `${dir}/pretty.log`], /no chain heads in .*pretty\.log \(1 lines\)/],
      [["--db", `${dir}/app.db`, "--log", `${dir}/absent.log`], /absent\.log does not exist/],
      [["--db", ":memory:"], /is not a database file/],
      [["--db", `${dir}/pretty.log`], /pretty\.log has no usable audit_log table|cannot read .*pretty\.log/],
      [["--db", `${dir}/empty.db`], /empty\.db has no usable audit_log table: no such table: audit_log/],
    ];
    for (const [args, message] of cases) {
      const { code, out, err } = await verdict(args);
      assert.equal(code, 2, args.join(" "));
      assert.equal(out, "");
      assert.match(err, message);
      assert.equal(err.split("\n").length, 2, "one line");
    }
    const help = await verdict(["--help"]);
    assert.equal(help.code, 0);
    assert.match(help.out, /^Usage: deno task audit:verify/);
  });
});

Deno.test("audit:verify defaults to APP_DB", async () => {
  await withDir(async (dir) => {
    await createAuditFile(`${dir}/env.db`);
    const io = captureIO({ env: { APP_DB: `${dir}/env.db` } });
    assert.equal(await verify([], io), 0);
    assert.match(io.out, /env\.db/);
  });
});
