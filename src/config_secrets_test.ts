import assert from "node:assert/strict";
import { ConfigError, parseConfig } from "./config.ts";
import { resolveSecretFiles } from "./config_secrets.ts";

const SECRET = "pepper-from-a-mounted-secret-0123456789";

/** A temporary secrets folder, removed at the end. */
async function withSecrets(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(await Deno.realPath(dir));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function writeSecret(path: string, text: string, mode = 0o400): Promise<void> {
  await Deno.writeTextFile(path, text, { mode: 0o600 });
  await Deno.chmod(path, mode);
}

function refusal(error: unknown, variable: string, message: RegExp): true {
  assert.ok(error instanceof ConfigError);
  assert.ok(error.message.startsWith(`${variable}: `), error.message);
  assert.match(error.message, message);
  assert.ok(!error.message.includes(SECRET), "the secret is never in a message");
  return true;
}

Deno.test("resolveSecretFiles() reads APP_PEPPER_FILE and friends from the secrets folder, less one trailing newline", async () => {
  await withSecrets(async (dir) => {
    await writeSecret(`${dir}/pepper`, `${SECRET}\n`);
    await writeSecret(`${dir}/admin`, "a passphrase with a trailing space \r\n", 0o440);
    await writeSecret(`${dir}/peppers`, `v2:${SECRET}`);
    const env = await resolveSecretFiles({
      APP_SECRETS_DIR: dir,
      APP_PEPPER_FILE: `${dir}/pepper`,
      APP_ADMIN_PASSWORD_FILE: `${dir}/admin`,
      APP_PEPPERS_FILE: `${dir}/peppers`,
      APP_PORT: "9443",
    });
    assert.equal(env.APP_PEPPER, SECRET);
    assert.equal(env.APP_ADMIN_PASSWORD, "a passphrase with a trailing space ");
    assert.equal(env.APP_PEPPER_FILE, undefined);
    const config = parseConfig(env);
    assert.equal(config.pepper, SECRET);
    assert.deepEqual(config.peppers, [{ id: "v2", secret: SECRET }]);
    assert.equal(config.port, 9443);
  });
});

Deno.test("resolveSecretFiles() refuses a file others can read, one outside the folder (symbolic links resolved), and both forms at once", async () => {
  await withSecrets(async (dir) => {
    await Deno.mkdir(`${dir}/secrets`);
    const folder = `${dir}/secrets`;
    await writeSecret(`${folder}/open`, SECRET, 0o444);
    await writeSecret(`${folder}/group`, SECRET, 0o404);
    await writeSecret(`${dir}/outside`, SECRET);
    await Deno.symlink(`${dir}/outside`, `${folder}/escape`);
    await writeSecret(`${folder}/ok`, SECRET);
    await Deno.mkdir(`${folder}/folder`, { mode: 0o700 });
    await writeSecret(`${folder}/empty`, "\n");
    const cases: [Record<string, string>, string, RegExp][] = [
      [{ APP_PEPPER_FILE: `${folder}/open` }, "APP_PEPPER_FILE", /others may access it; chmod o-rwx/],
      [{ APP_PEPPER_FILE: `${folder}/group` }, "APP_PEPPER_FILE", /others may access it/],
      [{ APP_PEPPER_FILE: `${dir}/outside` }, "APP_PEPPER_FILE", /must be inside APP_SECRETS_DIR/],
      [{ APP_PEPPER_FILE: `${folder}/escape` }, "APP_PEPPER_FILE", /must be inside APP_SECRETS_DIR/],
      [{ APP_PEPPER_FILE: `${folder}/../outside` }, "APP_PEPPER_FILE", /must be inside APP_SECRETS_DIR/],
      [{ APP_PEPPER_FILE: `${folder}/missing` }, "APP_PEPPER_FILE", /no such file/],
      [{ APP_PEPPER_FILE: `${folder}/folder` }, "APP_PEPPER_FILE", /not a regular file/],
      [{ APP_PEPPER_FILE: `${folder}/empty` }, "APP_PEPPER_FILE", /the file is empty/],
      [{ APP_PEPPER_FILE: `${folder}/ok`, APP_PEPPER: SECRET }, "APP_PEPPER_FILE", /set either APP_PEPPER or/],
    ];
    for (const [env, variable, message] of cases) {
      await assert.rejects(
        resolveSecretFiles({ APP_SECRETS_DIR: folder, ...env }),
        (error: unknown) => refusal(error, variable, message),
        JSON.stringify(env),
      );
    }
    assert.equal(
      (await resolveSecretFiles({ APP_SECRETS_DIR: folder, APP_PEPPER_FILE: `${folder}/ok` })).APP_PEPPER,
      SECRET,
    );
  });
});

Deno.test("resolveSecretFiles() applies only to secret settings, and reads nothing when no _FILE is given", async () => {
  const env = { APP_PORT: "1", APP_LOG_FILE: "data/app.log", APP_TLS_CERT_FILE: "/run/secrets/x" };
  const seen: string[] = [];
  const fs = {
    realPath: (p: string) => (seen.push(p), Promise.resolve(p)),
    stat: (p: string) => (seen.push(p), Promise.resolve({ isFile: true, size: 1, mode: 0o400 })),
    readTextFile: (p: string) => (seen.push(p), Promise.resolve("x")),
  };
  assert.deepEqual(await resolveSecretFiles(env, fs), env);
  assert.deepEqual(seen, []);
});
