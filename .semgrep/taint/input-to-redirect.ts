import { Hono } from "hono";

const app = new Hono();

app.get("/login", (c) => {
  const next = c.req.query("next") ?? "/";
  // ruleid: input-to-redirect
  return c.redirect(next);
});

app.get("/go", (c) => {
  const target = new URL(c.req.url).searchParams.get("to") ?? "/";
  // ruleid: input-to-redirect
  return c.body(null, 302, { Location: target });
});

app.get("/out", (c) => {
  // ruleid: input-to-redirect
  c.header("Location", `${c.req.query("host")}/welcome`);
  return c.body(null, 303);
});

app.get("/slash", (c) => {
  // ruleid: input-to-redirect
  return c.redirect(`/${c.req.query("path")}`);
});

Deno.serve({ cert: "", key: "" }, (req) => {
  const to = new URL(req.url).searchParams.get("return") ?? "/";
  const headers = new Headers();
  // ruleid: input-to-redirect
  headers.set("location", to);
  // ruleid: input-to-redirect
  return Response.redirect(to, 302);
});

// --- correct code ---

app.post("/ok/created", async (c) => {
  const { name } = await c.req.json();
  // ok: input-to-redirect
  return c.json({ name }, 201, { Location: `/roles/${name}` });
});

app.get("/ok/product", (c) => {
  const id = c.req.param("id");
  // ok: input-to-redirect
  return c.redirect("/products/" + id);
});

app.get("/ok/allow-list", (c) => {
  const next = c.req.query("next");
  // ok: input-to-redirect
  return c.redirect(next === "/account" ? "/account" : "/");
});

app.get("/ok/encoded", (c) => {
  // ok: input-to-redirect
  return c.redirect(encodeURIComponent(c.req.query("page") ?? ""));
});
