/**
 * The pool against a real PostgreSQL 15 with TLS (tests/postgres_helpers.ts):
 * each failure an operator can cause is one line that names host:port and
 * never the password; TLS verification really verifies.
 */
import assert from "node:assert/strict";
import { freePort } from "../../../tests/e2e_helpers.ts";
import { type TestRole, usePostgres } from "../../../tests/postgres_helpers.ts";
import { connectPostgres, describeConnectError, PostgresConnectError, type PostgresPoolOptions } from "./connect.ts";
import { parseDatabaseUrl } from "./url.ts";

const pg = usePostgres({ tls: true });

/** Connects, runs `fn`, always closes the pool. */
async function withPool<T>(
  text: string,
  fn: (sql: Awaited<ReturnType<typeof connectPostgres>>) => Promise<T>,
  options: PostgresPoolOptions = {},
): Promise<T> {
  const sql = await connectPostgres(parseDatabaseUrl(text), { connectTimeoutSeconds: 5, ...options });
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** Asserts that connecting fails with `kind`, one line, `host:port` named, no password. */
async function refused(text: string, kind: PostgresConnectError["kind"], message: RegExp): Promise<string> {
  const url = parseDatabaseUrl(text);
  const error = await connectPostgres(url, { connectTimeoutSeconds: 5 }).then(
    async (sql) => {
      await sql.end();
      return null;
    },
    (error: unknown) => error,
  );
  assert.ok(error instanceof PostgresConnectError, `expected a PostgresConnectError, got ${error}`);
  assert.equal(error.kind, kind, error.message);
  assert.match(error.message, message);
  assert.ok(error.message.includes(url.address), `${error.message} names ${url.address}`);
  assert.ok(!error.message.includes(url.password), "the password is never in the message");
  assert.ok(!error.message.includes("\n"), "one line");
  return error.message;
}

function withHost(url: string, host: string): string {
  return url.replace("@127.0.0.1:", `@${host}:`);
}

Deno.test("connectPostgres() logs in with SCRAM and returns int8 as a number", async () => {
  const db = await pg().createDatabase();
  await withPool(db.appUrl, async (sql) => {
    const [row] = await sql`SELECT current_user AS who, 42::int8 AS small, count(*) AS n FROM pg_class`;
    assert.equal(row!.who, pg().app.name);
    assert.equal(row!.small, 42);
    assert.equal(typeof row!.n, "number");
    const [max] = await sql`SELECT ${Number.MAX_SAFE_INTEGER}::int8 AS v`;
    assert.equal(max!.v, Number.MAX_SAFE_INTEGER);
    const [method] = await pg().admin`SELECT rolpassword LIKE 'SCRAM-SHA-256$%' AS scram FROM pg_authid
      WHERE rolname = ${pg().app.name}`;
    assert.equal(method!.scram, true);
  });
});

Deno.test("an int8 beyond 2^53 fails the query instead of being rounded", async () => {
  const db = await pg().createDatabase();
  await withPool(db.appUrl, async (sql) => {
    await assert.rejects(sql`SELECT 9007199254740993::int8 AS v`, /beyond 2\^53/);
    // The connection survives the refused row.
    assert.equal((await sql`SELECT 1::int8 AS v`)[0]!.v, 1);
  });
});

Deno.test("a wrong password is one line naming the host and user, never the password", async () => {
  const db = await pg().createDatabase();
  const role: TestRole = { name: pg().app.name, password: "not-the-password-123" };
  const message = await refused(pg().url(role, db.name), "credentials", /wrong password or no such role/);
  assert.match(message, /secure_api_app/);
});

Deno.test("an unknown role gets the same answer as a wrong password", async () => {
  const db = await pg().createDatabase();
  await refused(pg().url({ name: "nobody", password: "x-123" }, db.name), "credentials", /wrong password/);
});

Deno.test("a missing database is one line naming it", async () => {
  await refused(pg().url(pg().app, "no_such_db"), "database", /has no database "no_such_db"/);
});

Deno.test("nothing listening is one line naming host:port, quickly", async () => {
  const port = freePort();
  const started = performance.now();
  const message = await refused(
    `postgres://app:hunter2-hunter2@127.0.0.1:${port}/app`,
    "unreachable",
    /is unreachable: connection refused/,
  );
  assert.equal(message, `PostgreSQL at 127.0.0.1:${port} is unreachable: connection refused`);
  assert.ok(performance.now() - started < 5_000, "refused, not timed out");
});

Deno.test("a peer that never answers times out after connectTimeoutSeconds", async () => {
  // A fake PostgreSQL peer on loopback, not the API: the HTTPS-only rule does not apply.
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 }); // nosemgrep: deno-serve-without-tls
  const port = (listener.addr as Deno.NetAddr).port;
  const accepted: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) accepted.push(conn);
  })();
  const url = parseDatabaseUrl(`postgres://app:pw-123456@127.0.0.1:${port}/app`);
  const error = await connectPostgres(url, { connectTimeoutSeconds: 1 }).catch((e: unknown) => e);
  assert.ok(error instanceof PostgresConnectError);
  assert.equal(error.message, `PostgreSQL at 127.0.0.1:${port} is unreachable: timed out`);
  for (const conn of accepted) conn.close();
  listener.close();
  await accepting.catch(() => {});
});

