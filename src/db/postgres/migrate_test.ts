/**
 * The PostgreSQL schema and its migrator on a real server: concurrent
 * instances never race, the application role holds only its grants (so the
 * audit log is append-only even without its triggers), and the schema keeps
 * the SQLite schema's promises (case-insensitive names, ids never reused,
 * the authorization generation).
 */
import assert from "node:assert/strict";
import type postgres from "postgres";
import { type TestDatabase, usePostgres } from "../../../tests/postgres_helpers.ts";
import { type Migration, MigrationError } from "../migrations.ts";
import { connectPostgres } from "./connect.ts";
import { appendOnlyWarnings, loadPostgresMigrations, migratePostgres, type PostgresMigrateOptions } from "./migrate.ts";
import { parseDatabaseUrl } from "./url.ts";

const pg = usePostgres();
const HASH = `$pbkdf2-sha256$i=1000$${"a".repeat(22)}$${"b".repeat(43)}`;
const NOW = "2026-01-01T00:00:00.000Z";

async function open(url: string): Promise<postgres.Sql> {
  return await connectPostgres(parseDatabaseUrl(url), { max: 3, statementTimeoutMs: 20_000 });
}

/** Runs `fn` with pools as the owner and as the application role on `db`, then closes them. */
async function asRoles<T>(
  db: TestDatabase,
  fn: (owner: postgres.Sql, app: postgres.Sql) => Promise<T>,
): Promise<T> {
  const owner = await open(db.ownerUrl);
  const app = await open(db.appUrl);
  try {
    return await fn(owner, app);
  } finally {
    await Promise.all([owner.end({ timeout: 1 }), app.end({ timeout: 1 })]);
  }
}

