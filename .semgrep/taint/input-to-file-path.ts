import { Hono } from "hono";
import { readFile, writeFile as save } from "node:fs/promises";
import * as fs from "node:fs";
import { basename, join, resolve, SEPARATOR } from "node:path";

const app = new Hono();
const ROOT = resolve("./data/uploads");

app.get("/files/:name", async (c) => {
  const name = c.req.param("name");
  // ruleid: input-to-file-path
  return c.body(await Deno.readFile(`./data/uploads/${name}`));
});

app.get("/download", async (c) => {
  const path = join(ROOT, c.req.query("path") ?? "");
  // ruleid: input-to-file-path
  return c.text(await Deno.readTextFile(path));
});

app.delete("/files/:name", async (c) => {
  // ruleid: input-to-file-path
  await Deno.remove(join(ROOT, c.req.param("name")));
  return c.body(null, 204);
});

app.put("/files", async (c) => {
  const body = await c.req.parseBody();
  // ruleid: input-to-file-path
  await Deno.writeFile(String(body["name"]), new Uint8Array(0));
  return c.body(null, 204);
});

app.post("/move", async (c) => {
  const { from, to } = await c.req.json();
  // ruleid: input-to-file-path
  await Deno.rename(join(ROOT, "inbox"), to);
  // ruleid: input-to-file-path
  await Deno.stat(from);
  return c.body(null, 204);
});

app.get("/node/read", async (c) => {
  // ruleid: input-to-file-path
  const data = await readFile(join(ROOT, c.req.query("f") ?? ""));
  // ruleid: input-to-file-path
  await save(c.req.query("copy") ?? "", data);
  // ruleid: input-to-file-path
  const stream = fs.createReadStream(c.req.query("f") ?? "");
  return c.body(stream as unknown as ReadableStream);
});

Deno.serve({ cert: "", key: "" }, async (req) => {
  const url = new URL(req.url);
  // ruleid: input-to-file-path
  const file = await Deno.open("." + url.pathname);
  return new Response(file.readable);
});

// --- correct code ---

app.get("/ok/basename/:name", async (c) => {
  const name = basename(c.req.param("name"));
  // ok: input-to-file-path
  return c.body(await Deno.readFile(join(ROOT, name)));
});

app.get("/ok/contained", async (c) => {
  const full = resolve(ROOT, c.req.query("path") ?? "");
  if (!full.startsWith(ROOT + SEPARATOR)) return c.body(null, 404);
  // ok: input-to-file-path
  return c.body(await Deno.readFile(full));
});

app.get("/ok/by-id/:id", async (c) => {
  const id = Number(c.req.param("id"));
  // ok: input-to-file-path
  return c.body(await Deno.readFile(`${ROOT}/${id}.bin`));
});

app.put("/ok/content", async (c) => {
  const text = await c.req.text();
  // ok: input-to-file-path
  await Deno.writeTextFile(join(ROOT, "notes.txt"), text);
  return c.body(null, 204);
});

// An operator's CLI reads the file it is told to: the argument is not request input.
// ok: input-to-file-path
const report = await Deno.readTextFile(Deno.args[0] ?? "report.json");
