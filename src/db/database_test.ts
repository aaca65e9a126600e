import assert from "node:assert/strict";
import { openDatabase } from "./database.ts";

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
