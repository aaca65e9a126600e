/** After signing in, send the user back where they came from. */
import { Hono } from "hono";

const app = new Hono();

app.post("/login", async (c) => {
  const form = await c.req.formData();
  const user = String(form.get("username") ?? "");
  if (user === "") return c.text("Missing username", 400);
  const next = c.req.query("next") ?? "/";
  return c.redirect(next, 303); // flaw
});

export default app;
