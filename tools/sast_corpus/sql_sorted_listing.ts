/** Product listing with a client-chosen sort order; the SQL is built by a small helper. */
import { Hono } from "hono";
import { DatabaseSync } from "node:sqlite";

const db = new DatabaseSync("./data/shop.db");
const app = new Hono();

function listQuery(sort: string, direction: string): string {
  return "SELECT id, name, price FROM products ORDER BY " + sort + " " + direction; // flaw
}

app.get("/products", (c) => {
  const sort = c.req.query("sort") ?? "id";
  const direction = c.req.query("dir") ?? "ASC";
  const query = listQuery(sort, direction);
  const rows = db.prepare(query).all(); // flaw
  return c.json(rows);
});

export default app;
