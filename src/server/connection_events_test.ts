import assert from "node:assert/strict";
import type { AuditEntry } from "../audit/events.ts";
import { connectionEvents } from "./connection_events.ts";

function setup() {
  const rows: AuditEntry[] = [];
  const lines: { level: string; message: string }[] = [];
  const clock = { t: 0 };
  const log = {
    info: (message: string) => lines.push({ level: "info", message }),
    warning: (message: string) => lines.push({ level: "warning", message }),
    error: (message: string) => lines.push({ level: "error", message }),
  };
  const events = connectionEvents({
    log: log as never,
    audit: { append: (entry: AuditEntry) => rows.push(entry) as never },
    now: () => clock.t,
  });
  return { rows, lines, clock, events };
}

Deno.test("connectionEvents(): descriptor exhaustion is an audited limit, once per minute, never sys_crash", () => {
  const { rows, lines, clock, events } = setup();
  events.listenerFailed("public", new Error("Http: Error: Too many open files (os error 24)"));
  events.listenerRecovered("public", 7, 900);
  clock.t = 30_000;
  events.guard({ kind: "accept-failed", error: "Error: Too many open files (os error 24)" });
  assert.equal(rows.length, 1, "a second episode within the minute is only logged");
  assert.deepEqual(rows[0], {
    event: "excess_rate_limit_exceeded",
    level: "critical",
    client: "local",
    target: "connections",
    detail: {
      limit: "file-descriptors",
      listener: "public",
      error: "Error: Http: Error: Too many open files (os error 24)",
    },
  });
  clock.t = 61_000;
  events.guard({ kind: "accept-failed", error: "Error: Too many open files (os error 24)" });
  assert.equal(rows.length, 2);
  assert.equal(lines.filter((l) => l.level === "error").length, 3, "every episode is logged");
  assert.ok(lines.some((l) => l.level === "info" && l.message.includes("accepting again")));
});

Deno.test("connectionEvents(): refusals name the client for the per-client cap and the server for the total", () => {
  const { rows, events } = setup();
  events.guard({ kind: "refused", limit: "per-client", client: "192.0.2.9", max: 64, refused: 3 });
  events.guard({ kind: "refused", limit: "total", client: "198.51.100.1", max: 1024, refused: 1 });
  assert.deepEqual(rows.map((r) => [r.client, r.level, r.detail]), [
    ["192.0.2.9", "warning", { limit: "connections-per-client", max: 64, refused: 3 }],
    ["local", "warning", { limit: "connections", max: 1024, refused: 1 }],
  ]);
});

Deno.test("connectionEvents(): a failing audit write is logged, not thrown into the accept path", () => {
  const lines: string[] = [];
  const events = connectionEvents({
    log: { info: () => {}, warning: () => {}, error: (message: string) => lines.push(message) } as never,
    audit: {
      append: () => {
        throw new Error("database is locked");
      },
    },
  });
  events.listenerFailed("public", new Error("accept failed"));
  assert.ok(lines.some((l) => l.includes("could not record")));
});
