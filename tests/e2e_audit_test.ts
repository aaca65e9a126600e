/**
 * The audit log of a real server process: `sys_startup` and `sys_shutdown`
 * rows across two runs on one database (SIGTERM, then SIGINT), the chain
 * heads on stdout, and `deno task audit:verify --log` over that stdout —
 * intact, then after the tail is cut with `sqlite3`.
 */
import assert from "node:assert/strict";
import { openDatabase } from "../src/db/sqlite/database.ts";
import { sqlite3 } from "./audit_fixture.ts";
import { freePort, jsonLines, projectCopy, type ServerProcess, startServer } from "./e2e_helpers.ts";

function start(dir: string): Promise<ServerProcess> {
  const port = freePort();
  return startServer({
    dir,
    port,
    env: { APP_PORT: String(port) },
    args: ["run", "-P=server", `--allow-net=127.0.0.1:${port}`, "main.ts"],
  });
}

interface Row {
  seq: number;
  event: string;
  client: string | null;
  actor: number | null;
  method: string | null;
  status: number | null;
  detail: string;
  hash: string;
}

function heads(stdout: readonly string[]): { seq: number; hash: string }[] {
  return jsonLines(stdout).flatMap((line) => {
    const head = (line.properties as { auditHead?: { seq: number; hash: string } } | undefined)?.auditHead;
    return head ? [head] : [];
  });
}

async function verifyTask(dir: string, args: string[]): Promise<{ code: number; stdout: string }> {
  const { code, stdout } = await new Deno.Command(Deno.execPath(), {
    args: ["task", "audit:verify", ...args],
    cwd: dir,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code, stdout: new TextDecoder().decode(stdout) };
}

Deno.test("a real server records sys_startup and sys_shutdown, logs its chain heads, and audit:verify checks them", async () => {
  const dir = await projectCopy();
  try {
    const first = await start(dir);
    const login = await fetch(`${first.origin}/auth/me`, {
      client: first.client,
      headers: { Authorization: `Basic ${btoa(`${first.adminUsername}:${first.adminPassword}`)}` },
    });
    assert.equal(login.status, 200);
    await login.body?.cancel();
    // Read-only verification beside the running writer (WAL readers do not block it).
    const live = await verifyTask(dir, []);
    assert.equal(live.code, 0, live.stdout);
    assert.match(live.stdout, /^OK: 3 rows in data\/app\.db/);
    assert.equal(await first.stop("SIGTERM"), 0, first.stderr.join("\n"));

    const second = await start(dir);
    assert.equal(second.adminPassword, null, "the second start reuses the database");
    assert.equal(await second.stop("SIGINT"), 0, second.stderr.join("\n"));

    const db = openDatabase(`${dir}/data/app.db`, { readOnly: true });
    const rows = db.prepare(
      "SELECT seq, event, client, actor, method, status, detail, hash FROM audit_log ORDER BY seq",
    )
      .all<Row>();
    db.close();
    assert.deepEqual(rows.map((r) => r.event), [
      "user_created",
      "sys_startup",
      "authn_login_success",
      "sys_shutdown",
      "sys_startup",
      "sys_shutdown",
    ]);
    const [startup1, shutdown1, shutdown2] = [rows[1]!, rows[3]!, rows[5]!];
    assert.equal(startup1.client, "local");
    assert.equal(startup1.actor, null);
    assert.equal(startup1.method, null);
    const startupDetail = JSON.parse(startup1.detail);
    assert.deepEqual({ ...startupDetail, address: undefined, maxConnections: undefined }, {
      env: "development",
      address: undefined,
      pbkdf2Iterations: 1000,
      rateLimitStore: "memory",
      devCertificate: true,
      maxConnections: undefined,
    });
    assert.match(startupDetail.address, /^127\.0\.0\.1:\d+$/);
    // The connection guard's total cap: 1024, or what the machine's descriptor limit allows (development).
    assert.ok(Number.isInteger(startupDetail.maxConnections) && startupDetail.maxConnections > 0);
    assert.deepEqual(JSON.parse(shutdown1.detail), { signal: "SIGTERM", outcome: "drained" });
    assert.deepEqual(JSON.parse(shutdown2.detail), { signal: "SIGINT", outcome: "drained" });

    // Each run logs the head at start-up (after sys_startup) and at shutdown (after sys_shutdown).
    assert.deepEqual(heads(first.stdout), [{ seq: 2, hash: rows[1]!.hash }, { seq: 4, hash: rows[3]!.hash }]);
    assert.deepEqual(heads(second.stdout), [{ seq: 5, hash: rows[4]!.hash }, { seq: 6, hash: rows[5]!.hash }]);

    await Deno.writeTextFile(`${dir}/data/run1.log`, first.stdout.join("\n"));
    await Deno.writeTextFile(`${dir}/data/run2.log`, second.stdout.join("\n"));
    const intact = await verifyTask(dir, ["--log", "data/run1.log", "--log", "data/run2.log"]);
    assert.equal(intact.code, 0, intact.stdout);
    assert.match(
      intact.stdout,
      /^OK: 6 rows in data\/app\.db; head seq 6 hash [0-9a-f]{64}; \d+ head\(s\) from the log confirmed\n$/,
    );

    await sqlite3(`${dir}/data/app.db`, "DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq >= 5;");
    assert.equal((await verifyTask(dir, [])).code, 0, "without the log, the cut is invisible");
    const cut = await verifyTask(dir, ["--log", "data/run1.log", "--log", "data/run2.log"]);
    assert.equal(cut.code, 1);
    assert.match(cut.stdout, /^BROKEN at seq 5 in data\/app\.db: rows 5\.\.6 are gone/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