Deno.test("verify-full with the right CA and host name: encrypted and verified", async () => {
  const db = await pg().createDatabase();
  const url = withHost(
    pg().url(pg().app, db.name, { sslmode: "verify-full", sslrootcert: pg().tls!.caFile }),
    "localhost",
  );
  await withPool(url, async (sql) => {
    const [row] = await sql`SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()`;
    assert.equal(row!.ssl, true);
    assert.match(String(row!.version), /^TLSv1\.[23]$/);
  });
});

Deno.test("verify-full refuses a certificate that does not name the host, even from the right CA", async () => {
  // The certificate names only "localhost"; the URL says 127.0.0.1. The client alone would
  // check an IP host against "localhost" and accept: connect.ts checks the URL's host.
  const db = await pg().createDatabase();
  await refused(
    pg().url(pg().app, db.name, { sslmode: "verify-full", sslrootcert: pg().tls!.caFile }),
    "tls",
    /does not name this host/,
  );
});

Deno.test("verify-ca accepts the right CA whatever the host name", async () => {
  const db = await pg().createDatabase();
  const url = pg().url(pg().app, db.name, { sslmode: "verify-ca", sslrootcert: pg().tls!.caFile });
  await withPool(url, async (sql) => {
    assert.equal((await sql`SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()`)[0]!.ssl, true);
  });
});

Deno.test("verify-full and verify-ca refuse a server whose certificate another CA signed", async () => {
  const db = await pg().createDatabase();
  for (const sslmode of ["verify-full", "verify-ca"]) {
    const url = withHost(pg().url(pg().app, db.name, { sslmode, sslrootcert: pg().tls!.wrongCaFile }), "localhost");
    await refused(url, "tls", /not signed by the CA in sslrootcert/);
  }
});

Deno.test("sslmode=require encrypts without verifying; disable does not encrypt", async () => {
  const db = await pg().createDatabase();
  for (const [sslmode, encrypted] of [["require", true], ["disable", false]] as const) {
    await withPool(pg().url(pg().app, db.name, { sslmode }), async (sql) => {
      const [row] = await sql`SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()`;
      assert.equal(row!.ssl, encrypted, sslmode);
    });
  }
});

Deno.test("an unreadable sslrootcert is one line naming the file", async () => {
  const db = await pg().createDatabase();
  const url = parseDatabaseUrl(
    pg().url(pg().app, db.name, { sslmode: "verify-ca", sslrootcert: "/nonexistent/ca.pem" }),
  );
  const error = await connectPostgres(url).catch((e: unknown) => e);
  assert.ok(error instanceof PostgresConnectError);
  assert.equal(error.kind, "tls");
  assert.match(error.message, /^sslrootcert \/nonexistent\/ca\.pem cannot be read/);
});

