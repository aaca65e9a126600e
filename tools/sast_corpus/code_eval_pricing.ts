/** Pricing rules: an admin stores a formula per product line, the shop evaluates it per order. */
import { Hono } from "hono";

const app = new Hono();

app.post("/price", async (c) => {
  const { formula, quantity, unitPrice } = await c.req.json();
  const price = new Function("quantity", "unitPrice", `return ${formula};`); // flaw
  return c.json({ total: price(quantity, unitPrice) });
});

export default app;
