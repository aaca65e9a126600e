/**
 * The README's curl tour works when pasted (README "A tour with curl"): the
 * block is taken from README.md and run by bash exactly as written — only
 * the printed admin name and password and a free port instead of 8443 are put in —
 * against the real server (`deno task start`, its permission set, the
 * development certificate) in a project copy. Every curl command's status
 * must be the one its note documents. The old first line,
 * `CA=--cacert=certs/dev-cert.pem`, made every command fail on curl 7.88
 * ("option --cacert=certs/dev-cert.pem: is unknown"): this test would have
 * caught it.
 */
import assert from "node:assert/strict";
import { PROJECT_ROOT, startServer } from "./e2e_helpers.ts";

/** The `sh` block under "## A tour with curl". */
export function tourBlock(readme: string): string {
  const section = readme.slice(readme.indexOf("\n## A tour with curl\n"));
  const match = /```sh\n([\s\S]*?)```/.exec(section);
  if (!match) throw new Error('README.md has no sh block under "## A tour with curl"');
  return match[1]!;
}

/** `command` without its `# …` notes. */
function code(command: string): string {
  return command.split("\n").map((line) => line.replace(/\s+#.*$/, "")).join("\n");
}

/** True when `command` runs curl. */
function runsCurl(command: string): boolean {
  return /\bcurl\b/.test(code(command));
}

/** Each shell command of `block` (continuations joined), with the status its trailing note documents. */
export function tourCommands(block: string): { command: string; status: number | null }[] {
  const commands: { command: string; status: number | null }[] = [];
  let current = "";
  for (const line of block.split("\n")) {
    current += (current ? "\n" : "") + line;
    const code = line.replace(/\s+#.*$/, "").trimEnd();
    if (code.endsWith("\\") || code.endsWith("|")) continue;
    if (current.trim() !== "") {
      const note = current.match(/#\s*([1-5][0-9]{2})\b[^\n]*$/);
      commands.push({ command: current, status: runsCurl(current) && note ? Number(note[1]) : null });
    }
    current = "";
  }
  return commands;
}

Deno.test("the README tour's commands parse, and every curl command documents its status", async () => {
  const commands = tourCommands(tourBlock(await Deno.readTextFile(new URL("README.md", PROJECT_ROOT))));
  const curls = commands.filter((c) => runsCurl(c.command));
  assert.ok(curls.length >= 15, `found ${curls.length} curl commands`);
  for (const { command, status } of curls) assert.ok(status !== null, `no documented status for: ${command}`);
  assert.ok(!commands.some((c) => /--cacert=/.test(c.command)), "curl has no --cacert=FILE syntax");
  assert.ok(commands.some((c) => c.command === "PORT=8443"), "the port is one variable");
  assert.deepEqual(tourCommands("a \\\n  b   # 201 x\nc | \n d # 200"), [
    { command: "a \\\n  b   # 201 x", status: null },
    { command: "c | \n d # 200", status: null },
  ]);
});

Deno.test("the README tour runs as written by bash against the real server, every status as documented", async () => {
  const block = tourBlock(await Deno.readTextFile(new URL("README.md", PROJECT_ROOT)));
  const expected = tourCommands(block).flatMap((c) => c.status === null ? [] : [c.status]);
  const server = await startServer();
  const work = await Deno.makeTempDir({ prefix: "secure-api-tour-" });
  try {
    assert.ok(server.adminPassword && server.adminUsername, "the first start printed a name and a password");
    assert.ok(block.includes("PORT=8443\n") && block.includes("<the printed name>:<the printed password>"));
    const script = block
      .replace("PORT=8443\n", `PORT=${server.port}\n`)
      .replaceAll("<the printed name>", server.adminUsername!)
      .replace("<the printed password>", server.adminPassword!);
    // Records each call's status in order and passes the body through unchanged (for `TOKEN=$(curl … | sed …)`).
    const recorder = `curl() {
  local n; n=$(( $(wc -l < "$TOUR_DIR/statuses") + 1 ))
  command curl --silent --show-error --output "$TOUR_DIR/body.$n" --write-out '%{http_code}\\n' "$@" >> "$TOUR_DIR/statuses" \\
    || echo "curl exited $?" >> "$TOUR_DIR/statuses"
  cat "$TOUR_DIR/body.$n" 2>/dev/null
}
`;
    await Deno.writeTextFile(`${work}/statuses`, "");
    // the test runs the README tour exactly as written, in bash, which is its subject.
    const { code, stdout, stderr } = await new Deno.Command("bash", { // nosemgrep: shell-script-built-at-runtime
      args: ["-c", recorder + script],
      cwd: server.dir,
      clearEnv: true,
      env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", HOME: work, TOUR_DIR: work },
      stdin: "null",
    }).output();
    const decoder = new TextDecoder();
    const output = `${decoder.decode(stdout)}\n${decoder.decode(stderr)}`;
    assert.equal(code, 0, output);
    assert.doesNotMatch(decoder.decode(stderr), /curl: |unknown|not found/, output);
    const statuses = (await Deno.readTextFile(`${work}/statuses`)).trim().split("\n");
    assert.deepEqual(statuses, expected.map(String), output);
  } finally {
    await server.stop();
    await Deno.remove(work, { recursive: true });
    await Deno.remove(server.dir, { recursive: true });
  }
});
