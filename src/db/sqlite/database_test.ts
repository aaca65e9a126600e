import assert from "node:assert/strict";
import { openDatabase } from "./database.ts";

function db() {
  const d = openDatabase(":memory:");
  d.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b INTEGER)");
  return d;
}

Deno.test("Database.prepare() refuses a call with a missing named parameter (node:sqlite would bind NULL)", () => {
  const d = db();
  const insert = d.prepare("INSERT INTO t (a, b) VALUES (:a, :b)");
  assert.throws(() => insert.run({ a: "x" }), /:b is missing/);
  assert.equal(d.prepare("SELECT count(*) AS n FROM t").get<{ n: number }>()!.n, 0);
  insert.run({ a: "x", b: null });
  assert.equal(d.prepare("SELECT count(*) AS n FROM t").get<{ n: number }>()!.n, 1);
});

Deno.test("Database.tx() commits, and rolls back everything when the callback throws", () => {
  const d = db();
  const insert = d.prepare("INSERT INTO t (a, b) VALUES (:a, :b)");
  d.tx(() => insert.run({ a: "kept", b: 1 }));
  assert.throws(() =>
    d.tx(() => {
      insert.run({ a: "lost", b: 2 });
      throw new Error("after the write");
    }), /after the write/);
  assert.deepEqual(d.prepare("SELECT a FROM t").all<{ a: string }>().map((r) => r.a), ["kept"]);
});

Deno.test("Database.tx() nests as savepoints: an inner failure undoes only the inner part", () => {
  const d = db();
  const insert = d.prepare("INSERT INTO t (a, b) VALUES (:a, :b)");
  d.tx(() => {
    insert.run({ a: "outer", b: 1 });
    assert.throws(() =>
      d.tx(() => {
        insert.run({ a: "inner", b: 2 });
        throw new Error("inner");
      })
    );
  });
  assert.deepEqual(d.prepare("SELECT a FROM t").all<{ a: string }>().map((r) => r.a), ["outer"]);
});

Deno.test("Database.tx() savepoints three deep: a failure undoes its own level and those inside it", () => {
  const d = db();
  const insert = d.prepare("INSERT INTO t (a, b) VALUES (:a, :b)");
  d.tx(() => {
    insert.run({ a: "outer", b: 1 });
    d.tx(() => {
      insert.run({ a: "middle", b: 2 });
      assert.throws(() =>
        d.tx(() => {
          insert.run({ a: "inner", b: 3 });
          throw new Error("inner");
        })
      );
      insert.run({ a: "middle again", b: 4 });
    });
    assert.throws(() =>
      d.tx(() => {
        insert.run({ a: "second middle", b: 5 });
        d.tx(() => insert.run({ a: "inside it", b: 6 }));
        throw new Error("second middle");
      })
    );
  });
  assert.deepEqual(d.prepare("SELECT a FROM t ORDER BY b").all<{ a: string }>().map((r) => r.a), [
    "outer",
    "middle",
    "middle again",
  ]);
  assert.equal(d.inTransaction, false);
});

Deno.test("Database.afterCommit() hooks run after commit and are dropped on rollback", () => {
  const d = db();
  const ran: string[] = [];
  d.tx(() => {
    d.afterCommit(() => ran.push("committed"));
    assert.deepEqual(ran, []);
  });
  assert.throws(() =>
    d.tx(() => {
      d.afterCommit(() => ran.push("rolled back"));
      throw new Error("no");
    })
  );
  d.afterCommit(() => ran.push("immediate"));
  assert.deepEqual(ran, ["committed", "immediate"]);
});

Deno.test("Database.tx() refuses an async callback", () => {
  const d = db();
  assert.throws(() => d.tx(() => Promise.resolve(1)), /synchronous/);
  assert.equal(d.inTransaction, false);
});

Deno.test("openDatabase() on a file uses WAL, synchronous=FULL, foreign keys and a busy timeout", async () => {
  const dir = await Deno.makeTempDir();
  const d = openDatabase(`${dir}/x.db`);
  const value = (sql: string) => Object.values(d.prepare(sql).get()!)[0];
  assert.equal(value("PRAGMA journal_mode"), "wal");
  assert.equal(value("PRAGMA synchronous"), 2); // FULL
  assert.equal(value("PRAGMA foreign_keys"), 1);
  assert.equal(value("PRAGMA busy_timeout"), 5000);
  d.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("openDatabase() sets the busy timeout it is given, and refuses one SQLite would read as 0", () => {
  const d = openDatabase(":memory:", { busyTimeoutMs: 250 });
  assert.equal(d.prepare("PRAGMA busy_timeout").get<{ timeout: number }>()!.timeout, 250);
  d.close();
  for (const busyTimeoutMs of [NaN, Infinity, -1, 1.5]) {
    assert.throws(() => openDatabase(":memory:", { busyTimeoutMs }), RangeError, String(busyTimeoutMs));
  }
});

Deno.test("Statement.runValues() binds ?N placeholders in order and insists on the count", () => {
  const db = openDatabase(":memory:");
  db.exec("CREATE TABLE t (a TEXT NOT NULL, b INTEGER, c TEXT) STRICT");
  const insert = db.prepare("INSERT INTO t (a, b, c) VALUES (?1, ?2, ?3)");
  insert.runValues(["x", 2, null]);
  assert.deepEqual({ ...db.prepare("SELECT a, b, c FROM t").get()! }, { a: "x", b: 2, c: null });
  assert.throws(() => insert.runValues(["x", 2]), /expects 3 positional values, got 2/);
  assert.throws(() => insert.runValues(["x", 2, null, 4]), /expects 3 positional values, got 4/);
  assert.throws(() => insert.run({ a: "x" }), /takes its values through runValues/);
  const named = db.prepare("INSERT INTO t (a) VALUES (:a)");
  assert.throws(() => named.runValues(["x"]), /expects 0 positional values/);
  db.close();
});

Deno.test("Database.tx() drops the after-commit hooks of a rolled-back savepoint", () => {
  const db = openDatabase(":memory:");
  const ran: string[] = [];
  db.tx(() => {
    db.afterCommit(() => ran.push("outer"));
    try {
      db.tx(() => {
        db.afterCommit(() => ran.push("inner"));
        throw new Error("inner fails");
      });
    } catch { /* the outer transaction carries on */ }
    db.tx(() => db.afterCommit(() => ran.push("second inner")));
  });
  assert.deepEqual(ran, ["outer", "second inner"]);
  db.close();
});
