/**
 * The audit tools: `audit:export` in-process (ranges, the trailer, files,
 * errors), and both tools end to end through the real `deno task` with
 * their permission sets, in a throwaway copy of the project.
 */
import assert from "node:assert/strict";
import { canonicalJSON, chainHash } from "../src/audit/hash_chain.ts";
import { run as exportAudit } from "../src/cli/audit_export.ts";
import { captureIO, createAuditFile, sqlite3 } from "./audit_fixture.ts";
import { projectCopy } from "./e2e_helpers.ts";
import { captureLogs } from "./log_capture.ts";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "audit-cli-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function parseLines(text: string): Record<string, unknown>[] {
  assert.ok(text.endsWith("\n"));
  return text.trimEnd().split("\n").map((line) => JSON.parse(line));
}

// createAuditFile() stamps rows 12:00:00, 12:00:01, 12:00:02, 12:00:03 on 2026-01-01.

Deno.test("audit:export writes since <= ts < until as JSON lines, then the chain head", async () => {
  await withDir(async (dir) => {
    await createAuditFile(`${dir}/app.db`);
    const io = captureIO();
    const code = await exportAudit([
      "--db",
      `${dir}/app.db`,
      "--since",
      "2026-01-01T12:00:01Z",
      "--until",
      "2026-01-01T13:00:03+01:00",
    ], io);
    assert.equal(code, 0, io.err);
    const lines = parseLines(io.out);
    assert.deepEqual(lines.slice(0, -1).map((r) => r.seq), [2, 3], "since inclusive, until (12:00:03Z) exclusive");
    const row = lines[0]!;
    assert.deepEqual(Object.keys(row), [
      "seq",
      "ts",
      "event",
      "level",
      "actor",
      "client",
      "method",
      "path",
      "status",
      "requestId",
      "target",
      "detail",
      "prevHash",
      "hash",
    ]);
    assert.deepEqual(row.detail, { name: "Lamp" }, "detail is an object, as GET /audit shows it");
    const trailer = lines.at(-1)!;
    const head = await sqlite3(`${dir}/app.db`, "SELECT seq || ' ' || hash FROM audit_log ORDER BY seq DESC LIMIT 1");
    const [seq, hash] = head.trim().split(" ");
    assert.deepEqual(trailer, {
      chainHead: { seq: Number(seq), hash },
      export: {
        since: "2026-01-01T12:00:01.000Z",
        until: "2026-01-01T12:00:03.000Z",
        rows: 2,
        firstSeq: 2,
        lastSeq: 3,
      },
      verified: { ok: true, checked: 4, head: { seq: 4, hash } },
      exportedAt: "2026-06-01T00:00:00.000Z",
    });
    // One line on stderr (stdout is the export): what was written, and the head to note in the archive record.
    assert.equal(
      io.err,
      "audit:export: 2 rows (seq 2-3, 2026-01-01T12:00:01.000Z <= ts < 2026-01-01T12:00:03.000Z) " +
        `to standard output; chain head seq 4 ${hash}\n`,
    );
  });
});

Deno.test("audit:export rows re-verify on their own: each hash and each link", async () => {
  await withDir(async (dir) => {
    await createAuditFile(`${dir}/app.db`);
    const io = captureIO();
    assert.equal(await exportAudit(["--db", `${dir}/app.db`], io), 0);
    const rows = parseLines(io.out).slice(0, -1) as unknown as (Record<string, unknown> & {
      prevHash: string;
      hash: string;
    })[];
    assert.equal(rows.length, 4);
    for (const [i, row] of rows.entries()) {
      const { prevHash, hash, detail, ...fields } = row;
      // Stored detail is canonical JSON, so canonicalJSON() of the exported object restores the hashed text.
      assert.equal(chainHash(prevHash, { ...fields, detail: canonicalJSON(detail) } as never), hash);
      if (i > 0) assert.equal(prevHash, rows[i - 1]!.hash);
    }
  });
});

Deno.test("audit:export --out creates a new file and never overwrites one", async () => {
  await withDir(async (dir) => {
    await createAuditFile(`${dir}/app.db`);
    const out = `${dir}/export.jsonl`;
    const io = captureIO();
    assert.equal(await exportAudit(["--db", `${dir}/app.db`, "--out", out], io), 0);
    assert.equal(io.out, "", "nothing on stdout");
    const lines = parseLines(await Deno.readTextFile(out));
    assert.equal(lines.length, 5);
    const before = await Deno.readTextFile(out);
    const again = captureIO();
    assert.equal(await exportAudit(["--db", `${dir}/app.db`, "--out", out], again), 2);
    assert.match(again.err, /^audit:export: .*export\.jsonl already exists; exports never overwrite a file\n$/);
    assert.equal(await Deno.readTextFile(out), before);
  });
});

