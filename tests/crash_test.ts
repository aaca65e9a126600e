/**
 * Crash safety of the real server process: concurrent writes, SIGKILL in
 * the middle of them, restart in the same directory. Every write that was
 * acknowledged with a 2xx must be there, the database must pass
 * `PRAGMA integrity_check`, every product must have its `product_created`
 * audit row (they commit in one transaction) and the audit chain must
 * verify.
 *
 * A SIGKILL loses no page-cache data, so this proves the transactional
 * design (commit before the response, change and audit row together) and
 * WAL recovery on restart; survival of power loss comes from
 * `synchronous=FULL` (an fsync per commit), which no process test can show.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { AuditLog } from "../src/audit/audit_log.ts";
import { openDatabase } from "../src/db/sqlite/database.ts";
import { openSQLiteStore } from "../src/db/sqlite/sqlite_store.ts";
import { basicAuth } from "./helpers.ts";
import { freePort, type ServerProcess, startServer } from "./e2e_helpers.ts";

const ADMIN_PASSWORD = "crash-test-root-passphrase";
const EDITOR = { username: "writer", password: "crash-test-author-passphrase" };
const WORKERS = 8;
const ACKS_BEFORE_KILL = 80;

function serve(port: number, dir?: string): Promise<ServerProcess> {
  return startServer({
    port,
    ...(dir ? { dir } : {}),
    args: ["run", "-P=server", `--allow-net=127.0.0.1:${port}`, "main.ts"],
    env: {
      APP_PORT: String(port),
      APP_ADMIN_USERNAME: "crash-admin",
      APP_ADMIN_PASSWORD: ADMIN_PASSWORD,
      APP_RATE_LIMIT_API: "1000000/60",
      APP_RATE_LIMIT_AUTH: "1000/60",
    },
  });
}

async function call(server: ServerProcess, method: string, path: string, auth: string | null, body?: unknown) {
  const headers = new Headers();
  if (auth !== null) headers.set("Authorization", auth);
  if (body !== undefined) headers.set("Content-Type", "application/json");
  const res = await fetch(`${server.origin}${path}`, {
    method,
    client: server.client,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** `sqlite3 <file> <sql>` → its output lines. */
