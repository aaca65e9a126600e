/**
 * `deno task compile` (README "Single binary"): one binary, `dist/secure-api`, with the
 * migrations embedded (`--include sql`, read from the binary's own file
 * system, which the runtime always lets the program read) and the server
 * permission set baked in.
 *
 * `deno compile -P=server` alone would bake the set's folders as ABSOLUTE
 * paths of the build directory (Deno resolves a config set's paths against
 * deno.json), so the binary would only work where it was built. The task
 * therefore restates read and write as `./data,./certs` — explicit flags are
 * kept as written and resolved where the binary runs — and drops `./sql`
 * (embedded). `--no-prompt`: a missing permission is an error, never a
 * question at a terminal.
 *
 * Building needs Deno's runtime base (`denort`): `DENORT_BIN`, a copy in
 * Deno's cache, or a download from dl.deno.land. Where none of them is
 * available the build test is reported as *ignored, with that reason* —
 * never as passed — and the offline test proves instead that the task then
 * ends in one line naming `DENORT_BIN` (tools/compile.ts), not a backtrace.
 */
import assert from "node:assert/strict";
import { openDatabase } from "../src/db/sqlite/database.ts";
import { COMPILE_ARGS, compileArgs, DENORT_HINT, isBaseBinaryDownloadFailure } from "../tools/compile.ts";
import { freePort, PROJECT_ROOT, projectCopy } from "./e2e_helpers.ts";

interface DenoJSON {
  tasks: Record<string, { command: string }>;
  permissions: Record<string, { read: string[]; write: string[]; net: string[]; env: string[]; run: string[] }>;
}

const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", PROJECT_ROOT))) as DenoJSON;
const COMPILE = ["deno", ...COMPILE_ARGS];
const SERVER_SET = config.permissions.server!;
const flag = (name: string) => COMPILE.find((arg) => arg.startsWith(`${name}=`))?.slice(name.length + 1).split(",");

/** Where `deno compile` keeps a downloaded runtime base. */
async function cachedDenort(): Promise<string | null> {
  const { stdout } = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"], stdin: "null" }).output();
  const denoDir = (JSON.parse(new TextDecoder().decode(stdout)) as { denoDir: string }).denoDir;
  try {
    for await (const entry of Deno.readDir(`${denoDir}/dl/release/v${Deno.version.deno}`)) {
      if (entry.name.startsWith("denort-")) return entry.name;
    }
  } catch { /* no cache */ }
  return null;
}

/** Whether dl.deno.land answers a TCP connection within 3 s. */
async function downloadReachable(): Promise<boolean> {
  const timeout = new Promise<false>((resolve) => setTimeout(() => resolve(false), 3_000));
  const attempt = Deno.connect({ hostname: "dl.deno.land", port: 443 }).then((conn) => {
    conn.close();
    return true;
  }, () => false);
  return await Promise.race([attempt, timeout]);
}

/** Why `denort` is unavailable on this machine, or null when a build can run. */
async function denortUnavailable(): Promise<string | null> {
  if (Deno.env.get("DENORT_BIN")) return null;
  if (await cachedDenort()) return null;
  if (await downloadReachable()) return null;
  return "denort unavailable: DENORT_BIN unset, none in Deno's cache, dl.deno.land unreachable";
}

const UNAVAILABLE = await denortUnavailable();

