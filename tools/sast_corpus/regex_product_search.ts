/** Product search by name pattern, so users can type "red.*shirt". */
import { Hono } from "hono";

interface Product {
  id: number;
  name: string;
}

const products: Product[] = [{ id: 1, name: "red cotton shirt" }];
const app = new Hono();

app.get("/products/search", (c) => {
  const pattern = c.req.query("q") ?? "";
  const matcher = new RegExp(pattern, "i"); // flaw
  return c.json(products.filter((p) => matcher.test(p.name)));
});

export default app;