async function migrate(url: string, options: PostgresMigrateOptions = {}, migrations?: readonly Migration[]) {
  const sql = await open(url);
  try {
    return await migratePostgres(sql, migrations ?? await loadPostgresMigrations(), options);
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** A fresh database with the schema, migrated as the owner with the application role granted. */
async function migratedDatabase(): Promise<TestDatabase> {
  const db = await pg().createDatabase();
  await migrate(db.ownerUrl, { appRole: pg().app.name });
  return db;
}

/** The SQLSTATE of the error `promise` rejects with. */
async function sqlState(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(() => null, (e: { code?: string }) => e);
  assert.ok(error, "expected the statement to be refused");
  return String(error.code);
}

Deno.test("migratePostgres() applies every file once, in order, with its checksum; a second run applies none", async () => {
  const db = await pg().createDatabase();
  const migrations = await loadPostgresMigrations();
  assert.deepEqual(migrations.map((m) => m.name), [
    "001_core.sql",
    "002_audit_log.sql",
    "003_user_ids_never_reused.sql",
    "004_authz_generation.sql",
    "005_app_role_grants.sql",
    "006_must_change_password.sql",
  ]);
  const first = await migrate(db.ownerUrl, { appRole: pg().app.name });
  assert.deepEqual(first, { applied: migrations.map((m) => m.name), warnings: [] });
  const second = await migrate(db.ownerUrl, { appRole: pg().app.name });
  assert.deepEqual(second, { applied: [], warnings: [] });
  await asRoles(db, async (owner) => {
    const rows = await owner`SELECT version, name, length(checksum) AS n FROM schema_migrations ORDER BY version`;
    assert.deepEqual(rows.map((r) => [r.version, r.name, r.n]), migrations.map((m) => [m.version, m.name, 64]));
  });
});

Deno.test("five instances migrating one fresh database at once: each file applied by exactly one, none fails", async () => {
  const migrations = await loadPostgresMigrations();
  for (let round = 1; round <= 3; round++) {
    const db = await pg().createDatabase();
    const pools = await Promise.all(Array.from({ length: 5 }, () => open(db.ownerUrl)));
    try {
      const results = await Promise.allSettled(
        pools.map((sql) => migratePostgres(sql, migrations, { appRole: pg().app.name })),
      );
      const failed = results.filter((r) => r.status === "rejected").map((r) => String(r.reason));
      assert.deepEqual(failed, [], `round ${round}`);
      const applied = results.flatMap((r) => r.status === "fulfilled" ? r.value.applied : []);
      assert.deepEqual(applied.sort(), migrations.map((m) => m.name), `round ${round}: each once`);
      const [count] = await pools[0]!`SELECT count(*) AS n FROM schema_migrations`;
      assert.equal(count!.n, migrations.length);
    } finally {
      await Promise.all(pools.map((sql) => sql.end({ timeout: 1 })));
    }
  }
});

Deno.test("a failing migration leaves no trace; an applied one edited later stops the start", async () => {
  const db = await pg().createDatabase();
  const good: Migration = { version: 1, name: "001_good.sql", sql: "CREATE TABLE a (id integer);" };
  const bad: Migration = {
    version: 2,
    name: "002_bad.sql",
    sql: "CREATE TABLE b (id integer); INSERT INTO a VALUES (1); THIS IS NOT SQL;",
  };
  await migrate(db.ownerUrl, {}, [good]);
  await assert.rejects(migrate(db.ownerUrl, {}, [good, bad]), (error: unknown) => {
    assert.ok(error instanceof MigrationError);
    assert.match(error.message, /^002_bad\.sql failed: syntax error/);
    return true;
  });
  await asRoles(db, async (owner) => {
    const tables = await owner`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`;
    assert.deepEqual(tables.map((t) => t.tablename), ["a", "schema_migrations"]);
    assert.equal((await owner`SELECT count(*) AS n FROM a`)[0]!.n, 0);
  });
  await assert.rejects(
    migrate(db.ownerUrl, {}, [{ ...good, sql: "CREATE TABLE a (id text);" }]),
    /001_good\.sql was changed after it was applied/,
  );
});

Deno.test("audit_log: the application role may SELECT and INSERT, and nothing else", async () => {
  const db = await migratedDatabase();
  await asRoles(db, async (_owner, app) => {
    await app`INSERT INTO audit_log (seq, ts, event, level, prev_hash, hash)
      VALUES (1, ${NOW}, 'sys_startup', 'info', ${"0".repeat(64)}, ${"1".repeat(64)})`;
    assert.equal((await app`SELECT count(*) AS n FROM audit_log`)[0]!.n, 1);
    // Refused by the grants, before any trigger runs (42501: insufficient_privilege).
    assert.equal(await sqlState(app`UPDATE audit_log SET event = 'x'`), "42501");
    assert.equal(await sqlState(app`DELETE FROM audit_log`), "42501");
    assert.equal(await sqlState(app`TRUNCATE audit_log`), "42501");
    assert.equal(await sqlState(app`ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update`), "42501");
    assert.equal(await sqlState(app`DROP TRIGGER audit_log_no_delete ON audit_log`), "42501");
    assert.equal(
      await sqlState(app`INSERT INTO audit_log (seq, ts, event, level, prev_hash, hash)
        VALUES (1, ${NOW}, 'x', 'info', ${"0".repeat(64)}, ${"2".repeat(64)})
        ON CONFLICT (seq) DO UPDATE SET event = 'x'`),
      "42501",
    );
  });
});

Deno.test("audit_log: the triggers refuse UPDATE, DELETE and TRUNCATE even to the owner", async () => {
  const db = await migratedDatabase();
  await asRoles(db, async (owner) => {
    await owner`INSERT INTO audit_log (seq, ts, event, level, prev_hash, hash)
      VALUES (1, ${NOW}, 'sys_startup', 'info', ${"0".repeat(64)}, ${"1".repeat(64)})`;
    for (
      const attempt of [
        owner`UPDATE audit_log SET event = 'x'`,
        owner`DELETE FROM audit_log`,
        owner`TRUNCATE audit_log`,
      ]
    ) {
      await assert.rejects(attempt, /audit_log is append-only/);
    }
    // Statement-level: an UPDATE that matches nothing is refused too.
    await assert.rejects(owner`UPDATE audit_log SET event = 'x' WHERE seq = 999`, /append-only/);
    assert.equal((await owner`SELECT event FROM audit_log`)[0]!.event, "sys_startup");
  });
});

Deno.test("the application role can run no DDL and cannot touch the generation or the id sequence", async () => {
  const db = await migratedDatabase();
  await asRoles(db, async (_owner, app) => {
    assert.equal(await sqlState(app`CREATE TABLE evil (id integer)`), "42501");
    assert.equal(await sqlState(app`CREATE TEMP TABLE evil (id integer)`), "42501");
    assert.equal(await sqlState(app`CREATE SCHEMA evil`), "42501");
    assert.equal(await sqlState(app`ALTER TABLE users ADD COLUMN evil text`), "42501");
    assert.equal(await sqlState(app`UPDATE authz_generation SET value = 0`), "42501");
    assert.equal(await sqlState(app`UPDATE schema_migrations SET checksum = 'x'`), "42501");
    assert.equal(await sqlState(app`SELECT setval(pg_get_serial_sequence('users', 'id'), 1)`), "42501");
    assert.equal(await sqlState(app`SELECT secure_api_grant_app_role(current_user)`), "42501");
    // What it needs works, including the SECURITY DEFINER triggers behind an insert.
    const [user] = await app`INSERT INTO users (username, password_hash, created_at, updated_at)
      VALUES ('alice', ${HASH}, ${NOW}, ${NOW}) RETURNING id`;
    await app`INSERT INTO products (name, price_cents, stock, owner_id, created_at, updated_at)
      VALUES ('lamp', 100, 1, ${user!.id}, ${NOW}, ${NOW})`;
    await app`INSERT INTO tokens (hash, user_id, created_at, last_used_at, expires_at)
      VALUES (${"c".repeat(64)}, ${user!.id}, 1, 1, 2)`;
    assert.equal(typeof user!.id, "number");
  });
});

Deno.test("the grants are re-asserted on every start: a privilege granted by hand is taken back", async () => {
  const db = await migratedDatabase();
  await asRoles(db, async (owner, app) => {
    await owner`GRANT UPDATE, DELETE, TRUNCATE ON audit_log TO ${owner(pg().app.name)}`;
    const drifted = await migrate(db.ownerUrl, {});
    assert.match(drifted.warnings.join(), /owns the schema/, "run as the owner with no app role: warned");
    assert.equal(await sqlState(app`DELETE FROM audit_log WHERE seq = 0`), "P0001", "now only the trigger stops it");
    const result = await migrate(db.ownerUrl, { appRole: pg().app.name });
    assert.deepEqual(result, { applied: [], warnings: [] });
    assert.equal(await sqlState(app`DELETE FROM audit_log WHERE seq = 0`), "42501");
  });
});

Deno.test("a role name with quotes, dots and spaces is granted safely, as one identifier", async () => {
  const db = await pg().createDatabase();
  const name = `app".role; DROP TABLE users; --`;
  const password = "pw-for-the-odd-role";
  // CREATE ROLE takes no bind parameters; the hostile name is the test subject, quoted by hand.
  await pg().admin.unsafe(`CREATE ROLE "${name.replaceAll('"', '""')}" LOGIN PASSWORD '${password}'`); // nosemgrep: sql-built-from-strings
  try {
    const result = await migrate(db.ownerUrl, { appRole: name });
    assert.deepEqual(result.warnings, []);
    const url = pg().url({ name, password }, db.name);
    const odd = await open(url);
    try {
      assert.equal((await odd`SELECT current_user AS u`)[0]!.u, name);
      assert.equal((await odd`SELECT count(*) AS n FROM users`)[0]!.n, 0, "users still exists, and is readable");
      assert.equal(await sqlState(odd`DELETE FROM audit_log`), "42501");
    } finally {
      await odd.end({ timeout: 1 });
    }
  } finally {
    // cleanup of the hostile role, quoted by hand; CREATE/DROP ROLE take no bind parameters.
    await pg().admin.unsafe(`DROP OWNED BY "${name.replaceAll('"', '""')}"; DROP ROLE "${name.replaceAll('"', '""')}"`) // nosemgrep: sql-built-from-strings
      .catch(() => {});
  }
});

Deno.test("migrating as the application role alone warns that append-only rests on triggers alone", async () => {
  const db = await pg().createDatabase();
  // The owner role stands in for an application that was given only APP_DATABASE_URL.
  const result = await migrate(db.ownerUrl);
  assert.equal(result.warnings.length, 1);
  assert.match(result.warnings[0]!, /^the application role secure_api_owner owns the schema/);
  assert.match(result.warnings[0]!, /rests on its triggers alone/);
  // Naming the migrating role as the application role is the same situation.
  assert.deepEqual((await migrate(db.ownerUrl, { appRole: pg().owner.name })).warnings, result.warnings);
});

Deno.test("a superuser application role is warned about", async () => {
  const db = await migratedDatabase();
  await asRoles(db, async (owner) => {
    const warnings = await appendOnlyWarnings(owner, pg().superuser.name);
    assert.match(warnings.join(), /is a superuser: it can switch the audit log's triggers off/);
  });
});

Deno.test("usernames are unique case-insensitively and keep their shape", async () => {
  const db = await migratedDatabase();
  await asRoles(db, async (_owner, app) => {
    const insert = (name: string) =>
      app`INSERT INTO users (username, password_hash, created_at, updated_at) VALUES (${name}, ${HASH}, ${NOW}, ${NOW})`;
    await insert("Alice");
    assert.equal(await sqlState(insert("alice")), "23505");
    assert.equal(await sqlState(insert("ALICE")), "23505");
    assert.equal(await sqlState(insert("al ice")), "23514");
    assert.equal(await sqlState(insert("ab")), "23514");
    assert.equal(await sqlState(insert("ålice")), "23514");
    const [found] = await app`SELECT username FROM users WHERE lower(username) = lower(${"aLiCe"})`;
    assert.equal(found!.username, "Alice");
  });
});

Deno.test("user and product ids of deleted rows are never handed out again", async () => {
  const db = await migratedDatabase();
  await asRoles(db, async (owner, app) => {
    const addUser = async (name: string) =>
      (await app`INSERT INTO users (username, password_hash, created_at, updated_at)
        VALUES (${name}, ${HASH}, ${NOW}, ${NOW}) RETURNING id`)[0]!.id as number;
    const a = await addUser("first");
    const b = await addUser("second");
    await app`DELETE FROM users WHERE id = ${b}`;
    assert.equal(await addUser("third"), b + 1, "the deleted highest id is not reused");
    // An explicit id (an import) raises the mark, so the sequence never reaches it later.
    await owner`INSERT INTO users (id, username, password_hash, created_at, updated_at)
      OVERRIDING SYSTEM VALUE VALUES (100, 'imported', ${HASH}, ${NOW}, ${NOW})`;
    await app`DELETE FROM users WHERE id = 100`;
    assert.equal(await addUser("fourth"), 101);
    assert.equal(
      await sqlState(app`INSERT INTO users (id, username, password_hash, created_at, updated_at)
      VALUES (${a}, 'explicit', ${HASH}, ${NOW}, ${NOW})`),
      "428C9",
      "GENERATED ALWAYS refuses an explicit id",
    );

    const addProduct = async () =>
      (await app`INSERT INTO products (name, price_cents, stock, created_at, updated_at)
        VALUES ('p', 1, 1, ${NOW}, ${NOW}) RETURNING id`)[0]!.id as number;
    const p1 = await addProduct();
    await app`DELETE FROM products WHERE id = ${p1}`;
    assert.equal(await addProduct(), p1 + 1);
  });
});

Deno.test("every change a principal depends on bumps the authorization generation; nothing else does", async () => {
  const db = await migratedDatabase();
  await asRoles(db, async (_owner, app) => {
    const generation = async () => (await app`SELECT value FROM authz_generation`)[0]!.value as number;
    await app`INSERT INTO permissions (name, description) VALUES ('products:read', 'read'), ('products:write', 'write')`;
    await app`INSERT INTO roles (name, created_at, updated_at) VALUES ('viewer', ${NOW}, ${NOW}), ('editor', ${NOW}, ${NOW})`;
    const [user] = await app`INSERT INTO users (username, password_hash, created_at, updated_at)
      VALUES ('bob', ${HASH}, ${NOW}, ${NOW}) RETURNING id`;
    const id = user!.id as number;
    const bumps: [string, () => Promise<unknown>][] = [
      ["insert user", () =>
        app`INSERT INTO users (username, password_hash, created_at, updated_at)
        VALUES ('carol', ${HASH}, ${NOW}, ${NOW})`],
      ["rename user", () => app`UPDATE users SET username = 'Bob' WHERE id = ${id}`],
      ["change password", () => app`UPDATE users SET password_hash = ${HASH + "x"} WHERE id = ${id}`],
      ["disable user", () => app`UPDATE users SET disabled = true WHERE id = ${id}`],
      ["grant role", () => app`INSERT INTO user_roles (user_id, role) VALUES (${id}, 'viewer')`],
      ["swap role", () => app`UPDATE user_roles SET role = 'editor' WHERE user_id = ${id}`],
      ["revoke role", () => app`DELETE FROM user_roles WHERE user_id = ${id}`],
      [
        "grant permission",
        () => app`INSERT INTO role_permissions (role, permission) VALUES ('viewer', 'products:read')`,
      ],
      ["swap permission", () => app`UPDATE role_permissions SET permission = 'products:write' WHERE role = 'viewer'`],
      ["revoke permission", () => app`DELETE FROM role_permissions WHERE role = 'viewer'`],
      ["edit role", () => app`UPDATE roles SET description = 'd' WHERE name = 'editor'`],
      ["delete role", () => app`DELETE FROM roles WHERE name = 'editor'`],
      ["delete user", () => app`DELETE FROM users WHERE username = 'carol'`],
    ];
    for (const [what, change] of bumps) {
      const before = await generation();
      await change();
      assert.ok(await generation() > before, `${what} bumps the generation`);
    }
    const quiet: [string, () => Promise<unknown>][] = [
      ["insert product", () =>
        app`INSERT INTO products (name, price_cents, stock, created_at, updated_at)
        VALUES ('p', 1, 1, ${NOW}, ${NOW})`],
      ["insert token", () =>
        app`INSERT INTO tokens (hash, user_id, created_at, last_used_at, expires_at)
        VALUES (${"d".repeat(64)}, ${id}, 1, 1, 2)`],
      ["touch token", () => app`UPDATE tokens SET last_used_at = 5`],
      ["touch user", () => app`UPDATE users SET updated_at = ${NOW} WHERE id = ${id}`],
      ["append audit", () =>
        app`INSERT INTO audit_log (seq, ts, event, level, prev_hash, hash)
        VALUES (1, ${NOW}, 'e', 'info', ${"0".repeat(64)}, ${"1".repeat(64)})`],
    ];
    for (const [what, change] of quiet) {
      const before = await generation();
      await change();
      assert.equal(await generation(), before, `${what} leaves the generation alone`);
    }
  });
});

Deno.test("the generation only rises, and a bump notifies listeners on secure_api_authz", async () => {
  const db = await migratedDatabase();
  await asRoles(db, async (owner, app) => {
    await assert.rejects(owner`UPDATE authz_generation SET value = value - 1`, /only rises/);
    await assert.rejects(owner`DELETE FROM authz_generation`, /only rises/);
    await assert.rejects(owner`TRUNCATE authz_generation`, /only rises/);
    let notified = 0;
    const heard = Promise.withResolvers<void>();
    const listener = await app.listen("secure_api_authz", () => {
      notified++;
      heard.resolve();
    });
    await app.begin(async (tx) => {
      // Two bumps in one transaction: one notification (same payload), sent at COMMIT.
      await tx`INSERT INTO users (username, password_hash, created_at, updated_at) VALUES ('new1', ${HASH}, ${NOW}, ${NOW})`;
      await tx`INSERT INTO users (username, password_hash, created_at, updated_at) VALUES ('new2', ${HASH}, ${NOW}, ${NOW})`;
    });
    await heard.promise;
    await listener.unlisten();
    assert.equal(notified, 1);
  });
});
