/** Invoice downloads: each invoice is a PDF file under data/invoices/. */
import { Hono } from "hono";
import { join } from "node:path";

const app = new Hono();
const INVOICES = "./data/invoices";

app.get("/invoices/:file", async (c) => {
  const file = join(INVOICES, c.req.param("file")); // flaw
  const pdf = await Deno.readFile(file); // flaw
  return c.body(pdf, 200, { "Content-Type": "application/pdf" });
});

export default app;