async function sqlite3(file: string, sql: string): Promise<string[]> {
  const { code, stdout, stderr } = await new Deno.Command("sqlite3", { args: [file, sql] }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  return new TextDecoder().decode(stdout).trim().split("\n");
}

Deno.test("after SIGKILL mid-write, every acknowledged write survives, integrity and audit chain hold", async () => {
  const port = freePort();
  const admin = basicAuth("crash-admin", ADMIN_PASSWORD);
  const editor = basicAuth(EDITOR.username, EDITOR.password);
  let server = await serve(port);
  const dir = server.dir;
  const db = `${dir}/data/app.db`;
  const acked = new Map<number, string>();
  let cut = 0;
  try {
    const registered = await call(server, "POST", "/auth/register", null, EDITOR);
    assert.equal(registered.status, 201);
    const promoted = await call(server, "PUT", `/users/${registered.body.id}/roles`, admin, { roles: ["editor"] });
    assert.equal(promoted.status, 200);

    // Writers loop until the server dies under them; the kill comes once enough writes were acknowledged.
    const { promise: enough, resolve: killNow } = Promise.withResolvers<void>();
    const worker = async (w: number) => {
      for (let i = 0;; i++) {
        const name = `crash-${w}-${i}`;
        try {
          const res = await call(server, "POST", "/products", editor, { name, priceCents: i, stock: w });
          assert.equal(res.status, 201, JSON.stringify(res.body));
          acked.set(res.body.id, name);
          if (acked.size >= ACKS_BEFORE_KILL) killNow();
        } catch (error) {
          if (error instanceof assert.AssertionError) throw error;
          cut++; // the connection died with the process: not acknowledged
          return;
        }
      }
    };
    const writers = Array.from({ length: WORKERS }, (_, w) => worker(w));
    await enough;
    server.process.kill("SIGKILL");
    await Promise.all(writers);
    assert.notEqual(await server.stop("SIGKILL"), 0);
  } catch (error) {
    await server.stop("SIGKILL");
    throw error;
  }
  console.log(`${acked.size} writes acknowledged, ${cut} cut off by SIGKILL`);
  assert.ok(acked.size >= ACKS_BEFORE_KILL);
  assert.ok(cut >= 1, "the kill landed while writes were in flight");
  assert.ok(existsSync(`${db}-wal`), "an unclean stop leaves the write-ahead log behind");

  // The crash image itself, read by the sqlite3 CLI from a copy (recovery happens in the copy).
  const image = await Deno.makeTempDir({ prefix: "secure-api-crash-image-" });
  await Deno.copyFile(db, `${image}/app.db`);
  await Deno.copyFile(`${db}-wal`, `${image}/app.db-wal`);
  assert.deepEqual(await sqlite3(`${image}/app.db`, "PRAGMA integrity_check"), ["ok"]);
  const names = new Set(await sqlite3(`${image}/app.db`, "SELECT name FROM products"));
  for (const name of acked.values()) assert.ok(names.has(name), `acknowledged write ${name} is missing`);
  await Deno.remove(image, { recursive: true });

  // Restart in the same directory: the server recovers the WAL and serves every acknowledged write.
  server = await serve(port, dir);
  try {
    for (const [id, name] of acked) {
      const res = await call(server, "GET", `/products/${id}`, editor);
      assert.equal(res.status, 200, `product ${id} after restart`);
      assert.equal(res.body.name, name);
    }
    const verified = await call(server, "GET", "/audit/verify", admin);
    assert.equal(verified.status, 200);
    assert.equal(verified.body.ok, true, JSON.stringify(verified.body));
    assert.equal(await server.stop("SIGTERM"), 0);
  } catch (error) {
    await server.stop("SIGKILL");
    throw error;
  }

  const reopened = openDatabase(db, { readOnly: true });
  try {
    const integrity = reopened.prepare("PRAGMA integrity_check").all<{ integrity_check: string }>();
    assert.deepEqual(integrity.map((row) => row.integrity_check), ["ok"]);
    // No change without its audit row, acknowledged or not: they commit in one transaction.
    const products = reopened.prepare("SELECT id FROM products ORDER BY id").all<{ id: number }>().map((r) => r.id);
    const audited = reopened.prepare(
      "SELECT target FROM audit_log WHERE event = 'product_created' ORDER BY seq",
    ).all<{ target: string }>().map((r) => Number(r.target.replace("product:", "")));
    assert.deepEqual(audited, products);
    {
      await using store = await openSQLiteStore(db, { readOnly: true });
      assert.equal((await new AuditLog(store).verify()).ok, true);
    }
    // The log shows the crash: a second start-up with no shutdown before it.
    const lifecycle = reopened.prepare(
      "SELECT event FROM audit_log WHERE event IN ('sys_startup', 'sys_shutdown', 'sys_crash') ORDER BY seq",
    ).all<{ event: string }>().map((r) => r.event);
    assert.deepEqual(lifecycle, ["sys_startup", "sys_startup", "sys_shutdown"]);
  } finally {
    reopened.close();
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("the server's database runs in WAL mode with synchronous=FULL and a busy timeout", async () => {
  const dir = await Deno.makeTempDir({ prefix: "secure-api-pragmas-" });
  const db = openDatabase(`${dir}/app.db`);
  try {
    const value = (sql: string) => Object.values(db.prepare(sql).get()!)[0];
    assert.equal(value("PRAGMA journal_mode"), "wal");
    assert.equal(value("PRAGMA synchronous"), 2, "FULL: the WAL is fsynced at every commit");
    assert.equal(value("PRAGMA busy_timeout"), 5000);
    assert.equal(value("PRAGMA foreign_keys"), 1);
    assert.equal(value("PRAGMA trusted_schema"), 0);
  } finally {
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
});
