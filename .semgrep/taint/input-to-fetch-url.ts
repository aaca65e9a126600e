import { Hono } from "hono";
import axios from "axios";

const app = new Hono();

app.get("/preview", async (c) => {
  const url = c.req.query("url") ?? "";
  // ruleid: input-to-fetch-url
  const res = await fetch(url);
  return c.text(await res.text());
});

app.post("/webhooks", async (c) => {
  const { callback } = await c.req.json();
  // ruleid: input-to-fetch-url
  await fetch(new Request(callback, { method: "POST" }));
  return c.body(null, 204);
});

app.get("/avatar", async (c) => {
  const host = c.req.header("x-avatar-host");
  // ruleid: input-to-fetch-url
  const res = await fetch(`https://${host}/avatar.png`);
  return c.body(res.body);
});

app.get("/probe", async (c) => {
  // ruleid: input-to-fetch-url
  const conn = await Deno.connect({ hostname: c.req.query("host") ?? "", port: 6379 });
  conn.close();
  // ruleid: input-to-fetch-url
  await axios.get(c.req.query("target") ?? "");
  return c.body(null, 204);
});

// --- correct code ---

app.get("/ok/items/:id", async (c) => {
  const id = c.req.param("id");
  // ok: input-to-fetch-url
  const res = await fetch(`https://inventory.internal.example/items/${encodeURIComponent(id)}`);
  return c.json(await res.json());
});

app.get("/ok/fixed-origin", async (c) => {
  // ok: input-to-fetch-url
  const res = await fetch("https://inventory.internal.example/search?q=" + c.req.query("q"));
  return c.json(await res.json());
});

const UPSTREAMS = { eu: "https://eu.example/api", us: "https://us.example/api" } as const;
app.get("/ok/allow-list", async (c) => {
  const region = c.req.query("region") === "us" ? "us" : "eu";
  // ok: input-to-fetch-url
  return c.json(await (await fetch(UPSTREAMS[region])).json());
});
