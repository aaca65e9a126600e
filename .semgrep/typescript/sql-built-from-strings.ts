// Fixture for sql-built-from-strings (semgrep --test).
declare const db: { prepare(sql: string): unknown; exec(sql: string): void };
declare const name: string, ms: number, outer: boolean, column: string;

// ruleid: sql-built-from-strings
db.prepare("SELECT * FROM users WHERE name = '" + name + "'");

// ruleid: sql-built-from-strings
db.exec(`PRAGMA busy_timeout = ${ms}`);

// ruleid: sql-built-from-strings
db.exec(outer ? "BEGIN IMMEDIATE" : `SAVEPOINT ${name}`);

function viaVariable() {
  // The finding starts where the SQL is built and ends where it is used.
  // ruleid: sql-built-from-strings
  const sql = "SELECT * FROM products ORDER BY " + column;
  return db.prepare(sql);
}

// ok: sql-built-from-strings
db.prepare("SELECT * FROM users WHERE name = :name");

// ok: sql-built-from-strings
db.exec(`CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY)`);

// ok: sql-built-from-strings
db.exec("PRAGMA foreign_keys = " + "ON");

// ok: sql-built-from-strings
db.exec(outer ? "BEGIN IMMEDIATE" : "SAVEPOINT nested");

// ok: sql-built-from-strings
const match = /^(\d+)$/.exec(name);

declare const sql: { unsafe(text: string): unknown } & ((s: TemplateStringsArray, ...v: unknown[]) => unknown);

function helperRunsIt(sort: string) {
  // ruleid: sql-built-from-strings
  return sql.unsafe(`SELECT * FROM products ORDER BY ${sort}`);
}

// A postgres tagged template binds ${name} as a parameter.
// ok: sql-built-from-strings
sql`SELECT * FROM users WHERE name = ${name}`;
