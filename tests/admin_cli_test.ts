import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { auditRows, basicAuth, CountingKDF, createTestApp, problem, TEST_ITERATIONS, type TestApp } from "./helpers.ts";
import { EXIT, runAdmin } from "../src/cli/admin.ts";

/** A throwaway database file and a runner that captures what the CLI prints. */
async function workspace() {
  const dir = await Deno.makeTempDir({ prefix: "secure-api-admin-" });
  const dbPath = `${dir}/app.db`;
  const kdf = new CountingKDF();
  const run = async (args: string[], options: { stdin?: string; env?: Record<string, string> } = {}) => {
    let stdout = "";
    let stderr = "";
    let stdinReads = 0;
    const status = await runAdmin(args, {
      env: { APP_DB: dbPath, APP_PBKDF2_ITERATIONS: String(TEST_ITERATIONS), ...options.env },
      stdout: (text) => stdout += text,
      stderr: (text) => stderr += text,
      readStdin: () => {
        stdinReads++;
        return Promise.resolve(options.stdin ?? "");
      },
      overrides: { kdf: kdf.kdf },
    });
    return { status, stdout, stderr, stdinReads };
  };
  /** The server's view of the same file, opened after the CLI has run. */
  const server = () => createTestApp({ dbPath });
  const cleanup = () => Deno.remove(dir, { recursive: true });
  return { dir, dbPath, kdf, run, server, cleanup };
}

function passwordIn(stdout: string): string {
  const match = /^password: (\S+)$/m.exec(stdout);
  assert.ok(match, `no password in ${JSON.stringify(stdout)}`);
  return match[1]!;
}

Deno.test("runAdmin() help prints the usage on stdout; no command is a usage error on stderr", async () => {
  const w = await workspace();
  try {
    const help = await w.run(["help"]);
    assert.equal(help.status, EXIT.ok);
    assert.match(help.stdout, /^Usage: deno task admin <command>/);
    assert.match(help.stdout, /Exit codes: 0 done; 1 refused/);
    const none = await w.run([]);
    assert.equal(none.status, EXIT.usage);
    assert.equal(none.stdout, "");
    assert.match(none.stderr, /admin: a command is required\nRun "deno task admin help"/);
    const unknown = await w.run(["promote", "bob"]);
    assert.equal(unknown.status, EXIT.usage);
    assert.match(unknown.stderr, /unknown command "promote"/);
    // Usage errors are found before the database is touched.
    assert.equal(await Deno.stat(w.dbPath).then(() => true, () => false), false);
  } finally {
    await w.cleanup();
  }
});

/** PUT /auth/password as `username` from `current` to `next`; asserts the 204. */
async function changePassword(t: TestApp, username: string, current: string, next: string): Promise<void> {
  const res = await t.json("PUT", "/auth/password", { currentPassword: current, newPassword: next }, {
    headers: { Authorization: basicAuth(username, current) },
  });
  assert.equal(res.status, 204, await res.text());
}

