/**
 * `deno task admin` for real: a subprocess in a throwaway copy of the
 * project, under the `admin` permission set from `deno.json`, next to a
 * running server. Proves the set is sufficient (every command works on a
 * fresh file), minimal (dropping any one grant breaks it, and it reaches
 * nothing outside data/ and sql/), and that the server honours what the CLI
 * did on its very next request.
 */
import assert from "node:assert/strict";
import { freePort, PROJECT_ROOT, projectCopy, startServer } from "./e2e_helpers.ts";

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function deno(dir: string, args: string[], env: Record<string, string> = {}, stdin?: string): Promise<Outcome> {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: dir,
    env: { NO_COLOR: "1", APP_PBKDF2_ITERATIONS: "1000", ...env },
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const { code, stdout, stderr } = await child.output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code, stdout: decode(stdout), stderr: decode(stderr) };
}

const admin = (dir: string, args: string[], env?: Record<string, string>, stdin?: string) =>
  deno(dir, ["task", "admin", ...args], env, stdin);

function passwordIn(stdout: string): string {
  const match = /^password: (\S+)$/m.exec(stdout);
  assert.ok(match, stdout);
  return match[1]!;
}

Deno.test("deno.json: the admin permission set is exactly data/, sql/ and /run/secrets to read, data/ to write, APP_* env, no remote imports", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", PROJECT_ROOT)));
  const { import: imports, ...grants } = config.permissions.admin;
  // /run/secrets: where APP_*_FILE secrets live (src/config_secrets.ts); read only when one is named.
  assert.deepEqual(grants, { read: ["./data", "./sql", "/run/secrets"], write: ["./data"], env: ["APP_*"] });
  // Remote module imports are denied like the server's: the default import hosts are network access too.
  assert.deepEqual(imports, config.permissions.server.import);
  assert.ok(imports.deny.includes("jsr.io:443") && imports.deny.includes("deno.land:443"));
  assert.equal(config.tasks.admin.command, "deno run -P=admin src/cli/admin.ts");
});

Deno.test("deno task admin works on a fresh project under its permission set, with its exit codes", async () => {
  const dir = await projectCopy();
  try {
    const created = await admin(dir, ["create-user", "opal", "--role", "admin"]);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /created user "opal" \(id 1, roles: admin\)/);
    passwordIn(created.stdout);
    assert.ok((await Deno.stat(`${dir}/data/app.db`)).isFile);

    const viaStdin = await admin(
      dir,
      ["create-user", "pete", "--password-stdin"],
      {},
      "a passphrase typed by the operator\n",
    );
    assert.equal(viaStdin.code, 0, viaStdin.stderr);
    const list = await admin(dir, ["list", "--json"]);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(JSON.parse(list.stdout).map((u: { username: string; roles: string[] }) => [u.username, u.roles]), [
      ["opal", ["admin"]],
      ["pete", ["viewer"]],
    ]);

    const refused = await admin(dir, ["disable", "opal"]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /admin: You cannot disable the last active admin\./);
    const usage = await admin(dir, ["create-user"]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /admin: create-user needs a username/);
    const outside = await admin(dir, ["list"], { APP_DB: `${dir}/elsewhere.db` });
    assert.equal(outside.code, 3);
    assert.match(outside.stderr, /admin: not permitted: .*keep APP_DB inside data\//);
    await assert.rejects(Deno.stat(`${dir}/elsewhere.db`), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the admin permission set is minimal: without any one of its grants the CLI stops with exit 3", async () => {
  const dir = await projectCopy();
  try {
    const full = { read: "./data,./sql", write: "./data", env: "APP_*" };
    const flags = (grants: Partial<typeof full>) =>
      Object.entries(grants).map(([kind, value]) => `--allow-${kind}=${value}`);
    const ok = await deno(dir, [
      "run",
      ...flags(full),
      "--deny-net",
      "--deny-run",
      "--deny-sys",
      "--deny-ffi",
      "src/cli/admin.ts",
      "list",
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    const reduced: [Partial<typeof full>, RegExp][] = [
      [{ ...full, read: "./data" }, /read access to ".*sql"/],
      [{ ...full, read: "./sql" }, /read access to "data\/app\.db"/],
      [{ read: full.read, env: full.env }, /write access to "data"/],
      [{ read: full.read, write: full.write }, /env access to "APP_/],
    ];
    for (const [grants, missing] of reduced) {
      const res = await deno(dir, ["run", ...flags(grants), "src/cli/admin.ts", "list"]);
      assert.equal(res.code, 3, `${JSON.stringify(grants)}: ${res.stderr}`);
      assert.match(res.stderr, missing);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a running server honours the CLI at once: new user, password reset, disable", async () => {
  const port = freePort();
  const server = await startServer({
    env: { APP_PORT: String(port) },
    args: ["run", "-P=server", `--allow-net=127.0.0.1:${port}`, "main.ts"],
    port,
  });
  try {
    const call = (path: string, authorization: string, method = "GET") =>
      fetch(`${server.origin}${path}`, { method, client: server.client, headers: { Authorization: authorization } });
    const basic = (user: string, password: string) => `Basic ${btoa(`${user}:${password}`)}`;

    // A password the operator knows must be replaced at first use, before anything else.
    const change = async (current: string, next: string) => {
      const res = await fetch(`${server.origin}/auth/password`, {
        method: "PUT",
        client: server.client,
        headers: { Authorization: basic("quinn", current), "Content-Type": "application/json" },
        body: JSON.stringify({ currentPassword: current, newPassword: next }),
      });
      assert.equal(res.status, 204, await res.text());
    };

    const created = await admin(server.dir, ["create-user", "quinn", "--role", "editor"]);
    assert.equal(created.code, 0, created.stderr);
    const generated = passwordIn(created.stdout);
    const early = await call("/auth/login", basic("quinn", generated), "POST");
    assert.equal(early.status, 403);
    await early.body?.cancel();
    const first = "marmalade skylight over the pier";
    await change(generated, first);
    const login = await call("/auth/login", basic("quinn", first), "POST");
    assert.equal(login.status, 200);
    const { token } = await login.json();
    const cached = await call("/auth/me", basic("quinn", first));
    assert.equal(cached.status, 200);
    await cached.body?.cancel();

    const reset = await admin(server.dir, ["reset-password", "quinn"]);
    assert.equal(reset.code, 0, reset.stderr);
    const reset1 = passwordIn(reset.stdout);
    const old = await call("/auth/me", basic("quinn", first));
    assert.equal(old.status, 401, "the server's cached copy of the old password is not accepted");
    await old.body?.cancel();
    const oldToken = await call("/auth/me", `Bearer ${token}`);
    assert.equal(oldToken.status, 401);
    await oldToken.body?.cancel();
    const second = "tangerine lantern beneath the bridge";
    await change(reset1, second);
    const fresh = await call("/auth/login", basic("quinn", second), "POST");
    assert.equal(fresh.status, 200);
    const { token: newToken } = await fresh.json();

    const disabled = await admin(server.dir, ["disable", "quinn"]);
    assert.equal(disabled.code, 0, disabled.stderr);
    for (const authorization of [basic("quinn", second), `Bearer ${newToken}`]) {
      const res = await call("/auth/me", authorization);
      assert.equal(res.status, 401);
      await res.body?.cancel();
    }
  } finally {
    assert.equal(await server.stop(), 0);
    await Deno.remove(server.dir, { recursive: true });
  }
});
