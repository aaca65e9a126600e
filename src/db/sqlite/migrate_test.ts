import assert from "node:assert/strict";
import { openDatabase } from "./database.ts";
import { createHash } from "node:crypto";
import { loadMigrations, type Migration, MigrationError } from "../migrations.ts";
import { ACCEPTED_EARLIER_CHECKSUMS, migrate, migrationStatus } from "./migrate.ts";

const tables = (db: ReturnType<typeof openDatabase>) =>
  db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all<{ name: string }>()
    .map((r) => r.name);

Deno.test("migrate() applies the project's migrations in order, once", async () => {
  const db = openDatabase(":memory:");
  const migrations = await loadMigrations();
  assert.deepEqual(migrations.map((m) => m.version), [...migrations.map((m) => m.version)].sort((a, b) => a - b));
  assert.deepEqual(migrate(db, migrations), migrations.map((m) => m.name));
  assert.deepEqual(migrate(db, migrations), []);
  const recorded = db.prepare("SELECT name FROM schema_migrations ORDER BY version").all<{ name: string }>();
  assert.deepEqual(recorded.map((r) => r.name), migrations.map((m) => m.name));
});

Deno.test("migrate() on an already migrated file applies nothing again", async () => {
  const dir = await Deno.makeTempDir();
  const migrations = await loadMigrations();
  const first = openDatabase(`${dir}/app.db`);
  assert.equal(migrate(first, migrations).length, migrations.length);
  first.prepare("INSERT INTO permissions (name, description) VALUES ('x:y', 'kept')").run();
  first.close();
  const second = openDatabase(`${dir}/app.db`);
  assert.deepEqual(migrate(second, migrations), []);
  assert.equal(second.prepare("SELECT count(*) AS n FROM permissions").get<{ n: number }>()!.n, 1);
  second.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("migrate() leaves the database exactly as it was when a migration fails", () => {
  const db = openDatabase(":memory:");
  const good: Migration = { version: 1, name: "001_good.sql", sql: "CREATE TABLE a (id INTEGER);" };
  const bad: Migration = {
    version: 2,
    name: "002_bad.sql",
    sql: "CREATE TABLE b (id INTEGER); INSERT INTO a VALUES (1); THIS IS NOT SQL;",
  };
  migrate(db, [good]);
  assert.throws(() => migrate(db, [good, bad]), (error: unknown) => {
    assert.ok(error instanceof MigrationError);
    assert.match(error.message, /002_bad\.sql failed/);
    return true;
  });
  assert.deepEqual(tables(db), ["a", "schema_migrations"]);
  assert.equal(db.prepare("SELECT count(*) AS n FROM a").get<{ n: number }>()!.n, 0);
  assert.equal(db.prepare("SELECT count(*) AS n FROM schema_migrations").get<{ n: number }>()!.n, 1);
});

Deno.test("migrate() refuses an applied migration that was edited afterwards", () => {
  const db = openDatabase(":memory:");
  migrate(db, [{ version: 1, name: "001_a.sql", sql: "CREATE TABLE a (id INTEGER);" }]);
  assert.throws(
    () => migrate(db, [{ version: 1, name: "001_a.sql", sql: "CREATE TABLE a (id TEXT);" }]),
    /was changed after it was applied/,
  );
});

Deno.test("migrate() accepts a reviewed earlier text of an applied migration, and no other edit", () => {
  const first = { version: 1, name: "001_a.sql", sql: "-- a first comment\nCREATE TABLE a (id INTEGER);" };
  const reworded = { ...first, sql: "-- a better comment\nCREATE TABLE a (id INTEGER);" };
  const changed = { ...first, sql: "-- a better comment\nCREATE TABLE a (id TEXT);" };
  const sha = (text: string) => createHash("sha256").update(text).digest("hex");
  const acceptedEarlier = { 1: { [sha(reworded.sql)]: [sha(first.sql)] } };
  const db = openDatabase(":memory:");
  migrate(db, [first]);
  assert.deepEqual(migrate(db, [reworded], { acceptedEarlier }), []);
  assert.throws(() => migrate(db, [changed], { acceptedEarlier }), /001_a\.sql was changed after it was applied/);
  assert.throws(() => migrate(db, [reworded]), /was changed after it was applied/, "only when listed");
  db.close();
});

Deno.test("ACCEPTED_EARLIER_CHECKSUMS pairs each earlier text with the migration file exactly as it is now", async () => {
  const sha = (text: string) => createHash("sha256").update(text).digest("hex");
  const migrations = new Map((await loadMigrations()).map((m) => [m.version, m]));
  for (const [version, byCurrent] of Object.entries(ACCEPTED_EARLIER_CHECKSUMS)) {
    const migration = migrations.get(Number(version));
    assert.ok(migration, `no migration ${version}`);
    assert.deepEqual(Object.keys(byCurrent), [sha(migration.sql)], `${migration.name} changed since it was reviewed`);
    for (const sum of Object.values(byCurrent).flat()) assert.match(sum, /^[0-9a-f]{64}$/);
  }
});

Deno.test("loadMigrations() refuses two files with one version", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/001_a.sql`, "SELECT 1;");
  await Deno.writeTextFile(`${dir}/001_b.sql`, "SELECT 1;");
  await assert.rejects(loadMigrations(new URL(`file://${dir}/`)), /share version 1/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("migrate() creates an audit_log table that refuses UPDATE and DELETE", async () => {
  const db = openDatabase(":memory:");
  migrate(db, await loadMigrations());
  db.prepare(
    `INSERT INTO audit_log (seq, ts, event, level, prev_hash, hash)
     VALUES (1, 'now', 'sys_startup', 'info', :h, :h)`,
  ).run({ h: "0".repeat(64) });
  assert.throws(() => db.exec("UPDATE audit_log SET event = 'x'"), /append-only/);
  assert.throws(() => db.exec("DELETE FROM audit_log"), /append-only/);
});

Deno.test("migrationStatus() names files not applied and files changed since they were applied", () => {
  const migrations: Migration[] = [
    { version: 1, name: "001_a.sql", sql: "CREATE TABLE a (x INTEGER) STRICT;" },
    { version: 2, name: "002_b.sql", sql: "CREATE TABLE b (x INTEGER) STRICT;" },
  ];
  const db = openDatabase(":memory:");
  try {
    migrate(db, migrations.slice(0, 1));
    assert.deepEqual(migrationStatus(db, migrations), { applied: ["001_a.sql"], pending: ["002_b.sql"], changed: [] });
    migrate(db, migrations);
    assert.deepEqual(migrationStatus(db, migrations), {
      applied: ["001_a.sql", "002_b.sql"],
      pending: [],
      changed: [],
    });
    const edited = [migrations[0]!, { ...migrations[1]!, sql: "CREATE TABLE b (x TEXT) STRICT;" }];
    assert.deepEqual(migrationStatus(db, edited).changed, ["002_b.sql"]);
    // A reviewed earlier text is not a change, exactly as for migrate().
    const sum = (sql: string) => createHash("sha256").update(sql).digest("hex");
    const reviewed = { 2: { [sum(edited[1]!.sql)]: [sum(migrations[1]!.sql)] } };
    assert.deepEqual(migrationStatus(db, edited, reviewed).changed, []);
  } finally {
    db.close();
  }
});
