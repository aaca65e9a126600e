import assert from "node:assert/strict";
import { getLogger } from "@logtape/logtape";
import { testStore } from "../tests/helpers.ts";
import { captureLogs } from "../tests/log_capture.ts";
import { AuditLog } from "./audit/audit_log.ts";
import { CRASH_EXIT_CODE, crashHandler, describeCrash } from "./crash.ts";

Deno.test("crashHandler() logs the crash, records sys_crash, flushes the logs, then exits 70", async () => {
  await using logs = await captureLogs();
  await using store = await testStore();
  const audit = new AuditLog(store);
  const steps: string[] = [];
  const crash = crashHandler({
    audit: {
      append: (entry) => {
        steps.push(`audit ${entry.event} (log lines so far: ${logs.lines.length})`);
        return audit.append(entry);
      },
    },
    log: getLogger(["secure-api", "server"]),
    flush: () => {
      steps.push("flush");
      return Promise.resolve();
    },
    exit: (code) => void steps.push(`exit ${code}`),
  });
  await crash(new TypeError("cannot read properties of undefined"));
  assert.deepEqual(steps, ["audit sys_crash (log lines so far: 1)", "flush", `exit ${CRASH_EXIT_CODE}`]);
  const [row] = await audit.query({ event: "sys_crash", afterSeq: 0, limit: 10 });
  assert.equal(row!.level, "critical");
  assert.equal(row!.client, "local");
  assert.deepEqual(JSON.parse(row!.detail), { error: "TypeError: cannot read properties of undefined" });
  const [fatal] = logs.json();
  assert.equal(fatal!.level, "FATAL");
  assert.match(String(fatal!.message), /crash: .*cannot read properties of undefined/);
});

Deno.test("crashHandler() still logs, flushes and exits when the audit write fails", async () => {
  await using logs = await captureLogs();
  const exits: number[] = [];
  let flushed = false;
  const crash = crashHandler({
    audit: {
      append: () => Promise.reject(new Error("database is locked")),
    },
    log: getLogger(["secure-api", "server"]),
    flush: () => {
      flushed = true;
      return Promise.resolve();
    },
    exit: (code) => void exits.push(code),
  });
  await crash("a rejected promise with a string reason");
  assert.deepEqual(exits, [70]);
  assert.equal(flushed, true);
  assert.deepEqual(logs.json().map((l) => l.level), ["FATAL", "ERROR"]);
  assert.match(logs.lines[1]!, /could not record sys_crash/);
});

Deno.test("crashHandler() exits even when flushing the logs fails", async () => {
  await using _logs = await captureLogs();
  const exits: number[] = [];
  const crash = crashHandler({
    audit: { append: () => ({}) as never },
    log: getLogger(["secure-api", "server"]),
    flush: () => Promise.reject(new Error("stdout closed")),
    exit: (code) => void exits.push(code),
  });
  await assert.rejects(crash(new Error("boom")), /stdout closed/);
  assert.deepEqual(exits, [70]);
});

Deno.test("crashHandler() runs once: a crash during the crash does not record or exit again", async () => {
  await using _logs = await captureLogs();
  const events: string[] = [];
  const exits: number[] = [];
  let release!: () => void;
  const crash = crashHandler({
    audit: { append: (entry) => (events.push(entry.event), {}) as never },
    log: getLogger(["secure-api", "server"]),
    flush: () => new Promise<void>((resolve) => release = resolve),
    exit: (code) => void exits.push(code),
  });
  const first = crash(new Error("first"));
  await crash(new Error("second, while flushing"));
  release();
  await first;
  assert.deepEqual(events, ["sys_crash"]);
  assert.deepEqual(exits, [70]);
});

Deno.test("describeCrash() keeps name and message, masks credentials and drops the stack", () => {
  const error = new Error("connect to redis://admin:hunter2@cache:6379 failed");
  assert.equal(describeCrash(error), "Error: connect to redis://[REDACTED]@cache:6379 failed");
  assert.ok(!describeCrash(error).includes("at "));
  assert.equal(describeCrash(42), "42");
});
