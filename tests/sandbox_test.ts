/**
 * The server permission set (README "The permission sandbox") confines code that runs under it:
 * `tests/fixtures/escape_probe.ts` runs with `deno run -P=server` in a
 * project copy — exactly the set `deno task start` uses — and tries to read,
 * write, reach the network, read the environment, spawn, load native code
 * and query the system outside what the set grants. Every attempt must be
 * `Deno.errors.NotCapable`; the controls (read `sql/`, write `data/`, read
 * `APP_*`) must work, proving the set was applied and not silently empty
 * (the `-P` trap: a set that is not found runs with no permissions at all).
 */
import assert from "node:assert/strict";
import { projectCopy } from "./e2e_helpers.ts";

Deno.test("code under -P=server cannot leave its folders, network, environment or process", async () => {
  const dir = await projectCopy();
  try {
    await Deno.mkdir(`${dir}/tests/fixtures`, { recursive: true });
    await Deno.copyFile(
      new URL("./fixtures/escape_probe.ts", import.meta.url),
      `${dir}/tests/fixtures/escape_probe.ts`,
    );
    await Deno.mkdir(`${dir}/data`);
    // Planted from outside the sandbox: see the last assertion.
    await Deno.symlink("/etc/passwd", `${dir}/data/link-to-passwd`);

    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-P=server", "tests/fixtures/escape_probe.ts"],
      cwd: dir,
      env: { APP_PORT: "8443", NO_COLOR: "1" },
      stdin: "null",
    }).output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    const results = JSON.parse(new TextDecoder().decode(stdout).trim().split("\n").at(-1)!) as Record<string, string>;

    const escapes = Object.entries(results).filter(([name]) =>
      !name.startsWith("control") && !name.includes("link-to")
    );
    assert.ok(escapes.length >= 18, "the probe ran every attempt");
    for (const [attempt, outcome] of escapes) {
      assert.equal(outcome, "NotCapable", `"${attempt}" under the server set gave ${outcome}`);
    }
    assert.equal(results["control read sql/"], "ok");
    assert.equal(results["control write data/probe.txt"], "ok");
    assert.equal(results["control env APP_PORT"], "ok");
    assert.equal(await Deno.readTextFile(`${dir}/data/probe.txt`), "x");
    assert.ok(!(await exists(`${dir}/../escape.txt`)), "nothing was written outside the sandbox");

    // Deno checks a path's permission where the link is, not where it points (documented behaviour), so a
    // symlink planted in data/ from OUTSIDE is followed. The sandboxed code cannot make one (see the
    // "symlink …" attempt above): keep data/ and certs/ writable by the service account only.
    assert.equal(results["read data/link-to-passwd"], "ok");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}
