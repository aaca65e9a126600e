/** Link previews: fetch the page a user pasted and return its title. */
import { Hono } from "hono";

const app = new Hono();

app.get("/preview", async (c) => {
  const target = new URL(c.req.url).searchParams.get("url") ?? "";
  const page = await fetch(target, { redirect: "follow" }); // flaw
  const html = await page.text();
  const title = /<title>([^<]*)<\/title>/i.exec(html)?.[1] ?? "";
  return c.json({ title });
});

export default app;
