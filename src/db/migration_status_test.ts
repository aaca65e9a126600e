import assert from "node:assert/strict";
import { openDatabase } from "./database.ts";
import { migrate, type Migration } from "./migrate.ts";
import { migrationStatus, pingDatabase } from "./migration_status.ts";

const MIGRATIONS: Migration[] = [
  { version: 1, name: "001_a.sql", sql: "CREATE TABLE a (x INTEGER) STRICT;" },
  { version: 2, name: "002_b.sql", sql: "CREATE TABLE b (x INTEGER) STRICT;" },
];

Deno.test("migrationStatus() names files not applied and files changed since they were applied", () => {
  const db = openDatabase(":memory:");
  try {
    migrate(db, MIGRATIONS.slice(0, 1));
    assert.deepEqual(migrationStatus(db, MIGRATIONS), { pending: ["002_b.sql"], changed: [] });
    migrate(db, MIGRATIONS);
    assert.deepEqual(migrationStatus(db, MIGRATIONS), { pending: [], changed: [] });
    const edited = [MIGRATIONS[0]!, { ...MIGRATIONS[1]!, sql: "CREATE TABLE b (x TEXT) STRICT;" }];
    assert.deepEqual(migrationStatus(db, edited), { pending: [], changed: ["002_b.sql"] });
  } finally {
    db.close();
  }
});

Deno.test("pingDatabase() answers on an open database and throws on a closed one", () => {
  const db = openDatabase(":memory:");
  pingDatabase(db);
  db.close();
  assert.throws(() => pingDatabase(db));
});
