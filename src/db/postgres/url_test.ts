import assert from "node:assert/strict";
import { DatabaseUrlError, isLoopbackHost, parseDatabaseUrl, parsePostgresUrls } from "./url.ts";

Deno.test("parseDatabaseUrl() reads every part and decodes the credentials", () => {
  // URLs handed to the parser under test; nothing connects.
  const url = parseDatabaseUrl("postgres://app%2Drole:pa%3Ass%40word@DB.Example.org:6543/my%20db?sslmode=require"); // nosemgrep: tls-verification-disabled
  assert.equal(url.host, "db.example.org");
  assert.equal(url.port, 6543);
  assert.equal(url.user, "app-role");
  assert.equal(url.password, "pa:ss@word");
  assert.equal(url.database, "my db");
  assert.equal(url.sslmode, "require");
  assert.equal(url.sslrootcert, null);
  assert.equal(url.address, "db.example.org:6543");
});

Deno.test("parseDatabaseUrl() defaults: port 5432, sslmode=disable on loopback only", () => {
  const url = parseDatabaseUrl("postgresql://u:p@127.0.0.1/app");
  assert.equal(url.port, 5432);
  assert.equal(url.sslmode, "disable");
  assert.equal(parseDatabaseUrl("postgres://u:p@[::1]:5433/app").address, "[::1]:5433");
  assert.throws(() => parseDatabaseUrl("postgres://u:p@db.internal/app"), /set sslmode for a non-loopback host/);
  assert.equal(parseDatabaseUrl("postgres://u:p@db.internal/app?sslmode=disable").sslmode, "disable");
});

Deno.test("the redacted form and every error message leave the password out", () => {
  const password = "Tr0ub4dor-and-3";
  const url = parseDatabaseUrl(
    `postgres://app:${password}@db.internal:5432/app?sslmode=verify-full&sslrootcert=/etc/ssl/ca.pem`,
  );
  assert.equal(
    url.redacted,
    "postgres://app@db.internal:5432/app?sslmode=verify-full&sslrootcert=%2Fetc%2Fssl%2Fca.pem",
  );
  const bad = [
    `postgres://app:${password}@db.internal/app`,
    // URLs handed to the parser under test; nothing connects.
    `postgres://app:${password}@db.internal/app?sslmode=prefer`, // nosemgrep: tls-verification-disabled
    `postgres://app:${password}@db.internal/app?sslmode=verify_full`,
    `postgres://app:${password}@127.0.0.1/app?ssl=true`,
    `postgres://app:${password}@127.0.0.1/app/extra`,
    `postgres://app:${password}@127.0.0.1/`,
    `mysql://app:${password}@127.0.0.1/app`,
    `postgres://app:${password}@127.0.0.1:99999/app`,
    `postgres://app:${password}%ZZ@127.0.0.1/app`,
    // URLs handed to the parser under test; nothing connects.
    `postgres://app:${password}@h1,h2/app?sslmode=require`, // nosemgrep: tls-verification-disabled
    `postgres://app:${password}@127.0.0.1/app#x`,
    `postgres://:${password}@127.0.0.1/app`,
    `not a url ${password}`,
  ];
  for (const text of bad) {
    assert.throws(() => parseDatabaseUrl(text), (error: unknown) => {
      assert.ok(error instanceof DatabaseUrlError, text);
      assert.ok(!error.message.includes(password), `${error.message} leaks the password`);
      assert.ok(!error.message.includes("\n"), "one line");
      assert.match(error.message, /^APP_DATABASE_URL/);
      return true;
    });
  }
});

Deno.test("parseDatabaseUrl() refuses the settings that would silently weaken TLS or be ignored", () => {
  const base = "postgres://u:p@db.internal/app";
  // URLs handed to the parser under test; nothing connects.
  assert.throws(() => parseDatabaseUrl(`${base}?sslmode=allow`), /falls back to plain text/); // nosemgrep: tls-verification-disabled
  // URLs handed to the parser under test; nothing connects.
  assert.throws(() => parseDatabaseUrl(`${base}?sslmode=prefer`), /falls back to plain text/); // nosemgrep: tls-verification-disabled
  assert.throws(() => parseDatabaseUrl(`${base}?sslmode=verify-full`), /needs sslrootcert/);
  assert.throws(() => parseDatabaseUrl(`${base}?sslmode=verify-ca&sslrootcert=system`), /needs sslmode=verify-full/);
  // URLs handed to the parser under test; nothing connects.
  assert.throws(() => parseDatabaseUrl(`${base}?sslmode=require&sslrootcert=/ca.pem`), /only with sslmode=verify/); // nosemgrep: tls-verification-disabled
  // URLs handed to the parser under test; nothing connects.
  assert.throws(() => parseDatabaseUrl(`${base}?sslmode=require&sslmode=disable`), /given twice/); // nosemgrep: tls-verification-disabled
  assert.throws(
    // URLs handed to the parser under test; nothing connects.
    () => parseDatabaseUrl(`${base}?sslmode=require&connect_timeout=1`), // nosemgrep: tls-verification-disabled
    /connect_timeout is not supported/,
  );
  assert.throws(() => parseDatabaseUrl("postgres://u@127.0.0.1/app"), /no password/);
  const verified = parseDatabaseUrl(`${base}?sslmode=verify-full&sslrootcert=system`);
  assert.equal(verified.sslrootcert, "system");
});

Deno.test("parsePostgresUrls(): no URL means SQLite; the owner URL must name the same database", () => {
  assert.equal(parsePostgresUrls({}), null);
  assert.equal(parsePostgresUrls({ APP_DATABASE_URL: "  " }), null);
  assert.throws(() => parsePostgresUrls({ APP_DATABASE_OWNER_URL: "postgres://o:p@127.0.0.1/app" }), /is not/);
  const alone = parsePostgresUrls({ APP_DATABASE_URL: "postgres://a:p@127.0.0.1/app" })!;
  assert.equal(alone.owner, null);
  const both = parsePostgresUrls({
    APP_DATABASE_URL: "postgres://a:p@127.0.0.1/app",
    APP_DATABASE_OWNER_URL: "postgres://o:q@127.0.0.1:5432/app",
  })!;
  assert.equal(both.owner?.user, "o");
  assert.throws(
    () =>
      parsePostgresUrls({
        APP_DATABASE_URL: "postgres://a:p@127.0.0.1/app",
        APP_DATABASE_OWNER_URL: "postgres://o:q@127.0.0.1/other",
      }),
    /same host, port and database/,
  );
  assert.throws(
    () => parsePostgresUrls({ APP_DATABASE_URL: "postgres://a:p@127.0.0.1/app", APP_DATABASE_OWNER_URL: "x" }),
    /^DatabaseUrlError: APP_DATABASE_OWNER_URL is not a URL/,
  );
});

Deno.test("isLoopbackHost() accepts only addresses that stay on the machine", () => {
  for (const host of ["localhost", "127.0.0.1", "127.8.9.10", "::1"]) assert.ok(isLoopbackHost(host), host);
  for (const host of ["localhost.evil.example", "128.0.0.1", "10.0.0.1", "::", "127.0.0.1.nip.io"]) {
    assert.ok(!isLoopbackHost(host), host);
  }
});
