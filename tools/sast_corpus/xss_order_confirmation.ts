/** A small confirmation page shown after checkout. */
import { Hono } from "hono";

const app = new Hono();

app.get("/orders/:id/confirmation", (c) => {
  const name = c.req.query("name") ?? "customer";
  const page = `<!doctype html><h1>Thank you, ${name}!</h1><p>Order ${c.req.param("id")} is confirmed.</p>`; // flaw
  return c.html(page); // flaw
});

export default app;
