/**
 * What the PostgreSQL repositories must do that SQLite did for free. In
 * SQLite every write transaction holds the one write lock (`BEGIN
 * IMMEDIATE`), so a service's check-then-act guard rail ("another active
 * admin remains") cannot be raced. In PostgreSQL's default READ COMMITTED two
 * transactions can both pass the check and together break the rule (write
 * skew); taking one advisory lock first, as every guarded account change
 * would, restores the SQLite behaviour. See docs/postgres.md.
 */
import assert from "node:assert/strict";
import type postgres from "postgres";
import { openPool, prepareChainDatabase } from "./postgres_audit_chain.ts";
import { usePostgres } from "./postgres_helpers.ts";

const pg = usePostgres();
const HASH = `$pbkdf2-sha256$i=1000$${"a".repeat(22)}$${"b".repeat(43)}`;
const NOW = "2026-01-01T00:00:00.000Z";
const ACCOUNTS_LOCK_KEY = 0x5ec_a91_003;

/** Disables `username` unless it is the last active admin, as the accounts service checks it. */
async function disableUnlessLastAdmin(
  sql: postgres.Sql,
  username: string,
  locked: boolean,
  checked: () => void,
  proceed: Promise<void>,
): Promise<boolean> {
  return await sql.begin(async (tx) => {
    if (locked) await tx`SELECT pg_advisory_xact_lock(${ACCOUNTS_LOCK_KEY})`;
    const [row] = await tx`SELECT count(*) AS n FROM users u JOIN user_roles r ON r.user_id = u.id
      WHERE r.role = 'admin' AND NOT u.disabled`;
    checked();
    await proceed;
    if ((row!.n as number) <= 1) return false;
    await tx`UPDATE users SET disabled = true WHERE username = ${username}`;
    return true;
  });
}

async function activeAdmins(sql: postgres.Sql): Promise<number> {
  const [row] = await sql`SELECT count(*) AS n FROM users u JOIN user_roles r ON r.user_id = u.id
    WHERE r.role = 'admin' AND NOT u.disabled`;
  return row!.n as number;
}

for (const locked of [false, true]) {
  const name = locked
    ? "with an advisory lock taken first, the second guarded change sees the first and refuses"
    : "trap: under READ COMMITTED two guarded changes both pass the check and leave no admin";
  Deno.test(name, async () => {
    const db = await prepareChainDatabase(pg(), 1);
    const [a, b] = await Promise.all([openPool(db.appUrl, 1), openPool(db.appUrl, 1)]);
    try {
      await a`INSERT INTO roles (name, created_at, updated_at) VALUES ('admin', ${NOW}, ${NOW})`;
      for (const username of ["ada", "bob"]) {
        const [user] = await a`INSERT INTO users (username, password_hash, created_at, updated_at)
          VALUES (${username}, ${HASH}, ${NOW}, ${NOW}) RETURNING id`;
        await a`INSERT INTO user_roles (user_id, role) VALUES (${user!.id}, 'admin')`;
      }
      const bothChecked = Promise.withResolvers<void>();
      let checks = 0;
      const checked = () => {
        if (++checks === 2) bothChecked.resolve();
      };
      const first = disableUnlessLastAdmin(a, "ada", locked, checked, bothChecked.promise);
      // Without the lock both reach the check; with it the second waits on the lock, so let the
      // first proceed once the second is queued.
      const second = disableUnlessLastAdmin(b, "bob", locked, checked, bothChecked.promise);
      if (locked) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        bothChecked.resolve();
      }
      const outcomes = await Promise.all([first, second]);
      const observer = await openPool(db.appUrl, 1);
      try {
        if (locked) {
          // Whichever got the lock first disabled its admin; the other saw it and refused.
          assert.deepEqual(outcomes.toSorted(), [false, true]);
          assert.equal(await activeAdmins(observer), 1);
        } else {
          assert.deepEqual(outcomes, [true, true]);
          assert.equal(await activeAdmins(observer), 0, "the rule is broken without a lock");
        }
      } finally {
        await observer.end();
      }
    } finally {
      await Promise.all([a.end(), b.end()]);
    }
  });
}