Deno.test("a server that declines TLS gets a TLS handshake, never the login in plain text", async () => {
  // A fake server that answers the SSLRequest with 'N' (no TLS), as a downgrading attacker would,
  // and records what the client sends next.
  // A fake PostgreSQL peer on loopback, not the API: the HTTPS-only rule does not apply.
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 }); // nosemgrep: deno-serve-without-tls
  const port = (listener.addr as Deno.NetAddr).port;
  const received: Uint8Array[] = [];
  const serving = (async () => {
    for await (const conn of listener) {
      const buffer = new Uint8Array(4096);
      await conn.read(buffer.subarray(0, 8));
      await conn.write(new TextEncoder().encode("N"));
      const n = await conn.read(buffer).catch(() => null);
      if (n) received.push(buffer.slice(0, n));
      conn.close();
    }
  })();
  const url = parseDatabaseUrl(`postgres://app:pw-123456@127.0.0.1:${port}/app?sslmode=require`);
  const error = await connectPostgres(url, { connectTimeoutSeconds: 2 }).catch((e: unknown) => e);
  assert.ok(error instanceof PostgresConnectError, String(error));
  assert.ok(error.message.includes(`127.0.0.1:${port}`), error.message);
  assert.ok(received.length > 0, "the client sent something after the refusal");
  for (const bytes of received) {
    assert.equal(bytes[0], 0x16, "a TLS handshake record (ClientHello)");
    assert.ok(!new TextDecoder().decode(bytes).includes("user\0app"), "no plain-text startup message");
  }
  listener.close();
  await serving.catch(() => {});
});

Deno.test("session timeouts apply: a statement past statementTimeoutMs is cancelled", async () => {
  const db = await pg().createDatabase();
  await withPool(db.appUrl, async (sql) => {
    const settings = await sql`SELECT current_setting('statement_timeout') AS st,
      current_setting('application_name') AS app`;
    assert.deepEqual({ ...settings[0] }, { st: "300ms", app: "secure-api" });
    await assert.rejects(sql`SELECT pg_sleep(2)`, (error: { code?: string }) => error.code === "57014");
  }, { statementTimeoutMs: 300 });
});

Deno.test("PG* environment variables do not change the pool", async () => {
  const db = await pg().createDatabase();
  const planted = { PGAPPNAME: "planted", PGTARGETSESSIONATTRS: "standby", PGSSL: "require", PGMAX: "1" };
  for (const [key, value] of Object.entries(planted)) Deno.env.set(key, value);
  try {
    await withPool(db.appUrl, async (sql) => {
      const rows = await Promise.all([1, 2].map(() =>
        sql`SELECT current_setting('application_name') AS app,
          (SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()) AS ssl`
      ));
      for (const [row] of rows) assert.deepEqual({ ...row }, { app: "secure-api", ssl: false });
    });
  } finally {
    for (const key of Object.keys(planted)) Deno.env.delete(key);
  }
});

Deno.test("server notices go to onNotice, not to the console", async () => {
  const db = await pg().createDatabase();
  const notices: string[] = [];
  await withPool(db.appUrl, async (sql) => {
    await sql`DO $$ BEGIN RAISE NOTICE 'hello from the server'; END $$`;
  }, { onNotice: (notice) => notices.push(String(notice.message)) });
  assert.deepEqual(notices, ["hello from the server"]);
});

Deno.test("a pool whose server restarts fails while it is down and recovers by itself", async () => {
  const db = await pg().createDatabase();
  await withPool(db.appUrl, async (sql) => {
    assert.equal((await sql`SELECT 1::int8 AS v`)[0]!.v, 1);
    await pg().stop();
    try {
      const error = await sql`SELECT 1 AS v`.catch((e: unknown) => e);
      assert.ok(error instanceof Error, "a query while the server is down fails");
      const described = describeConnectError(error, parseDatabaseUrl(db.appUrl));
      assert.equal(described.kind, "unreachable", described.message);
    } finally {
      await pg().start();
    }
    assert.equal((await sql`SELECT 2::int8 AS v`)[0]!.v, 2, "the same pool works again");
    assert.equal((await pg().admin`SELECT 3::int AS v`)[0]!.v, 3, "and so does the harness's own connection");
  });
});
