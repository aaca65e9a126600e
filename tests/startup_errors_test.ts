/**
 * Start-up mistakes end in one clear line (README "Configuration"): the real
 * `deno task start`, in a project copy, under its real permission set, with
 * one mistake each. The process must exit 1 having printed exactly one
 * `secure-api:` line that names the variable and the fix — no Deno stack
 * trace, no hint to pass `--allow-*` (which would replace the set's list) —
 * and without creating the database. A misspelled `APP_*` variable is
 * warned about with the closest known name.
 */
import assert from "node:assert/strict";
import { freePort, projectCopy, serverPorts } from "./e2e_helpers.ts";

interface Outcome {
  code: number;
  /** Lines this project printed (Deno's own experimental-permissions warning left out). */
  lines: string[];
  stderr: string;
}

async function start(dir: string, env: Record<string, string>): Promise<Outcome> {
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["task", "start"],
    cwd: dir,
    env: { NO_COLOR: "1", APP_PBKDF2_ITERATIONS: "1000", ...env },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(stderr);
  return { code, stderr: text, lines: text.split("\n").filter((line) => line.startsWith("secure-api:")) };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** Asserts the start failed with `expected` as its one line, no stack trace, nothing created. */
async function assertOneLine(dir: string, outcome: Outcome, expected: RegExp): Promise<void> {
  assert.equal(outcome.code, 1, outcome.stderr);
  const errors = outcome.lines.filter((line) => line.startsWith("secure-api: configuration error: "));
  assert.equal(errors.length, 1, outcome.stderr);
  assert.match(errors[0]!, expected);
  assert.doesNotMatch(outcome.stderr, /^\s+at /m, "no stack trace");
  assert.doesNotMatch(outcome.stderr, /run again with the --allow|error: Uncaught/, "not Deno's own error or hint");
  assert.equal(await exists(`${dir}/data/app.db`), false, "nothing was created");
}

Deno.test("one line for each common start-up mistake, before the database is created", async () => {
  const { port, guardPort, env } = serverPorts();
  const dir = await projectCopy({ port, guardPort });
  try {
    await assertOneLine(
      dir,
      await start(dir, { ...env, APP_ADMIN_PASSWORD: "password" }),
      /APP_ADMIN_PASSWORD: must be at least 15 characters/,
    );
    await assertOneLine(
      dir,
      await start(dir, { ...env, APP_DB: "/tmp/secure-api-outside.db" }),
      /^secure-api: configuration error: APP_DB=\/tmp\/secure-api-outside\.db: the server may only read and write under data\/.*permissions\.server\.read and \.write in deno\.json$/,
    );
    await assertOneLine(
      dir,
      await start(dir, { ...env, APP_TLS_CERT: "/etc/hostname", APP_TLS_KEY: "certs/key.pem" }),
      /APP_TLS_CERT=\/etc\/hostname: outside the folders the server may read; put it under certs\/ or add its folder to permissions\.server\.read in deno\.json$/,
    );
    await assertOneLine(
      dir,
      await start(dir, { ...env, APP_TLS_CERT: "certs/missing.pem", APP_TLS_KEY: "certs/missing-key.pem" }),
      /APP_TLS_CERT=certs\/missing\.pem: no such file$/,
    );
    const other = freePort();
    await assertOneLine(
      dir,
      await start(dir, { ...env, APP_PORT: String(other) }),
      new RegExp(
        `APP_PORT=${other}: the server permission set does not allow listening on 127\\.0\\.0\\.1:${other}; ` +
          `add "127\\.0\\.0\\.1:${other}" to permissions\\.server\\.net in deno\\.json \\(do not pass --allow-net`,
      ),
    );
    // The connection guard's loopback port (the HTTPS server behind it) is checked the same way.
    const otherGuard = freePort();
    await assertOneLine(
      dir,
      await start(dir, { ...env, APP_CONNECTION_GUARD_PORT: String(otherGuard) }),
      new RegExp(
        `APP_CONNECTION_GUARD_PORT=${otherGuard}: the server permission set does not allow listening on ` +
          `127\\.0\\.0\\.1:${otherGuard} \\(the HTTPS server behind the connection guard\\); ` +
          `add "127\\.0\\.0\\.1:${otherGuard}" to permissions\\.server\\.net in deno\\.json \\(do not pass --allow-net`,
      ),
    );
    // Held by someone else (another server, or the developer's own `deno task start`): either port.
    for (const [variable, held] of [["APP_PORT", port], ["APP_CONNECTION_GUARD_PORT", guardPort]] as const) {
      const holder = Deno.listen({ hostname: "127.0.0.1", port: held });
      try {
        await assertOneLine(
          dir,
          await start(dir, env),
          new RegExp(
            `${variable}=${held}: 127\\.0\\.0\\.1:${held}( \\(the HTTPS server behind the connection guard\\))? is already in use`,
          ),
        );
      } finally {
        holder.close();
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a misspelled APP_* variable is named at start with the closest known one, and values are never shown", async () => {
  const { port, guardPort, env } = serverPorts();
  const dir = await projectCopy({ port, guardPort });
  try {
    // The typo is reported; the start then goes on and here stops at a second, real mistake (quick, creates nothing).
    const outcome = await start(dir, {
      ...env,
      APP_PROT: "9443",
      APP_ADMIN_PASWORD: "a-secret-value-that-must-not-be-echoed",
      APP_DB: "/tmp/secure-api-outside.db",
    });
    assert.ok(
      outcome.lines.includes("secure-api: warning: APP_PROT is not a setting and is ignored; did you mean APP_PORT?"),
      outcome.stderr,
    );
    assert.ok(
      outcome.lines.includes(
        "secure-api: warning: APP_ADMIN_PASWORD is not a setting and is ignored; did you mean APP_ADMIN_PASSWORD?",
      ),
      outcome.stderr,
    );
    assert.doesNotMatch(outcome.stderr, /a-secret-value/);
    assert.equal(outcome.code, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
