import { Hono } from "hono";
import { z } from "zod";
import { DatabaseSync } from "node:sqlite";
import postgres from "postgres";

const db = new DatabaseSync(":memory:");
const sql = postgres();
const app = new Hono();
const SortColumn = z.enum(["name", "price"]);

// A helper that builds SQL text: the input reaches it through an argument.
function whereName(name: string): string {
  return `SELECT id, name FROM products WHERE name = '${name}'`;
}

function orderBy(column: string): string {
  return "SELECT id, name FROM products ORDER BY " + column;
}

app.get("/products/search", (c) => {
  const name = c.req.query("name") ?? "";
  // ruleid: input-to-sql
  return c.json(db.prepare(`SELECT * FROM products WHERE name = '${name}'`).all());
});

app.get("/products/through-variable", (c) => {
  const name = c.req.query("name") ?? "";
  // ruleid: input-to-sql
  const text = "SELECT * FROM products WHERE name = '" + name + "'";
  // ruleid: input-to-sql
  return c.json(db.prepare(text).all());
});

app.get("/products/through-helper", (c) => {
  const query = whereName(c.req.query("name") ?? "");
  // ruleid: input-to-sql
  return c.json(db.prepare(query).all());
});

app.get("/products/sorted", (c) => {
  // ruleid: input-to-sql
  db.exec(orderBy(c.req.query("sort") ?? "id"));
  return c.body(null, 204);
});

app.get("/products/joined", (c) => {
  const parts = ["SELECT * FROM products", "ORDER BY", c.req.query("sort") ?? "id"];
  // ruleid: input-to-sql
  return c.json(db.prepare(parts.join(" ")).all());
});

app.post("/reports", async (c) => {
  const { filter } = await c.req.json();
  // ruleid: input-to-sql
  return c.json(await sql.unsafe(`SELECT * FROM reports WHERE ${filter}`));
});

app.get("/by-header", async (c) => {
  const tenant = c.req.header("x-tenant");
  // ruleid: input-to-sql
  return c.json(await sql.unsafe("SELECT * FROM " + tenant + ".products"));
});

Deno.serve(async (req) => {
  const url = new URL(req.url);
  // ruleid: input-to-sql
  const where = `WHERE owner = '${url.searchParams.get("owner")}'`;
  // ruleid: input-to-sql
  return Response.json(db.prepare("SELECT * FROM t " + where).all());
});

// A CLI: the argument is SQL text too.
const table = Deno.args[0];
// ruleid: input-to-sql
db.exec(`DELETE FROM ${table}`);

// --- correct code ---

app.get("/ok/bound", (c) => {
  const name = c.req.query("name") ?? "";
  // ok: input-to-sql
  return c.json(db.prepare("SELECT * FROM products WHERE name = :name").all({ name }));
});

app.get("/ok/postgres-template", async (c) => {
  const name = c.req.query("name") ?? "";
  // ok: input-to-sql
  return c.json(await sql`SELECT * FROM products WHERE name = ${name}`);
});

app.get("/ok/pg-values", async (c) => {
  const name = c.req.query("name");
  // ok: input-to-sql
  return c.json(await pool.query({ text: "SELECT * FROM products WHERE name = $1", values: [name] }));
});

app.get("/ok/enum", (c) => {
  const column = SortColumn.parse(c.req.query("sort"));
  // ok: input-to-sql
  return c.json(db.prepare(`SELECT * FROM products ORDER BY ${column}`).all());
});

app.get("/ok/inline-enum", (c) => {
  const column = z.enum(["name", "price"]).parse(c.req.query("sort"));
  // ok: input-to-sql
  return c.json(db.prepare("SELECT * FROM products ORDER BY " + column).all());
});

app.get("/ok/number", (c) => {
  const limit = Number(c.req.query("limit"));
  // ok: input-to-sql
  return c.json(db.prepare(`SELECT * FROM products LIMIT ${limit}`).all());
});

app.get("/ok/parse-int", (c) => {
  const limit: number = parseInt(c.req.query("limit") ?? "20", 10);
  // ok: input-to-sql
  return c.json(db.prepare("SELECT * FROM products LIMIT " + limit).all());
});

app.get("/ok/regex-schema", (c) => {
  const parsed = z.string().regex(/^[a-z_]{1,32}$/).safeParse(c.req.query("column"));
  if (!parsed.success) return c.body(null, 400);
  // ok: input-to-sql
  return c.json(db.prepare(`SELECT ${parsed.data} FROM products`).all());
});

app.get("/ok/message", (c) => {
  const name = c.req.query("name");
  // ok: input-to-sql
  return c.text(`Updated ${name}, select another product from the list`);
});

app.get("/ok/constant", () => {
  // ok: input-to-sql
  const text = "SELECT * FROM products " + "ORDER BY id";
  return Response.json(db.prepare(text).all());
});
