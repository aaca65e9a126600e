import assert from "node:assert/strict";
import { openDatabase } from "../src/db/sqlite/database.ts";
import { loadMigrations } from "../src/db/migrations.ts";
import { migrate } from "../src/db/sqlite/migrate.ts";
import { createUsersRepo } from "../src/db/sqlite/users_repo.ts";

const HASH = "$pbkdf2-sha256$i=1000$c2FsdA$aGFzaA";
const NOW = "2026-01-01T00:00:00.000Z";

Deno.test("createUsersRepo() never hands a deleted user's id to a new user", async () => {
  const db = openDatabase(":memory:");
  migrate(db, await loadMigrations());
  const users = createUsersRepo(db);
  const a = db.tx(() => users.create("alpha", HASH, NOW));
  const b = db.tx(() => users.create("bravo", HASH, NOW));
  users.delete(b);
  const c = db.tx(() => users.create("charlie", HASH, NOW));
  assert.deepEqual([a, b, c], [1, 2, 3]);
  users.delete(c);
  users.delete(a);
  assert.equal(db.tx(() => users.create("delta", HASH, NOW)), 4);
  db.close();
});

Deno.test("sql/003 starts above the ids the audit log names, so users deleted before it are not reused", async () => {
  const all = await loadMigrations();
  const db = openDatabase(":memory:");
  migrate(db, all.filter((m) => m.version < 3));
  const insert = db.prepare(
    "INSERT INTO users (username, password_hash, created_at, updated_at) VALUES (:u, :h, :n, :n)",
  );
  for (const u of ["alpha", "bravo", "charlie"]) insert.run({ u, h: HASH, n: NOW });
  // Two audit rows naming user 3 (as target, then as actor); their hashes do not matter here.
  const row = db.prepare(
    `INSERT INTO audit_log (seq, ts, event, level, actor, target, detail, prev_hash, hash)
     VALUES (:seq, :ts, :event, 'info', :actor, :target, '{}', :hash, :hash)`,
  );
  const hash = "0".repeat(64);
  row.run({ seq: 1, ts: NOW, event: "user_created", actor: null, target: "user:3", hash });
  row.run({ seq: 2, ts: NOW, event: "authz_change", actor: 3, target: "role:ops", hash });
  db.exec("DELETE FROM users WHERE id = 3");

  migrate(db, all);
  const users = createUsersRepo(db);
  assert.equal(db.tx(() => users.create("delta", HASH, NOW)), 4);
  assert.throws(() => db.exec("DELETE FROM user_id_high_water"), /must keep its row/);
  db.close();
});