/** Runs `command`; `env` adds variables, and `unset` removes inherited ones. */
async function run(
  command: string,
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
  unset: string[] = [],
) {
  const inherited = Object.fromEntries(Object.entries(Deno.env.toObject()).filter(([name]) => !unset.includes(name)));
  const { code, stdout, stderr } = await new Deno.Command(command, {
    args,
    cwd,
    env: { ...inherited, ...env },
    clearEnv: true,
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  return { code, out: decoder.decode(stdout) + decoder.decode(stderr) };
}

/** The permissions `deno compile` wrote into the binary (its metadata is JSON in the file). */
async function bakedPermissions(binary: string): Promise<Record<string, unknown>> {
  const bytes = await Deno.readFile(binary);
  const text = new TextDecoder("latin1").decode(bytes);
  const match = /"permissions":(\{[^{}]*\})/.exec(text);
  assert.ok(match, "no permissions metadata found in the binary");
  return JSON.parse(match[1]!);
}

/** Starts `binary` in `cwd`; resolves when it logs "listening", or with its exit when it dies first. */
async function start(binary: string, cwd: string, env: Record<string, string>) {
  const child = new Deno.Command(binary, { cwd, env, stdin: "null", stdout: "piped", stderr: "piped" }).spawn();
  const output: string[] = [];
  const { promise: listening, resolve } = Promise.withResolvers<boolean>();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      output.push(chunk);
      if (output.join("").includes("listening on")) resolve(true);
    }
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
  const status = child.status.then(async (s) => {
    await pumps;
    resolve(false);
    return s;
  });
  const timer = setTimeout(() => resolve(false), 60_000);
  const up = await listening;
  clearTimeout(timer);
  return { child, up, status, output };
}

Deno.test("deno task compile restates the server set's folders (minus the embedded sql/ and sources) and never prompts", () => {
  assert.equal(config.tasks.compile!.command, "deno run -P=compile tools/compile.ts");
  assert.deepEqual(config.permissions.compile, { run: ["deno"] }, "the wrapper only starts deno");
  assert.equal(COMPILE.slice(0, 3).join(" "), "deno compile -P=server");
  // The guard Worker's sources are read from the binary's own file system, like sql/.
  const embedded = (path: string) => path === "./sql" || path.startsWith("./src/");
  assert.deepEqual(flag("--allow-read"), SERVER_SET.read.filter((path) => !embedded(path)));
  assert.deepEqual(flag("--allow-write"), SERVER_SET.write);
  assert.ok(COMPILE.includes("--no-prompt"));
  assert.equal(COMPILE[COMPILE.indexOf("--include") + 1], "sql");
  assert.equal(
    COMPILE[COMPILE.lastIndexOf("--include") + 1],
    "src/net/guard/guard_worker.ts",
    "a Worker must be included",
  );
  assert.equal(COMPILE[COMPILE.indexOf("-o") + 1], "dist/secure-api");
  assert.ok(!COMPILE.some((arg) => /^(-A|--allow-all|--allow-(run|ffi|sys))/.test(arg)));
  assert.ok(isBaseBinaryDownloadFailure(
    "Caused by:\n    0: Setting up base binary.\n    1: error sending request for url " +
      "(https://dl.deno.land/release/v2.9.6/denort-x86_64-unknown-linux-gnu.zip): client error (Connect)",
  ));
  assert.ok(!isBaseBinaryDownloadFailure('error: Module not found "file:///x/main.ts"'));
  // Extra flags go before the entry point: after it, deno compile would bake them in as program arguments.
  const extra = compileArgs(["--allow-net=127.0.0.1:9443"]);
  assert.ok(extra.indexOf("--allow-net=127.0.0.1:9443") < extra.indexOf("main.ts"));
  assert.equal(extra.at(-1), "main.ts");
});

Deno.test("offline, deno task compile ends in one line naming DENORT_BIN, not a backtrace", async () => {
  const dir = await projectCopy();
  try {
    await Deno.mkdir(`${dir}/tools`);
    await Deno.copyFile(new URL("tools/compile.ts", PROJECT_ROOT), `${dir}/tools/compile.ts`);
    // Offline for dl.deno.land only: its download goes to a dead proxy; npm packages come from the cache.
    const env = { HTTPS_PROXY: "http://127.0.0.1:9", NO_PROXY: "registry.npmjs.org" };
    const built = await run(Deno.execPath(), ["task", "compile"], dir, env, ["DENORT_BIN"]);
    if (UNAVAILABLE === null && built.code === 0) return; // a cached denort needs no download: nothing to report
    assert.notEqual(built.code, 0);
    assert.ok(built.out.includes(DENORT_HINT), built.out);
    assert.doesNotMatch(built.out, /Stack backtrace|Caused by:/);

    const wrong = await run(Deno.execPath(), ["task", "compile"], dir, { DENORT_BIN: `${dir}/no-such-denort` });
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.out, /compile: DENORT_BIN=\S+no-such-denort is not a file; point it at a local denort/);
    assert.doesNotMatch(wrong.out, /Stack backtrace|Caused by:/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

if (UNAVAILABLE === null) {
  Deno.test(
    "dist/secure-api runs anywhere with embedded migrations and only the baked permissions",
    testBinary,
  );
} else {
  // Reported as ignored, with the reason in its name: never counted as passed.
  Deno.test({
    name: "dist/secure-api runs anywhere with embedded migrations and only the baked permissions " +
      `(ignored: ${UNAVAILABLE})`,
    ignore: true,
    fn: testBinary,
  });
}

async function testBinary() {
  const dir = await projectCopy();
  const deploy = await Deno.makeTempDir({ prefix: "secure-api-deploy-" });
  try {
    await Deno.mkdir(`${dir}/tools`);
    await Deno.copyFile(new URL("tools/compile.ts", PROJECT_ROOT), `${dir}/tools/compile.ts`);
    const built = await run(Deno.execPath(), ["task", "compile"], dir);
    assert.equal(built.code, 0, `deno task compile failed:\n${built.out}`);
    const binary = `${dir}/dist/secure-api`;
    assert.ok((await Deno.stat(binary)).mode! & 0o111, "the binary is executable");

    const baked = await bakedPermissions(binary);
    assert.deepEqual(baked.allow_read, ["./data", "./certs"], "relative: resolved where the binary runs");
    assert.deepEqual(baked.allow_write, ["./data", "./certs"]);
    assert.deepEqual(baked.allow_net, SERVER_SET.net);
    assert.deepEqual(baked.allow_env, ["APP_*"]);
    for (const kind of ["allow_run", "allow_ffi", "allow_sys"]) assert.equal(baked[kind], null, kind);
    assert.equal(baked.prompt, false);

    // 1. In an empty directory (no sql/ on disk) on a port the set does not allow: migrations still run from
    //    the binary, the certificate is generated, and listening is refused by the baked net allowlist.
    const port = freePort();
    const env = { APP_PORT: String(port), APP_ADMIN_PASSWORD: "compiled-binary-passphrase", NO_COLOR: "1" };
    const refused = await start(binary, deploy, env);
    assert.equal(refused.up, false, "the binary listened on a port outside its baked allowlist");
    assert.notEqual((await refused.status).code, 0);
    assert.match(refused.output.join(""), /NotCapable[\s\S]*net access to "127\.0\.0\.1:\d+"/);
    // Read-write: the process died without closing, so SQLite may need to recover its WAL first.
    const migrated = openDatabase(`${deploy}/data/app.db`);
    const sqlFiles = [...Deno.readDirSync(new URL("sql/", PROJECT_ROOT))].filter((e) => e.name.endsWith(".sql"));
    const applied = migrated.prepare("SELECT name FROM schema_migrations ORDER BY version").all<{ name: string }>();
    migrated.close();
    assert.deepEqual(applied.map((row) => row.name), sqlFiles.map((e) => e.name).sort());
    assert.ok((await Deno.stat(`${deploy}/certs/dev-cert.pem`)).isFile);

    // 2. The same build with that port allowed (an explicit --allow-net replaces the set's list, so the
    //    connection guard's loopback port is added too) serves /health through the guard's Worker.
    const guardPort = freePort();
    const variant = compileArgs([`--allow-net=127.0.0.1:${port},127.0.0.1:${guardPort}`]).map((arg) =>
      arg === "dist/secure-api" ? "dist/secure-api-port" : arg
    );
    const rebuilt = await run(Deno.execPath(), variant, dir);
    assert.equal(rebuilt.code, 0, rebuilt.out);
    const server = await start(`${dir}/dist/secure-api-port`, deploy, {
      ...env,
      APP_CONNECTION_GUARD_PORT: String(guardPort),
    });
    try {
      assert.ok(server.up, server.output.join(""));
      const client = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(`${deploy}/certs/dev-cert.pem`)] });
      const health = await fetch(`https://127.0.0.1:${port}/health`, { client });
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), { status: "ok" });
      client.close();
    } finally {
      server.child.kill("SIGTERM");
    }
    assert.equal((await server.status).code, 0, server.output.join(""));
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(deploy, { recursive: true });
  }
}