Deno.test("audit:export of a tampered log still writes, says where it breaks, exits 1", async () => {
  await withDir(async (dir) => {
    await createAuditFile(`${dir}/app.db`);
    await sqlite3(
      `${dir}/app.db`,
      "DROP TRIGGER audit_log_no_update; UPDATE audit_log SET detail = 'not json' WHERE seq = 3;",
    );
    const io = captureIO();
    assert.equal(await exportAudit(["--db", `${dir}/app.db`], io), 1);
    const lines = parseLines(io.out);
    assert.equal(lines.length, 5);
    assert.equal(lines[2]!.detail, "not json", "a detail that is not JSON is exported raw");
    assert.deepEqual(lines.at(-1)!.verified, {
      ok: false,
      checked: 2,
      firstBadSeq: 3,
      reason: "hash does not match the row's contents",
    });
    assert.match(io.err, /BROKEN at seq 3/);
  });
});

Deno.test("audit:export refuses bad dates and ranges with exit 2", async () => {
  await withDir(async (dir) => {
    await createAuditFile(`${dir}/app.db`);
    const db = ["--db", `${dir}/app.db`];
    const cases: [string[], RegExp][] = [
      [["--since", "yesterday"], /--since must be an ISO 8601 date/],
      [["--until", "2026-02-30"], /--until is not a real date/],
      [["--since", "2026-01-02", "--until", "2026-01-01"], /--until must be later than --since/],
      [["--since", "2026-01-01", "--until", "2026-01-01"], /--until must be later than --since/],
      [["--format", "csv"], /Unknown option '--format'/],
    ];
    for (const [args, message] of cases) {
      const io = captureIO();
      assert.equal(await exportAudit([...db, ...args], io), 2, args.join(" "));
      assert.match(io.err, message);
      assert.equal(io.out, "");
    }
  });
});

/** Runs `deno task <args>` in `dir`; returns exit code and output. */
async function task(dir: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["task", ...args],
    cwd: dir,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}

Deno.test("deno task audit:verify and audit:export, end to end under their permission sets", async () => {
  const dir = await projectCopy();
  try {
    await Deno.mkdir(`${dir}/data`);
    {
      await using logs = await captureLogs();
      await createAuditFile(`${dir}/data/app.db`, { log: true });
      await Deno.writeTextFile(`${dir}/data/app.log`, logs.lines.join(""));
    }

    const ok = await task(dir, ["audit:verify"]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^OK: 4 rows in data\/app\.db; head seq 4 hash [0-9a-f]{64}\n$/);

    const withLog = await task(dir, ["audit:verify", "--log", "data/app.log"]);
    assert.equal(withLog.code, 0, withLog.stderr);
    // Four rows logged, plus the closing head line (same as row 4): four distinct heads.
    assert.match(withLog.stdout, /; 4 head\(s\) from the log confirmed\n$/);

    const exported = await task(dir, ["audit:export", "--since", "2026-01-01", "--out", "data/2026.jsonl"]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.equal(parseLines(await Deno.readTextFile(`${dir}/data/2026.jsonl`)).length, 5);
    assert.match(
      exported.stderr,
      /^audit:export: 4 rows \(seq 1-4, 2026-01-01T00:00:00\.000Z <= ts < end\) to data\/2026\.jsonl; chain head seq 4 [0-9a-f]{64}$/m,
    );

    const outside = await task(dir, ["audit:export", "--out", "exported.jsonl"]);
    assert.equal(outside.code, 2);
    assert.match(outside.stderr, /audit:export: cannot write exported\.jsonl: the permission set does not allow it/);
    await assert.rejects(Deno.stat(`${dir}/exported.jsonl`), Deno.errors.NotFound);

    const elsewhere = await task(dir, ["audit:verify", "--db", "deno.json"]);
    assert.equal(elsewhere.code, 2);
    assert.match(elsewhere.stderr, /audit:verify: cannot read deno\.json: the permission set does not allow it/);

    await sqlite3(`${dir}/data/app.db`, "DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq = 4;");
    const cut = await task(dir, ["audit:verify", "--log", "data/app.log"]);
    assert.equal(cut.code, 1);
    assert.equal(
      cut.stdout,
      "BROKEN at seq 4 in data/app.db: row 4 is gone: the log recorded a head at seq 4 (3 rows before it verified)\n",
    );

    const usage = await task(dir, ["audit:verify", "--nope"]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /audit:verify: Unknown option '--nope'/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the audit permission set is read-only; only audit-export may write, and only data/", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  const { import: verifyImports, ...verify } = config.permissions.audit;
  const { import: exportImports, ...exporter } = config.permissions["audit-export"];
  assert.deepEqual(verify, { read: ["./data"], env: ["APP_*"] });
  assert.deepEqual(exporter, { read: ["./data"], write: ["./data"], env: ["APP_*"] });
  // Like the server's: remote module imports are network access, denied.
  assert.deepEqual(verifyImports, config.permissions.server.import);
  assert.deepEqual(exportImports, config.permissions.server.import);
  assert.match(config.tasks["audit:verify"].command, /-P=audit src\/cli\/audit_verify\.ts$/);
  assert.match(config.tasks["audit:export"].command, /-P=audit-export src\/cli\/audit_export\.ts$/);
});
