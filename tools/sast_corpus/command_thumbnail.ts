/** Thumbnails for uploaded product images, made by ImageMagick. */
import { Hono } from "hono";

const app = new Hono();
const UPLOADS = "./data/uploads";

app.post("/images/:name/thumbnail", async (c) => {
  const name = c.req.param("name");
  const size = c.req.query("size") ?? "128x128";
  const script = `convert ${UPLOADS}/${name} -resize ${size} ${UPLOADS}/thumb-${name}`; // flaw
  const result = await new Deno.Command("sh", { args: ["-c", script] }).output(); // flaw
  return c.json({ ok: result.success });
});

export default app;
