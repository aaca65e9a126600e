/**
 * Several processes starting at once on one fresh SQLite file (a service
 * manager restarting a crashed fleet, `deno task start` beside `deno task
 * admin`): every migration is applied exactly once, none fails, and exactly
 * one bootstrap admin is created — whose printed password is the one stored.
 * Before the fix, the applied-migrations list was read outside the write lock
 * (`table users already exists` in about 2 of 3 runs with two processes) and
 * the "no user yet" check ran before the transaction (two admins attempted,
 * and a printed password that was never stored).
 */
import assert from "node:assert/strict";
import { verifyChain } from "../src/audit/hash_chain.ts";
import { openDatabase } from "../src/db/sqlite/database.ts";
import { loadMigrations } from "../src/db/migrations.ts";
import { PasswordHasher } from "../src/crypto/password.ts";
import { PROJECT_ROOT } from "./e2e_helpers.ts";

const PROCESSES = 4;
const ROUNDS = 3;

interface Outcome {
  code: number;
  applied: string[];
  generated: string | null;
  error: string | null;
  stderr: string;
}

async function race(dir: string): Promise<Outcome[]> {
  const path = `${dir}/app.db`;
  const fixture = new URL("fixtures/migrate_and_bootstrap.ts", import.meta.url).pathname;
  const children = Array.from({ length: PROCESSES }, (_, i) =>
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-prompt",
        `--allow-read`,
        `--allow-write=${dir}`,
        "--allow-env=APP_*",
        fixture,
        path,
        `${dir}/ready-${i}`,
        `${dir}/go`,
      ],
      cwd: new URL(".", PROJECT_ROOT).pathname,
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn());
  // Release them together once every one has started, so their start-ups overlap.
  const deadline = Date.now() + 60_000;
  for (let i = 0; i < PROCESSES; i++) {
    for (;;) {
      try {
        await Deno.stat(`${dir}/ready-${i}`);
        break;
      } catch {
        if (Date.now() > deadline) throw new Error(`process ${i} did not start`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
  }
  await Deno.writeTextFile(`${dir}/go`, "");
  return await Promise.all(children.map(async (child) => {
    const { code, stdout, stderr } = await child.output();
    const text = new TextDecoder().decode(stdout).trim();
    const parsed = text ? JSON.parse(text.split("\n").at(-1)!) : { applied: [], generated: null, error: "no output" };
    return { code, ...parsed, stderr: new TextDecoder().decode(stderr) };
  }));
}

Deno.test(`${PROCESSES} processes migrating and bootstrapping one fresh file: each migration once, one admin`, async () => {
  const migrations = (await loadMigrations()).map((m) => m.name);
  const hasher = new PasswordHasher({ iterations: 1000, pepper: null });
  for (let round = 1; round <= ROUNDS; round++) {
    const dir = await Deno.makeTempDir({ prefix: "secure-api-race-" });
    try {
      const outcomes = await race(dir);
      const failures = outcomes.filter((o) => o.code !== 0 || o.error);
      assert.deepEqual(failures.map((o) => o.error ?? o.stderr), [], `round ${round}: no process fails`);
      assert.deepEqual(outcomes.flatMap((o) => o.applied).sort(), migrations, `round ${round}: each migration once`);
      const passwords = outcomes.map((o) => o.generated).filter((p) => p !== null);
      assert.equal(passwords.length, 1, `round ${round}: exactly one process created the admin`);

      const db = openDatabase(`${dir}/app.db`, { readOnly: true });
      try {
        const users = db.prepare("SELECT username, password_hash FROM users").all<
          { username: string; password_hash: string }
        >();
        assert.equal(users.length, 1);
        assert.equal(users[0]!.username, "first-admin");
        assert.ok(
          await hasher.verify(passwords[0]!, users[0]!.password_hash),
          "the printed password is the stored one",
        );
        const recorded = db.prepare("SELECT count(*) AS n FROM schema_migrations").get<{ n: number }>()!.n;
        assert.equal(recorded, migrations.length);
        const rows = db.prepare(
          `SELECT seq, ts, event, level, actor, client, method, path, status, request_id AS requestId,
             target, detail, prev_hash AS prevHash, hash FROM audit_log ORDER BY seq`,
        ).all<Parameters<typeof verifyChain>[0] extends Iterable<infer R> ? R : never>();
        assert.equal(verifyChain(rows).ok, true);
        assert.equal(rows.filter((r) => r.event === "user_created").length, 1);
      } finally {
        db.close();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
});
