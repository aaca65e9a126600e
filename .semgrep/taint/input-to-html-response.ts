import { Hono } from "hono";
import { html, raw } from "hono/html";

const app = new Hono();

app.get("/hello", (c) => {
  const name = c.req.query("name") ?? "world";
  // ruleid: input-to-html-response
  return c.html(`<h1>Hello, ${name}!</h1>`);
});

app.get("/search", (c) => {
  const q = c.req.query("q");
  // ruleid: input-to-html-response
  return c.html(html`<p>Results for ${raw(q)}</p>`);
});

app.get("/error", (c) => {
  const message = "<p>Not found: " + c.req.path + "</p>";
  // ruleid: input-to-html-response
  return new Response(message, { status: 404, headers: { "content-type": "text/html; charset=utf-8" } });
});

app.post("/preview", async (c) => {
  const text = await c.req.text();
  // ruleid: input-to-html-response
  return c.body(`<article>${text}</article>`, 200, { "Content-Type": "text/html" });
});

app.get("/legacy", (c) => {
  c.header("Content-Type", "text/html");
  // ruleid: input-to-html-response
  return c.body(`<div>${c.req.query("msg")}</div>`);
});

// --- correct code ---

app.get("/ok/hello", (c) => {
  const name = c.req.query("name") ?? "world";
  // ok: input-to-html-response
  return c.html(html`<h1>Hello, ${name}!</h1>`);
});

app.get("/ok/text", (c) => {
  // ok: input-to-html-response
  return new Response(`Hello, ${c.req.query("name")}`, { headers: { "content-type": "text/plain" } });
});

app.get("/ok/json", (c) => {
  // ok: input-to-html-response
  return c.json({ greeting: `Hello, ${c.req.query("name")}` });
});

app.get("/ok/count", (c) => {
  const n = Number(c.req.query("n"));
  // ok: input-to-html-response
  return c.html(`<p>${n} results</p>`);
});