Deno.test("runAdmin() create-user on a fresh file migrates it, syncs roles and prints a password that must be changed at first use", async () => {
  const w = await workspace();
  try {
    const res = await w.run(["create-user", "alice", "--role", "admin"]);
    assert.equal(res.status, EXIT.ok, res.stderr);
    assert.match(res.stderr, /applied 001_core\.sql, 002_audit_log\.sql/);
    assert.match(res.stderr, /shown once/);
    assert.match(
      res.stdout,
      /^created user "alice" \(id 1, roles: admin\); they must change the password at first use$/m,
    );
    const password = passwordIn(res.stdout);
    assert.ok(password.length >= 20);
    assert.equal(w.kdf.calls, 1, "one derivation: hashing the new password");

    await using t = await w.server();
    const me = await t.request("/auth/me", { headers: { Authorization: basicAuth("alice", password) } });
    assert.equal(me.status, 200);
    assert.ok((await me.json()).permissions.includes("users:manage"));
    // The operator knows the password: nothing but /auth/me and the change is open until it changes.
    const early = await t.request("/users", { headers: { Authorization: basicAuth("alice", password) } });
    assert.equal(early.status, 403);
    assert.equal((await problem(early)).type, "urn:secure-api:problem:password-change-required");
    await changePassword(t, "alice", password, "a lighthouse keeper's own tune");
    const later = await t.request("/users", {
      headers: { Authorization: basicAuth("alice", "a lighthouse keeper's own tune") },
    });
    assert.equal(later.status, 200);
    await later.body?.cancel();
    const [row] = await auditRows(t.deps, "user_created");
    assert.equal(row?.actor, null);
    assert.equal(row?.client, "cli");
    assert.equal(row?.method, "CLI");
    assert.equal(row?.path, "admin create-user");
    assert.equal(row?.target, "user:1");
    assert.deepEqual(JSON.parse(row!.detail), { username: "alice", roles: ["admin"], mustChangePassword: true });
    assert.equal((await t.deps.audit.verify()).ok, true);
  } finally {
    await w.cleanup();
  }
});

Deno.test("runAdmin() create-user --password-stdin uses the password exactly, less one line break", async () => {
  const w = await workspace();
  try {
    await w.run(["create-user", "root", "--role", "admin"]);
    const given = "  two spaces either side, kept  ";
    const res = await w.run(["create-user", "bob", "--role", "editor", "--role", "viewer", "--password-stdin"], {
      stdin: `${given}\r\n`,
    });
    assert.equal(res.status, EXIT.ok, res.stderr);
    assert.equal(res.stdinReads, 1);
    assert.doesNotMatch(res.stdout, /password:/, "a password the operator chose is not echoed");
    assert.match(res.stdout, /roles: editor, viewer/);
    await using t = await w.server();
    const ok = await t.request("/auth/me", { headers: { Authorization: basicAuth("bob", given) } });
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
    const trimmed = await t.request("/auth/me", { headers: { Authorization: basicAuth("bob", given.trim()) } });
    assert.equal(trimmed.status, 401);
    await trimmed.body?.cancel();
  } finally {
    await w.cleanup();
  }
});

Deno.test("runAdmin() create-user refuses with exit 1 and changes nothing: weak, taken, unknown role, bad name", async () => {
  const w = await workspace();
  try {
    await w.run(["create-user", "alice", "--role", "admin"]);
    const cases: [string[], string | undefined, RegExp][] = [
      [["create-user", "bob", "--password-stdin"], "short\n", /at least 15 characters \(it has 5\)/],
      [["create-user", "bob", "--password-stdin"], "\n", /^admin: password: none was given on standard input\n$/],
      [["create-user", "bob", "--password-stdin"], "bob's long enough password", /must not contain the username/],
      [["create-user", "ALICE"], undefined, /That username is taken/],
      [
        ["create-user", "bob", "--role", "superuser"],
        undefined,
        /^admin: role: unknown role\(s\): superuser; the roles are: admin, editor, viewer\n$/,
      ],
      [["create-user", "bad name"], undefined, /username: must be 3-64 characters/],
      [["create-user", "x"], undefined, /username: must be 3-64/],
    ];
    for (const [args, stdin, message] of cases) {
      const res = await w.run(args, stdin === undefined ? {} : { stdin });
      assert.equal(res.status, EXIT.refused, args.join(" "));
      assert.match(res.stderr, message, args.join(" "));
      assert.equal(res.stdout, "");
    }
    const list = await w.run(["list", "--json"]);
    assert.deepEqual(JSON.parse(list.stdout).map((u: { username: string }) => u.username), ["alice"]);
  } finally {
    await w.cleanup();
  }
});

