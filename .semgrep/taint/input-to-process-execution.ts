import { Hono } from "hono";
import { exec, execFile } from "node:child_process";
import * as childProcess from "node:child_process";

const app = new Hono();

app.post("/thumbnails", async (c) => {
  const { file } = await c.req.json();
  // ruleid: input-to-process-execution
  const cmd = new Deno.Command("sh", { args: ["-c", `convert ${file} -resize 64x64 thumb.png`] });
  await cmd.output();
  return c.body(null, 201);
});

app.get("/ping", async (c) => {
  const host = c.req.query("host") ?? "";
  // ruleid: input-to-process-execution
  const out = await new Deno.Command("ping", { args: ["-c", "1", host] }).output();
  return c.text(new TextDecoder().decode(out.stdout));
});

app.get("/tools/:tool", async (c) => {
  // ruleid: input-to-process-execution
  const out = await new Deno.Command(c.req.param("tool")).output();
  return c.json({ code: out.code });
});

app.get("/git/log", (c) => {
  const ref = c.req.query("ref");
  // ruleid: input-to-process-execution
  Deno.run({ cmd: ["git", "log", ref] });
  return c.body(null, 204);
});

app.get("/grep", (c) => {
  // ruleid: input-to-process-execution
  exec("grep -r " + c.req.query("q") + " /srv/docs", () => {});
  return c.body(null, 202);
});

app.get("/convert", (c) => {
  // ruleid: input-to-process-execution
  execFile("convert", [c.req.query("src") ?? "", "out.png"]);
  // ruleid: input-to-process-execution
  childProcess.spawn(c.req.query("program") ?? "true");
  return c.body(null, 202);
});

// A CLI that hands its argument to a shell.
const pattern = Deno.args[0];
// ruleid: input-to-process-execution
await new Deno.Command("bash", { args: ["-c", "find . -name " + pattern] }).output();

// --- correct code ---

app.get("/ok/ping", async (c) => {
  const count = Number(c.req.query("count"));
  // ok: input-to-process-execution
  const out = await new Deno.Command("ping", { args: ["-c", String(count), "127.0.0.1"] }).output();
  return c.json({ code: out.code });
});

app.get("/ok/fixed-script", async () => {
  // ok: input-to-process-execution
  const out = await new Deno.Command("sh", { args: ["-c", "command -v wrk"] }).output();
  return Response.json({ found: out.success });
});

// A CLI may pass its own arguments to a fixed program: the operator typed them.
// ok: input-to-process-execution
await new Deno.Command("git", { args: ["log", "--", ...Deno.args] }).output();
