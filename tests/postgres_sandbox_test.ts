/**
 * What the PostgreSQL client needs from Deno's sandbox, measured rather than
 * guessed (docs/postgres.md, "Permissions"): the probe connects exactly as
 * the server will, in a subprocess under chosen flags, once with every
 * permission check recorded (DENO_AUDIT_PERMISSIONS), then under the
 * proposed grants, then without the `PG*` ignore to show why it is needed.
 */
import assert from "node:assert/strict";
import { PROJECT_ROOT } from "./e2e_helpers.ts";
import { usePostgres } from "./postgres_helpers.ts";

const pg = usePostgres({ tls: true });
const PROBE = new URL("fixtures/postgres_probe.ts", import.meta.url).pathname;

interface Run {
  code: number;
  result: Record<string, unknown>;
  stderr: string;
}

async function probe(flags: string[], env: Record<string, string>, config?: string): Promise<Run> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", ...(config ? ["--config", config, "--no-lock"] : []), ...flags, PROBE],
    cwd: new URL(".", PROJECT_ROOT).pathname,
    env: { NO_COLOR: "1", ...env },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(output.stdout).trim();
  const stderr = new TextDecoder().decode(output.stderr);
  return { code: output.code, result: stdout ? JSON.parse(stdout.split("\n").at(-1)!) : {}, stderr };
}

/** A verify-full URL to `localhost` (the name in the test certificate). */
async function verifiedUrl(): Promise<string> {
  const db = await pg().createDatabase();
  return pg().url(pg().app, db.name, { sslmode: "verify-full", sslrootcert: pg().tls!.caFile })
    .replace("@127.0.0.1:", "@localhost:");
}

/** PG* variables that would change the connection if the client could read them. */
const PLANTED = {
  PGAPPNAME: "planted",
  PGTARGETSESSIONATTRS: "standby",
  PGSSLNEGOTIATION: "direct",
  PGMAX_PIPELINE: "1",
  PGDEBUG: "true",
};

Deno.test("the client touches only the URL's host:port, APP_DATABASE_URL, PGAPPNAME and the CA file", async () => {
  const url = await verifiedUrl();
  const audit = `${await Deno.makeTempDir()}/audit.jsonl`;
  try {
    const run = await probe(
      ["--allow-net", "--allow-env", "--allow-read", "--allow-sys", "--allow-run", "--allow-write", "--allow-ffi"],
      { APP_DATABASE_URL: url, DENO_AUDIT_PERMISSIONS: audit },
    );
    assert.equal(run.result.ok, true, JSON.stringify(run.result) + run.stderr);
    const checks = (await Deno.readTextFile(audit)).trim().split("\n").map((line) => JSON.parse(line));
    const touched = new Set(
      checks.map((c: { permission: string; value: string | null }) => `${c.permission} ${c.value}`),
    );
    // Deno.readTextFile itself records a write query on the file it reads; read alone is
    // enough (the next test grants only read).
    touched.delete(`write ${pg().tls!.caFile}`);
    assert.deepEqual([...touched].sort(), [
      "env APP_DATABASE_URL",
      "env PGAPPNAME",
      `net localhost:${pg().port}`,
      `read ${pg().tls!.caFile}`,
    ]);
  } finally {
    await Deno.remove(audit.replace(/\/audit\.jsonl$/, ""), { recursive: true });
  }
});

Deno.test("under the proposed grants it connects, and PG* variables in the environment change nothing", async () => {
  const url = await verifiedUrl();
  const run = await probe(
    [`--allow-net=localhost:${pg().port}`, "--allow-env=APP_*", "--ignore-env=PG*", `--allow-read=${pg().tls!.caFile}`],
    { APP_DATABASE_URL: url, ...PLANTED },
  );
  assert.deepEqual(run.result, { ok: true, user: pg().app.name, applicationName: "secure-api", ssl: true }, run.stderr);
});

Deno.test("the same grants as a deno.json permission set: env { allow: APP_*, ignore: PG* }", async () => {
  const url = await verifiedUrl();
  const dir = await Deno.makeTempDir();
  try {
    const project = JSON.parse(await Deno.readTextFile(new URL("deno.json", PROJECT_ROOT)));
    await Deno.writeTextFile(
      `${dir}/deno.json`,
      JSON.stringify({
        imports: project.imports,
        permissions: {
          "server-postgres": {
            net: [`localhost:${pg().port}`],
            env: { allow: ["APP_*"], ignore: ["PG*"] },
            read: [pg().tls!.caFile],
          },
        },
      }),
    );
    const run = await probe(["-P=server-postgres"], { APP_DATABASE_URL: url, ...PLANTED }, `${dir}/deno.json`);
    assert.deepEqual(
      run.result,
      { ok: true, user: pg().app.name, applicationName: "secure-api", ssl: true },
      run.stderr,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("without the PG* ignore the client cannot even be created: NotCapable for PGAPPNAME (no prompt)", async () => {
  const url = await verifiedUrl();
  const run = await probe(
    [`--allow-net=localhost:${pg().port}`, "--allow-env=APP_*", `--allow-read=${pg().tls!.caFile}`],
    { APP_DATABASE_URL: url },
  );
  assert.equal(run.result.ok, false);
  assert.equal(run.result.name, "NotCapable");
  assert.match(String(run.result.message), /Requires env access to "PGAPPNAME"/);
});

Deno.test("net is checked as the URL's host:port: another port, or the IP for a name, is refused", async () => {
  const url = await verifiedUrl();
  for (const net of [`localhost:${pg().port + 1}`, `127.0.0.1:${pg().port}`]) {
    const run = await probe(
      [`--allow-net=${net}`, "--allow-env=APP_*", "--ignore-env=PG*", `--allow-read=${pg().tls!.caFile}`],
      { APP_DATABASE_URL: url },
    );
    assert.equal(run.result.ok, false, net);
    assert.equal(
      run.result.message,
      `PostgreSQL at localhost:${pg().port}: the permission set does not grant net access to localhost:${pg().port}`,
    );
  }
});