Deno.test("runAdmin() reset-password prints a new password, ends the old one and every token", async () => {
  const w = await workspace();
  try {
    const generated = passwordIn((await w.run(["create-user", "carol", "--role", "admin"])).stdout);
    await using t = await w.server();
    const first = "violet harbour at seven bells";
    await changePassword(t, "carol", generated, first);
    const login = await t.request("/auth/login", {
      method: "POST",
      headers: { Authorization: basicAuth("carol", first) },
    });
    assert.equal(login.status, 200);
    const { token } = await login.json();
    const res = await w.run(["reset-password", "CAROL"]);
    assert.equal(res.status, EXIT.ok, res.stderr);
    assert.match(res.stdout, /reset the password of "carol" \(id 1/);
    const second = passwordIn(res.stdout);
    assert.notEqual(second, first);

    await using after = await w.server();
    const old = await after.request("/auth/me", { headers: { Authorization: basicAuth("carol", first) } });
    assert.equal(old.status, 401);
    await old.body?.cancel();
    const stale = await after.request("/auth/me", { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(stale.status, 401);
    await stale.body?.cancel();
    const fresh = await after.request("/auth/me", { headers: { Authorization: basicAuth("carol", second) } });
    assert.equal(fresh.status, 200);
    await fresh.body?.cancel();
    // The operator knows the reset password too: it opens nothing else until carol changes it.
    const early = await after.request("/auth/login", {
      method: "POST",
      headers: { Authorization: basicAuth("carol", second) },
    });
    assert.equal(early.status, 403);
    assert.equal((await problem(early)).type, "urn:secure-api:problem:password-change-required");
    const [row] = await auditRows(after.deps, "user_updated");
    assert.equal(row?.actor, null);
    assert.equal(row?.client, "cli");
    assert.equal(row?.path, "admin reset-password");
    assert.deepEqual(JSON.parse(row!.detail), {
      change: "password reset",
      mustChangePassword: true,
      tokensRevoked: 1,
    });
    const missing = await w.run(["reset-password", "nobody"]);
    assert.equal(missing.status, EXIT.refused);
    assert.match(missing.stderr, /No user is named "nobody"/);
    const weak = await w.run(["reset-password", "carol", "--password-stdin"], { stdin: "password123" });
    assert.equal(weak.status, EXIT.refused);
    assert.match(weak.stderr, /^admin: password: must be at least 15 characters/);
  } finally {
    await w.cleanup();
  }
});

Deno.test("runAdmin() disable and enable a user; disabling the last active admin is refused with no override", async () => {
  const w = await workspace();
  try {
    await w.run(["create-user", "alice", "--role", "admin"]);
    await w.run(["create-user", "dave", "--role", "editor"]);
    const last = await w.run(["disable", "alice"]);
    assert.equal(last.status, EXIT.refused);
    assert.match(last.stderr, /You cannot disable the last active admin\.\n.*Create or enable another admin first/);

    const off = await w.run(["disable", "dave"]);
    assert.equal(off.status, EXIT.ok, off.stderr);
    assert.match(off.stdout, /^disabled "dave" \(id 2, roles: editor\)/);
    let list = JSON.parse((await w.run(["list", "--json"])).stdout);
    assert.deepEqual(list.map((u: { disabled: boolean }) => u.disabled), [false, true]);

    const on = await w.run(["enable", "dave"]);
    assert.equal(on.status, EXIT.ok);
    assert.match(on.stdout, /^enabled "dave"/);
    list = JSON.parse((await w.run(["list", "--json"])).stdout);
    assert.deepEqual(list.map((u: { disabled: boolean }) => u.disabled), [false, false]);

    // With a second admin the first one may be disabled.
    await w.run(["create-user", "erin", "--role", "admin"]);
    assert.equal((await w.run(["disable", "alice"])).status, EXIT.ok);
    const again = await w.run(["disable", "erin"]);
    assert.equal(again.status, EXIT.refused, "now erin is the last active admin");

    await using t = await w.server();
    const rows = await auditRows(t.deps, "user_updated");
    assert.deepEqual(rows.map((r) => [r.actor, r.client, r.method, r.path, r.target, JSON.parse(r.detail).disabled]), [
      [null, "cli", "CLI", "admin disable", "user:2", true],
      [null, "cli", "CLI", "admin enable", "user:2", false],
      [null, "cli", "CLI", "admin disable", "user:1", true],
    ]);
    const missing = await w.run(["enable", "nobody"]);
    assert.equal(missing.status, EXIT.refused);
    assert.match(missing.stderr, /No user is named "nobody"/);
  } finally {
    await w.cleanup();
  }
});

Deno.test("runAdmin() refusals are in the CLI's words, never the API's \"see errors\"", async () => {
  const w = await workspace();
  try {
    await w.run(["create-user", "alice", "--role", "admin"]);
    for (
      const args of [
        ["create-user", "bob", "--role", "superuser"],
        ["create-user", "bad name"],
        ["set-roles", "alice", "admin", "root"],
      ]
    ) {
      const res = await w.run(args);
      assert.equal(res.status, EXIT.refused, args.join(" "));
      assert.doesNotMatch(res.stderr, /request is not valid|see errors/, args.join(" "));
      assert.match(res.stderr, /^admin: (role|username): /, args.join(" "));
    }
  } finally {
    await w.cleanup();
  }
});

Deno.test("runAdmin() set-roles replaces the roles through the service, audited; the last admin cannot be demoted", async () => {
  const w = await workspace();
  try {
    await w.run(["create-user", "alice", "--role", "admin"]);
    await w.run(["create-user", "bob"]);
    const promoted = await w.run(["set-roles", "bob", "editor", "viewer"]);
    assert.equal(promoted.status, EXIT.ok, promoted.stderr);
    assert.match(promoted.stdout, /^set the roles of "bob" \(id 2, roles: editor, viewer\)/);

    const unknown = await w.run(["set-roles", "bob", "root"]);
    assert.equal(unknown.status, EXIT.refused);
    assert.match(unknown.stderr, /^admin: role: unknown role\(s\): root; the roles are: admin, editor, viewer$/m);

    const demote = await w.run(["set-roles", "alice", "viewer"]);
    assert.equal(demote.status, EXIT.refused);
    assert.match(demote.stderr, /You cannot demote the last active admin\.\n.*Create or enable another admin first/);
    const missing = await w.run(["set-roles", "nobody", "viewer"]);
    assert.equal(missing.status, EXIT.refused);
    assert.match(missing.stderr, /No user is named "nobody"/);

    // With a second active admin the first may be demoted.
    assert.equal((await w.run(["set-roles", "bob", "admin"])).status, EXIT.ok);
    assert.equal((await w.run(["set-roles", "alice", "viewer"])).status, EXIT.ok);

    const t = await w.server();
    const rows = await auditRows(t.deps, "authz_change");
    assert.deepEqual(rows.map((r) => [r.actor, r.client, r.method, r.path, r.target, JSON.parse(r.detail).roles]), [
      [null, "cli", "CLI", "admin set-roles", "user:2", { from: ["viewer"], to: ["editor", "viewer"] }],
      [null, "cli", "CLI", "admin set-roles", "user:2", { from: ["editor", "viewer"], to: ["admin"] }],
      [null, "cli", "CLI", "admin set-roles", "user:1", { from: ["admin"], to: ["viewer"] }],
    ]);
    await t.store.close();
    const list = JSON.parse((await w.run(["list", "--json"])).stdout);
    assert.deepEqual(list.map((u: { roles: string[] }) => u.roles), [["viewer"], ["admin"]]);
  } finally {
    await w.cleanup();
  }
});

Deno.test("runAdmin() delete-user deletes through the service, audited; the last active admin cannot be deleted", async () => {
  const w = await workspace();
  try {
    await w.run(["create-user", "alice", "--role", "admin"]);
    await w.run(["create-user", "carol", "--role", "editor"]);
    const last = await w.run(["delete-user", "alice"]);
    assert.equal(last.status, EXIT.refused);
    assert.match(last.stderr, /You cannot delete the last active admin\.\n.*Create or enable another admin first/);

    const gone = await w.run(["delete-user", "carol"]);
    assert.equal(gone.status, EXIT.ok, gone.stderr);
    assert.match(gone.stdout, /^deleted "carol" \(id 2, roles: editor\)/);
    const again = await w.run(["delete-user", "carol"]);
    assert.equal(again.status, EXIT.refused);
    assert.match(again.stderr, /No user is named "carol"/);

    const t = await w.server();
    const rows = await auditRows(t.deps, "user_deleted");
    assert.deepEqual(rows.map((r) => [r.actor, r.client, r.method, r.path, r.target]), [
      [null, "cli", "CLI", "admin delete-user", "user:2"],
    ]);
    assert.equal(JSON.parse(rows[0]!.detail).username, "carol");
    await t.store.close();
    const list = JSON.parse((await w.run(["list", "--json"])).stdout);
    assert.deepEqual(list.map((u: { username: string }) => u.username), ["alice"]);
  } finally {
    await w.cleanup();
  }
});

Deno.test("runAdmin() list prints a table or JSON, never a password hash, and runs no KDF", async () => {
  const w = await workspace();
  try {
    const empty = await w.run(["list"]);
    assert.equal(empty.status, EXIT.ok);
    assert.match(empty.stdout, /\(no users\)/);
    await w.run(["create-user", "alice", "--role", "admin"]);
    await w.run(["create-user", "bob", "--role", "editor", "--role", "viewer"]);
    await w.run(["disable", "bob"]);
    const calls = w.kdf.calls;
    const table = await w.run(["list"]);
    assert.equal(table.status, EXIT.ok);
    const lines = table.stdout.trimEnd().split("\n");
    assert.match(lines[0]!, /^ID\s+USERNAME\s+STATUS\s+ROLES\s+CREATED$/);
    assert.match(lines[1]!, /^1\s+alice\s+active\s+admin\s+\d{4}-/);
    assert.match(lines[2]!, /^2\s+bob\s+disabled\s+editor,viewer\s+\d{4}-/);
    const json = await w.run(["list", "--json"]);
    assert.doesNotMatch(json.stdout, /pbkdf2|hash/i);
    const users = JSON.parse(json.stdout);
    assert.deepEqual(Object.keys(users[0]).sort(), ["createdAt", "disabled", "id", "roles", "updatedAt", "username"]);
    assert.equal(w.kdf.calls, calls);
  } finally {
    await w.cleanup();
  }
});

Deno.test("runAdmin() warns when a change leaves no active admin", async () => {
  const w = await workspace();
  try {
    const res = await w.run(["create-user", "bob"]);
    assert.equal(res.status, EXIT.ok);
    assert.match(res.stdout, /roles: viewer/);
    assert.match(res.stderr, /warning: no active admin exists/);
    const admin = await w.run(["create-user", "alice", "--role", "admin"]);
    assert.doesNotMatch(admin.stderr, /warning/);
  } finally {
    await w.cleanup();
  }
});

Deno.test("runAdmin() environment problems exit 3 with the cause: configuration, unusable database", async () => {
  const w = await workspace();
  try {
    const config = await w.run(["list"], { env: { APP_PBKDF2_ITERATIONS: "many" } });
    assert.equal(config.status, EXIT.environment);
    assert.match(config.stderr, /configuration error: APP_PBKDF2_ITERATIONS: must be a whole number/);
    const directory = await w.run(["list"], { env: { APP_DB: w.dir } });
    assert.equal(directory.status, EXIT.environment);
    assert.match(directory.stderr, /cannot open the database/);
    const edited = `${w.dir}/edited.db`;
    assert.equal((await w.run(["list"], { env: { APP_DB: edited } })).status, EXIT.ok);
    const raw = new DatabaseSync(edited);
    raw.exec("UPDATE schema_migrations SET checksum = 'x' WHERE version = 1");
    raw.close();
    const migration = await w.run(["list"], { env: { APP_DB: edited } });
    assert.equal(migration.status, EXIT.environment);
    assert.match(migration.stderr, /001_core\.sql was changed after it was applied/);
  } finally {
    await w.cleanup();
  }
});
